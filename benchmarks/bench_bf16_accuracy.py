"""Held-out entity F1 of a trained NER checkpoint through the pipeline in float32 and in bfloat16, and against the
reference recipe (the features and decoding of fine-tuning's own evaluation).

    .venv/bin/python benchmarks/bench_bf16_accuracy.py --model mluke-demo --max-mention-length 6   # the demo's recipe
    .venv/bin/python benchmarks/bench_bf16_accuracy.py              # trains the demo first (a few CPU minutes)

Defaults: the demo's held-out sentences (`mluke_hf/data/demo_ner/heldout.jsonl`). Reports, for each dtype, the
seqeval-style entity F1 of the pipeline's entities, on how many sentences bf16 returns the fp32 entities, and on how
many the fp32 pipeline returns the entities of the reference recipe (`ner_features` with the checkpoint's spans per
input, one fp32 forward per feature, `decode_ner_predictions`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch
import transformers

from mluke_hf import precision  # also registers the mLUKE pipelines
from mluke_hf.data_collator import MLukeDataCollator
from mluke_hf.pipelines.entity_span_classification import DEFAULT_MAX_MENTION_LENGTH, spans_per_input
from mluke_hf.tasks.ner import entity_scores, model_max_tokens, read_jsonl
from mluke_hf.tasks.training import decode_ner_predictions, ner_features

REPO = Path(__file__).resolve().parents[1]
HELDOUT = REPO / "mluke_hf" / "data" / "demo_ner" / "heldout.jsonl"


def character_spans(entities: list[dict]) -> list[tuple[int, int, str]]:
    """Pipeline entities as `(start_char, end_char, label)`, the form of the gold entities and of the reference."""
    return [(entity["start"], entity["end"], entity["entity_group"]) for entity in entities]


def reference_predictions(folder: Path, examples, max_mention_length: int) -> list[list[tuple[int, int, str]]]:
    """Entities of fine-tuning's evaluation recipe: its features, fp32 forwards, its greedy decoding."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = _span_model(folder)
    label2id = model.config.label2id
    features = ner_features(
        tokenizer,
        examples,
        label2id,
        max_mention_length=max_mention_length,
        max_entity_length=spans_per_input(model.config),
        max_tokens=model_max_tokens(tokenizer, model.config),
    )
    collator = MLukeDataCollator(tokenizer)
    rows = []
    width = max(len(spans) for spans in features.spans)
    with torch.inference_mode():
        for feature in features.dataset.features:
            inputs = collator([{key: value for key, value in feature.items() if key != "labels"}])
            logits = model(**inputs).logits[0].float()
            padded = torch.zeros(width, logits.shape[-1])
            padded[: logits.shape[0]] = logits
            rows.append(padded)
    return decode_ner_predictions(torch.stack(rows).numpy(), features, len(examples), model.config.id2label)


def _span_model(folder: Path):
    from mluke_hf.auto import AutoModelForEntitySpanClassification

    return AutoModelForEntitySpanClassification.from_pretrained(folder).eval()


def evaluate(folder: Path, data: Path, max_mention_length: int, batch_size: int) -> dict:
    examples = read_jsonl(data)
    gold = [example.entities for example in examples]
    texts = [example.text for example in examples]
    predicted = {}
    for name in ("fp32", "bf16"):
        ner = transformers.pipeline(
            "entity-span-classification", model=str(folder), dtype=precision.DTYPES[name], batch_size=batch_size
        )
        outputs = ner(texts, max_mention_length=max_mention_length)
        predicted[name] = [character_spans(entities) for entities in outputs]
    reference = reference_predictions(folder, examples, max_mention_length)
    scores = {name: entity_scores(gold, spans)["f1"] for name, spans in predicted.items()}
    scores["reference recipe"] = entity_scores(gold, reference)["f1"]

    def same(first, second) -> int:
        return sum(sorted(a) == sorted(b) for a, b in zip(first, second))

    result = {
        "sentences": len(examples),
        "f1": scores,
        "f1_difference_bf16": abs(scores["bf16"] - scores["fp32"]),
        "same_entities_bf16_vs_fp32": same(predicted["bf16"], predicted["fp32"]),
        "same_entities_fp32_vs_reference": same(predicted["fp32"], reference),
        "cpu_flags": sorted(flag for flag in precision.cpu_flags() if flag.startswith(("avx512_bf16", "amx"))),
    }
    print(
        f"{len(examples)} held-out sentences: entity F1 fp32 {scores['fp32']:.4f}, bf16 {scores['bf16']:.4f} "
        f"(difference {result['f1_difference_bf16']:.4f}), reference recipe {scores['reference recipe']:.4f}; "
        f"bf16 returns the fp32 entities on {result['same_entities_bf16_vs_fp32']}/{len(examples)} sentences, "
        f"the fp32 pipeline those of the reference recipe on {result['same_entities_fp32_vs_reference']}/"
        f"{len(examples)}"
    )
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a trained NER checkpoint folder (default: train the demo)")
    parser.add_argument("--data", type=Path, default=HELDOUT, help="held-out sentences (JSONL)")
    parser.add_argument(
        "--max-mention-length",
        type=int,
        default=None,
        help="longest span in words (default: the demo's 4 when it "
        f"trains the demo, else the pipeline's {DEFAULT_MAX_MENTION_LENGTH})",
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--json", type=Path, help="write the result here")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.model
        max_mention_length = args.max_mention_length
        if folder is None:
            from mluke_hf import demo

            folder = Path(scratch) / "demo"
            demo.main(["--output-dir", str(folder), "--examples-per-language", "0"])
            max_mention_length = max_mention_length or demo.MAX_MENTION_LENGTH
        result = evaluate(folder, args.data, max_mention_length or DEFAULT_MAX_MENTION_LENGTH, args.batch_size)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

"""The NER pipeline on PyTorch fp32, ONNX Runtime fp32 and ONNX Runtime int8: speed, size, entity F1.

    .venv/bin/python benchmarks/bench_onnx.py --model mluke-demo        # a trained demo folder (`mluke-hf demo`)
    .venv/bin/python benchmarks/bench_onnx.py --width base --sentences 40   # 4 random layers of base width
    .venv/bin/python benchmarks/bench_onnx.py --quick                   # tiny random model, 8 sentences, 1 round

The folder is exported twice (`mluke_hf.onnx.export_onnx`, fp32 and int8) into a scratch folder. Three
`pipeline("entity-span-classification")` runners read the same tokenizer: the PyTorch checkpoint, the fp32 graph and
the int8 graph (ONNX Runtime, CPU provider, `--threads` intra-op threads as torch gets). Each runs over the demo's
held-out sentences (`mluke_hf/data/demo_ner/heldout.jsonl`, 100 sentences in 5 languages); rounds are interleaved
(the order alternates) and the figure is the median of sentences per second. Also reported: the size of the weights
(model.safetensors vs model.onnx), the entity F1 of each runner against the gold entities (exact character spans and
labels), how many sentences give the same entities as PyTorch, the load average before and after, and the CPU flags.

`--width base` times a checkpoint that is not trained but has the cost of a real one: 4 layers of XLM-R base width
(768 hidden, 12 heads, 3072 intermediate) with random weights, entity-aware attention, the released NER recipe (spans
of up to 16 words, 32 per model input); its F1 means nothing, its speed and same-entity counts do. The demo model
(64 hidden) is so small that per-operator overhead, not arithmetic, decides its speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import mluke_hf  # noqa: F401
from mluke_hf.building import build_tiny_checkpoint
from mluke_hf.onnx import ORTModelForEntitySpanClassification, export_onnx

REPO = Path(__file__).resolve().parents[1]
HELDOUT = REPO / "mluke_hf" / "data" / "demo_ner" / "heldout.jsonl"
# The demo's recipe (mluke_hf.demo): its longest entity has 3 words, one model input per sentence.
PIPELINE_OPTIONS = {"max_mention_length": 4, "max_entity_length": 64}


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    return sorted(set(re.findall(r"\b(avx512[a-z_0-9]*|amx[a-z_0-9]*|avx2|avx_vnni)\b", text)))


def load_records(count: int | None) -> list[dict]:
    records = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records[:count] if count else records


def entity_keys(entities: list[dict]) -> set[tuple]:
    return {(entity["start"], entity["end"], entity["entity_group"]) for entity in entities}


def entity_f1(records: list[dict], predictions: list[list[dict]]) -> float:
    """Micro F1 over exact (start, end, label) character spans, as seqeval counts entities."""
    gold_count = predicted_count = correct = 0
    for record, entities in zip(records, predictions):
        gold = {(entity["start"], entity["end"], entity["label"]) for entity in record.get("entities", [])}
        predicted = entity_keys(entities)
        gold_count, predicted_count = gold_count + len(gold), predicted_count + len(predicted)
        correct += len(gold & predicted)
    precision = correct / predicted_count if predicted_count else 0.0
    recall = correct / gold_count if gold_count else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def session_options(threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


def build_random_folder(folder: Path, width: str) -> Path:
    sizes = {}
    if width == "base":
        sizes = {"hidden_size": 768, "num_hidden_layers": 4, "num_attention_heads": 12, "intermediate_size": 3072,
                 "entity_emb_size": 256}  # fmt: skip
    return build_tiny_checkpoint(
        folder, variant="large-lite", architecture="LukeForEntitySpanClassification",
        config_overrides={"use_entity_aware_attention": True, **sizes},
    )  # fmt: skip


def run(args: argparse.Namespace) -> dict:
    from transformers import AutoTokenizer, pipeline

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    records = load_records(8 if args.quick else args.sentences)
    texts = [record["text"] for record in records]
    options = PIPELINE_OPTIONS if args.width == "model" else {}
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        source = Path(args.model) if args.width == "model" else build_random_folder(scratch / "source", args.width)
        reports = {
            "ort_fp32": export_onnx(source, scratch / "fp32"),
            "ort_int8": export_onnx(source, scratch / "int8", quantize="int8"),
        }
        tokenizer = AutoTokenizer.from_pretrained(source)
        runners = {"torch_fp32": pipeline("entity-span-classification", model=str(source), batch_size=args.batch_size)}
        for name in reports:
            model = ORTModelForEntitySpanClassification.from_pretrained(
                scratch / name.split("_")[1], session_options=session_options(args.threads)
            )
            runners[name] = pipeline(
                "entity-span-classification", model=model, tokenizer=tokenizer, batch_size=args.batch_size
            )
        predictions = {name: runner(texts, **options) for name, runner in runners.items()}
        seconds: dict[str, list[float]] = {name: [] for name in runners}
        for round_index in range(args.rounds):
            order = list(runners.items())
            if round_index % 2:
                order.reverse()
            for name, runner in order:
                start = time.perf_counter()
                runner(texts, **options)
                seconds[name].append(time.perf_counter() - start)
        sizes = {
            "torch_fp32": (source / "model.safetensors").stat().st_size,
            **{name: report.model_bytes for name, report in reports.items()},
        }
    results = {
        "sentences": len(texts),
        "batch_size": args.batch_size,
        "threads": args.threads,
        "rounds": args.rounds,
        "model": str(args.model) if args.width == "model" else f"random, {args.width} width",
        "pipeline_options": options,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "cpu_flags": cpu_flags(),
        "versions": {"torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__},
        "export_max_abs_diff": {name: report.max_abs_diff for name, report in reports.items()},
        "int8_max_abs_diff": reports["ort_int8"].quantized_max_abs_diff,
        "runners": {},
    }
    baseline = statistics.median(seconds["torch_fp32"])
    for name in runners:
        median = statistics.median(seconds[name])
        results["runners"][name] = {
            "sentences_per_s": len(texts) / median,
            "speedup_vs_torch": baseline / median,
            "weights_mb": sizes[name] / 1e6,
            "f1": entity_f1(records, predictions[name]),
            "same_entities_as_torch": sum(
                entity_keys(ours) == entity_keys(theirs)
                for ours, theirs in zip(predictions[name], predictions["torch_fp32"])
            ),
        }
    return results


def markdown(results: dict) -> str:
    lines = [
        "| runner | sentences/s | vs PyTorch fp32 | weights (MB) | entity F1 | same entities as PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results["runners"].items():
        lines.append(
            f"| {name} | {row['sentences_per_s']:.1f} | {row['speedup_vs_torch']:.2f}x | {row['weights_mb']:.2f} | "
            f"{row['f1']:.3f} | {row['same_entities_as_torch']}/{results['sentences']} |"
        )
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained entity-span-classification folder (the demo's)")
    parser.add_argument("--width", choices=["model", "base", "tiny"], default="model",
                        help="model: the --model folder; base/tiny: a random checkpoint of that width")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny random model, 8 sentences, 1 round (smoke test)")
    parser.add_argument("--sentences", type=int, default=None, help="held-out sentences used (default: all 100)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.width = 1, "tiny"
    elif args.width == "model" and args.model is None:
        parser.error("pass --model FOLDER (e.g. the output of `mluke-hf demo`), --width base, or --quick")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    results = run(args)
    print(markdown(results))
    print(
        f"load average before {results['load_before']}, after {results['load_after']}; "
        f"cpu flags: {' '.join(results['cpu_flags'])}; {args.threads} threads; batch size {args.batch_size}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

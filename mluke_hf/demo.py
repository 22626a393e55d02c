"""The mluke_hf demo: build a small mLUKE from scratch, fine-tune it for multilingual NER, reload it as a pipeline.

    mluke-hf demo [--output-dir mluke-demo] [--seed 0] [--epochs 12]
    python -m mluke_hf.demo ...

It runs the whole machinery on one CPU in a few minutes, with nothing downloaded: it trains a SentencePiece model on
the embedded sentences, writes a tokenizer in the released mLUKE layout, builds a small mLUKE with the plugin's
classes, fine-tunes it with `transformers.Trainer` on the embedded NER set (`mluke_hf/data/demo_ner/`: sentences in
English, German, Spanish, French, Dutch, Japanese, Chinese, Thai, Hindi, Arabic and Korean written for this project),
reports entity F1 on held-out sentences per language, saves the checkpoint, reloads it with
`pipeline("entity-span-classification", model=<folder>)`, runs the held-out sentences through it as raw text and
prints its F1 per language next to the training run's (the same candidates and decoder: the same figures), and the
entities it finds in a few held-out sentences per language.

The model is tiny and knows only the demo's templates: it demonstrates the machinery, not mLUKE's accuracy. Real use
points `--model` at a released checkpoint, e.g. `mluke-hf ner --model
studio-ousia/mluke-large-lite-finetuned-conll-2003`, or fine-tunes one with `examples/train_ner.py --model
studio-ousia/mluke-base-lite`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from .argument_types import non_negative_int, positive_float

DEMO_DATA = ("data", "demo_ner")
LANGUAGES = ("en", "de", "es", "fr", "nl", "ja", "zh", "th", "hi", "ar", "ko")

# Small enough for a couple of CPU minutes, large enough to fit the demo set well.
DEMO_MODEL_SIZES = {
    "hidden_size": 64,
    "entity_emb_size": 32,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "max_position_embeddings": 130,
    "type_vocab_size": 1,
    "layer_norm_eps": 1e-5,
    "hidden_dropout_prob": 0.1,
    # No dropout on attention probabilities: on CPU, drawing its mask (torch's Bernoulli sampling, ~7 ns an element,
    # over batch x heads x length^2 elements) took a third of this tiny model's training step, and without it sdpa's
    # fused kernel serves training too. Measured: 224 s -> 132 s for the whole demo, held-out F1 0.873 -> 0.870.
    "attention_probs_dropout_prob": 0.0,
    "use_entity_aware_attention": True,
}
# BPE keeps whole words of the demo's templates as pieces in every script (a unigram model of this size cuts Thai,
# Arabic and Korean into single characters: many more, longer candidate spans).
SENTENCEPIECE_VOCAB_SIZE = 8000
SENTENCEPIECE_TYPE = "bpe"
MAX_MENTION_LENGTH = 6  # units (words; pieces in spaceless and clitic scripts); the demo's entities have 1-6
MAX_ENTITY_LENGTH = 64  # candidate spans per model input: one or two inputs per demo sentence
# Eleven languages give 2.7 times the model inputs of the first five; larger batches and fewer epochs keep about the
# same number of optimizer steps (and time) as the five-language demo had.
TRAIN_BATCH_SIZE = 32
DEFAULT_EPOCHS = 10.0

STATEMENT = (
    "This demo shows the machinery (tokenizer files, model classes, Trainer, pipeline) on a tiny model trained from\n"
    "scratch on the demo's own sentences; its scores say nothing about mLUKE's accuracy. For real use, point --model\n"
    "at a released checkpoint: `mluke-hf ner --model studio-ousia/mluke-large-lite-finetuned-conll-2003 ...`, or\n"
    "fine-tune one: `python examples/train_ner.py --model studio-ousia/mluke-base-lite ...` (see docs/training.md)."
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mluke-hf demo", description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path("mluke-demo"), help="where the checkpoint is saved")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--epochs", type=positive_float, default=DEFAULT_EPOCHS, help="fine-tuning epochs (fewer: faster, lower F1)"
    )
    parser.add_argument(
        "--examples-per-language", type=non_negative_int, default=2, help="held-out sentences shown per language"
    )
    return parser.parse_args(argv)


def demo_data_path(name: str) -> Path:
    return Path(str(resources.files("mluke_hf").joinpath(*DEMO_DATA, name)))


def sentencepiece_corpus(examples) -> list[str]:
    """The training sentences with their entity mentions set apart by spaces, to train the SentencePiece model on.

    SentencePiece never merges across a space, so no piece glues a name to its neighbour (`在上海`, `독일에`): the
    demo's few templates repeat such pairs far more often than real text, and a piece that straddles an entity
    boundary would keep that entity from being a candidate. The model itself reads the sentences as written.
    """
    texts = []
    for example in examples:
        text = example.text
        for start, end, _ in sorted(example.entities, reverse=True):
            text = f"{text[:start]} {text[start:end]} {text[end:]}"
        texts.append(text)
    return texts


def build_tokenizer(folder: Path, texts: list[str]):
    """SentencePiece trained on `texts`, written with a lite entity vocabulary in the released layout; loaded back."""
    from transformers import AutoTokenizer

    from .building import build_entity_vocab, train_sentencepiece, write_released_tokenizer_files

    with tempfile.TemporaryDirectory() as scratch:
        model_path = train_sentencepiece(
            texts, Path(scratch) / "sp.model", vocab_size=SENTENCEPIECE_VOCAB_SIZE, model_type=SENTENCEPIECE_TYPE
        )
        write_released_tokenizer_files(folder, model_path, build_entity_vocab(shape="lite"), variant="large-lite")
    return AutoTokenizer.from_pretrained(folder)


def build_model(tokenizer, labels: list[str], seed: int):
    """A randomly initialised MLukeForEntitySpanClassification sized by `DEMO_MODEL_SIZES`."""
    import torch

    from .building import entity_vocab_size
    from .configuration_mluke import MLukeConfig
    from .modeling_mluke import MLukeForEntitySpanClassification

    config = MLukeConfig(
        vocab_size=len(tokenizer),
        entity_vocab_size=entity_vocab_size(tokenizer.entity_vocab),
        id2label=dict(enumerate(labels)),
        label2id={label: index for index, label in enumerate(labels)},
        **DEMO_MODEL_SIZES,
    )
    torch.manual_seed(seed)
    return MLukeForEntitySpanClassification(config)


def ner_options(tokenizer, model) -> dict:
    """The candidate-span settings of training, evaluation and the pipeline alike."""
    from .tasks.ner import model_max_tokens

    return {"max_mention_length": MAX_MENTION_LENGTH, "max_entity_length": MAX_ENTITY_LENGTH,
            "max_tokens": model_max_tokens(tokenizer, model.config)}  # fmt: skip


def train(model, tokenizer, train_examples, heldout_examples, args: argparse.Namespace, scratch: Path) -> dict:
    """Fine-tune with Trainer; returns the held-out scores of the training run (`compute_metrics`, the pipeline's
    decoder), overall and per language (`f1_<language>`)."""
    from transformers import Trainer, TrainingArguments

    from .data_collator import MLukeDataCollator
    from .tasks.training import decode_ner_predictions, ner_compute_metrics, ner_features

    label2id = model.config.label2id
    # Saved with the model, so the NER pipeline groups candidate spans as the model was trained on them.
    model.config.ner_spans_per_input = MAX_ENTITY_LENGTH
    options = ner_options(tokenizer, model)
    train_features = ner_features(tokenizer, train_examples, label2id, **options)
    heldout_features = ner_features(tokenizer, heldout_examples, label2id, **options)
    training_args = TrainingArguments(
        output_dir=str(scratch),
        num_train_epochs=args.epochs,
        learning_rate=2e-3,
        warmup_steps=0.1,
        weight_decay=0.01,
        per_device_train_batch_size=TRAIN_BATCH_SIZE,
        per_device_eval_batch_size=64,
        seed=args.seed,
        use_cpu=True,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="epoch",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_features.dataset,
        eval_dataset=heldout_features.dataset,
        data_collator=MLukeDataCollator(tokenizer),
        compute_metrics=ner_compute_metrics(heldout_examples, heldout_features, model.config.id2label),
    )
    trainer.train()
    prediction = trainer.predict(heldout_features.dataset, metric_key_prefix="eval")
    predicted = decode_ner_predictions(
        prediction.predictions, heldout_features, len(heldout_examples), model.config.id2label
    )
    return {**prediction.metrics, **per_language_f1(heldout_examples, predicted)}


def per_language_f1(examples, predicted) -> dict[str, float]:
    """`{"f1_<language>": F1}` of predicted `(start, end, label)` entities against the examples' gold ones."""
    from .tasks.metrics import entity_scores

    scores = {}
    for language in LANGUAGES:
        indices = [index for index, example in enumerate(examples) if example.language == language]
        gold = [examples[index].entities for index in indices]
        scores[f"f1_{language}"] = entity_scores(gold, [predicted[index] for index in indices])["f1"]
    return scores


def run_pipeline(folder: Path, heldout_examples, options: dict) -> tuple[dict, list]:
    """Reload the saved folder as an entity-span-classification pipeline and run the held-out raw texts through it;
    returns its scores (overall `f1`, per language `f1_<language>`) and its entities per sentence."""
    from transformers import pipeline

    from .tasks.metrics import entity_scores

    ner = pipeline("entity-span-classification", model=str(folder))
    results = ner([example.text for example in heldout_examples], **options)
    predicted = [[(item["start"], item["end"], item["entity_group"]) for item in entities] for entities in results]
    scores = entity_scores([example.entities for example in heldout_examples], predicted)
    return {**scores, **per_language_f1(heldout_examples, predicted)}, results


def print_scores(training: dict, pipeline_scores: dict) -> None:
    print("   held-out entity F1 per language (seqeval-style exact spans, greedy span decoding):")
    print("     language  training run  pipeline")
    for language in LANGUAGES:
        key = f"f1_{language}"
        print(f"     {language:8}  {training[key]:12.3f}  {pipeline_scores[key]:8.3f}")
    print(f"     {'all':8}  {training['eval_f1']:12.3f}  {pipeline_scores['f1']:8.3f}")


def show_entities(heldout_records: list[dict], results: list, per_language: int) -> list[dict]:
    """Print the pipeline's entities for a few held-out sentences per language."""
    shown = []
    for language in LANGUAGES:
        chosen = [index for index, record in enumerate(heldout_records) if record.get("language") == language]
        for index in chosen[:per_language]:
            record, entities = heldout_records[index], results[index]
            found = ", ".join(f"{item['word']} ({item['entity_group']}, {item['score']:.2f})" for item in entities)
            print(f"  [{language}] {record['text']}\n       -> {found or '(none)'}")
            shown.append({"text": record["text"], "language": language, "entities": entities})
    return shown


def main(argv=None) -> dict[str, Any]:
    """Run the demo; returns `{"f1", "precision", "recall", "seconds", "output_dir", "shown"}`."""
    args = parse_args(argv)
    started = time.perf_counter()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("transformers").setLevel(logging.ERROR)

    from transformers.utils import logging as transformers_logging

    import mluke_hf  # noqa: F401  (registration, also when run as `python -m mluke_hf.demo`)

    from .tasks.ner import label_list, read_jsonl

    transformers_logging.set_verbosity_error()
    print(STATEMENT + "\n")
    train_examples = read_jsonl(demo_data_path("train.jsonl"))
    heldout_examples = read_jsonl(demo_data_path("heldout.jsonl"))
    heldout_records = [json.loads(line) for line in demo_data_path("heldout.jsonl").read_text("utf-8").splitlines()]
    print(f"1. Data: {len(train_examples)} training and {len(heldout_examples)} held-out sentences in "
          f"{', '.join(LANGUAGES)} (mluke_hf/data/demo_ner).")  # fmt: skip

    output_dir = args.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    # The tokenizer learns from the training sentences only: held-out words may split into unseen pieces.
    tokenizer = build_tokenizer(output_dir, sentencepiece_corpus(train_examples))
    print(f"2. Tokenizer: SentencePiece ({len(tokenizer)} word ids with specials) trained on the training sentences, "
          "written in the released mLUKE file layout.")  # fmt: skip
    labels = label_list(train_examples)
    model = build_model(tokenizer, labels, args.seed)
    parameters = sum(parameter.numel() for parameter in model.parameters())
    print(f"3. Model: MLukeForEntitySpanClassification from scratch ({parameters / 1e6:.2f} M parameters, "
          f"entity-aware attention, labels {labels}).")  # fmt: skip

    print(f"4. Fine-tuning with transformers.Trainer for {args.epochs:g} epochs on CPU ...", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        scores = train(model, tokenizer, train_examples, heldout_examples, args, Path(scratch))
    print(f"   held-out entity F1 {scores['eval_f1']:.3f} (precision {scores['eval_precision']:.3f}, "
          f"recall {scores['eval_recall']:.3f}; seqeval-style exact spans, greedy span decoding)")  # fmt: skip

    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    print(f"5. Saved the checkpoint to {output_dir}")
    print(f'6. Reloaded with pipeline("entity-span-classification", model="{output_dir}") and ran the held-out '
          "sentences through it as raw text:")  # fmt: skip
    pipeline_scores, results = run_pipeline(output_dir, heldout_examples, ner_options(tokenizer, model))
    print_scores(scores, pipeline_scores)
    shown = show_entities(heldout_records, results, args.examples_per_language)
    seconds = time.perf_counter() - started
    print(f"\nDone in {seconds:.0f} s. This demo demonstrates the machinery only; for real use point --model at a "
          "released mLUKE checkpoint (see the top of this output).")  # fmt: skip
    return {
        "f1": scores["eval_f1"],
        "precision": scores["eval_precision"],
        "recall": scores["eval_recall"],
        "f1_per_language": {language: scores[f"f1_{language}"] for language in LANGUAGES},
        "pipeline_f1": pipeline_scores["f1"],
        "pipeline_f1_per_language": {language: pipeline_scores[f"f1_{language}"] for language in LANGUAGES},
        "seconds": seconds,
        "output_dir": str(output_dir),
        "shown": shown,
    }


if __name__ == "__main__":
    main(sys.argv[1:])

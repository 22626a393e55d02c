"""Fine-tuning mLUKE with `transformers.Trainer`: task datasets, metrics, and the run shared by the examples.

The scripts in `examples/` stay thin: they parse arguments and call `run_ner`, `run_relation_classification` or
`run_entity_typing` here. Each run loads (or takes) a model and tokenizer, turns the data files into features,
trains with `Trainer` and `MLukeDataCollator`, evaluates before and after training, saves the model and tokenizer to
`output_dir` and writes `results.json` (one flat dict, the same under `torchrun`):

    {"task", "train_examples", "eval_examples", "train_loss", "eval_loss_before", "eval_loss", <task metrics>}

Data formats:
- NER: CoNLL files (`word ... tag` lines, BIO/IOB2/BIOES tags, blank lines between sentences) or JSONL of raw text
  in any language (`{"text", "entities": [{"start", "end", "label"}]}`, or `{"tokens", "ner_tags"}`), see
  `mluke_hf.tasks.readers`; candidate spans and the decoder are `mluke_hf.tasks.ner`'s, as in the pipeline.
- Relation classification: JSONL `{"text", "head": [start, end], "tail": [start, end], "label"}`.
- Entity typing: JSONL `{"text", "span": [start, end], "labels": [...]}` (multi-label) or `"label": "..."`
  (single label).
Spans are character offsets into `text`, end exclusive.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data_collator import MLukeDataCollator
from .encoding import encode_entity_spans, model_max_tokens
from .metrics import OUTSIDE_LABEL, entity_scores, precision_recall_f1
from .ner import align_entities, decode_span_logits, encode_span_features, text_units_batch
from .readers import (
    NerExample,
    label_list,
    read_entity_typing_file,
    read_ner_file,
    read_relation_file,
)

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"


class FeatureDataset(torch.utils.data.Dataset):
    """A list of model features (dicts of lists) as a map-style dataset."""

    def __init__(self, features: Sequence[Mapping[str, Any]]):
        self.features = list(features)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> Mapping[str, Any]:
        return self.features[index]


# -- NER -------------------------------------------------------------------------------------------------------------


@dataclass
class NerFeatures:
    """Span-classification features of a list of sentences, and which sentence and spans each feature covers."""

    dataset: FeatureDataset
    # Per feature: index of its sentence, and its spans as (start_unit, end_unit, start_char, end_char).
    sentence_indices: list[int] = field(default_factory=list)
    spans: list[list[tuple[int, int, int, int]]] = field(default_factory=list)


def ner_features(
    tokenizer,
    examples: Sequence[NerExample],
    label2id: Mapping[str, int],
    max_mention_length: int = 16,
    max_entity_length: int = 32,
    max_tokens: int | None = None,
) -> NerFeatures:
    """Every candidate span of every sentence, chunked into model inputs, labelled from the gold entities.

    Candidate units come from `mluke_hf.tasks.ner.text_units`, as in the pipeline. Gold entities that do not start
    and end on unit boundaries, or that are longer than `max_mention_length` units, cannot be predicted: each is
    reported (with its file and line) in a warning, left unlabelled, and still counts as a miss in
    `ner_compute_metrics`.
    """
    if max_tokens is None:
        max_tokens = model_max_tokens(tokenizer)
    result = NerFeatures(FeatureDataset([]))
    cache: dict[str, int] = {}
    unreachable = []
    all_units = text_units_batch(tokenizer, [example.text for example in examples], max_tokens, cache)
    for sentence_index, (example, (units, counts)) in enumerate(zip(examples, all_units)):
        aligned, misaligned = align_entities(units, example.entities)
        labels = {}
        for start, end, label in aligned:
            if label not in label2id:
                raise ValueError(f"entity label {label!r} is not one of the model's labels {sorted(label2id)}")
            if end - start + 1 > max_mention_length:
                unreachable.append(_entity_report(example, units[start][0], units[end][1], label, "too long"))
            labels[(start, end)] = label2id[label]
        for start, end, label in misaligned:
            unreachable.append(_entity_report(example, start, end, label, "not on candidate boundaries"))
        for feature in encode_span_features(
            tokenizer, example.text, units, max_mention_length, max_entity_length, max_tokens, labels, counts
        ):
            result.dataset.features.append(feature.encoding)
            result.sentence_indices.append(sentence_index)
            result.spans.append(feature.spans)
    if unreachable:
        shown = "\n  ".join(unreachable[:5])
        more = f"\n  ... and {len(unreachable) - 5} more" if len(unreachable) > 5 else ""
        logger.warning(
            "%d gold entities cannot be predicted (max_mention_length=%d units; units are words, or SentencePiece "
            "pieces in spaceless and clitic scripts, see mluke_hf.tasks.ner.boundaries):\n  %s%s",
            len(unreachable), max_mention_length, shown, more,
        )  # fmt: skip
    return result


def _entity_report(example: NerExample, start: int, end: int, label: str, reason: str) -> str:
    where = example.source or "sentence"
    return f"{where}: {label} {example.text[start:end]!r} [{start}, {end}): {reason}"


def decode_ner_predictions(
    logits: np.ndarray, features: NerFeatures, num_sentences: int, id2label: Mapping[int, str]
) -> list[list[tuple[int, int, str]]]:
    """Per sentence, the entities `(start_char, end_char, label)` of `decode_span_logits` (the pipeline's decoder).

    `logits` is `(num_features, entity_length, num_labels)` in feature order (padding entities are ignored).
    """
    rows: list[list[np.ndarray]] = [[] for _ in range(num_sentences)]
    spans: list[list[tuple[int, int, int, int]]] = [[] for _ in range(num_sentences)]
    for feature_logits, sentence_index, feature_spans in zip(logits, features.sentence_indices, features.spans):
        rows[sentence_index].append(np.asarray(feature_logits[: len(feature_spans)], dtype=np.float32))
        spans[sentence_index].extend(feature_spans)
    predicted = []
    for sentence_rows, sentence_spans in zip(rows, spans):
        logits_of_sentence = np.concatenate(sentence_rows) if sentence_rows else np.zeros((0, len(id2label)))
        entities = decode_span_logits(logits_of_sentence, sentence_spans, id2label)
        predicted.append([(entity.start, entity.end, entity.label) for entity in entities])
    return predicted


def ner_compute_metrics(
    examples: Sequence[NerExample], features: NerFeatures, id2label: Mapping[int, str]
) -> Callable[[Any], dict[str, float]]:
    """`compute_metrics` for Trainer: seqeval-style entity precision/recall/F1 (exact character spans and types)
    after the pipeline's greedy decoding."""
    gold = [example.entities for example in examples]

    def compute(eval_prediction) -> dict[str, float]:
        logits = eval_prediction.predictions
        if isinstance(logits, (tuple, list)):
            logits = logits[0]
        if len(logits) != len(features.spans):
            raise ValueError(f"got predictions for {len(logits)} features, expected {len(features.spans)}")
        predicted = decode_ner_predictions(logits, features, len(examples), id2label)
        return entity_scores(gold, predicted)

    return compute


def ner_labels(model_config, examples: Sequence[NerExample]) -> list[str]:
    """The model's labels when it already has NER labels covering the data, else `O` + the data's entity types."""
    data_labels = label_list(examples)
    existing = [model_config.id2label[index] for index in sorted(model_config.id2label)]
    if existing and existing[0] == OUTSIDE_LABEL and set(data_labels) <= set(existing):
        return existing
    return data_labels


# -- relation classification and entity typing ----------------------------------------------------------------------


def relation_features(tokenizer, records: Sequence[dict], label2id: Mapping[str, int]) -> FeatureDataset:
    """`<ent>`/`<ent2>`-marked features (entity_pair_classification mode) with index labels."""
    features = []
    for record in records:
        spans = [tuple(record["head"]), tuple(record["tail"])]
        feature = encode_entity_spans(tokenizer, record["text"], spans, task="entity_pair_classification")
        feature["labels"] = label2id[record["label"]]
        features.append(feature)
    return FeatureDataset(features)


def entity_typing_features(
    tokenizer, records: Sequence[dict], label2id: Mapping[str, int], multi_label: bool
) -> FeatureDataset:
    """`<ent>`-marked features (entity_classification mode); multi-hot labels when `multi_label`."""
    features = []
    for record in records:
        feature = encode_entity_spans(tokenizer, record["text"], [tuple(record["span"])], task="entity_classification")
        if multi_label:
            names = set(record["labels"] if "labels" in record else [record["label"]])
            by_id = sorted(label2id, key=label2id.get)
            feature["labels"] = [1.0 if label in names else 0.0 for label in by_id]
        else:
            feature["labels"] = label2id[record["label"]]
        features.append(feature)
    return FeatureDataset(features)


def classification_compute_metrics(
    id2label: Mapping[int, str], negative_label: str | None = None
) -> Callable[[Any], dict[str, float]]:
    """Accuracy, and micro precision/recall/F1 over every label except `negative_label` (TACRED-style)."""

    def compute(eval_prediction) -> dict[str, float]:
        predicted = np.asarray(eval_prediction.predictions).argmax(-1)
        gold = np.asarray(eval_prediction.label_ids)
        negative = next((index for index, label in id2label.items() if label == negative_label), None)
        predicted_positive = predicted != negative if negative is not None else np.ones_like(predicted, bool)
        gold_positive = gold != negative if negative is not None else np.ones_like(gold, bool)
        correct = (predicted == gold) & predicted_positive
        scores = precision_recall_f1(correct.sum(), predicted_positive.sum(), gold_positive.sum())
        return {"accuracy": float((predicted == gold).mean()), **scores}

    return compute


def multi_label_compute_metrics(threshold: float = 0.0) -> Callable[[Any], dict[str, float]]:
    """Micro precision/recall/F1 of labels whose logit exceeds `threshold` (0, as LUKE's entity typing)."""

    def compute(eval_prediction) -> dict[str, float]:
        predicted = np.asarray(eval_prediction.predictions) > threshold
        gold = np.asarray(eval_prediction.label_ids) > 0.5
        return precision_recall_f1((predicted & gold).sum(), predicted.sum(), gold.sum())

    return compute


# -- models, arguments, the run --------------------------------------------------------------------------------------


def load_model_and_tokenizer(model_name_or_path: str | os.PathLike, auto_class, labels: Sequence[str], **config):
    """A task model from any mLUKE folder or hub id, with a head sized for `labels` (a new head when it differs)."""
    from transformers import AutoTokenizer

    id2label = dict(enumerate(labels))
    model = auto_class.from_pretrained(
        model_name_or_path,
        num_labels=len(labels),
        id2label=id2label,
        label2id={label: index for index, label in id2label.items()},
        ignore_mismatched_sizes=True,
        **config,
    )
    tokenizer = AutoTokenizer.from_pretrained(model_name_or_path)
    return model, tokenizer


def add_training_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Arguments every example takes (data files, model, output, the usual Trainer knobs)."""
    parser.add_argument("--model", required=True, help="mLUKE folder or hub id, e.g. studio-ousia/mluke-base-lite")
    parser.add_argument("--train_file", required=True, type=Path)
    parser.add_argument("--validation_file", required=True, type=Path)
    parser.add_argument("--output_dir", required=True, type=Path)
    parser.add_argument("--num_train_epochs", type=float, default=3.0)
    parser.add_argument("--max_steps", type=int, default=-1, help="stop after this many steps (overrides epochs)")
    parser.add_argument("--learning_rate", type=float, default=2e-5)
    parser.add_argument("--weight_decay", type=float, default=0.01)
    parser.add_argument("--warmup_steps", type=float, default=0.06, help="steps, or a fraction (< 1) of all steps")
    parser.add_argument("--per_device_train_batch_size", type=int, default=8)
    parser.add_argument("--per_device_eval_batch_size", type=int, default=32)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--gradient_checkpointing", action="store_true", help="recompute activations to save memory")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 mixed precision (CPU with --use_cpu, or GPU)")
    parser.add_argument("--use_cpu", action="store_true", help="train on CPU even when a GPU is present")
    parser.add_argument("--logging_steps", type=int, default=50)
    return parser


def training_arguments(args: argparse.Namespace, **overrides):
    """`TrainingArguments` from the parsed example arguments; no mid-run checkpoints (the final model is saved)."""
    from transformers import TrainingArguments

    values = {
        "output_dir": str(args.output_dir),
        "num_train_epochs": args.num_train_epochs,
        "max_steps": args.max_steps,
        "learning_rate": args.learning_rate,
        "weight_decay": args.weight_decay,
        "warmup_steps": args.warmup_steps,
        "per_device_train_batch_size": args.per_device_train_batch_size,
        "per_device_eval_batch_size": args.per_device_eval_batch_size,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "seed": args.seed,
        # transformers 5 renamed gradient_checkpointing to activation_checkpointing (the old name warns).
        "activation_checkpointing": args.gradient_checkpointing,
        "bf16": args.bf16,
        "use_cpu": args.use_cpu,
        "logging_steps": args.logging_steps,
        "eval_strategy": "no",
        "eval_on_start": True,
        "save_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }
    values.update(overrides)
    return TrainingArguments(**values)


def train_and_evaluate(
    model,
    tokenizer,
    training_args,
    train_dataset,
    eval_dataset,
    compute_metrics,
    task: str,
    counts: Mapping[str, int],
) -> dict[str, Any]:
    """Evaluate, train, evaluate again; save model + tokenizer and `results.json` (main process only).

    `training_args` must have `eval_on_start=True` (as `training_arguments` sets it) for the "before" figure.
    """
    from transformers import Trainer

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=MLukeDataCollator(tokenizer),
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
    )
    # The "before" evaluation runs inside train() (eval_on_start): calling trainer.evaluate() first would register
    # the bare model with accelerate, which then skips the DistributedDataParallel wrap under torchrun, so ranks
    # would train apart without syncing gradients.
    train_output = trainer.train()
    before = next(entry for entry in trainer.state.log_history if "eval_loss" in entry)
    after = trainer.evaluate()
    results = {
        "task": task,
        **counts,
        "world_size": training_args.world_size,
        "train_loss": train_output.training_loss,
        "eval_loss_before": before["eval_loss"],
        "eval_loss": after["eval_loss"],
    }
    # Task metrics only: Trainer's timing entries differ from run to run.
    timings = ("eval_loss", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second",
               "eval_model_preparation_time")  # fmt: skip
    results.update({key.removeprefix("eval_"): value for key, value in after.items() if key not in timings})
    results.pop("epoch", None)
    trainer.save_model(training_args.output_dir)
    if trainer.is_world_process_zero():
        Path(training_args.output_dir, RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n")
    finish_distributed(trainer)
    return results


def finish_distributed(trainer) -> None:
    """Under torchrun, release the DDP-wrapped model, then tear the process group down, in that order.

    Left to interpreter exit, gloo's teardown sometimes aborts a rank ("terminate called without an active
    exception"); destroying the group while the DDP wrapper still lives can hang in the wrapper's destructor.
    """
    import gc

    from torch import distributed

    if not (distributed.is_available() and distributed.is_initialized()):
        return
    trainer.accelerator.free_memory()
    trainer.model_wrapped = trainer.model
    gc.collect()
    distributed.barrier()
    distributed.destroy_process_group()


def run_ner(args: argparse.Namespace, model=None, tokenizer=None) -> dict[str, Any]:
    """Span-based NER fine-tuning (LUKE's recipe): see `examples/train_ner.py`."""
    from ..auto import AutoModelForEntitySpanClassification

    train_examples = read_ner_file(args.train_file)
    eval_examples = read_ner_file(args.validation_file)
    if model is None:
        from transformers import AutoConfig

        labels = ner_labels(AutoConfig.from_pretrained(args.model), list(train_examples) + list(eval_examples))
        model, tokenizer = load_model_and_tokenizer(args.model, AutoModelForEntitySpanClassification, labels)
    labels = [model.config.id2label[index] for index in sorted(model.config.id2label)]
    label2id = {label: index for index, label in enumerate(labels)}
    max_tokens = model_max_tokens(tokenizer, model.config)
    # Saved with the model, so the NER pipeline groups candidate spans as the model was trained on them.
    model.config.ner_spans_per_input = args.max_entity_length
    options = {"max_mention_length": args.max_mention_length, "max_entity_length": args.max_entity_length,
               "max_tokens": max_tokens}  # fmt: skip
    train_features = ner_features(tokenizer, train_examples, label2id, **options)
    eval_features = ner_features(tokenizer, eval_examples, label2id, **options)
    return train_and_evaluate(
        model,
        tokenizer,
        training_arguments(args),
        train_features.dataset,
        eval_features.dataset,
        ner_compute_metrics(eval_examples, eval_features, model.config.id2label),
        task="ner",
        counts={
            "train_examples": len(train_examples),
            "eval_examples": len(eval_examples),
            "train_features": len(train_features.dataset),
        },
    )


def run_relation_classification(args: argparse.Namespace) -> dict[str, Any]:
    """Relation classification fine-tuning: see `examples/train_relation_classification.py`."""
    from ..auto import AutoModelForEntityPairClassification

    train_records, eval_records = read_relation_file(args.train_file), read_relation_file(args.validation_file)
    labels = sorted({record["label"] for record in train_records + eval_records})
    model, tokenizer = load_model_and_tokenizer(args.model, AutoModelForEntityPairClassification, labels)
    label2id = model.config.label2id
    return train_and_evaluate(
        model,
        tokenizer,
        training_arguments(args),
        relation_features(tokenizer, train_records, label2id),
        relation_features(tokenizer, eval_records, label2id),
        classification_compute_metrics(model.config.id2label, negative_label=args.negative_label),
        task="relation_classification",
        counts={"train_examples": len(train_records), "eval_examples": len(eval_records)},
    )


def run_entity_typing(args: argparse.Namespace) -> dict[str, Any]:
    """Entity typing fine-tuning: see `examples/train_entity_typing.py`."""
    from ..auto import AutoModelForEntityClassification

    train_records = read_entity_typing_file(args.train_file)
    eval_records = read_entity_typing_file(args.validation_file)
    multi_label = any("labels" in record for record in train_records + eval_records)
    labels = sorted(
        {label for record in train_records + eval_records for label in record.get("labels", [record.get("label")])}
    )
    problem_type = "multi_label_classification" if multi_label else "single_label_classification"
    model, tokenizer = load_model_and_tokenizer(
        args.model, AutoModelForEntityClassification, labels, problem_type=problem_type
    )
    label2id = model.config.label2id
    if multi_label:
        compute_metrics = multi_label_compute_metrics(threshold=0.0)
    else:
        compute_metrics = classification_compute_metrics(model.config.id2label)
    return train_and_evaluate(
        model,
        tokenizer,
        training_arguments(args),
        entity_typing_features(tokenizer, train_records, label2id, multi_label),
        entity_typing_features(tokenizer, eval_records, label2id, multi_label),
        compute_metrics,
        task="entity_typing",
        counts={"train_examples": len(train_records), "eval_examples": len(eval_records)},
    )

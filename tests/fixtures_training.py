"""Fixtures of the training tests: a tiny span-classification folder, its tokenizer, small task data files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DEMO_NER_DIR = Path(__file__).resolve().parents[1] / "mluke_hf" / "data" / "demo_ner"


@pytest.fixture(scope="session")
def span_checkpoint(tiny_checkpoint_factory) -> Path:
    """A tiny hub-layout LukeForEntitySpanClassification folder (read-only: copy it before writing)."""
    return tiny_checkpoint_factory(architecture="LukeForEntitySpanClassification")


@pytest.fixture(scope="session")
def pretrained_checkpoint(tiny_checkpoint_factory) -> Path:
    """A tiny hub-layout LukeForMaskedLM folder, the starting point of the fine-tuning examples."""
    return tiny_checkpoint_factory(architecture="LukeForMaskedLM")


@pytest.fixture
def mluke_tokenizer(span_checkpoint):
    """A fresh tokenizer of `span_checkpoint` per test (tests may change its attributes)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(span_checkpoint)


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


def demo_records(split: str, count: int, languages=("en", "de", "es", "fr", "nl")) -> list[dict]:
    """The first `count` sentences per language of the embedded demo NER set."""
    records = [json.loads(line) for line in (DEMO_NER_DIR / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    chosen = []
    for language in languages:
        chosen += [record for record in records if record["language"] == language][:count]
    return chosen


def write_conll(path: Path, records) -> Path:
    """CoNLL-2003 layout: -DOCSTART-, then `word POS chunk tag` lines (dummy POS/chunk), blank line per sentence."""
    from mluke_hf.tasks.ner import spans_to_bio, split_words

    lines = ["-DOCSTART- -X- -X- O", ""]
    for record in records:
        offsets = split_words(record["text"])
        starts = {start: index for index, (start, _) in enumerate(offsets)}
        ends = {end: index for index, (_, end) in enumerate(offsets)}
        spans = [(starts[entity["start"]], ends[entity["end"]], entity["label"]) for entity in record["entities"]]
        tags = spans_to_bio(len(offsets), spans)
        lines += [f"{record['text'][start:end]} X X {tag}" for (start, end), tag in zip(offsets, tags)] + [""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def relation_records(records) -> list[dict]:
    """Neighbouring entity pairs of each sentence, labelled by types (`PER-LOC`, ...), `no_relation` if the same."""
    pairs = []
    for record in records:
        entities = record["entities"]
        for head, tail in zip(entities, entities[1:]):
            label = "no_relation" if head["label"] == tail["label"] else f"{head['label']}-{tail['label']}"
            pairs.append({"text": record["text"], "head": [head["start"], head["end"]],
                          "tail": [tail["start"], tail["end"]], "label": label})  # fmt: skip
    return pairs


def typing_records(records, multi_label: bool = True) -> list[dict]:
    """Each mention with its type; multi-label adds `named` to all and `person_or_place` to PER and LOC mentions."""
    typed = []
    for record in records:
        for entity in record["entities"]:
            item = {"text": record["text"], "span": [entity["start"], entity["end"]]}
            if multi_label:
                item["labels"] = [entity["label"], "named"] + (["person_or_place"] if entity["label"] != "ORG" else [])
            else:
                item["label"] = entity["label"]
            typed.append(item)
    return typed


@pytest.fixture(scope="session")
def ner_files(tmp_path_factory) -> tuple[Path, Path]:
    """Tiny CoNLL train/validation files from the demo set (4 + 2 sentences per language)."""
    folder = tmp_path_factory.mktemp("ner_data")
    return (write_conll(folder / "train.conll", demo_records("train", 4)),
            write_conll(folder / "dev.conll", demo_records("heldout", 2)))  # fmt: skip


def logits_of(model, dataset, tokenizer):
    """Eval-mode logits (numpy) of a `FeatureDataset`, padded entity rows included, as Trainer's predictions."""
    import torch

    from mluke_hf import MLukeDataCollator

    model.eval()
    batch = MLukeDataCollator(tokenizer)(dataset.features)
    with torch.no_grad():
        return model(**{key: value for key, value in batch.items() if key != "labels"}).logits.numpy()


__all__ = [
    "logits_of",
    "DEMO_NER_DIR",
    "span_checkpoint",
    "pretrained_checkpoint",
    "mluke_tokenizer",
    "write_jsonl",
    "demo_records",
    "write_conll",
    "relation_records",
    "typing_records",
    "ner_files",
]

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


__all__ = ["DEMO_NER_DIR", "span_checkpoint", "pretrained_checkpoint", "mluke_tokenizer", "write_jsonl"]

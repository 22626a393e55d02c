"""Task data files: NER (CoNLL or JSONL with character-offset entities), relation classification, entity typing.

Spans are character offsets into the text, end exclusive. NER entities are kept as character spans here; which
candidate units they cover is decided with the model's tokenizer (`mluke_hf.tasks.training.ner_features`), which
reports every entity that does not start and end on unit boundaries, with its file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .metrics import OUTSIDE_LABEL, bio_to_spans
from .ner.boundaries import words_from_tokens


@dataclass
class NerExample:
    """One sentence for span-based NER: its raw text and gold entities `(start_char, end_char, label)`.

    `source` says where it came from (`"train.jsonl:12"`), for messages about its entities.
    """

    text: str
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    language: str | None = None
    source: str | None = None


def _check_entity(entity, text: str, where: str) -> tuple[int, int, str]:
    try:
        start, end, label = entity["start"], entity["end"], entity["label"]
    except (KeyError, TypeError):
        raise ValueError(f"{where}: each entity needs 'start', 'end' and 'label', got {entity!r}") from None
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
        raise TypeError(f"{where}: entity offsets must be ints, got {entity!r}")
    if not 0 <= start < end <= len(text):
        raise ValueError(f"{where}: entity {entity!r} is not a non-empty span of the text (length {len(text)})")
    if not isinstance(label, str) or not label or label == OUTSIDE_LABEL:
        raise ValueError(f"{where}: entity label must be a type name other than 'O', got {label!r}")
    return start, end, label


def _tokens_example(words: Sequence[str], tags: Sequence[str], where: str, language=None) -> NerExample:
    if len(words) != len(tags):
        raise ValueError(f"{where}: {len(words)} tokens but {len(tags)} tags")
    text, offsets = words_from_tokens(words)
    entities = [(offsets[start][0], offsets[end][1], label) for start, end, label in bio_to_spans(tags)]
    return NerExample(text, entities, language, where)


def read_conll(path: str | os.PathLike, tag_column: int = -1) -> list[NerExample]:
    """Sentences of a CoNLL-format file: one `word ... tag` line per word, blank lines between sentences.

    `-DOCSTART-` lines are skipped; the tag is column `tag_column` (the last by default, as in CoNLL-2003). Words
    are joined into raw text (`words_from_tokens`: spaces, none between words of spaceless scripts).
    """
    examples, words, tags = [], [], []
    first_line = 0

    def flush():
        if words:
            examples.append(_tokens_example(words, tags, f"{path}:{first_line}"))
            words.clear()
            tags.clear()

    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            columns = line.split()
            if not columns or columns[0] == "-DOCSTART-":
                flush()
                continue
            if len(columns) < 2:
                raise ValueError(f"{path}:{line_number}: expected 'word ... tag', got {line.rstrip()!r}")
            if not words:
                first_line = line_number
            words.append(columns[0])
            tags.append(columns[tag_column])
    flush()
    return examples


def read_jsonl(path: str | os.PathLike) -> list[NerExample]:
    """Sentences of a JSONL file, in any language: `{"text", "entities": [{"start", "end", "label"}], "language"}`
    per line (character offsets into the raw text), or `{"tokens", "ner_tags"}` with BIO string tags."""
    examples = []
    for line_number, record in _jsonl_records(path):
        where = f"{path}:{line_number}"
        if "tokens" in record:
            examples.append(_tokens_example(record["tokens"], record.get("ner_tags", []), where,
                                            record.get("language")))  # fmt: skip
            continue
        text = record.get("text")
        if not isinstance(text, str):
            raise TypeError(f"{where}: expected a 'text' string (or 'tokens' and 'ner_tags'), got keys {list(record)}")
        entities = [_check_entity(entity, text, where) for entity in record.get("entities", [])]
        examples.append(NerExample(text, entities, record.get("language"), where))
    return examples


def read_ner_file(path: str | os.PathLike) -> list[NerExample]:
    """`read_jsonl` for `.jsonl`/`.json` files, `read_conll` otherwise."""
    suffix = Path(path).suffix.lower()
    return read_jsonl(path) if suffix in (".jsonl", ".json") else read_conll(path)


def label_list(examples: Iterable[NerExample]) -> list[str]:
    """`["O", *sorted entity types]`: the span classifier's labels, outside first (as the released NER model)."""
    return [OUTSIDE_LABEL] + sorted({label for example in examples for _, _, label in example.entities})


def _jsonl_records(path: str | os.PathLike) -> Iterable[tuple[int, dict]]:
    """`(line number, record)` of each non-blank line of a JSONL file; a clear error naming the line otherwise."""
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: not a JSON line ({error.msg})") from None
            if not isinstance(record, dict):
                raise TypeError(f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}")
            yield line_number, record


def read_jsonl_records(path: str | os.PathLike, required: Sequence[str]) -> list[dict]:
    """The records of a JSONL file, each checked to hold the `required` keys."""
    records = []
    for line_number, record in _jsonl_records(path):
        missing = [key for key in required if key not in record]
        if missing:
            raise ValueError(f"{path}:{line_number}: missing keys {missing} (expected {list(required)})")
        records.append(record)
    if not records:
        raise ValueError(f"{path} holds no records")
    return records


def read_relation_file(path: str | os.PathLike) -> list[dict]:
    """Relation classification records: `{"text", "head": [start, end], "tail": [start, end], "label"}`."""
    return read_jsonl_records(path, ("text", "head", "tail", "label"))


def read_entity_typing_file(path: str | os.PathLike) -> list[dict]:
    """Entity typing records: `{"text", "span": [start, end], "labels": [...]}` or with `"label"` (single label)."""
    records = read_jsonl_records(path, ("text", "span"))
    for record in records:
        if ("labels" in record) == ("label" in record):
            raise ValueError(f"{path}: each record needs exactly one of 'labels' (list) or 'label' (str): {record}")
    return records

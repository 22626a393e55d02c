"""LUKE's named-entity recipe: word-aligned span enumeration, chunking, windows, greedy decoding and entity F1.

mLUKE does NER as span classification (Yamada et al., 2020): every span of whole words up to a maximum mention
length becomes a `[MASK]` entity, the model classifies each one from [start word; end word; entity] states, and
the predictions are decoded greedily by descending score, keeping spans that do not overlap a better one. This
module holds the model-free parts of that recipe, shared by the `entity-span-classification` pipeline, the NER
training example and the demo:

- `split_words` / `words_from_tokens`: the words (with character offsets) that spans are aligned to;
- `enumerate_spans`, `chunk_spans`: the candidate spans and their groups of `max_entity_length`;
- `plan_windows`: sliding windows with context for texts longer than the model's window;
- `encode_span_features`: tokenizer features for one text (all windows and chunks), with labels for training;
- `decode_greedy`: non-overlapping spans from per-span scores;
- `bio_to_spans`, `entity_scores`: seqeval-style (CoNLL) entity precision / recall / F1.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

# A word is a run of letters/digits or a single other non-space character, so "l'Espagne" gives "l", "'", "Espagne"
# and an entity can start right after an elision or a hyphen.
WORD_PATTERN = re.compile(r"\w+|[^\w\s]")

OUTSIDE_LABEL = "O"


@dataclass(frozen=True)
class WordSpan:
    """A span of whole words: `start_word`..`end_word` inclusive, with its character span `[start, end)`."""

    start_word: int
    end_word: int
    start: int
    end: int


@dataclass
class NerExample:
    """One sentence for span-based NER: its text, the character offsets of its words, and its gold entities.

    `entities` holds `(start_word, end_word, label)` triples with inclusive word indices.
    """

    text: str
    word_offsets: list[tuple[int, int]]
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    language: str | None = None

    @property
    def words(self) -> list[str]:
        return [self.text[start:end] for start, end in self.word_offsets]


def split_words(text: str) -> list[tuple[int, int]]:
    """Character offsets `(start, end)` of the words of `text` (see `WORD_PATTERN`)."""
    return [match.span() for match in WORD_PATTERN.finditer(text)]


def words_from_tokens(words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join pre-split words (a CoNLL sentence) with single spaces; return the text and each word's offsets."""
    offsets = []
    position = 0
    for word in words:
        if not word or any(character.isspace() for character in word):
            raise ValueError(f"words must be non-empty and contain no whitespace, got {word!r}")
        offsets.append((position, position + len(word)))
        position += len(word) + 1
    return " ".join(words), offsets


def enumerate_spans(num_words: int, max_mention_length: int) -> list[tuple[int, int]]:
    """Every `(start_word, end_word)` (inclusive) covering at most `max_mention_length` words, by start then length."""
    if max_mention_length < 1:
        raise ValueError(f"max_mention_length must be at least 1, got {max_mention_length}")
    return [
        (start, end)
        for start in range(num_words)
        for end in range(start, min(start + max_mention_length, num_words))
    ]


def chunk_spans(spans: Sequence, max_entity_length: int) -> list[list]:
    """Consecutive groups of at most `max_entity_length` spans; each group is one model input over the same words."""
    if max_entity_length < 1:
        raise ValueError(f"max_entity_length must be at least 1, got {max_entity_length}")
    return [list(spans[index : index + max_entity_length]) for index in range(0, len(spans), max_entity_length)]


@dataclass(frozen=True)
class Window:
    """Words `[start, end)` given to the model at once; spans starting in `[core_start, core_end)` are decided here."""

    start: int
    end: int
    core_start: int
    core_end: int


def plan_windows(word_token_counts: Sequence[int], max_tokens: int, context_tokens: int | None = None) -> list[Window]:
    """Split a text's words into model windows of at most `max_tokens` subword tokens.

    A text that fits is one window. Otherwise the words are cut into consecutive cores; each window is its core plus
    up to `context_tokens` tokens of words on either side (a quarter of `max_tokens` by default), so every span is
    decided once (in the window whose core holds its first word) with context around it.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    num_words = len(word_token_counts)
    if sum(word_token_counts) <= max_tokens:
        return [Window(0, num_words, 0, num_words)]
    if context_tokens is None:
        context_tokens = max_tokens // 4
    core_budget = max(1, max_tokens - 2 * context_tokens)
    windows = []
    core_start = 0
    while core_start < num_words:
        core_end, used = core_start, 0
        # A word longer than the whole budget still gets a window of its own (the tokenizer truncates it, warning).
        while core_end < num_words and (core_end == core_start or used + word_token_counts[core_end] <= core_budget):
            used += word_token_counts[core_end]
            core_end += 1
        start, left = core_start, 0
        # Context never pushes the window past max_tokens (a core word may use the whole budget by itself).
        while start > 0 and left + word_token_counts[start - 1] <= min(context_tokens, max_tokens - used):
            start -= 1
            left += word_token_counts[start]
        end, total = core_end, used + left
        while end < num_words and total + word_token_counts[end] <= max_tokens:
            total += word_token_counts[end]
            end += 1
        windows.append(Window(start, end, core_start, core_end))
        core_start = core_end
    return windows


def decode_greedy(candidates: Iterable[tuple[float, int, int, str]]) -> list[tuple[float, int, int, str]]:
    """Keep the best-scored spans that overlap no better one (LUKE's NER decoding).

    `candidates` are `(score, start, end, label)` with inclusive `start`/`end` on any integer axis (word indices);
    spans labelled `O` should be left out by the caller. Returns the kept candidates sorted by `start`.
    """
    taken: set[int] = set()
    kept = []
    for candidate in sorted(candidates, key=lambda item: (-item[0], item[1], item[2])):
        _, start, end, _ = candidate
        positions = range(start, end + 1)
        if any(position in taken for position in positions):
            continue
        taken.update(positions)
        kept.append(candidate)
    return sorted(kept, key=lambda item: item[1])


# -- feature building ----------------------------------------------------------------------------------------------


def encode_entity_spans(tokenizer, text: str, entity_spans: Sequence[tuple[int, int]], task: str) -> dict:
    """Tokenizer features (plain lists) of one text with character `entity_spans`, in the tokenizer mode `task`.

    Every span is kept (the tokenizer's default `max_entity_length` does not cut them); callers chunk spans first.
    """
    encoding = tokenizer(text, entity_spans=list(entity_spans), max_entity_length=max(1, len(entity_spans)), task=task)
    return {key: list(value) for key, value in encoding.items()}


def word_token_counts(tokenizer, words: Sequence[str], cache: dict[str, int] | None = None) -> list[int]:
    """Subword tokens per word, as the entity tokenizers cut the text at every span boundary (each word alone)."""
    cache = {} if cache is None else cache
    counts = []
    for word in words:
        if word not in cache:
            cache[word] = max(1, len(tokenizer.tokenize(word)))
        counts.append(cache[word])
    return counts


def model_max_tokens(tokenizer, model_config=None) -> int:
    """Word tokens a single model input may hold (without `<s>`/`</s>`), from the config's position table."""
    limit = 512
    positions = getattr(model_config, "max_position_embeddings", None)
    if positions:
        # RoBERTa-style positions start after the padding index.
        limit = min(limit, positions - getattr(model_config, "pad_token_id", 1) - 1)
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if tokenizer_limit and tokenizer_limit < 100_000:
        limit = min(limit, tokenizer_limit)
    return max(1, limit - 2)


@dataclass
class SpanFeature:
    """One model input for span classification: tokenizer output plus the text spans its entities stand for."""

    encoding: dict
    # Per entity: (start_word, end_word, start_char, end_char) in the ORIGINAL text.
    spans: list[tuple[int, int, int, int]]


def encode_span_features(
    tokenizer,
    text: str,
    word_offsets: Sequence[tuple[int, int]],
    max_mention_length: int,
    max_entity_length: int,
    max_tokens: int,
    labels: Mapping[tuple[int, int], int] | None = None,
    token_count_cache: dict[str, int] | None = None,
) -> list[SpanFeature]:
    """All model inputs of one text for span classification: windows x chunks of candidate spans.

    Each feature holds `input_ids`, `attention_mask`, `entity_ids`, `entity_position_ids`, `entity_attention_mask`,
    `entity_start_positions`, `entity_end_positions` (lists), and `labels` (one per entity, 0 = outside) when
    `labels` maps gold `(start_word, end_word)` spans to label ids.
    """
    words = [text[start:end] for start, end in word_offsets]
    counts = word_token_counts(tokenizer, words, token_count_cache)
    features = []
    for window in plan_windows(counts, max_tokens):
        window_char_start = word_offsets[window.start][0] if window.end > window.start else 0
        window_char_end = word_offsets[window.end - 1][1] if window.end > window.start else 0
        window_text = text[window_char_start:window_char_end]
        spans = [
            (start, end)
            for start, end in enumerate_spans(window.end - window.start, max_mention_length)
            if window.core_start <= start + window.start < window.core_end
        ]
        for chunk in chunk_spans(spans, max_entity_length):
            absolute = [(start + window.start, end + window.start) for start, end in chunk]
            char_spans = [(word_offsets[start][0], word_offsets[end][1]) for start, end in absolute]
            local_spans = [(start - window_char_start, end - window_char_start) for start, end in char_spans]
            encoding = encode_entity_spans(tokenizer, window_text, local_spans, task="entity_span_classification")
            kept = len(encoding["entity_ids"])
            if kept < len(absolute):
                logger.warning(
                    "%d candidate spans did not fit in the model window and were skipped", len(absolute) - kept
                )
            spans_info = [(s, e, cs, ce) for (s, e), (cs, ce) in zip(absolute[:kept], char_spans[:kept])]
            if labels is not None:
                encoding["labels"] = [labels.get((s, e), 0) for s, e, _, _ in spans_info]
            features.append(SpanFeature(encoding=encoding, spans=spans_info))
    return features


# -- data ------------------------------------------------------------------------------------------------------------


def bio_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entity spans `(start, end, type)` (inclusive) of a BIO/IOB2 tag sequence, the way seqeval (CoNLL) reads it.

    An `I-X` that does not continue an `X` entity starts a new one; `E-`/`S-` (BIOES) tags are read too.
    """
    spans = []
    current = None  # [start, end, type]
    for index, tag in enumerate(list(tags) + [OUTSIDE_LABEL]):
        prefix, _, entity_type = tag.partition("-") if tag != OUTSIDE_LABEL else ("O", "", "")
        if prefix not in ("B", "I", "E", "S", "O"):
            raise ValueError(f"tag {tag!r} at position {index} is not O or B-/I-/E-/S- followed by a type")
        continues = current is not None and prefix in ("I", "E") and entity_type == current[2]
        if current is not None and not continues:
            spans.append(tuple(current))
            current = None
        if continues:
            current[1] = index
        elif prefix in ("B", "I", "E", "S"):
            current = [index, index, entity_type]
        if current is not None and prefix in ("E", "S"):
            spans.append(tuple(current))
            current = None
    return spans


def spans_to_bio(num_words: int, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """BIO tags for non-overlapping inclusive `(start, end, type)` spans."""
    tags = [OUTSIDE_LABEL] * num_words
    for start, end, entity_type in spans:
        tags[start] = f"B-{entity_type}"
        for index in range(start + 1, end + 1):
            tags[index] = f"I-{entity_type}"
    return tags


def entity_scores(
    gold: Sequence[Iterable[tuple[int, int, str]]], predicted: Sequence[Iterable[tuple[int, int, str]]]
) -> dict[str, float]:
    """Micro entity precision/recall/F1 (exact span and type match, as seqeval), plus `f1_<TYPE>` per type."""
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    true_positive, gold_count, predicted_count = Counter(), Counter(), Counter()
    for gold_spans, predicted_spans in zip(gold, predicted):
        gold_set, predicted_set = set(gold_spans), set(predicted_spans)
        for span in gold_set:
            gold_count[span[2]] += 1
        for span in predicted_set:
            predicted_count[span[2]] += 1
            if span in gold_set:
                true_positive[span[2]] += 1

    def f1(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)

    totals = (sum(true_positive.values()), sum(predicted_count.values()), sum(gold_count.values()))
    precision, recall, overall = f1(*totals)
    scores = {"precision": precision, "recall": recall, "f1": overall}
    for entity_type in sorted(set(gold_count) | set(predicted_count)):
        counts = (true_positive[entity_type], predicted_count[entity_type], gold_count[entity_type])
        scores[f"f1_{entity_type}"] = f1(*counts)[2]
    return scores


def read_conll(path: str | os.PathLike, tag_column: int = -1) -> list[NerExample]:
    """Sentences of a CoNLL-format file: one `word ... tag` line per word, blank lines between sentences.

    `-DOCSTART-` lines are skipped; the tag is column `tag_column` (the last by default, as in CoNLL-2003).
    """
    examples, words, tags = [], [], []

    def flush():
        if words:
            text, offsets = words_from_tokens(words)
            examples.append(NerExample(text, offsets, bio_to_spans(tags)))
            words.clear()
            tags.clear()

    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            columns = line.split()
            if not columns:
                flush()
                continue
            if columns[0] == "-DOCSTART-":
                flush()
                continue
            if len(columns) < 2:
                raise ValueError(f"{path}:{line_number}: expected 'word ... tag', got {line.rstrip()!r}")
            words.append(columns[0])
            tags.append(columns[tag_column])
    flush()
    return examples


def read_jsonl(path: str | os.PathLike) -> list[NerExample]:
    """Sentences of a JSONL file: `{"text", "entities": [{"start", "end", "label"}], "language"}` per line
    (character spans aligned to `split_words` words), or `{"tokens", "ner_tags"}` with BIO string tags."""
    examples = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if "tokens" in record:
                text, offsets = words_from_tokens(record["tokens"])
                examples.append(NerExample(text, offsets, bio_to_spans(record["ner_tags"]), record.get("language")))
                continue
            text = record["text"]
            offsets = split_words(text)
            starts = {start: index for index, (start, _) in enumerate(offsets)}
            ends = {end: index for index, (_, end) in enumerate(offsets)}
            entities = []
            for entity in record.get("entities", []):
                if entity["start"] not in starts or entity["end"] not in ends:
                    raise ValueError(
                        f"{path}:{line_number}: entity {entity} does not start and end on word boundaries of the text"
                    )
                entities.append((starts[entity["start"]], ends[entity["end"]], entity["label"]))
            examples.append(NerExample(text, offsets, entities, record.get("language")))
    return examples


def read_ner_file(path: str | os.PathLike) -> list[NerExample]:
    """`read_jsonl` for `.jsonl`/`.json` files, `read_conll` otherwise."""
    suffix = Path(path).suffix.lower()
    return read_jsonl(path) if suffix in (".jsonl", ".json") else read_conll(path)


def label_list(examples: Iterable[NerExample]) -> list[str]:
    """`["O", *sorted entity types]`: the span classifier's labels, outside first (as the released NER model)."""
    return [OUTSIDE_LABEL] + sorted({label for example in examples for _, _, label in example.entities})

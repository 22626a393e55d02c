"""Model inputs of span-based NER: a text's units, windows and chunks of candidate spans, as tokenizer features.

`text_units` gives the units of a text (`boundaries.candidate_units`, over-long ones cut to fit a window) with their
token counts; `encode_span_features` turns them into model inputs. The pipeline and `ner_features` (training and
evaluation) both go through these two, so they see the same candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..encoding import encode_entity_spans, word_token_counts
from .boundaries import candidate_units_batch
from .windows import chunk_spans, enumerate_spans, fit_units, plan_windows, unit_token_limit

logger = logging.getLogger(__name__)


@dataclass
class SpanFeature:
    """One model input for span classification: tokenizer output plus the text spans its entities stand for."""

    encoding: dict
    # Per entity: (start_unit, end_unit, start_char, end_char) in the ORIGINAL text (units inclusive).
    spans: list[tuple[int, int, int, int]]


def text_units_batch(
    tokenizer, texts: Sequence[str], max_tokens: int, token_count_cache: dict[str, int] | None = None
) -> list[tuple[list[tuple[int, int]], list[int]]]:
    """Per text, its candidate units and their token counts, every unit at most `unit_token_limit(max_tokens)`."""
    limit = unit_token_limit(max_tokens)
    cache = {} if token_count_cache is None else token_count_cache
    all_units = candidate_units_batch(tokenizer, texts)
    # One tokenizer call for every distinct unit of the batch.
    word_token_counts(tokenizer, [text[start:end] for text, units in zip(texts, all_units) for start, end in units],
                      cache)  # fmt: skip
    result = []
    for text, units in zip(texts, all_units):
        counts = [cache[text[start:end]] for start, end in units]
        result.append(fit_units(tokenizer, text, units, counts, limit))
    return result


def text_units(
    tokenizer, text: str, max_tokens: int, token_count_cache: dict[str, int] | None = None
) -> tuple[list[tuple[int, int]], list[int]]:
    """The candidate units of `text` and their token counts (see `text_units_batch`)."""
    return text_units_batch(tokenizer, [text], max_tokens, token_count_cache)[0]


def encode_span_features(
    tokenizer,
    text: str,
    units: Sequence[tuple[int, int]],
    max_mention_length: int,
    max_entity_length: int,
    max_tokens: int,
    labels: Mapping[tuple[int, int], int] | None = None,
    token_counts: Sequence[int] | None = None,
) -> list[SpanFeature]:
    """All model inputs of one text for span classification: windows x chunks of candidate spans.

    `units` are the text's `(start, end)` character offsets that spans are made of, with their `token_counts` (as
    `text_units` gives both; counted here when not given). Each feature holds `input_ids`, `attention_mask`,
    `entity_ids`, `entity_position_ids`, `entity_attention_mask`, `entity_start_positions`, `entity_end_positions`
    (lists), and `labels` (one per entity, 0 = outside) when `labels` maps gold `(start_unit, end_unit)` spans to
    label ids. No input holds more than `max_tokens` word tokens.
    """
    if token_counts is None:
        token_counts = word_token_counts(tokenizer, [text[start:end] for start, end in units])
    features = []
    skipped = 0
    for window in plan_windows(token_counts, max_tokens):
        window_char_start = units[window.start][0] if window.end > window.start else 0
        window_char_end = units[window.end - 1][1] if window.end > window.start else 0
        window_text = text[window_char_start:window_char_end]
        spans = [
            (start, end)
            for start, end in enumerate_spans(window.end - window.start, max_mention_length)
            if window.core_start <= start + window.start < window.core_end
        ]
        for chunk in chunk_spans(spans, max_entity_length):
            absolute = [(start + window.start, end + window.start) for start, end in chunk]
            char_spans = [(units[start][0], units[end][1]) for start, end in absolute]
            local_spans = [(start - window_char_start, end - window_char_start) for start, end in char_spans]
            encoding = encode_entity_spans(
                tokenizer, window_text, local_spans, task="entity_span_classification", max_length=max_tokens + 2
            )
            kept = len(encoding["entity_ids"])
            skipped += len(absolute) - kept
            spans_info = [(s, e, cs, ce) for (s, e), (cs, ce) in zip(absolute[:kept], char_spans[:kept])]
            if labels is not None:
                encoding["labels"] = [labels.get((s, e), 0) for s, e, _, _ in spans_info]
            if spans_info:
                features.append(SpanFeature(encoding=encoding, spans=spans_info))
    if skipped:
        logger.warning("%d candidate spans did not fit in the model window of %d tokens and were skipped", skipped,
                       max_tokens)  # fmt: skip
    return features


def align_entities(
    units: Sequence[tuple[int, int]], entities: Sequence[tuple[int, int, str]]
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """Gold character-span entities as `(start_unit, end_unit, label)` (inclusive), and those that do not start and
    end on unit boundaries (which no candidate span can match)."""
    starts = {start: index for index, (start, _) in enumerate(units)}
    ends = {end: index for index, (_, end) in enumerate(units)}
    aligned, misaligned = [], []
    for start, end, label in entities:
        if start in starts and end in ends and starts[start] <= ends[end]:
            aligned.append((starts[start], ends[end], label))
        else:
            misaligned.append((start, end, label))
    return aligned, misaligned

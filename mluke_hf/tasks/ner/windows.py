"""Candidate spans, their chunks, and the model windows a text is read in.

Every span of up to `max_mention_length` consecutive units (see `boundaries`) is a candidate; candidates are grouped
in chunks of `max_entity_length` over the same tokens; a text longer than the model's window is read in sliding
windows with context on both sides. A unit too long for a window by itself (a URL, a hash, a run of thousands of
characters with no piece boundary in reach) is first cut at piece boundaries into parts that fit (`fit_units`), so
any text gives windows that fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..encoding import token_counts
from .boundaries import grapheme_starts, piece_lengths


def enumerate_spans(num_words: int, max_mention_length: int) -> list[tuple[int, int]]:
    """Every `(start_word, end_word)` (inclusive) covering at most `max_mention_length` units, by start then length."""
    if max_mention_length < 1:
        raise ValueError(f"max_mention_length must be at least 1, got {max_mention_length}")
    return [
        (start, end) for start in range(num_words) for end in range(start, min(start + max_mention_length, num_words))
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


def context_budget(max_tokens: int) -> int:
    """Tokens of context on each side of a window's core: a quarter of the window."""
    return max_tokens // 4


def unit_token_limit(max_tokens: int) -> int:
    """The most tokens one unit may hold: what a window's core holds after its context (at least 1)."""
    return max(1, max_tokens - 2 * context_budget(max_tokens))


def plan_windows(word_token_counts: Sequence[int], max_tokens: int, context_tokens: int | None = None) -> list[Window]:
    """Split a text's words into model windows of at most `max_tokens` subword tokens.

    A text that fits is one window. Otherwise the words are cut into consecutive cores; each window is its core plus
    up to `context_tokens` tokens of words on either side (a quarter of `max_tokens` by default), so every span is
    decided once (in the window whose core holds its first word) with context around it. Every window fits when no
    word holds more than `unit_token_limit(max_tokens)` tokens (`fit_units` makes sure of that).
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    num_words = len(word_token_counts)
    if sum(word_token_counts) <= max_tokens:
        return [Window(0, num_words, 0, num_words)]
    if context_tokens is None:
        context_tokens = context_budget(max_tokens)
    core_budget = max(1, max_tokens - 2 * context_tokens)
    windows = []
    core_start = 0
    while core_start < num_words:
        core_end, used = core_start, 0
        # A word longer than the whole budget still gets a window of its own (the encoding cuts it, warning).
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


def _middle_cut(text: str, lengths: Sequence[int]) -> int:
    """Where to halve `text`: the piece boundary between graphemes nearest its middle, else the grapheme boundary
    nearest it; inside a grapheme only when `text` is a single (enormous) grapheme."""
    graphemes = sorted(grapheme_starts(text) - {0, len(text)})
    pieces, position = [], 0
    for length in lengths[:-1]:
        position += length
        pieces.append(position)
    candidates = [cut for cut in pieces if 0 < cut < len(text) and cut in set(graphemes)] or graphemes
    middle = len(text) / 2
    return min(candidates, key=lambda cut: abs(cut - middle)) if candidates else len(text) // 2


def fit_units(
    tokenizer, text: str, units: Sequence[tuple[int, int]], counts: Sequence[int], limit: int
) -> tuple[list[tuple[int, int]], list[int]]:
    """Units (and their token counts) where every unit longer than `limit` tokens is halved at piece boundaries
    until its parts fit; one batched tokenizer call per halving round."""
    if not counts or max(counts) <= limit:
        return list(units), list(counts)
    done = {unit: count for unit, count in zip(units, counts) if count <= limit}
    pending = [unit for unit, count in zip(units, counts) if count > limit]
    while pending:
        lengths = piece_lengths(tokenizer, [text[start:end] for start, end in pending])
        halves = []
        for (start, end), unit_lengths in zip(pending, lengths):
            cut = start + _middle_cut(text[start:end], unit_lengths)
            halves += [(start, cut), (cut, end)]
        pending = []
        for (start, end), count in zip(halves, token_counts(tokenizer, [text[s:e] for s, e in halves])):
            if count > limit and end - start > 1:
                pending.append((start, end))
            else:
                done[(start, end)] = count
    ordered = sorted(done)
    return ordered, [done[unit] for unit in ordered]

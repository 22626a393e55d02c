"""Character offsets of tokens from the Rust backend, mapped back to the caller's text (MLukeTokenizerFast).

SentencePiece gives ids but no offsets; when a call asks for `return_offsets_mapping` (or `word_ids()`, overflow
windows), MLukeTokenizerFast encodes with its Rust backend, whose offsets are then trimmed to XLM-R's conventions
(no leading space) and extended over characters the normaliser folded away. On the entity path the mixin runs on
stand-in ids that each point back to one token's (id, span), so the `<ent>` markers and specials it inserts can be
given offsets afterwards.
"""

from __future__ import annotations

import functools
import unicodedata

# Stand-in ids for word tokens while the entity path runs with offsets: far above any real id, so markers, special
# tokens and padding (real ids) stay apart from them and each one points back to its token's id and offsets.
TOKEN_REF_BASE = 1 << 40


def attaches_to_previous(character: str) -> bool:
    """Marks, format and control characters (not whitespace): what a normaliser composes into or deletes after the
    character before it."""
    return not character.isspace() and unicodedata.category(character)[0] in "MC"


@functools.cache
def _attaching_candidates():
    """Marks and other/control characters (compiled on first use: `regex` is only needed for offsets)."""
    import regex

    return regex.compile(r"[\p{M}\p{C}]")


def has_attaching_characters(text: str) -> bool:
    """Whether `text` holds a character `attaches_to_previous` accepts (most do not; `cover_gaps` is skipped)."""
    return any(not match.isspace() for match in _attaching_candidates().findall(text))


def cover_gaps(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Extend each span over the characters after it that no token covers when they are marks, format or control
    characters: the normaliser folded them into the token before (`"a\u0308"` -> `"ä"`) or deleted them."""
    covered = []
    for index, (start, end) in enumerate(spans):
        limit = spans[index + 1][0] if index + 1 < len(spans) else len(text)
        while end < limit and attaches_to_previous(text[end]):
            end += 1
        covered.append((start, end))
    return covered


def strip_leading_space(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """A token such as `▁world` covers the space before the word; its offsets start at the word, as in XLM-R."""
    start, end = span
    while start < end - 1 and text[start].isspace():
        start += 1
    return (start, end)


def stand_in_ids_to_real_ids(row: list[int], tokens: list[tuple[int, tuple[int, int]]]) -> list[int]:
    """A row of stand-in ids (and real special/marker ids) with each stand-in replaced by its token's id."""
    return [tokens[value - TOKEN_REF_BASE][0] if value >= TOKEN_REF_BASE else value for value in row]


def stand_in_offsets(
    row: list[int], tokens: list[tuple[int, tuple[int, int]]], marker_ids: tuple[int, int]
) -> list[tuple[int, int]]:
    """Offsets of a row of stand-in ids: each token's span; `<s>`/`</s>`/padding (0, 0); each `<ent>`/`<ent2>`
    marker a zero-width span at the edge of the mention it opens or closes."""
    spans: list = []
    for value in row:
        if value >= TOKEN_REF_BASE:
            spans.append(tokens[value - TOKEN_REF_BASE][1])
        elif value in marker_ids:
            spans.append(None)  # filled from its neighbours below
        else:
            spans.append((0, 0))
    seen: set = set()
    for index, value in enumerate(row):
        if spans[index] is not None:
            continue
        opening = value not in seen
        seen.symmetric_difference_update({value})
        if opening:
            follower = next((spans[k] for k in range(index + 1, len(row)) if row[k] >= TOKEN_REF_BASE), None)
            position = follower[0] if follower else 0
        else:
            leader = next((spans[k] for k in range(index - 1, -1, -1) if row[k] >= TOKEN_REF_BASE), None)
            position = leader[1] if leader else 0
        spans[index] = (position, position)
    return spans

"""Mentions: a text cut at its span boundaries, each span's token range, `<ent>` markers and `entity_position_ids`.

Each piece of the cut is encoded on its own (as transformers 4.57.6 encodes it), so a span's token range is the
number of tokens in the pieces before its boundaries.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Sequence

from transformers.utils import logging

logger = logging.get_logger(__name__)


def split_text_at_spans(
    text: str, entity_spans: Sequence[tuple[int, int]] | None, boundaries: Sequence[int] | None = None
) -> tuple[list[str], dict]:
    """Cut `text` at every span boundary; return the pieces and, per boundary, the number of pieces before it.

    A boundary right after a space moves left by one, so the space opens the next piece (it then gets the same
    `▁` as inside a sentence). Each piece is later encoded on its own. `boundaries` (the sorted distinct span
    ends, as `checked_span_boundaries` gives them) saves recomputing them.
    """
    if not entity_spans:
        return [text], {}
    if boundaries is None:
        boundaries = sorted(set(itertools.chain.from_iterable(entity_spans)))
    pieces: list[str] = []
    pieces_before: dict = {}
    piece_start = count = 0
    # Cuts never decrease with the boundaries; each cut past the current piece's start closes that piece.
    for boundary in boundaries:
        cut = boundary - 1 if boundary > 0 and text[boundary - 1] == " " else boundary
        if cut > piece_start:
            pieces.append(text[piece_start:cut])
            piece_start = cut
            count += 1
        pieces_before[boundary] = count
    pieces.append(text[piece_start:])
    return pieces, pieces_before


class SequencePlan:
    """One text (first or second sequence) cut into pieces, waiting for the pieces' ids.

    `span_piece_counts` lists, for each span's start then end, the number of pieces before that boundary: the token
    position of the boundary is the number of tokens in those pieces.
    """

    __slots__ = ("entity_ids", "entity_spans", "pieces", "span_piece_counts", "spans_argument")

    def __init__(self, pieces, pieces_before, entity_spans, entity_ids, spans_argument="entity_spans"):
        self.pieces = pieces
        self.entity_spans = entity_spans
        self.entity_ids = entity_ids
        self.spans_argument = spans_argument
        self.span_piece_counts = (
            list(map(pieces_before.__getitem__, itertools.chain.from_iterable(entity_spans))) if entity_spans else []
        )

    def token_bounds(self, piece_ids: list[list[int]], offset: int = 0) -> tuple[list[int], list[int]]:
        """Token start and end (exclusive) of each span, counted from `offset`."""
        tokens_before = list(itertools.accumulate(map(len, piece_ids), initial=offset))
        bounds = list(map(tokens_before.__getitem__, self.span_piece_counts))
        starts, ends = bounds[0::2], bounds[1::2]
        if not all(map(operator.lt, starts, ends)):
            self._warn_about_empty_mentions(starts, ends)
        return starts, ends

    def _warn_about_empty_mentions(self, starts: list[int], ends: list[int]) -> None:
        """Spans over whitespace or dropped characters only: kept as the reference keeps them (an entity whose
        `entity_position_ids` row is all -1, so the model sees no mention), but never silently."""
        empty = [index for index, (start, end) in enumerate(zip(starts, ends)) if start >= end]
        logger.warning(
            f"{self.spans_argument}{empty} ({[self.entity_spans[index] for index in empty]}) cover no token: their "
            "characters are only whitespace or characters the tokenizer drops (zero-width, control), so those "
            "entities get no mention position (rows of -1); point the spans at the mentions' visible characters"
        )

    def assemble(self, piece_ids: list[list[int]]) -> tuple[list[int], list[tuple[int, int]] | None]:
        """Concatenate the pieces' ids; map each character span to its token span."""
        if len(piece_ids) == 1:
            ids = list(piece_ids[0])
        else:
            ids = list(itertools.chain.from_iterable(piece_ids))
        if self.entity_spans is None:
            return ids, None
        return ids, list(zip(*self.token_bounds(piece_ids)))


def insert_entity_markers(ids: list[int], token_span: tuple[int, int], marker_id: int) -> list[int]:
    """Put `marker_id` before and after a token span."""
    start, end = token_span
    return ids[:start] + [marker_id] + ids[start:end] + [marker_id] + ids[end:]


def entities_within(entity_ids: list, token_spans: list, length: int) -> tuple[list, list]:
    """The entities (and their spans) whose mention ends within the first `length` tokens."""
    if not token_spans or max(map(operator.itemgetter(1), token_spans)) <= length:
        return entity_ids, token_spans  # callers copy before changing them
    kept = [(entity, span) for entity, span in zip(entity_ids, token_spans) if span[1] <= length]
    return [entity for entity, _ in kept], [span for _, span in kept]


@functools.lru_cache(maxsize=8)
def _minus_one_fillers(mention_length: int) -> tuple[list[int], ...]:
    """fillers[k]: the -1s that complete a row holding k positions (read only, never handed out)."""
    return tuple([-1] * (mention_length - length) for length in range(mention_length + 1))


def entity_position_rows(
    token_spans: Sequence[tuple[int, int]], offset: int, mention_length: int, sequence_length: int
) -> tuple[list[list[int]], list[int], list[int]]:
    """`entity_position_ids` rows, start and (inclusive) end positions of token spans shifted by `offset`.

    Each row lists the mention's token positions, cut to `mention_length` and padded with -1.
    """
    if not token_spans:
        return [], [], []
    starts, ends = zip(*token_spans)
    if (
        offset >= 0
        and min(starts) >= 0
        and max(ends) <= sequence_length - offset
        and all(map(operator.le, starts, ends))
    ):
        rows = mention_position_rows(list(range(offset, sequence_length + 1)), starts, ends, mention_length)
    else:  # spans pointing outside the sequence (prepare_for_model on hand-made input): the reference's formula
        rows = [
            list(range(start + offset, min(end, start + mention_length) + offset))
            + [-1] * (mention_length - end + start)
            for start, end in token_spans
        ]
    return rows, list(map(offset.__add__, starts)), list(map((offset - 1).__add__, ends))


def mention_position_rows(
    positions: list[int], starts: Sequence[int], ends: Sequence[int], mention_length: int
) -> list:
    """Rows `positions[start:end]` cut to `mention_length` and padded with -1 (spans inside `positions`).

    A slice of one position list plus a prebuilt run of -1s: no per-token Python work.
    """
    fillers = _minus_one_fillers(mention_length)
    if not starts or max(map(operator.sub, ends, starts)) <= mention_length:
        return [positions[start:end] + fillers[end - start] for start, end in zip(starts, ends)]
    return [
        positions[start : start + mention_length]
        if end - start >= mention_length
        else positions[start:end] + fillers[end - start]
        for start, end in zip(starts, ends)
    ]

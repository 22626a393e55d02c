"""The one span decoder: per-span logits of one text to its entities (LUKE's greedy decoding).

Each candidate span takes its best label; spans whose label is ignored (`O`) drop out; the rest compete by that
label's logit, best first, and a span is kept only if it overlaps no kept one. The reported score is the softmax
probability of the label. The pipeline, `compute_metrics` and the examples all call `decode_span_logits` on float32
logits, so they give the same entities for the same logits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from ..metrics import OUTSIDE_LABEL


class DecodedEntity(NamedTuple):
    """An entity of a text: character span `[start, end)`, label, and the label's probability."""

    start: int
    end: int
    label: str
    score: float


def decode_greedy(candidates: Iterable[tuple]) -> list[tuple]:
    """Keep the best-scored spans that overlap no better one (LUKE's NER decoding).

    `candidates` are `(score, start, end, ...)` with inclusive `start`/`end` on any integer axis (unit indices);
    spans labelled `O` should be left out by the caller. Ties go to the earlier, then shorter span. Returns the kept
    candidates sorted by `start`.
    """
    taken: set[int] = set()
    kept = []
    for candidate in sorted(candidates, key=lambda item: (-item[0], item[1], item[2])):
        start, end = candidate[1], candidate[2]
        positions = range(start, end + 1)
        if any(position in taken for position in positions):
            continue
        taken.update(positions)
        kept.append(candidate)
    return sorted(kept, key=lambda item: item[1])


def decode_span_logits(
    logits,
    spans: Sequence[tuple[int, int, int, int]],
    id2label: Mapping[int, str],
    ignore_labels: Collection[str] = (OUTSIDE_LABEL,),
) -> list[DecodedEntity]:
    """Entities of one text, sorted by position, from the logits of its candidate spans.

    `logits` is `(num_spans, num_labels)` (rows past `len(spans)` are padding and ignored), one row per span of
    `spans`, each `(start_unit, end_unit, start_char, end_char)` (units inclusive, characters end-exclusive).
    """
    if not len(spans):
        return []
    logits = np.asarray(logits, dtype=np.float32)[: len(spans)]
    best = logits.argmax(-1)
    best_logits = np.take_along_axis(logits, best[:, None], axis=-1)[:, 0]
    probabilities = 1.0 / np.exp(logits - best_logits[:, None]).sum(-1)
    ignored = set(ignore_labels)
    candidates = []
    for (start_unit, end_unit, start, end), label_id, logit, probability in zip(
        spans, best.tolist(), best_logits.tolist(), probabilities.tolist()
    ):
        label = id2label[label_id]
        if label not in ignored:
            candidates.append((logit, start_unit, end_unit, DecodedEntity(start, end, label, probability)))
    return [candidate[3] for candidate in decode_greedy(candidates)]

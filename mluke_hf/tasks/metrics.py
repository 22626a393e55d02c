"""Task metrics: precision/recall/F1, seqeval-style (CoNLL) entity scores, and BIO tags <-> entity spans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

OUTSIDE_LABEL = "O"


def precision_recall_f1(true_positive: int, predicted: int, gold: int) -> dict[str, float]:
    """Micro precision, recall and F1 from counts (0 where undefined)."""
    precision = float(true_positive / predicted) if predicted else 0.0
    recall = float(true_positive / gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_scores(gold: Sequence[Iterable[tuple]], predicted: Sequence[Iterable[tuple]]) -> dict[str, float]:
    """Micro entity precision/recall/F1 (exact span and type match, as seqeval), plus `f1_<TYPE>` per type.

    Entities are `(start, end, type)` on any axis (character offsets, word indices), the same for gold and predicted.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    true_positive, gold_count, predicted_count = Counter(), Counter(), Counter()
    for gold_spans, predicted_spans in zip(gold, predicted):
        gold_set, predicted_set = set(map(tuple, gold_spans)), set(map(tuple, predicted_spans))
        for span in gold_set:
            gold_count[span[2]] += 1
        for span in predicted_set:
            predicted_count[span[2]] += 1
            if span in gold_set:
                true_positive[span[2]] += 1
    totals = (sum(true_positive.values()), sum(predicted_count.values()), sum(gold_count.values()))
    scores = precision_recall_f1(*totals)
    for entity_type in sorted(set(gold_count) | set(predicted_count)):
        counts = (true_positive[entity_type], predicted_count[entity_type], gold_count[entity_type])
        scores[f"f1_{entity_type}"] = precision_recall_f1(*counts)["f1"]
    return scores


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

"""The arguments of an mLUKE tokenizer call, checked: texts, character spans, entity names, task modes, lengths.

Each check raises an error naming the argument and the fix (the exception type is transformers 4.57.6's where it
raises at all; docs/tokenizer.md lists where these checks are stricter).
"""

from __future__ import annotations

import itertools
import numbers
import operator
from collections.abc import Mapping
from typing import Any

TASKS = ("entity_classification", "entity_pair_classification", "entity_span_classification")


class _TokenizerTask:
    """Default of every `task=` argument: the task the tokenizer was built with (`tokenizer.task`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<the tokenizer's task>"


TOKENIZER_TASK = _TokenizerTask()


def check_task(task: Any) -> str | None:
    """A task mode must be None or one of TASKS (ValueError naming the argument otherwise)."""
    if task is None or (isinstance(task, str) and task in TASKS):
        return task
    raise ValueError(f"task={task!r} is not supported: use None or one of {list(TASKS)}")


class EntitySpanOutOfRangeError(ValueError, IndexError):
    """A character span reaches past the end of its text.

    The reference raises IndexError for this input; subclassing both keeps `except IndexError` code working while the
    project's rule (bad input is a ValueError naming the argument) holds too.
    """


class BatchLengthMismatchError(ValueError, IndexError):
    """A per-text argument of a batch (`text_pair`, `entity_spans`, `entities`, ...) has another length than `text`.

    The reference raises IndexError (or silently drops the extra items); this names the argument instead.
    """


def check_batch_argument(value: Any, argument: str, batch_size: int) -> None:
    """A per-text argument of a batch must hold one item per text."""
    if value is None:
        return
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{argument} must be a list with one item per text of the batch, got {type(value).__name__}")
    if len(value) != batch_size:
        raise BatchLengthMismatchError(
            f"{argument} has {len(value)} items but the batch has {batch_size} texts: pass one item per text"
        )


def check_pair_arguments(first: Any, pair: Any, argument: str, pair_argument: str) -> None:
    """In a batch, `*_pair` arguments are zipped with their first-text counterpart, which must then be given too."""
    if pair is not None and first is None:
        raise ValueError(
            f"{pair_argument} needs {argument} in a batch: pass {argument}=[[]] * len(text) when the first texts "
            "have no entities"
        )


def max_entity_length_for_task(task: str | None, max_entity_length: int) -> int:
    """The entity budget a task implies: one entity for entity_classification, two for pairs, else the argument."""
    if task is None or task == "entity_span_classification":
        return max_entity_length
    if task == "entity_classification":
        return 1
    if task == "entity_pair_classification":
        return 2
    check_task(task)
    return max_entity_length


def check_positive_length(value: Any, argument: str, optional: bool = False) -> None:
    """Lengths and multiples (`max_entity_length`, `pad_to_multiple_of`, ...) must be ints >= 1 (or None if optional)."""
    if value is None and optional:
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
        return
    allowed = "an int >= 1 or None" if optional else "an int >= 1"
    raise ValueError(f"{argument} must be {allowed}, got {value!r}")


def check_length_arguments(arguments: Mapping[str, Any]) -> None:
    """`max_entity_length` and `pad_to_multiple_of` of a call, when given, must be ints >= 1."""
    for name in ("max_entity_length", "pad_to_multiple_of"):
        check_positive_length(arguments.get(name), name, optional=True)


def check_encodable(text: str, argument: str) -> None:
    """A text must be valid Unicode: a lone surrogate (e.g. from bytes decoded with errors="surrogateescape")
    cannot be tokenized (SentencePiece and the Rust backend take UTF-8)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{argument} holds {text[error.start]!r} at character {error.start}, a lone surrogate that is not valid "
            "Unicode text and cannot be tokenized: repair the text (e.g. decode its bytes with errors='replace')"
        ) from None


def check_text_input(text: Any, argument: str) -> None:
    """`text`/`text_pair` must be a str or a list/tuple of str (ValueError otherwise, as the reference) of valid
    Unicode (ValueError naming the input's index otherwise)."""
    if isinstance(text, str):
        check_encodable(text, argument)
        return
    if isinstance(text, (list, tuple)) and all(isinstance(item, str) for item in text):
        for index, item in enumerate(text):
            check_encodable(item, f"{argument}[{index}]")
        return
    raise ValueError(
        f"{argument} must be a str (one example) or a list of str (a batch), got {type(text).__name__}; "
        "pretokenized input (is_split_into_words) is not supported by this tokenizer"
    )


def split_batch_of_pairs(text: Any) -> tuple[list[str], list[str]] | None:
    """`[(text, text_pair), ...]` (what transformers' pipelines, zero-shot classification for one, pass) as two lists.

    None when `text` is not a non-empty list of 2-item lists/tuples of str.
    """
    if not isinstance(text, (list, tuple)) or not text:
        return None
    if not all(isinstance(item, (list, tuple)) and len(item) == 2 for item in text):
        return None
    firsts, seconds = [item[0] for item in text], [item[1] for item in text]
    if not all(isinstance(item, str) for item in firsts + seconds):
        return None
    return firsts, seconds


def check_entity_spans(text: str, entity_spans: Any, argument: str = "entity_spans") -> None:
    """Character spans must be a list of `(start, end)` tuples of ints with 0 <= start < end <= len(text)."""
    if not isinstance(entity_spans, list):
        raise TypeError(
            f"{argument} must be a list of (start, end) character tuples, got {type(entity_spans).__name__}"
        )
    if _spans_look_valid(text, entity_spans):
        return
    for index, span in enumerate(entity_spans):
        if not isinstance(span, tuple) or len(span) != 2:
            raise ValueError(
                f"{argument}[{index}] must be a tuple (start, end) of character indices, got {span!r}; "
                f"write {argument}=[(start, end), ...]"
            )
        start, end = span
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in span):
            raise TypeError(f"{argument}[{index}] = {span!r}: start and end must be ints (character indices)")
        if start < 0 or end < 0:
            raise ValueError(f"{argument}[{index}] = {span!r}: character indices must not be negative")
        if start > end:
            raise ValueError(f"{argument}[{index}] = {span!r} is reversed: start must come before end")
        if start == end:
            raise ValueError(f"{argument}[{index}] = {span!r} is empty: a mention needs at least one character")
        if end > len(text):
            raise EntitySpanOutOfRangeError(
                f"{argument}[{index}] = {span!r} ends past the end of its text ({len(text)} characters)"
            )


def _spans_look_valid(text: str, entity_spans: list) -> bool:
    """Fast check of the common case (tuples of two ints, 0 <= start < end <= len(text)); False means "look closer"."""
    return _valid_span_boundaries(text, entity_spans) is not None


def _valid_span_boundaries(text: str, entity_spans: list) -> list | None:
    """The sorted distinct boundaries of well-formed spans (tuples of two ints, 0 <= start < end <= len(text)).

    None means "look closer" (`check_entity_spans` then names the bad span). Computing the boundaries here saves
    `split_text_at_spans` a second pass over the spans.
    """
    if not entity_spans:
        return []
    if set(map(type, entity_spans)) != {tuple}:
        return None
    try:
        # strict: every tuple has the same length, and unpacking checks that it is 2.
        starts, ends = zip(*entity_spans, strict=True)
        if not all(map(operator.lt, starts, ends)):
            return None
    except (TypeError, ValueError):  # not pairs, or values that do not compare
        return None
    boundaries = set(starts)
    boundaries.update(ends)
    if set(map(type, boundaries)) != {int}:
        return None
    boundaries = sorted(boundaries)
    if boundaries[0] < 0 or boundaries[-1] > len(text):
        return None
    return boundaries


def checked_span_boundaries(text: str, entity_spans: Any, argument: str = "entity_spans") -> list:
    """`check_entity_spans`, returning the sorted distinct span boundaries (for `split_text_at_spans`)."""
    if isinstance(entity_spans, list):
        boundaries = _valid_span_boundaries(text, entity_spans)
        if boundaries is not None:
            return boundaries
    check_entity_spans(text, entity_spans, argument)
    return sorted(set(itertools.chain.from_iterable(entity_spans)))


def check_entities(entities: Any, entity_spans: list, argument: str = "entities", spans_argument="entity_spans"):
    """Entity names must be a list of str, one per span (ValueError otherwise, as the reference)."""
    if entities is None:
        return
    if not isinstance(entities, list):
        raise ValueError(f"{argument} must be a list of entity names (str), got {type(entities).__name__}")
    for index, entity in enumerate(entities):
        if not isinstance(entity, str):
            raise ValueError(
                f"{argument}[{index}] must be an entity name (str) such as 'en:Japan' or '[MASK]', got {entity!r}"
            )
    if len(entities) != len(entity_spans):
        raise ValueError(
            f"{argument} has {len(entities)} names but {spans_argument} has {len(entity_spans)} spans: "
            "pass one entity name per span"
        )


def check_task_spans(task: str, entity_spans: Any) -> None:
    """Span count and shape a task mode needs (ValueError, as the reference)."""
    # Only the shape here: check_entity_spans then checks every element.
    is_tuples = isinstance(entity_spans, list) and (not entity_spans or isinstance(entity_spans[0], tuple))
    if task == "entity_classification" and not (is_tuples and len(entity_spans) == 1):
        raise ValueError(
            "task='entity_classification' needs entity_spans=[(start, end)]: a list with exactly one tuple of "
            f"character indices, got {entity_spans!r}"
        )
    if task == "entity_pair_classification" and not (is_tuples and len(entity_spans) == 2):
        raise ValueError(
            "task='entity_pair_classification' needs entity_spans=[(head_start, head_end), (tail_start, tail_end)], "
            f"got {entity_spans!r}"
        )
    if task == "entity_span_classification" and not (is_tuples and len(entity_spans) > 0):
        raise ValueError(
            "task='entity_span_classification' needs entity_spans as a non-empty list of (start, end) tuples, "
            f"got {entity_spans!r}"
        )

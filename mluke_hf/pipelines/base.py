"""What the four entity pipelines share: input checking, entity-aware batching of model inputs, label scoring.

Each entity pipeline turns one input into a list of model inputs ("features": tokenizer outputs as plain lists;
NER makes one per window and chunk of candidate spans, the others one), runs them through the model in batches of
`batch_size` features padded by `MLukeDataCollator` (features of several inputs share a batch), and turns each
input's outputs into its result. transformers' own batching cannot be used: its padding knows nothing of
`entity_position_ids` rows (padded with -1) or entity masks.
"""

from __future__ import annotations

import itertools
import operator
import types
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch
from transformers import Pipeline

from ..data_collator import MLukeDataCollator
from ..tasks.ner import model_max_tokens

DEFAULT_BATCH_SIZE = 8
# Features gathered (in batches of `batch_size`) before they are sorted by size and run; results wait that long.
SORT_WINDOW_BATCHES = 32


def check_text(text: Any, argument: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"{argument} must be a str, got {type(text).__name__}: {text!r}")
    return text


def check_span(span: Any, text: str, argument: str, where: str = "") -> tuple[int, int]:
    """`span` as an `(start, end)` tuple of character offsets into `text`, or a clear error naming `argument`
    (`where` says which input of a list, e.g. " (input 3)")."""
    if span is None:
        raise ValueError(
            f"{argument} is required{where}: pass {argument}=(start, end), character offsets into the text"
        )
    given = f"{argument}={span!r}{where}"
    if isinstance(span, (str, bytes)) or not isinstance(span, Sequence) or len(span) != 2:
        raise TypeError(f"{argument} must be a (start, end) pair of character offsets, got {given}")
    if not all(_is_offset(value) for value in span):
        raise TypeError(f"{argument} offsets must be ints, got {given}")
    start, end = (operator.index(value) for value in span)
    if start > end:
        raise ValueError(f"{given} is reversed: start must come before end (use ({end}, {start}))")
    if start == end:
        raise ValueError(f"{given} is empty: end must be greater than start")
    if start < 0 or end > len(text):
        raise ValueError(f"{given} lies outside the text, whose character offsets run from 0 to {len(text)}")
    if not text[start:end].strip():
        raise ValueError(f"{given} covers only whitespace ({text[start:end]!r}); point it at a mention")
    return start, end


_END = object()


def _naming_input(error: Exception, index: int) -> Exception:
    """`error`, its message naming input `index` (the same error when it already does)."""
    if f"input {index}" in str(error):
        return error
    try:
        return type(error)(f"input {index}: {error}")
    except (TypeError, ValueError):  # an error class whose constructor takes other arguments
        return RuntimeError(f"input {index} failed: {type(error).__name__}: {error}")


def _feature_size(entry: tuple[dict, int]) -> tuple[int, int]:
    prepared, index = entry
    feature = prepared["features"][index]
    # Entities first: NER's chunks are full but for each text's last one, and that one is what pads most.
    return len(feature.get("entity_ids", ())), len(feature["input_ids"])


def _is_offset(value: Any) -> bool:
    # bool is an int subclass, but True/False as an offset is always a mistake; numpy/torch integers are fine.
    return not isinstance(value, bool) and hasattr(value, "__index__")


def _is_span(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, (str, bytes))
        and len(value) == 2
        and all(_is_offset(item) for item in value)
    )


class EntityPipeline(Pipeline):
    """Base class of the entity pipelines (not registered itself).

    Subclasses set `span_arguments` (the call's span keywords, e.g. `("head", "tail")`) and implement
    `_sanitize_parameters`, `preprocess` (returning `{"features": [...], ...}`), `postprocess` and
    `model_output_names`.
    `batch_size` counts model inputs (features) per forward pass; it defaults to 8.
    """

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True

    span_arguments: tuple[str, ...] = ()
    optional_span_arguments: tuple[str, ...] = ()
    model_output_names: tuple[str, ...] = ("logits",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.tokenizer is None:
            raise ValueError(
                f"the {self.task or type(self).__name__} pipeline needs an mLUKE tokenizer: pass tokenizer=... or a "
                "model folder that holds the tokenizer files"
            )
        if not hasattr(self.tokenizer, "entity_vocab"):
            raise TypeError(
                f"the {self.task or type(self).__name__} pipeline needs an mLUKE tokenizer (with entity spans), got "
                f"{type(self.tokenizer).__name__}; load the model folder's own tokenizer"
            )
        if self._batch_size is None:
            self._batch_size = DEFAULT_BATCH_SIZE
        self._collator = MLukeDataCollator(self.tokenizer)

    # -- inputs ------------------------------------------------------------------------------------------------------

    def __call__(self, inputs, *args, **kwargs):
        """Run on one input (a str with the span keywords, or a dict with "text" and the span keys), a list of inputs
        (batched), or a generator / dataset of inputs (streamed). Span keywords given with a list of texts are either
        one span for every text or a list of spans, one per text."""
        spans = {name: kwargs.pop(name) for name in self._span_names() if name in kwargs}
        if isinstance(inputs, (str, Mapping)):
            return super().__call__([self._normalize(inputs, spans, None)], *args, **kwargs)[0]
        if isinstance(inputs, (list, tuple)):
            if not inputs:
                return []
            return super().__call__(
                [self._normalize(item, spans, index, len(inputs)) for index, item in enumerate(inputs)],
                *args,
                **kwargs,
            )
        if isinstance(inputs, types.GeneratorType) or (
            isinstance(inputs, Iterable) and not isinstance(inputs, (bytes, torch.Tensor))
        ):
            return self._stream((self._normalize(item, spans, index) for index, item in enumerate(inputs)), **kwargs)
        raise TypeError(
            f"inputs must be a str, a dict with 'text' and {list(self._span_names())}, or a list of those; "
            f"got {type(inputs).__name__}"
        )

    def _stream(self, inputs: Iterable, batch_size: int | None = None, num_workers: int | None = None, **kwargs):
        """Results of a generator or other iterable, yielded as they are ready (the generic `Pipeline.__call__` of
        some transformers releases turns a generator into a list first, which loses every result when one item is
        bad); the call's parameters are fused with the pipeline's as `Pipeline.__call__` does."""
        preprocess_params, forward_params, postprocess_params = self._sanitize_parameters(**kwargs)
        if batch_size is None:
            batch_size = self._batch_size if self._batch_size is not None else 1
        return self._iterate(
            inputs,
            batch_size,
            {**self._preprocess_params, **preprocess_params},
            {**self._forward_params, **forward_params},
            {**self._postprocess_params, **postprocess_params},
        )

    def _span_names(self) -> tuple[str, ...]:
        return self.span_arguments + self.optional_span_arguments

    def _normalize(self, item: Any, spans: dict, index: int | None, count: int | None = None) -> dict:
        """One input as `{"text": str, <span name>: (start, end) or None}`, checked."""
        where = "" if index is None else f" (input {index})"
        given = {name: self._span_for_input(name, spans.get(name), index, count) for name in self._span_names()}
        if isinstance(item, Mapping):
            unknown = set(item) - {"text", *self._span_names()}
            if unknown:
                raise ValueError(
                    f"input dict{where} has unknown keys {sorted(unknown)}; expected 'text' and "
                    f"{list(self._span_names())}"
                )
            if "text" not in item:
                raise ValueError(f"input dict{where} needs a 'text' key")
            record = {"text": item["text"], **{name: item.get(name, given[name]) for name in self._span_names()}}
        elif isinstance(item, str):
            record = {"text": item, **given}
        else:
            name = "the input" if index is None else f"input {index}"
            raise TypeError(f"{name} must be a str or a dict with a 'text' key, got {type(item).__name__}")
        check_text(record["text"], f"text{where}")
        for name in self.span_arguments:
            record[name] = check_span(record[name], record["text"], name, where)
        for name in self.optional_span_arguments:
            if record[name] is not None:
                record[name] = check_span(record[name], record["text"], name, where)
        return record

    @staticmethod
    def _span_for_input(name: str, value: Any, index: int | None, count: int | None) -> Any:
        """The span keyword's value for input `index` of a list: one span for all inputs, or the index-th of a list."""
        if index is None or value is None or _is_span(value) or count is None:
            return value
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != count:
            raise ValueError(
                f"{name} must be one (start, end) span for every input or a list of {count} spans (one per input), "
                f"got {value!r}"
            )
        return value[index]

    # -- encoding ----------------------------------------------------------------------------------------------------

    def encode(self, text: str, entity_spans: Sequence[tuple[int, int]], task: str | None, argument: str) -> dict:
        """Tokenizer features (lists) of `text` with `entity_spans` in tokenizer mode `task`, cut to the model window.

        An entity that the cut drops would leave the model nothing to classify, so that is an error naming `argument`.
        """
        max_length = model_max_tokens(self.tokenizer, self.model.config) + 2
        encoding = self.tokenizer(
            text,
            entity_spans=list(entity_spans),
            max_entity_length=max(1, len(entity_spans)),
            truncation=True,
            max_length=max_length,
            task=task,
        )
        features = {key: list(value) for key, value in encoding.items()}
        if len(features["entity_ids"]) < len(entity_spans):
            raise ValueError(
                f"{argument} lies beyond the model's window of {max_length} tokens; pass a shorter text around it"
            )
        return features

    # -- running -----------------------------------------------------------------------------------------------------

    def _forward(self, model_inputs: dict[str, torch.Tensor], **forward_parameters) -> dict[str, torch.Tensor]:
        outputs = self.model(**model_inputs)
        return {name: outputs[name] for name in self.model_output_names}

    def get_iterator(
        self, inputs, num_workers: int, batch_size: int, preprocess_params, forward_params, postprocess_params
    ) -> Iterator:
        return self._iterate(inputs, batch_size, preprocess_params, forward_params, postprocess_params)

    def run_single(self, inputs, preprocess_params, forward_params, postprocess_params):
        return next(
            self._iterate([inputs], self._batch_size, preprocess_params, forward_params, postprocess_params, False)
        )

    def _iterate(
        self, inputs, batch_size, preprocess_params, forward_params, postprocess_params, name_failing_input=True
    ) -> Iterator:
        """Results in input order; features of consecutive inputs fill forward batches of `batch_size`.

        When an input cannot be read or prepared, the results of every input before it are yielded first, then the
        error is raised naming the failing input's index.

        Up to `SORT_WINDOW_BATCHES` batches of features are gathered, sorted by size (entities, then word tokens) and
        run in that order, so each batch holds inputs of similar size and carries little padding (NER's short last
        chunk of each sentence no longer pads to a full chunk); outputs go back to their inputs, so the order of
        results does not change.
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        waiting: deque[dict] = deque()
        queue: list[tuple[dict, int]] = []
        items = iter(inputs)
        for position in itertools.count():
            try:
                item = next(items, _END)
                if item is _END:
                    break
                prepared = self.preprocess(item, **preprocess_params)
            except Exception as error:
                # A bad item: deliver every result before it, then say which item failed.
                self._run_sorted(queue, batch_size, forward_params)
                while waiting:
                    yield self._finish(waiting.popleft(), postprocess_params)
                named = _naming_input(error, position) if name_failing_input else error
                if named is error:
                    raise
                raise named from error
            prepared["outputs"] = [None] * len(prepared["features"])
            waiting.append(prepared)
            queue.extend((prepared, index) for index in range(len(prepared["features"])))
            if len(queue) >= batch_size * SORT_WINDOW_BATCHES:
                self._run_sorted(queue, batch_size, forward_params)
                queue = []
            while waiting and all(output is not None for output in waiting[0]["outputs"]):
                yield self._finish(waiting.popleft(), postprocess_params)
        self._run_sorted(queue, batch_size, forward_params)
        while waiting:
            yield self._finish(waiting.popleft(), postprocess_params)

    def _run_sorted(self, queue: list[tuple[dict, int]], batch_size: int, forward_params) -> None:
        queue = sorted(queue, key=_feature_size)
        for start in range(0, len(queue), batch_size):
            self._run_batch(queue[start : start + batch_size], forward_params)

    def _run_batch(self, batch: list[tuple[dict, int]], forward_params) -> None:
        model_inputs = self._collator([prepared["features"][index] for prepared, index in batch])
        outputs = self.forward(model_inputs, **forward_params)
        for row, (prepared, index) in enumerate(batch):
            prepared["outputs"][index] = {name: value[row] for name, value in outputs.items()}

    def _finish(self, prepared: dict, postprocess_params) -> Any:
        prepared.pop("features")
        return self.postprocess(prepared, **postprocess_params)


# -- scoring of classification heads ----------------------------------------------------------------------------------


def is_multi_label(config) -> bool:
    return getattr(config, "problem_type", None) == "multi_label_classification"


def label_scores(
    logits: torch.Tensor, config, top_k: int | None = None, threshold: float = 0.5
) -> list[dict[str, Any]]:
    """`[{"label", "score"}]` best first: softmax (all labels, or the `top_k` best) for single-label heads; sigmoid
    scores at or above `threshold` for multi-label heads (`config.problem_type == "multi_label_classification"`)."""
    logits = logits.float()
    if is_multi_label(config):
        scores = torch.sigmoid(logits)
        keep = [index for index in range(len(scores)) if scores[index].item() >= threshold]
    else:
        scores = torch.softmax(logits, dim=-1)
        keep = list(range(len(scores)))
    keep.sort(key=lambda index: -scores[index].item())
    if top_k is not None:
        keep = keep[:top_k]
    return [{"label": config.id2label[index], "score": scores[index].item()} for index in keep]


def check_top_k(top_k: Any) -> int | None:
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive int or None, got {top_k!r}")
    return top_k


def check_at_most(value: int, limit: int, argument: str, what: str) -> int:
    """`value` when it is at most `limit`, else a ValueError naming `argument` and the allowed range."""
    if value > limit:
        raise ValueError(f"{argument} must lie between 1 and {limit} ({what}), got {value!r}")
    return value


def check_threshold(threshold: Any) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a probability between 0 and 1, got {threshold!r}")
    return float(threshold)

"""Entity-aware encoding shared by `MLukeTokenizer` (slow) and `MLukeTokenizerFast`.

Everything here is independent of how a piece of text becomes word ids: the call entry points with their per-call
`task=`, the three task modes, `entity_ids` / `entity_position_ids` / `entity_start_positions` /
`entity_end_positions`, truncation (words with the transformers 4.57.6 rules, then entities), `max_entity_length` and
`pad()`. It composes the text side's smaller modules: `entity_arguments` (checks), `mentions` (cutting text at spans,
token ranges, markers, position rows), `truncation`, `entity_padding`, `tensor_conversion`. Behaviour follows
transformers 4.57.6's MLukeTokenizer; deliberate divergences are listed in docs/tokenizer.md.

Contract for a backend class. Put `EntityEncodingMixin` FIRST in the bases (its `__call__`, `_encode_plus`,
`prepare_for_model`, `truncate_sequences`, `pad` and `_pad` must win over transformers' own), then:

- implement `_encode_text_pieces(self, pieces: list[str], split_special_tokens=None, one_text=False, **kwargs)
  -> list[list[int]]` (both classes delegate to `mluke_hf.text.sentencepiece_engine`; `one_text` marks the pieces of
  a single-text call, the fast class also takes a per-call `offset_capture`):
  the word ids of each piece encoded ON ITS OWN, without `<s>`/`</s>`, exactly as the reference's
  `convert_tokens_to_ids(tokenize(piece))` (each piece gets its own SentencePiece dummy prefix `▁`; added tokens such
  as `<mask>` are matched, `<mask>` eating the spaces on its left). It is called once per `__call__` with the pieces
  of every text of the batch, so a backend can encode them in one batched call. Order: per example, the pieces of
  the first text then those of the second; `split_text_at_spans` gives the same cut to a backend that needs each
  piece's place in its text (offsets). The returned lists are copied, never handed to the caller, and identical
  pieces may share one list.
- call `self._init_entity_attributes(...)` in `__init__` (before `super().__init__`), and set
  `self.entity_token_1_id` / `self.entity_token_2_id` (word ids of `<ent>` / `<ent2>`) once the added tokens exist.
  transformers' usual `cls_token_id`, `sep_token_id`, `pad_token_id`, `padding_side`, `truncation_side`,
  `model_input_names` and `model_max_length` are used as they are.
- optionally set `_supports_offsets_mapping = True` and handle `return_offsets_mapping` yourself (the slow tokenizer
  raises NotImplementedError, as the reference does).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
from transformers.tokenization_utils_base import BatchEncoding, PaddingStrategy, TensorType, TruncationStrategy
from transformers.utils import is_torch_tensor, logging

from .entity_arguments import (
    TASKS,
    TOKENIZER_TASK,
    BatchLengthMismatchError,
    EntitySpanOutOfRangeError,
    check_batch_argument,
    check_encodable,
    check_entities,
    check_length_arguments,
    check_pair_arguments,
    check_positive_length,
    check_task,
    check_task_spans,
    check_text_input,
    checked_span_boundaries,
    max_entity_length_for_task,
    split_batch_of_pairs,
)
from .entity_padding import pad_entity_fields, pad_row, round_up, word_fill
from .mentions import (
    SequencePlan,
    entities_within,
    entity_position_rows,
    insert_entity_markers,
    mention_position_rows,
    split_text_at_spans,
)
from .tensor_conversion import batch_encoding
from .truncation import truncate_id_sequences

logger = logging.get_logger(__name__)

# Keyword arguments of `__call__` that travel to the per-sequence tokenization step (`offset_capture`: the fast
# class's per-call record of each token's character span).
_TOKENIZE_KWARGS = ("split_special_tokens", "offset_capture")


def _to_python(value):
    if is_torch_tensor(value) or isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_python(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def encode_with_targets(
    tokenizer, text, text_pair, text_target, text_pair_target, entity_arguments: dict, options: dict
) -> BatchEncoding:
    """`tokenizer(text, ..., text_target=...)` as transformers' tokenizers give it, the same on both mLUKE classes.

    The targets are encoded as plain text (no entities, no task) with the same options; their `input_ids` become
    `labels`, or the whole result when `text` is None.
    """
    if text_target is None:
        raise ValueError("text_pair_target needs text_target (the target of the first text): pass both, or neither")
    targets = tokenizer(text_target, text_pair_target, task=None, **options)
    if text is None:
        return targets
    encoded = tokenizer(text, text_pair, **entity_arguments, **options)
    encoded["labels"] = targets["input_ids"]
    return encoded


class EntityEncodingMixin:
    """Entity-aware `__call__`, `prepare_for_model`, truncation and padding; see the module docstring."""

    _supports_offsets_mapping = False

    # -- set-up ----------------------------------------------------------------------------------------------------

    def _init_entity_attributes(
        self,
        entity_vocab: Mapping[str, int],
        task: str | None,
        max_entity_length: int,
        max_mention_length: int,
        entity_unk_token: str,
        entity_pad_token: str,
        entity_mask_token: str,
        entity_mask2_token: str,
        entity_vocab_file: str | None = None,
    ) -> None:
        for name in (entity_unk_token, entity_pad_token, entity_mask_token, entity_mask2_token):
            if name not in entity_vocab:
                raise ValueError(
                    f"Special entity {name!r} is not in the entity vocabulary {entity_vocab_file or ''}: every "
                    "mLUKE entity vocabulary holds [PAD], [UNK], [MASK] and [MASK2]; check entity_vocab_file"
                )
        # Kept as given: `load_entity_vocab`'s read-only mapping reads the file only when a real name is needed.
        self.entity_vocab = entity_vocab
        # Looked up by name: full vocabularies put [PAD]/[UNK]/[MASK] at 0/1/2, lite ones [MASK]/[UNK]/[PAD] at 0/1/2.
        self.entity_unk_token_id = self.entity_vocab[entity_unk_token]
        self.entity_pad_token_id = self.entity_vocab[entity_pad_token]
        self.entity_mask_token_id = self.entity_vocab[entity_mask_token]
        self.entity_mask2_token_id = self.entity_vocab[entity_mask2_token]
        check_positive_length(max_entity_length, "max_entity_length")
        self._max_entity_length_argument = max_entity_length
        self.task = task  # also sets max_entity_length (see the property)
        self.max_mention_length = max_mention_length

    @property
    def task(self) -> str | None:
        """The task mode of calls that pass no `task=` (each call may pass its own; see docs/tokenizer.md)."""
        return self._default_task

    @task.setter
    def task(self, task: str | None) -> None:
        # Kept consistent with the task, as the constructor sets them: 1 entity for entity_classification, 2 for pairs.
        self._default_task = check_task(task)
        self.max_entity_length = max_entity_length_for_task(task, self._max_entity_length_argument)

    def _resolve_task(self, task: Any) -> str | None:
        """The task mode of one call: its `task=` argument, or the tokenizer's default."""
        return self._default_task if task is TOKENIZER_TASK else check_task(task)

    def _max_entity_length_for(self, task: str | None) -> int:
        """The entity budget of a call in mode `task` that passes no `max_entity_length`.

        Equal to `max_entity_length` of a tokenizer built with that task: 1 / 2 for the classification tasks, else the
        tokenizer's own budget (the constructor's argument when the tokenizer's default task forces 1 or 2).
        """
        if task in ("entity_classification", "entity_pair_classification"):
            return max_entity_length_for_task(task, 0)
        if self._default_task in ("entity_classification", "entity_pair_classification"):
            return self._max_entity_length_argument
        return self.max_entity_length

    def _warn_once(self, message: str) -> None:
        """Log a warning of this package once per tokenizer (not once per example of every batch)."""
        given = self.__dict__.setdefault("_entity_warnings_given", set())
        if message not in given:
            given.add(message)
            logger.warning(message)

    def _encode_text_pieces(
        self, pieces: list[str], split_special_tokens: bool = False, one_text: bool = False
    ) -> list[list[int]]:
        raise NotImplementedError("a backend must implement _encode_text_pieces (see mluke_hf.text.entity_encoding)")

    def entity_name_to_id(self, name: str) -> int:
        """Id of an entity name (`"en:Japan"`, `"[MASK]"`); unknown names give the `[UNK]` entity id."""
        return self.entity_vocab.get(name, self.entity_unk_token_id)

    # -- public entry points ---------------------------------------------------------------------------------------

    def __call__(
        self,
        text=None,
        text_pair=None,
        entity_spans=None,
        entity_spans_pair=None,
        entities=None,
        entities_pair=None,
        add_special_tokens: bool = True,
        padding: bool | str | PaddingStrategy = False,
        truncation: bool | str | TruncationStrategy | None = None,
        max_length: int | None = None,
        max_entity_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | TensorType | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        task: str | None = TOKENIZER_TASK,
        text_target=None,
        text_pair_target=None,
        **kwargs,
    ) -> BatchEncoding:
        """Encode one text (or pair) or a batch, with optional character `entity_spans` and entity names.

        `entity_spans` are `(start, end)` character offsets (end exclusive); `entities` are entity names
        (`"lang:title"`, unknown names map to `[UNK]`); spans without names get `[MASK]`. With a `task` (this call's
        `task=`, else the constructor's) the entity sequence is built from the spans alone (see docs/tokenizer.md).
        A batch of pairs may also come as `text=[(text, text_pair), ...]`, as transformers' other tokenizers take it.
        `text_target` (and `text_pair_target`) are encoded as plain text with the same options; their `input_ids`
        come back as `labels` (or alone, without `text`), as from transformers' tokenizers.
        """
        check_length_arguments({"max_entity_length": max_entity_length, "pad_to_multiple_of": pad_to_multiple_of})
        if text_target is not None or text_pair_target is not None:
            entity_arguments = {
                "entity_spans": entity_spans,
                "entity_spans_pair": entity_spans_pair,
                "entities": entities,
                "entities_pair": entities_pair,
                "max_entity_length": max_entity_length,
                "task": task,
            }
            options = {
                "add_special_tokens": add_special_tokens,
                "padding": padding,
                "truncation": truncation,
                "max_length": max_length,
                "stride": stride,
                "is_split_into_words": is_split_into_words,
                "pad_to_multiple_of": pad_to_multiple_of,
                "padding_side": padding_side,
                "return_tensors": return_tensors,
                "return_token_type_ids": return_token_type_ids,
                "return_attention_mask": return_attention_mask,
                "return_overflowing_tokens": return_overflowing_tokens,
                "return_special_tokens_mask": return_special_tokens_mask,
                "return_offsets_mapping": return_offsets_mapping,
                "return_length": return_length,
                "verbose": verbose,
                **kwargs,
            }
            return encode_with_targets(self, text, text_pair, text_target, text_pair_target, entity_arguments, options)
        pairs = split_batch_of_pairs(text) if text_pair is None else None
        if pairs is not None:
            text, text_pair = pairs
        check_text_input(text, "text")
        if text_pair is not None:
            check_text_input(text_pair, "text_pair")
        padding_strategy, truncation_strategy, max_length, kwargs = self._get_padding_truncation_strategies(
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            verbose=verbose,
            **kwargs,
        )
        return self._encode_plus(
            text=text,
            text_pair=text_pair,
            entity_spans=entity_spans,
            entity_spans_pair=entity_spans_pair,
            entities=entities,
            entities_pair=entities_pair,
            add_special_tokens=add_special_tokens,
            padding_strategy=padding_strategy,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            max_entity_length=max_entity_length,
            stride=stride,
            is_split_into_words=is_split_into_words,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_tensors=return_tensors,
            return_token_type_ids=return_token_type_ids,
            return_attention_mask=return_attention_mask,
            return_overflowing_tokens=return_overflowing_tokens,
            return_special_tokens_mask=return_special_tokens_mask,
            return_offsets_mapping=return_offsets_mapping,
            return_length=return_length,
            verbose=verbose,
            task=task,
            **kwargs,
        )

    def encode_plus(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        """transformers 4.x name for encoding one example; same as `__call__`."""
        return self(text, text_pair, **kwargs)

    def batch_encode_plus(
        self,
        batch_text_or_text_pairs,
        batch_entity_spans_or_entity_spans_pairs=None,
        batch_entities_or_entities_pairs=None,
        **kwargs,
    ) -> BatchEncoding:
        """transformers 4.x name for encoding a batch: items are texts or `(text, text_pair)` tuples."""
        check_length_arguments(kwargs)
        padding_strategy, truncation_strategy, max_length, kwargs = self._get_padding_truncation_strategies(
            padding=kwargs.pop("padding", False),
            truncation=kwargs.pop("truncation", None),
            max_length=kwargs.pop("max_length", None),
            pad_to_multiple_of=kwargs.get("pad_to_multiple_of"),
            verbose=kwargs.get("verbose", True),
            **kwargs,
        )
        return self._batch_encode_plus(
            batch_text_or_text_pairs,
            batch_entity_spans_or_entity_spans_pairs,
            batch_entities_or_entities_pairs,
            padding_strategy=padding_strategy,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            **kwargs,
        )

    def _encode_plus(
        self,
        text,
        text_pair=None,
        entity_spans=None,
        entity_spans_pair=None,
        entities=None,
        entities_pair=None,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        max_entity_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | TensorType | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        task: str | None = TOKENIZER_TASK,
        **kwargs,
    ) -> BatchEncoding:
        common = {
            "add_special_tokens": add_special_tokens,
            "padding_strategy": padding_strategy,
            "truncation_strategy": truncation_strategy,
            "max_length": max_length,
            "max_entity_length": max_entity_length,
            "stride": stride,
            "is_split_into_words": is_split_into_words,
            "pad_to_multiple_of": pad_to_multiple_of,
            "padding_side": padding_side,
            "return_tensors": return_tensors,
            "return_token_type_ids": return_token_type_ids,
            "return_attention_mask": return_attention_mask,
            "return_overflowing_tokens": return_overflowing_tokens,
            "return_special_tokens_mask": return_special_tokens_mask,
            "return_offsets_mapping": return_offsets_mapping,
            "return_length": return_length,
            "verbose": verbose,
            "task": task,
            **kwargs,
        }
        if isinstance(text, (list, tuple)):
            if not text:
                raise ValueError("text is an empty list: pass at least one text (or a str for one example)")
            for value, argument in (
                (text_pair, "text_pair"),
                (entity_spans, "entity_spans"),
                (entity_spans_pair, "entity_spans_pair"),
                (entities, "entities"),
                (entities_pair, "entities_pair"),
            ):
                check_batch_argument(value, argument, len(text))
            check_pair_arguments(entity_spans, entity_spans_pair, "entity_spans", "entity_spans_pair")
            check_pair_arguments(entities, entities_pair, "entities", "entities_pair")
            batch_texts = list(zip(text, text_pair)) if text_pair is not None else text
            batch_entities = None
            if entities is not None:
                batch_entities = list(zip(entities, entities_pair)) if entities_pair is not None else entities
            batch_spans = None
            if entity_spans is not None:
                batch_spans = (
                    list(zip(entity_spans, entity_spans_pair)) if entity_spans_pair is not None else entity_spans
                )
            return self._batch_encode_plus(batch_texts, batch_spans, batch_entities, **common)
        return self._encode_examples(
            [(text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair)], batched=False, **common
        )

    def _batch_encode_plus(
        self,
        batch_text_or_text_pairs,
        batch_entity_spans_or_entity_spans_pairs=None,
        batch_entities_or_entities_pairs=None,
        **kwargs,
    ) -> BatchEncoding:
        batch_size = len(batch_text_or_text_pairs)
        for value, argument in (
            (batch_entity_spans_or_entity_spans_pairs, "batch_entity_spans_or_entity_spans_pairs"),
            (batch_entities_or_entities_pairs, "batch_entities_or_entities_pairs"),
        ):
            check_batch_argument(value, argument, batch_size)
        examples = []
        for index, text_or_pair in enumerate(batch_text_or_text_pairs):
            if isinstance(text_or_pair, (list, tuple)):
                if len(text_or_pair) != 2:
                    raise ValueError(
                        f"batch_text_or_text_pairs[{index}] must be a text or a (text, text_pair) pair, "
                        f"got {len(text_or_pair)} items"
                    )
                text, text_pair = text_or_pair
            else:
                text, text_pair = text_or_pair, None
            if not isinstance(text, str) or not isinstance(text_pair, (str, type(None))):
                # TypeError as the reference (which fails iterating a non-text), naming the item.
                raise TypeError(
                    f"batch_text_or_text_pairs[{index}] must be a str or a (str, str) pair, got {text_or_pair!r}"
                )
            entities, entities_pair = None, None
            if batch_entities_or_entities_pairs is not None:
                item = batch_entities_or_entities_pairs[index]
                if item:
                    if isinstance(item[0], str):
                        entities = item
                    else:
                        entities, entities_pair = item
            entity_spans, entity_spans_pair = None, None
            if batch_entity_spans_or_entity_spans_pairs is not None:
                item = batch_entity_spans_or_entity_spans_pairs[index]
                # A pair of span lists is a 2-tuple of lists; a single span list holds tuples.
                if len(item) > 0 and isinstance(item[0], list):
                    entity_spans, entity_spans_pair = item
                else:
                    entity_spans = item
            examples.append((text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair))
        return self._encode_examples(examples, batched=True, **kwargs)

    # -- building word and entity sequences --------------------------------------------------------------------------

    def _plan_sequence(self, text, entity_spans, entities, spans_argument, entities_argument) -> SequencePlan:
        """Validate one sequence's spans/entities (task None) and cut its text into pieces."""
        if entity_spans is None:
            if entities is not None:
                # The reference drops such names silently; they cannot be placed without their mentions.
                raise ValueError(
                    f"{entities_argument} needs {spans_argument}: pass the (start, end) character span of each entity"
                )
            return SequencePlan([text], {}, None, None)
        if not isinstance(text, str):
            raise ValueError(f"{spans_argument} needs a str text to point into, got {type(text).__name__}")
        boundaries = checked_span_boundaries(text, entity_spans, spans_argument)
        check_entities(entities, entity_spans, entities_argument, spans_argument)
        if entities is None:
            entity_ids = [self.entity_mask_token_id] * len(entity_spans)
        else:
            entity_ids = [self.entity_vocab.get(name, self.entity_unk_token_id) for name in entities]
        pieces, pieces_before = split_text_at_spans(text, entity_spans, boundaries)
        return SequencePlan(pieces, pieces_before, entity_spans, entity_ids, spans_argument)

    def _plan_example(self, task, text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair):
        if task is None:
            first = self._plan_sequence(text, entity_spans, entities, "entity_spans", "entities")
            second = None
            if text_pair is None and (entity_spans_pair is not None or entities_pair is not None):
                given = "entity_spans_pair" if entity_spans_pair is not None else "entities_pair"
                raise ValueError(f"{given} belongs to the second text: pass text_pair too, or drop {given}")
            if text_pair is not None:
                second = self._plan_sequence(text_pair, entity_spans_pair, entities_pair, "entity_spans_pair",
                                             "entities_pair")  # fmt: skip
            return first, second
        # Task modes build the entity sequence from the spans alone; entities and pair spans are ignored.
        check_task_spans(task, entity_spans)
        boundaries = checked_span_boundaries(text, entity_spans, "entity_spans")
        if task == "entity_pair_classification":
            entity_ids = [self.entity_mask_token_id, self.entity_mask2_token_id]
        else:
            entity_ids = [self.entity_mask_token_id] * len(entity_spans)
        pieces, pieces_before = split_text_at_spans(text, entity_spans, boundaries)
        if text_pair is not None:
            # The reference drops text_pair in task modes; keep its output but say so.
            self._warn_once(f"text_pair is ignored when task={task!r}: encode the second text separately")
        return SequencePlan(pieces, pieces_before, entity_spans, entity_ids), None

    def _apply_task_markers(self, task: str | None, ids: list[int], token_spans: list[tuple[int, int]]):
        """Insert `<ent>` (and `<ent2>`) around the mentions; shift the token spans to cover the markers."""
        if task == "entity_classification":
            ((start, end),) = token_spans
            return insert_entity_markers(ids, (start, end), self.entity_token_1_id), [(start, end + 2)]
        if task == "entity_pair_classification":
            head, tail = token_spans
            if head[0] < tail[0]:
                # Insert the later mention first so the earlier span's indices stay valid.
                ids = insert_entity_markers(ids, tail, self.entity_token_2_id)
                ids = insert_entity_markers(ids, head, self.entity_token_1_id)
                return ids, [(head[0], head[1] + 2), (tail[0] + 2, tail[1] + 4)]
            ids = insert_entity_markers(ids, head, self.entity_token_1_id)
            ids = insert_entity_markers(ids, tail, self.entity_token_2_id)
            return ids, [(head[0] + 2, head[1] + 4), (tail[0], tail[1] + 2)]
        return ids, token_spans

    def _encode_unpadded(self, examples, tokenize_kwargs, options) -> list[dict]:
        """Plan every example, encode all pieces of the batch in one backend call, build each unpadded encoding."""
        task = options["task"]
        plans = [self._plan_example(task, *example) for example in examples]
        pieces = list(
            itertools.chain.from_iterable(part.pieces for plan in plans for part in plan if part is not None)
        )
        piece_ids = self._encode_text_pieces(pieces, one_text=len(examples) == 1, **tokenize_kwargs) if pieces else []
        simple = self._simple_layout_applies(options)
        max_entity_length = options["max_entity_length"] or self._max_entity_length_for(task)
        encodings = []
        cursor = 0
        for first_plan, second_plan in plans:
            first_piece_ids = piece_ids[cursor : cursor + len(first_plan.pieces)]
            cursor += len(first_plan.pieces)
            if second_plan is None and simple:
                encoded = self._encode_simple_layout(first_plan, first_piece_ids, max_entity_length, options)
                if encoded is not None:
                    encodings.append(encoded)
                    continue
            first_ids, first_spans = first_plan.assemble(first_piece_ids)
            second_ids = second_spans = second_entity_ids = None
            if second_plan is not None:
                second_ids, second_spans = second_plan.assemble(piece_ids[cursor : cursor + len(second_plan.pieces)])
                second_entity_ids = second_plan.entity_ids
                cursor += len(second_plan.pieces)
            if task in ("entity_classification", "entity_pair_classification"):
                first_ids, first_spans = self._apply_task_markers(task, first_ids, first_spans)
            encodings.append(
                self._prepare_entity_encoding(
                    first_ids,
                    second_ids,
                    first_plan.entity_ids,
                    second_entity_ids,
                    first_spans,
                    second_spans,
                    **options,
                )
            )
        return encodings

    def _simple_layout_applies(self, options: dict) -> bool:
        """Whether single texts of this call may take `_encode_simple_layout` (no markers, no optional outputs)."""
        return_token_type_ids = options["return_token_type_ids"]
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        return (
            options["add_special_tokens"]
            and not return_token_type_ids
            and not options["return_overflowing_tokens"]
            and not options["return_special_tokens_mask"]
            and options["task"] in (None, "entity_span_classification")
        )

    def _encode_simple_layout(self, plan: SequencePlan, piece_ids, max_entity_length: int, options) -> dict | None:
        """`<s> text </s>` with its entities, when nothing is truncated: the hot path of entity_span_classification.

        Gives what `_prepare_entity_encoding` gives for such an example (the golden suite runs both paths) without
        building token-span tuples; None when the example needs that general path.
        """
        cls_id, sep_id = options["cls_sep_ids"]
        ids = [cls_id, *itertools.chain.from_iterable(piece_ids), sep_id]
        max_length = options["max_length"]
        if (
            options["truncation_strategy"] != TruncationStrategy.DO_NOT_TRUNCATE
            and max_length
            and len(ids) > max_length
        ):
            return None
        entity_ids = plan.entity_ids
        if entity_ids is not None and len(entity_ids) > max_entity_length:
            return None
        encoded: dict[str, Any] = {"input_ids": ids}
        if entity_ids is not None:
            encoded["entity_ids"] = entity_ids
            # Positions count from `<s>`: the token after it is position 1.
            starts, ends = plan.token_bounds(piece_ids, offset=1)
            encoded["entity_position_ids"] = mention_position_rows(
                list(range(len(ids))), starts, ends, self.max_mention_length
            )
            if options["task"] == "entity_span_classification":
                encoded["entity_start_positions"] = starts
                encoded["entity_end_positions"] = list(map((-1).__add__, ends))
        encoded["_max_entity_length"] = max_entity_length
        self._eventual_warn_about_too_long_sequence(ids, max_length, options["verbose"])
        return encoded

    def _encode_examples(
        self,
        examples,
        batched: bool,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        max_entity_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | TensorType | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        task: str | None = TOKENIZER_TASK,
        **kwargs,
    ) -> BatchEncoding:
        task = self._resolve_task(task)
        check_positive_length(max_entity_length, "max_entity_length", optional=True)
        check_positive_length(pad_to_multiple_of, "pad_to_multiple_of", optional=True)
        if return_offsets_mapping and not self._supports_offsets_mapping:
            raise NotImplementedError(
                "return_offsets_mapping is not available with the Python (slow) MLukeTokenizer; "
                "use MLukeTokenizerFast or drop return_offsets_mapping"
            )
        if is_split_into_words:
            raise NotImplementedError("is_split_into_words is not supported by this tokenizer: pass plain strings")
        tokenize_kwargs = {key: kwargs.pop(key) for key in _TOKENIZE_KWARGS if key in kwargs}
        if kwargs:
            logger.warning(f"Keyword arguments {kwargs} not recognized.")
        options = {
            "add_special_tokens": add_special_tokens,
            "truncation_strategy": truncation_strategy,
            "max_length": max_length,
            "max_entity_length": max_entity_length,
            "stride": stride,
            "return_token_type_ids": return_token_type_ids,
            "return_overflowing_tokens": return_overflowing_tokens,
            "return_special_tokens_mask": return_special_tokens_mask,
            "verbose": verbose,
            "cls_sep_ids": (self.cls_token_id, self.sep_token_id) if add_special_tokens else None,
            "task": task,
        }
        encodings = self._encode_unpadded(examples, tokenize_kwargs, options)
        if not batched:
            encoded = encodings[0]
            resolved_max_entity_length = encoded.pop("_max_entity_length")
            if padding_strategy != PaddingStrategy.DO_NOT_PAD or self._resolve_attention_mask(return_attention_mask):
                encoded = self.pad(
                    encoded,
                    max_length=max_length,
                    max_entity_length=resolved_max_entity_length,
                    padding=padding_strategy.value,
                    pad_to_multiple_of=pad_to_multiple_of,
                    padding_side=padding_side,
                    return_attention_mask=return_attention_mask,
                    task=task,
                )
            encoded = dict(encoded)
            if return_length:
                encoded["length"] = len(encoded["input_ids"])
            return batch_encoding(encoded, tensor_type=return_tensors, prepend_batch_axis=True)

        batch_outputs: dict[str, list] = {}
        for encoded in encodings:
            encoded.pop("_max_entity_length")
            if return_length:
                encoded["length"] = len(encoded["input_ids"])
            for key, value in encoded.items():
                batch_outputs.setdefault(key, []).append(value)
        batch_outputs = self.pad(
            batch_outputs,
            padding=padding_strategy.value,
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_attention_mask=return_attention_mask,
            task=task,
        )
        return batch_encoding(batch_outputs, tensor_type=return_tensors)

    def _resolve_attention_mask(self, return_attention_mask: bool | None) -> bool:
        if return_attention_mask is None:
            return "attention_mask" in self.model_input_names
        return return_attention_mask

    def prepare_for_model(
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        entity_ids: list[int] | None = None,
        pair_entity_ids: list[int] | None = None,
        entity_token_spans: list[tuple[int, int]] | None = None,
        pair_entity_token_spans: list[tuple[int, int]] | None = None,
        add_special_tokens: bool = True,
        padding: bool | str | PaddingStrategy = False,
        truncation: bool | str | TruncationStrategy | None = None,
        max_length: int | None = None,
        max_entity_length: int | None = None,
        stride: int = 0,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | TensorType | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        prepend_batch_axis: bool = False,
        task: str | None = TOKENIZER_TASK,
        **kwargs,
    ) -> BatchEncoding:
        """Add special tokens, truncate words then entities, build entity positions, pad; from ids and token spans."""
        task = self._resolve_task(task)
        check_positive_length(max_entity_length, "max_entity_length", optional=True)
        check_positive_length(pad_to_multiple_of, "pad_to_multiple_of", optional=True)
        padding_strategy, truncation_strategy, max_length, _ = self._get_padding_truncation_strategies(
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            verbose=verbose,
            **kwargs,
        )
        encoded = self._prepare_entity_encoding(
            ids,
            pair_ids,
            entity_ids,
            pair_entity_ids,
            entity_token_spans,
            pair_entity_token_spans,
            add_special_tokens=add_special_tokens,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            max_entity_length=max_entity_length,
            stride=stride,
            return_token_type_ids=return_token_type_ids,
            return_overflowing_tokens=return_overflowing_tokens,
            return_special_tokens_mask=return_special_tokens_mask,
            verbose=verbose,
            task=task,
        )
        resolved_max_entity_length = encoded.pop("_max_entity_length")
        if padding_strategy != PaddingStrategy.DO_NOT_PAD or self._resolve_attention_mask(return_attention_mask):
            encoded = dict(
                self.pad(
                    encoded,
                    max_length=max_length,
                    max_entity_length=resolved_max_entity_length,
                    padding=padding_strategy.value,
                    pad_to_multiple_of=pad_to_multiple_of,
                    padding_side=padding_side,
                    return_attention_mask=return_attention_mask,
                    task=task,
                )
            )
        if return_length:
            encoded["length"] = len(encoded["input_ids"])
        return batch_encoding(encoded, tensor_type=return_tensors, prepend_batch_axis=prepend_batch_axis)

    def _prepare_entity_encoding(
        self,
        ids,
        pair_ids,
        entity_ids,
        pair_entity_ids,
        entity_token_spans,
        pair_entity_token_spans,
        add_special_tokens: bool,
        truncation_strategy: TruncationStrategy,
        max_length: int | None,
        max_entity_length: int | None,
        stride: int,
        return_token_type_ids: bool | None,
        return_overflowing_tokens: bool,
        return_special_tokens_mask: bool,
        verbose: bool,
        task: str | None,
        cls_sep_ids: tuple[int, int] | None = None,
    ) -> dict:
        """The unpadded encoding of one example as a dict (plus `_max_entity_length`, the budget padding uses).

        `cls_sep_ids` saves a batch the per-example lookups of `cls_token_id` / `sep_token_id` (slow in transformers 5).
        """
        pair = pair_ids is not None
        if return_token_type_ids and not add_special_tokens:
            raise ValueError(
                "return_token_type_ids=True needs add_special_tokens=True (token types are undefined without them); "
                "set add_special_tokens=True or leave return_token_type_ids=None"
            )
        if return_overflowing_tokens and truncation_strategy == TruncationStrategy.LONGEST_FIRST and pair:
            raise ValueError(
                "Not possible to return overflowing tokens for pair of sequences with the "
                "`longest_first`. Please select another truncation strategy than `longest_first`, "
                "for instance `only_second` or `only_first`."
            )
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        encoded: dict[str, Any] = {}
        num_special = (4 if pair else 2) if add_special_tokens else 0
        total_len = len(ids) + (len(pair_ids) if pair else 0) + num_special
        overflowing_tokens: list = []
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and max_length and total_len > max_length:
            ids, pair_ids, overflowing_tokens = truncate_id_sequences(
                ids, pair_ids, total_len - max_length, truncation_strategy, stride, self.truncation_side
            )
        if return_overflowing_tokens:
            encoded["overflowing_tokens"] = overflowing_tokens
            # The reference raises TypeError here when max_length is None; 0 tokens were truncated then.
            encoded["num_truncated_tokens"] = total_len - max_length if max_length is not None else 0

        if add_special_tokens:
            cls, sep = cls_sep_ids if cls_sep_ids is not None else (self.cls_token_id, self.sep_token_id)
            sequence = [cls] + ids + [sep] + ([sep] + pair_ids + [sep] if pair else [])
            entity_offset, pair_entity_offset = 1, len(ids) + 3
        else:
            sequence = ids + pair_ids if pair else list(ids)
            entity_offset, pair_entity_offset = 0, len(ids)
        encoded["input_ids"] = sequence
        if return_token_type_ids:
            encoded["token_type_ids"] = [0] * len(sequence)
        if return_special_tokens_mask:
            if add_special_tokens:
                mask = [1] + [0] * len(ids) + [1]
                encoded["special_tokens_mask"] = mask + ([1] + [0] * len(pair_ids) + [1] if pair else [])
            else:
                encoded["special_tokens_mask"] = [0] * len(sequence)

        if not max_entity_length:
            max_entity_length = self._max_entity_length_for(task)
        encoded["_max_entity_length"] = max_entity_length
        if entity_ids is not None:
            self._add_entity_fields(
                encoded,
                ids,
                pair_ids,
                entity_ids,
                pair_entity_ids,
                entity_token_spans,
                pair_entity_token_spans,
                entity_offset,
                pair_entity_offset,
                truncation_strategy,
                max_entity_length,
                stride,
                return_token_type_ids,
                return_overflowing_tokens,
                task,
            )
        self._eventual_warn_about_too_long_sequence(encoded["input_ids"], max_length, verbose)
        return encoded

    def _add_entity_fields(
        self,
        encoded,
        ids,
        pair_ids,
        entity_ids,
        pair_entity_ids,
        token_spans,
        pair_token_spans,
        entity_offset,
        pair_entity_offset,
        truncation_strategy,
        max_entity_length,
        stride,
        return_token_type_ids,
        return_overflowing_tokens,
        task,
    ) -> None:
        # Entities whose mention lost tokens to word truncation are dropped (the spans index the kept ids).
        kept_ids, kept_spans = entities_within(entity_ids, token_spans, len(ids))
        dropped = len(entity_ids) - len(kept_ids)
        kept_pair_ids = kept_pair_spans = None
        if pair_entity_ids is not None:
            kept_pair_ids, kept_pair_spans = entities_within(pair_entity_ids, pair_token_spans, len(pair_ids))
            dropped += len(pair_entity_ids) - len(kept_pair_ids)
        if dropped:
            logger.warning(
                f"{dropped} entities are ignored because their entity spans are invalid due to the"
                " truncation of input tokens"
            )
        total_entities = len(kept_ids) + (len(kept_pair_ids) if kept_pair_ids is not None else 0)
        overflowing_entities: list = []
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and total_entities > max_entity_length:
            self._warn_once(
                f"Entities beyond max_entity_length={max_entity_length} are dropped (the first ones are kept); pass a "
                "larger max_entity_length or split the spans into several calls"
            )
            kept_ids, kept_pair_ids, overflowing_entities = truncate_id_sequences(
                kept_ids,
                kept_pair_ids,
                total_entities - max_entity_length,
                truncation_strategy,
                stride,
                self.truncation_side,
            )
            # As the reference: the first spans are kept, whatever side the ids were cut on.
            kept_spans = kept_spans[: len(kept_ids)]
            if kept_pair_spans is not None:
                kept_pair_spans = kept_pair_spans[: len(kept_pair_ids)]
        elif total_entities > max_entity_length:
            self._warn_once(
                f"Some examples have more entities than max_entity_length={max_entity_length} and truncation is off: "
                "all are kept (as transformers 4.x did), so padded batches may be ragged. Pass truncation=True to keep "
                "the first max_entity_length entities, or a larger max_entity_length."
            )
        if return_overflowing_tokens:
            encoded["overflowing_entities"] = overflowing_entities
            encoded["num_truncated_entities"] = total_entities - max_entity_length
        encoded["entity_ids"] = kept_ids + kept_pair_ids if kept_pair_ids else list(kept_ids)

        position_rows, starts, ends = [], [], []
        for spans, offset in ((kept_spans, entity_offset), (kept_pair_spans, pair_entity_offset)):
            if spans:
                rows, span_starts, span_ends = entity_position_rows(
                    spans, offset, self.max_mention_length, len(encoded["input_ids"])
                )
                position_rows += rows
                starts += span_starts
                ends += span_ends
        encoded["entity_position_ids"] = position_rows
        if task == "entity_span_classification":
            encoded["entity_start_positions"] = starts
            encoded["entity_end_positions"] = ends
        if return_token_type_ids:
            encoded["entity_token_type_ids"] = [0] * len(encoded["entity_ids"])

    # -- truncation and padding --------------------------------------------------------------------------------------

    def truncate_sequences(
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        num_tokens_to_remove: int = 0,
        truncation_strategy: str | TruncationStrategy = "longest_first",
        stride: int = 0,
    ) -> tuple[list[int], list[int] | None, list[int]]:
        """Truncate with the transformers 4.57.6 rules (see `truncate_id_sequences`)."""
        return truncate_id_sequences(
            ids, pair_ids, num_tokens_to_remove, truncation_strategy, stride, self.truncation_side
        )

    def pad(
        self,
        encoded_inputs,
        padding: bool | str | PaddingStrategy = True,
        max_length: int | None = None,
        max_entity_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | TensorType | None = None,
        verbose: bool = True,
        task: str | None = TOKENIZER_TASK,
    ) -> BatchEncoding:
        """Pad one encoding or a batch (a dict of lists, or a list of encodings as a DataLoader collate_fn gives).

        Word fields pad with `<pad>` (mask 0), entity_ids with the `[PAD]` entity, entity_position_ids rows with -1,
        entity masks with 0, span start/end positions with 0: each field present is padded, whatever task encoded it.
        `task` only sets the default `max_entity_length` of `padding="max_length"` (1 / 2 for the classification
        tasks). Tensors in give tensors out.
        """
        check_positive_length(max_entity_length, "max_entity_length", optional=True)
        check_positive_length(pad_to_multiple_of, "pad_to_multiple_of", optional=True)
        if (
            isinstance(encoded_inputs, (list, tuple))
            and len(encoded_inputs) > 0
            and isinstance(encoded_inputs[0], Mapping)
        ):
            encoded_inputs = {key: [example[key] for example in encoded_inputs] for key in encoded_inputs[0]}
        main_input = self.model_input_names[0]
        if not isinstance(encoded_inputs, Mapping) or main_input not in encoded_inputs:
            given = list(encoded_inputs.keys()) if isinstance(encoded_inputs, Mapping) else type(encoded_inputs)
            raise ValueError(
                f"pad() needs an encoding or a list of encodings that includes {main_input}, but you provided {given}"
            )
        required_input = encoded_inputs[main_input]
        if required_input is None or len(required_input) == 0:
            if return_attention_mask:
                encoded_inputs["attention_mask"] = []
            return encoded_inputs

        first_element = required_input[0]
        if isinstance(first_element, (list, tuple)):
            for item in required_input:
                if len(item) != 0:
                    first_element = item[0]
                    break
        if not isinstance(first_element, (int, list, tuple)):
            if is_torch_tensor(first_element):
                return_tensors = "pt" if return_tensors is None else return_tensors
            elif isinstance(first_element, (np.ndarray, np.generic)):
                return_tensors = "np" if return_tensors is None else return_tensors
            else:
                raise ValueError(
                    f"type of {first_element} unknown: {type(first_element)}. "
                    "Should be one of a python, numpy or pytorch object."
                )
            encoded_inputs = {key: _to_python(value) for key, value in encoded_inputs.items()}
            required_input = encoded_inputs[main_input]

        padding_strategy, _, max_length, _ = self._get_padding_truncation_strategies(
            padding=padding, max_length=max_length, verbose=verbose
        )
        if max_entity_length is None:
            max_entity_length = self._max_entity_length_for(self._resolve_task(task))

        if required_input and not isinstance(required_input[0], (list, tuple)):
            padded = self._pad(
                dict(encoded_inputs),
                max_length=max_length,
                max_entity_length=max_entity_length,
                padding_strategy=padding_strategy,
                pad_to_multiple_of=pad_to_multiple_of,
                padding_side=padding_side,
                return_attention_mask=return_attention_mask,
            )
            return batch_encoding(padded, tensor_type=return_tensors)

        batch_size = len(required_input)
        if any(len(value) != batch_size for value in encoded_inputs.values()):
            raise ValueError("Some items in the output dictionary have a different batch size than others.")
        if padding_strategy == PaddingStrategy.LONGEST:
            max_length = max(len(inputs) for inputs in required_input)
            entity_rows = encoded_inputs.get("entity_ids")
            max_entity_length = max(len(row) for row in entity_rows) if entity_rows is not None else 0
            padding_strategy = PaddingStrategy.MAX_LENGTH
        batch_outputs: dict[str, list] = {}
        for index in range(batch_size):
            padded = self._pad(
                {key: value[index] for key, value in encoded_inputs.items()},
                max_length=max_length,
                max_entity_length=max_entity_length,
                padding_strategy=padding_strategy,
                pad_to_multiple_of=pad_to_multiple_of,
                padding_side=padding_side,
                return_attention_mask=return_attention_mask,
            )
            for key, value in padded.items():
                batch_outputs.setdefault(key, []).append(value)
        return batch_encoding(batch_outputs, tensor_type=return_tensors)

    def _pad(
        self,
        encoded_inputs: dict,
        max_length: int | None = None,
        max_entity_length: int | None = None,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
    ) -> dict:
        """Pad one encoding's word and entity fields to `max_length` / `max_entity_length`."""
        has_entities = "entity_ids" in encoded_inputs
        return_attention_mask = self._resolve_attention_mask(return_attention_mask)
        if padding_strategy == PaddingStrategy.LONGEST:
            max_length = len(encoded_inputs["input_ids"])
            if has_entities:
                max_entity_length = len(encoded_inputs["entity_ids"])
        max_length = round_up(max_length, pad_to_multiple_of)
        if has_entities:
            max_entity_length = round_up(max_entity_length, pad_to_multiple_of)
        needs_padding = padding_strategy != PaddingStrategy.DO_NOT_PAD and (
            len(encoded_inputs["input_ids"]) != max_length
            or (has_entities and len(encoded_inputs["entity_ids"]) != max_entity_length)
        )
        if return_attention_mask and "attention_mask" not in encoded_inputs:
            encoded_inputs["attention_mask"] = [1] * len(encoded_inputs["input_ids"])
        if has_entities and return_attention_mask and "entity_attention_mask" not in encoded_inputs:
            encoded_inputs["entity_attention_mask"] = [1] * len(encoded_inputs["entity_ids"])
        if not needs_padding:
            return encoded_inputs

        padding_side = padding_side if padding_side is not None else self.padding_side
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
        # Every field present is padded (see mluke_hf.text.entity_padding), whatever task encoded the example.
        for key in ("input_ids", "attention_mask", "token_type_ids", "special_tokens_mask"):
            if key in encoded_inputs:
                encoded_inputs[key] = pad_row(
                    encoded_inputs[key], max_length, word_fill(key, self.pad_token_id), padding_side
                )
        if has_entities:
            pad_entity_fields(
                encoded_inputs, max_entity_length, self.entity_pad_token_id, self.max_mention_length, padding_side
            )
        return encoded_inputs


__all__ = [
    "TASKS",
    "TOKENIZER_TASK",
    "BatchLengthMismatchError",
    "EntityEncodingMixin",
    "EntitySpanOutOfRangeError",
    "check_encodable",
    "check_length_arguments",
    "check_text_input",
    "encode_with_targets",
    "split_text_at_spans",
]

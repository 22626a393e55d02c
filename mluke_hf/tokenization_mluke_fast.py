"""`MLukeTokenizerFast`: mLUKE's tokenizer on the Rust `tokenizers` library, with the ids of `MLukeTokenizer`.

Which engine produces what:
- ids of every call that asks for no alignment (plain or entity, single or batch): the SentencePiece engine both
  classes compose (`mluke_hf.text.sentencepiece_engine`), so the ids are `MLukeTokenizer`'s by construction;
- character offsets (`return_offsets_mapping`, also on the entity path), `word_ids()` and the other `Encoding`
  accessors, `is_split_into_words`, `return_overflowing_tokens` with `stride`: the Rust backend, built from
  `sentencepiece.bpe.model` by `mluke_hf.text.converter` (or read back from the `tokenizer.json` this class saves),
  its offsets mapped back by `mluke_hf.text.offsets`; it is configured and used under a per-tokenizer lock.
Entity handling (spans, per-call `task=`, truncation, padding) is `mluke_hf.text.entity_encoding`, as in the slow
class. This is what transformers' question-answering and token-classification pipelines need.
"""

from __future__ import annotations

import json
import os
import threading
from shutil import copyfile
from typing import Any

from tokenizers import Tokenizer
from transformers.tokenization_utils_base import AddedToken, BatchEncoding, PaddingStrategy, TruncationStrategy
from transformers.tokenization_utils_tokenizers import TokenizersBackend
from transformers.utils import logging

from .text.conversion_cache import add_fingerprint, cached_conversion, checked_folder_files
from .text.converter import (
    GraphemeRepair,
    exact_sentencepiece_tokenizer,
    is_unigram_model,
    may_tie,
)
from .text.decoding import DecodingMixin
from .text.entity_encoding import (
    TOKENIZER_TASK,
    EntityEncodingMixin,
    check_encodable,
    check_length_arguments,
    check_text_input,
    encode_with_targets,
    split_text_at_spans,
)
from .text.entity_vocab import load_entity_vocab, save_entity_vocab
from .text.layout import FAIRSEQ_OFFSET
from .text.layout import FAST_VOCAB_FILES_NAMES as VOCAB_FILES_NAMES
from .text.offsets import (
    TOKEN_REF_BASE,
    cover_gaps,
    has_attaching_characters,
    stand_in_ids_to_real_ids,
    stand_in_offsets,
    strip_leading_space,
)
from .text.released_files import ReleasedFilesMixin
from .text.sentencepiece_engine import SentencePieceEngine
from .text.tensor_conversion import batch_encoding
from .tokenization_mluke import MLukeTokenizer, special_token_arguments

logger = logging.get_logger(__name__)


def _raw_text_token(token: Any, special: bool) -> AddedToken:
    """The backend's copy of an added token, matched on the raw text as MLukeTokenizer (and transformers' slow
    tokenizers) match added tokens. With `normalized=True` the Rust backend would look for it after SentencePiece's
    `▁` escaping, where `<mask>`'s lstrip no longer sees the space it must eat. The flags a user gave are kept for
    saving; only the backend's copy changes."""
    if isinstance(token, AddedToken):
        return AddedToken(
            token.content,
            single_word=token.single_word,
            lstrip=token.lstrip,
            rstrip=token.rstrip,
            normalized=False,
            special=token.special or special,
        )
    return AddedToken(str(token), normalized=False, special=special)


def _check_plain_input(text: Any, argument: str, is_split_into_words: bool) -> None:
    """str or list of str; with is_split_into_words a list of words (str) or a batch of such lists."""
    if is_split_into_words:
        if isinstance(text, (list, tuple)) and all(isinstance(word, str) for word in text):
            for index, word in enumerate(text):
                check_encodable(word, f"{argument}[{index}]")
            return
        if isinstance(text, (list, tuple)) and all(
            isinstance(words, (list, tuple)) and all(isinstance(word, str) for word in words) for words in text
        ):
            for index, words in enumerate(text):
                for word_index, word in enumerate(words):
                    check_encodable(word, f"{argument}[{index}][{word_index}]")
            return
        raise ValueError(
            f"{argument} must be a list of words (str) or a batch of such lists when is_split_into_words=True, got "
            f"{type(text).__name__}; pass plain strings with is_split_into_words=False"
        )
    check_text_input(text, argument)


def _is_batch_of_pairs(text: Any) -> bool:
    """A non-empty list of `[text, text_pair]` (lists or tuples of two str)."""
    return (
        isinstance(text, (list, tuple))
        and len(text) > 0
        and all(
            isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
            for pair in text
        )
    )


# Plain-call arguments only the Rust backend serves (fast-tokenizer semantics); other plain calls take SentencePiece.
_ALIGNMENT_ARGUMENTS = ("return_offsets_mapping", "is_split_into_words", "return_overflowing_tokens", "stride")


# What `_encode_plain_lean` serves; any other argument goes to MLukeTokenizer's general path.
_LEAN_ARGUMENTS = {
    "add_special_tokens", "padding_strategy", "truncation_strategy", "max_length", "pad_to_multiple_of",
    "padding_side", "return_tensors", "return_token_type_ids", "return_attention_mask", "return_special_tokens_mask",
    "return_length", "verbose", "split_special_tokens", "stride", "is_split_into_words",
    "return_overflowing_tokens", "return_offsets_mapping",
}  # fmt: skip
_LEAN_TRUNCATION = (TruncationStrategy.LONGEST_FIRST, TruncationStrategy.ONLY_FIRST)


class _LazyAlignmentEncoding(BatchEncoding):
    """A BatchEncoding whose Rust `Encoding`s (for `word_ids()`, `tokens()`, `char_to_token()`, ...) are computed by
    `compute` on first use: a plain call that never asks for them pays nothing for them."""

    def __init__(self, data, compute):
        self.__dict__["_compute_encodings"] = compute
        super().__init__(data)

    @property
    def _encodings(self):
        state = self.__dict__
        if state.get("_encodings_value") is None and state.get("_compute_encodings") is not None:
            state["_encodings_value"] = state.pop("_compute_encodings")()
        return state.get("_encodings_value")

    @_encodings.setter
    def _encodings(self, value):
        if value is not None:
            self.__dict__["_encodings_value"] = value


class MLukeTokenizerFast(EntityEncodingMixin, DecodingMixin, ReleasedFilesMixin, TokenizersBackend):
    """mLUKE tokenizer backed by HuggingFace `tokenizers`: the ids of `MLukeTokenizer`, plus offsets.

    Takes the arguments of `MLukeTokenizer` (`vocab_file`, `entity_vocab_file`, `task`, `max_entity_length`,
    `max_mention_length`, `entity_token_1`/`entity_token_2`, the special entity names) and optionally
    `tokenizer_file` (a `tokenizer.json` this class saved). Without `tokenizer_file` the backend is converted from
    the SentencePiece model.
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "attention_mask"]
    slow_tokenizer_class = MLukeTokenizer
    _supports_offsets_mapping = True

    @classmethod
    def _from_pretrained(cls, resolved_vocab_files, *args, **kwargs):
        # A folder's tokenizer.json is used only when it matches the folder's SentencePiece model, its
        # sp_model_kwargs never (see mluke_hf.text.conversion_cache).
        resolved_vocab_files, kwargs = checked_folder_files(resolved_vocab_files, kwargs)
        return super()._from_pretrained(resolved_vocab_files, *args, **kwargs)

    @classmethod
    def convert_to_native_format(cls, trust_remote_code=False, **kwargs):
        # transformers' generic extraction would rebuild an XLM-R-like backend; ours is built in __init__.
        return kwargs

    def __init__(
        self,
        vocab_file: str | None = None,
        entity_vocab_file: str | None = None,
        tokenizer_file: str | None = None,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        task: str | None = None,
        max_entity_length: int = 32,
        max_mention_length: int = 30,
        entity_token_1="<ent>",
        entity_token_2="<ent2>",
        entity_unk_token: str = "[UNK]",
        entity_pad_token: str = "[PAD]",
        entity_mask_token: str = "[MASK]",
        entity_mask2_token: str = "[MASK2]",
        sp_model_kwargs: dict[str, Any] | None = None,
        **kwargs,
    ) -> None:
        if entity_vocab_file is None:
            raise ValueError("MLukeTokenizerFast needs entity_vocab_file (the checkpoint's entity_vocab.json)")
        entity_names, mask_token, entity_token_1, entity_token_2, extra_tokens, model_specific = (
            special_token_arguments(
                kwargs,
                mask_token,
                entity_token_1,
                entity_token_2,
                entity_unk_token=entity_unk_token,
                entity_pad_token=entity_pad_token,
                entity_mask_token=entity_mask_token,
                entity_mask2_token=entity_mask2_token,
            )
        )
        markers = {str(entity_token_1): entity_token_1, str(entity_token_2): entity_token_2}
        extra_tokens = [markers.pop(str(token), token) for token in extra_tokens] + list(markers.values())
        # added_tokens.json lists the markers as plain added tokens; they come back below as special tokens.
        added_tokens_decoder = kwargs.get("added_tokens_decoder") or {}
        for index, token in list(added_tokens_decoder.items()):
            if str(token) in (str(mask_token), str(entity_token_1), str(entity_token_2)):
                added_tokens_decoder.pop(index)

        kwargs.pop("tokenizer_object", None)
        if tokenizer_file is not None and os.path.isfile(tokenizer_file):
            backend = Tokenizer.from_file(tokenizer_file)
        elif vocab_file is not None and os.path.isfile(vocab_file):
            backend = cached_conversion(
                vocab_file, mask_token=str(mask_token), entity_tokens=(str(entity_token_1), str(entity_token_2))
            )
        else:
            raise ValueError(
                "MLukeTokenizerFast needs vocab_file (sentencepiece.bpe.model) or tokenizer_file (tokenizer.json); "
                f"got vocab_file={vocab_file!r}, tokenizer_file={tokenizer_file!r}"
            )
        self._tokenizer = backend
        # The Rust backend holds per-call settings (truncation, padding, encode_special_tokens) that each call sets
        # before encoding: calls that use it take this lock, so threads sharing the tokenizer never see another
        # call's settings (nor "Already borrowed" from the Rust side).
        self._backend_lock = threading.RLock()
        self.vocab_file = vocab_file
        self.entity_vocab_file = entity_vocab_file
        self.sp_model_kwargs = {} if sp_model_kwargs is None else sp_model_kwargs
        has_model = vocab_file is not None and os.path.isfile(vocab_file)
        self._engine = self._load_engine()
        self.fairseq_offset = FAIRSEQ_OFFSET
        self._grapheme_repair = GraphemeRepair.from_model_file(vocab_file) if has_model else None
        # Unigram ties (see `_tie_safe_backend`): only a model file lets SentencePiece itself settle them.
        self._settles_ties = has_model and is_unigram_model(vocab_file)
        self._exact_backend: tuple[tuple[int, int], Tokenizer] | None = None

        self._init_entity_attributes(
            load_entity_vocab(entity_vocab_file),
            task=task,
            max_entity_length=max_entity_length,
            max_mention_length=max_mention_length,
            entity_vocab_file=str(entity_vocab_file),
            **entity_names,
        )
        self._entity_token_names = (str(entity_token_1), str(entity_token_2))
        if model_specific:
            kwargs["model_specific_special_tokens"] = model_specific
        super().__init__(
            vocab_file=vocab_file,
            bos_token=bos_token,
            eos_token=eos_token,
            unk_token=unk_token,
            sep_token=sep_token,
            cls_token=cls_token,
            pad_token=pad_token,
            mask_token=mask_token,
            sp_model_kwargs=self.sp_model_kwargs,
            task=task,
            max_entity_length=max_entity_length,
            max_mention_length=max_mention_length,
            entity_token_1=entity_token_1,
            entity_token_2=entity_token_2,
            extra_special_tokens=extra_tokens,
            **kwargs,
        )
        self.init_kwargs.update(entity_names)
        # Complete: `type(tokenizer)(**tokenizer.init_kwargs)` rebuilds it (as train_new_from_iterator does).
        self.init_kwargs.update(vocab_file=vocab_file, entity_vocab_file=entity_vocab_file)
        if tokenizer_file is not None:
            self.init_kwargs["tokenizer_file"] = tokenizer_file
        self.entity_token_1_id = self.convert_tokens_to_ids(str(entity_token_1))
        self.entity_token_2_id = self.convert_tokens_to_ids(str(entity_token_2))
        # MLukeTokenizer's vocab_size: pieces + fairseq specials + <mask>; <ent>/<ent2> count as added tokens.
        self._word_vocab_size = self._tokenizer.token_to_id(str(mask_token)) + 1

    # -- vocabulary ---------------------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """As `MLukeTokenizer.vocab_size`: SentencePiece pieces + 1 + `<mask>` (`len(tokenizer)` adds the markers)."""
        return self._word_vocab_size

    def _add_tokens(self, new_tokens: list[str | AddedToken], special_tokens: bool = False) -> int:
        with self._backend_lock:
            self.__dict__["_added_tokens_version"] = self.__dict__.get("_added_tokens_version", 0) + 1
            tokens = [_raw_text_token(token, special_tokens) for token in new_tokens]
            return super()._add_tokens(tokens, special_tokens)

    def convert_ids_to_tokens(self, ids: int | list[int], skip_special_tokens: bool = False) -> str | list[str]:
        """As the backend's, but an id outside the vocabulary raises IndexError (as `MLukeTokenizer`)."""
        size = len(self)
        for index in [ids] if isinstance(ids, int) else ids:
            if not 0 <= int(index) < size:
                raise IndexError(f"token id {int(index)} is outside the vocabulary (ids 0 to {size - 1})")
        return super().convert_ids_to_tokens(ids, skip_special_tokens=skip_special_tokens)

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs) -> list[str]:
        """Tokens as `MLukeTokenizer.tokenize` names them: an unknown piece by its text (as SentencePiece names it)
        rather than `<unk>`. The task mode is ignored here, as `MLukeTokenizer.tokenize` (and 4.57.6) ignore it."""
        kwargs.pop("task", None)
        encoded = self._encode_plus(
            text=text, text_pair=pair, add_special_tokens=add_special_tokens, task=None, **kwargs
        )
        tokens = self.convert_ids_to_tokens(encoded["input_ids"])
        if self.unk_token_id not in encoded["input_ids"] or not encoded.encodings:
            return tokens
        offsets = self._encode_plus(
            text=text,
            text_pair=pair,
            add_special_tokens=add_special_tokens,
            return_offsets_mapping=True,
            task=None,
            **kwargs,
        )["offset_mapping"]
        encoding = encoded.encodings[0]
        names = {}
        for sequence, source in enumerate((text, pair)):
            indices = [index for index, value in enumerate(encoding.sequence_ids) if value == sequence]
            if not indices or not isinstance(source, str):
                continue
            unknown = [index for index in indices if encoding.ids[index] == self.unk_token_id]
            added = [offsets[index] for index in indices if encoding.ids[index] in self._added_ids()]
            for index, name in zip(unknown, self._unknown_piece_names(source, added)):
                names[index] = name
        return [names.get(index, token) for index, token in enumerate(tokens)]

    def _added_ids(self) -> set[int]:
        return {index for index in self.added_tokens_decoder if index != self.unk_token_id}

    def _unknown_piece_names(self, text: str, added_spans: list[tuple[int, int]]) -> list[str]:
        """SentencePiece's names of the unknown pieces of `text`, in order; the text is cut at added tokens first, as
        `MLukeTokenizer` does (the ids already agree, so the n-th `<unk>` is the n-th unknown piece)."""
        processor = self.sp_model
        if processor is None:
            return []
        names, position = [], 0
        for start, end in [*sorted(added_spans), (len(text), len(text))]:
            chunk = text[position:start]
            position = max(position, end)
            for piece, piece_id in zip(processor.encode(chunk, out_type=str), processor.encode(chunk)):
                if piece_id == processor.unk_id():
                    names.append(piece)
        return names

    # -- entry points -----------------------------------------------------------------------------------------------

    @staticmethod
    def _is_plain(task, entity_spans, entity_spans_pair, entities, entities_pair) -> bool:
        return task is None and all(
            argument is None for argument in (entity_spans, entity_spans_pair, entities, entities_pair)
        )

    def __call__(
        self,
        text=None,
        text_pair=None,
        entity_spans=None,
        entity_spans_pair=None,
        entities=None,
        entities_pair=None,
        **kwargs,
    ) -> BatchEncoding:
        """Encode text(s) as `MLukeTokenizer` does (same ids), with what a transformers fast tokenizer adds.

        Plain calls (no `entity_spans`/`entities`, no `task`) accept everything a transformers fast tokenizer does:
        `is_split_into_words`, `return_overflowing_tokens` with `stride`, `return_offsets_mapping`, `word_ids()`, and
        a batch of pairs as a list of `[text, text_pair]` (what the zero-shot-classification pipeline passes).
        Entity calls also accept `return_offsets_mapping`: each token's character span in its original text,
        `<s>`/`</s>`/padding as (0, 0) and the `<ent>`/`<ent2>` markers as zero-width spans at the mention's edges.
        `task=` (per call; default: the constructor's) works as in `MLukeTokenizer`.
        """
        task = self._resolve_task(kwargs.pop("task", TOKENIZER_TASK))
        check_length_arguments(kwargs)
        text_target, text_pair_target = kwargs.pop("text_target", None), kwargs.pop("text_pair_target", None)
        if text_target is not None or text_pair_target is not None:
            entity_arguments = {
                "entity_spans": entity_spans,
                "entity_spans_pair": entity_spans_pair,
                "entities": entities,
                "entities_pair": entities_pair,
                "max_entity_length": kwargs.pop("max_entity_length", None),
                "task": task,
            }
            return encode_with_targets(self, text, text_pair, text_target, text_pair_target, entity_arguments, kwargs)
        if self._is_plain(task, entity_spans, entity_spans_pair, entities, entities_pair):
            kwargs.pop("max_entity_length", None)
            if text_pair is None and not kwargs.get("is_split_into_words") and _is_batch_of_pairs(text):
                text, text_pair = [pair[0] for pair in text], [pair[1] for pair in text]
            return TokenizersBackend.__call__(self, text=text, text_pair=text_pair, **kwargs)
        return EntityEncodingMixin.__call__(
            self, text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair, task=task, **kwargs
        )

    def _encode_plus(
        self,
        text,
        text_pair=None,
        entity_spans=None,
        entity_spans_pair=None,
        entities=None,
        entities_pair=None,
        **kwargs,
    ) -> BatchEncoding:
        task = self._resolve_task(kwargs.pop("task", TOKENIZER_TASK))
        check_length_arguments(kwargs)
        if self._is_plain(task, entity_spans, entity_spans_pair, entities, entities_pair):
            kwargs.pop("max_entity_length", None)
            if self.sp_model is None or any(kwargs.get(name) for name in _ALIGNMENT_ARGUMENTS):
                return self._encode_plain(text, text_pair, **kwargs)
            return self._encode_plain_with_sentencepiece(text, text_pair, **kwargs)
        if kwargs.get("return_offsets_mapping"):
            return self._encode_entities_with_offsets(
                text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair, task=task, **kwargs
            )
        return EntityEncodingMixin._encode_plus(
            self, text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair, task=task, **kwargs
        )

    # -- plain path -------------------------------------------------------------------------------------------------

    def _encode_plain_with_sentencepiece(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        """Ids from SentencePiece (MLukeTokenizer's own plain encoding, C++ and faster than the Rust Unigram/BPE on
        these models); the Rust `Encoding`s behind `word_ids()`, `tokens()`, `char_to_token()`... are built on first
        use, with the same arguments."""
        is_split_into_words = kwargs.get("is_split_into_words", False)
        _check_plain_input(text, "text", is_split_into_words)
        if text_pair is not None:
            _check_plain_input(text_pair, "text_pair", is_split_into_words)
        encoded = self._encode_plain_lean(text, text_pair, kwargs)
        if encoded is None:
            encoded = EntityEncodingMixin._encode_plus(
                self, text, text_pair, None, None, None, None, task=None, **kwargs
            )
        alignment_arguments = {**kwargs, "return_tensors": None}

        def alignment():
            return self._encode_plain(text, text_pair, **alignment_arguments).encodings

        return _LazyAlignmentEncoding(dict(encoded), alignment)

    def _encode_plain(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        """The Rust backend's encoding; clusters SentencePiece normalises differently are rewritten first and
        offsets are mapped back to the caller's text (see `GraphemeRepair`), without leading whitespace."""
        with self._backend_lock:
            return self._encode_plain_locked(text, text_pair, **kwargs)

    def _encode_plain_locked(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        is_split_into_words = kwargs.get("is_split_into_words", False)
        _check_plain_input(text, "text", is_split_into_words)
        if text_pair is not None:
            _check_plain_input(text_pair, "text_pair", is_split_into_words)
        if kwargs.get("return_token_type_ids") and not kwargs.get("add_special_tokens", True):
            raise ValueError(
                "return_token_type_ids=True needs add_special_tokens=True (token types are undefined without them); "
                "set add_special_tokens=True or leave return_token_type_ids=None"
            )
        batched = isinstance(text, (list, tuple)) and (
            not is_split_into_words or (len(text) > 0 and isinstance(text[0], (list, tuple)))
        )
        if not batched and text_pair is not None and len(text_pair) == 0:
            # The backend reads an empty second text as "no pair"; MLukeTokenizer gives `<s> A </s></s></s>`.
            return self._encode_one_pair_as_batch(text, text_pair, **kwargs)
        texts = list(text) if batched else [text]
        pairs = (list(text_pair) if batched else [text_pair]) if text_pair is not None else None
        regions: dict = {}
        if self._grapheme_repair is not None:
            new_texts = self._repair_sequences(texts, 0, is_split_into_words, regions)
            new_pairs = self._repair_sequences(pairs, 1, is_split_into_words, regions) if pairs else pairs
            if regions:
                text = new_texts if batched else new_texts[0]
                text_pair = None if new_pairs is None else (new_pairs if batched else new_pairs[0])
        sequences = texts + (pairs or [])
        backend = self._tie_safe_backend(
            [word for sequence in sequences for word in sequence] if is_split_into_words else sequences,
            kwargs.get("split_special_tokens"),
        )
        if backend is not self._tokenizer:
            # A text where unigram segmentations can tie: SentencePiece itself segments this call, through a view of
            # this tokenizer on that backend (this tokenizer itself is left as it is).
            view = object.__new__(type(self))
            view.__dict__.update(self.__dict__)
            view.__dict__["_tokenizer"] = backend
            return view._encode_plain_on_backend(text, text_pair, texts, pairs, regions, **kwargs)
        return self._encode_plain_on_backend(text, text_pair, texts, pairs, regions, **kwargs)

    def _encode_plain_on_backend(self, text, text_pair, texts, pairs, regions, **kwargs) -> BatchEncoding:
        """`TokenizersBackend._encode_plus`, with offsets mapped back to the caller's text when asked for."""
        is_split_into_words = kwargs.get("is_split_into_words", False)
        batched = isinstance(text, (list, tuple)) and (
            not is_split_into_words or (len(text) > 0 and isinstance(text[0], (list, tuple)))
        )
        if not kwargs.get("return_offsets_mapping"):
            return self._backend_encode_plus(text, text_pair, **kwargs)
        return_tensors = kwargs.pop("return_tensors", None)
        encoded = self._backend_encode_plus(text, text_pair, **kwargs)
        single_row = not batched and not kwargs.get("return_overflowing_tokens")
        rows = [encoded["offset_mapping"]] if single_row else encoded["offset_mapping"]
        samples = encoded.get("overflow_to_sample_mapping", list(range(len(rows))))
        sources = (texts, pairs)
        fixed = []
        for row, sample, encoding in zip(rows, samples, encoded.encodings):
            sequence_ids = encoding.sequence_ids
            if not is_split_into_words and pairs is None and (sample, 0, None) not in regions:
                # The common case (one plain text, nothing rewritten), token by token without the general bookkeeping.
                source = texts[sample]
                new_row = [
                    span
                    if sequence is None or span[1] - span[0] < 2 or not source[span[0]].isspace()
                    else strip_leading_space(source, span)
                    for span, sequence in zip(row, sequence_ids)
                ]
                if has_attaching_characters(source):
                    new_row = self._cover_row_gaps(new_row, sequence_ids, None, sample, sources, False)
                fixed.append(new_row)
                continue
            word_ids = encoding.word_ids
            new_row = []
            for index, span in enumerate(row):
                sequence = sequence_ids[index]
                if sequence is None:
                    new_row.append(span)
                    continue
                word = word_ids[index] if is_split_into_words else None
                key = (sample, sequence, word)
                if key in regions:
                    span = GraphemeRepair.restore([span], regions[key])[0]
                source = sources[sequence][sample]
                new_row.append(strip_leading_space(source[word] if is_split_into_words else source, span))
            fixed.append(self._cover_row_gaps(new_row, sequence_ids, word_ids, sample, sources, is_split_into_words))
        encoded["offset_mapping"] = fixed[0] if single_row else fixed
        # With tensors, one text still gets a batch axis (as the backend gives it).
        prepend = single_row and return_tensors is not None
        return batch_encoding(
            dict(encoded), encoding=encoded.encodings, tensor_type=return_tensors, prepend_batch_axis=prepend
        )

    @staticmethod
    def _cover_row_gaps(row, sequence_ids, word_ids, sample, sources, is_split_into_words):
        """`_cover_gaps` over each text (or pre-split word) of one row."""
        groups: dict = {}
        for index, sequence in enumerate(sequence_ids):
            if sequence is not None:
                groups.setdefault((sequence, word_ids[index] if is_split_into_words else None), []).append(index)
        row = list(row)
        for (sequence, word), indices in groups.items():
            source = sources[sequence][sample]
            source = source[word] if is_split_into_words else source
            for index, span in zip(indices, cover_gaps(source, [row[index] for index in indices])):
                row[index] = span
        return row

    def _encode_one_pair_as_batch(self, text, text_pair, **kwargs) -> BatchEncoding:
        """Encode one (text, text_pair) as a batch of one, and give it back in the single-input layout."""
        encoded = self._encode_plain([text], [text_pair], **kwargs)
        if kwargs.get("return_tensors") is not None or kwargs.get("return_overflowing_tokens"):
            return encoded  # these keep the batch axis for one input too
        return BatchEncoding({key: value[0] for key, value in encoded.items()}, encoding=encoded.encodings)

    def _encode_plain_lean(self, text, text_pair, kwargs) -> BatchEncoding | None:
        """The common plain call (texts or pairs; padding; right truncation of single texts; ids and attention mask)
        assembled directly from SentencePiece's ids, or None for anything else (then MLukeTokenizer's general path
        runs). The golden suite and the property tests compare it with MLukeTokenizer."""
        if any(kwargs.get(name) for name in ("return_token_type_ids", "return_special_tokens_mask", "return_length")):
            return None
        if any(name not in _LEAN_ARGUMENTS for name in kwargs):
            return None
        batched = isinstance(text, (list, tuple))
        texts = list(text) if batched else [text]
        pairs = None if text_pair is None else (list(text_pair) if batched else [text_pair])
        truncation = kwargs.get("truncation_strategy", TruncationStrategy.DO_NOT_TRUNCATE)
        max_length = kwargs.get("max_length")
        add_special_tokens = kwargs.get("add_special_tokens", True)
        truncating = truncation != TruncationStrategy.DO_NOT_TRUNCATE
        if (
            not texts
            or (pairs is not None and (truncating or len(pairs) != len(texts)))
            or (truncating and (truncation not in _LEAN_TRUNCATION or max_length is None))
            or (truncating and (self.truncation_side != "right" or max_length < (3 if add_special_tokens else 1)))
            or (kwargs.get("padding_side") or self.padding_side) not in ("left", "right")
            or not all(isinstance(item, str) for item in texts + (pairs or []))
        ):
            return None
        ids = self._sentencepiece_text_pieces(
            texts + (pairs or []), kwargs.get("split_special_tokens"), one_text=not batched
        )
        bos, eos = self.cls_token_id, self.sep_token_id
        count, rows = len(texts), []
        for index in range(count):
            first = ids[index]
            if truncating and len(first) + (2 if add_special_tokens else 0) > max_length:
                first = first[: max_length - (2 if add_special_tokens else 0)]
            if pairs is None:
                row = [bos, *first, eos] if add_special_tokens else first
            else:
                second = ids[count + index]
                row = [bos, *first, eos, eos, *second, eos] if add_special_tokens else [*first, *second]
            rows.append(row)
        # The warning looks at one row's length only: the longest row decides whether any row triggers it.
        self._eventual_warn_about_too_long_sequence(max(rows, key=len), max_length, kwargs.get("verbose", True))
        masks = [[1] * len(row) for row in rows]
        padding = kwargs.get("padding_strategy", PaddingStrategy.DO_NOT_PAD)
        if padding != PaddingStrategy.DO_NOT_PAD:
            target = max(map(len, rows)) if padding == PaddingStrategy.LONGEST else max_length
            if target is None:
                return None
            multiple = kwargs.get("pad_to_multiple_of")
            if multiple and target % multiple:
                target += multiple - target % multiple
            left = (kwargs.get("padding_side") or self.padding_side) == "left"
            pad = self.pad_token_id
            for index, row in enumerate(rows):
                missing = target - len(row)
                if missing > 0:
                    rows[index] = [pad] * missing + row if left else row + [pad] * missing
                    masks[index] = [0] * missing + masks[index] if left else masks[index] + [0] * missing
        data = {"input_ids": rows if batched else rows[0]}
        if self._resolve_attention_mask(kwargs.get("return_attention_mask")):
            data["attention_mask"] = masks if batched else masks[0]
        return batch_encoding(data, tensor_type=kwargs.get("return_tensors"), prepend_batch_axis=not batched)

    def _backend_encode_plus(self, text, text_pair, **kwargs) -> BatchEncoding:
        """`TokenizersBackend._encode_plus`; a pair that `only_first`/`only_second` cannot cut to `max_length` comes
        back whole with an error logged, as from `MLukeTokenizer` (the Rust backend would raise a bare Exception)."""
        try:
            return TokenizersBackend._encode_plus(self, text, text_pair, **kwargs)
        except Exception as error:  # tokenizers raises a plain Exception here
            if not str(error).startswith("Truncation error") or text_pair is None:
                raise
        strategy, max_length = kwargs.get("truncation_strategy"), kwargs.get("max_length")
        strategy = getattr(strategy, "value", strategy)
        logger.error(
            f"truncation={strategy!r} cannot cut this pair to max_length={max_length}: the sequence it may cut is too "
            "short; the pair is returned untruncated. Use truncation='longest_first' or a larger max_length."
        )
        kwargs["truncation_strategy"] = TruncationStrategy.DO_NOT_TRUNCATE
        return TokenizersBackend._encode_plus(self, text, text_pair, **kwargs)

    def _repair_sequences(self, sequences, sequence_index: int, is_split_into_words: bool, regions: dict) -> list:
        """Rewrite the clusters `GraphemeRepair` fixes; remember each rewritten text's regions by (sample, seq, word)."""
        repaired = []
        for sample, sequence in enumerate(sequences):
            if is_split_into_words:
                words = []
                for word_index, word in enumerate(sequence):
                    new_word, word_regions = self._grapheme_repair.repair(word)
                    if word_regions:
                        regions[(sample, sequence_index, word_index)] = word_regions
                    words.append(new_word)
                repaired.append(words)
            else:
                new_text, text_regions = self._grapheme_repair.repair(sequence)
                if text_regions:
                    regions[(sample, sequence_index, None)] = text_regions
                repaired.append(new_text)
        return repaired

    # -- entity path ------------------------------------------------------------------------------------------------

    def _backend_encode_pieces(self, pieces: list[str], split_special_tokens: bool | None, with_offsets: bool):
        """Ids (and, with `with_offsets`, character offsets within each piece) of each piece on the Rust backend."""
        with self._backend_lock:
            return self._backend_encode_pieces_locked(pieces, split_special_tokens, with_offsets)

    def _backend_encode_pieces_locked(self, pieces: list[str], split_special_tokens: bool | None, with_offsets: bool):
        if split_special_tokens is None:
            split_special_tokens = self.split_special_tokens
        backend = self._tokenizer
        if backend.truncation is not None:
            backend.no_truncation()
        if backend.padding is not None:
            backend.no_padding()
        if backend.encode_special_tokens != split_special_tokens:
            backend.encode_special_tokens = split_special_tokens
        repair = self._grapheme_repair
        repaired, maps = repair.repair_texts(pieces) if repair is not None else (pieces, None)
        exact = self._tie_safe_backend(pieces, split_special_tokens)
        if exact is not backend:
            return self._encode_pieces_settling_ties(pieces, repaired, maps, backend, exact, with_offsets)
        if not with_offsets:
            return [encoding.ids for encoding in backend.encode_batch_fast(repaired, add_special_tokens=False)], None
        encodings = backend.encode_batch(repaired, add_special_tokens=False)
        offsets = [encoding.offsets for encoding in encodings]
        if maps:
            offsets = [repair.restore(row, maps.get(index)) for index, row in enumerate(offsets)]
        offsets = [
            cover_gaps(piece, [strip_leading_space(piece, span) for span in row])
            for piece, row in zip(pieces, offsets)
        ]
        return [encoding.ids for encoding in encodings], offsets

    def _encode_pieces_settling_ties(self, pieces, repaired, maps, backend, exact, with_offsets):
        """As `_backend_encode_pieces`; the pieces where unigram ties can occur get SentencePiece's segmentation."""
        exact.encode_special_tokens = backend.encode_special_tokens
        tied = [index for index, piece in enumerate(pieces) if may_tie(piece)]
        tied_set = set(tied)
        rest = [index for index in range(len(pieces)) if index not in tied_set]
        encodings = [None] * len(pieces)
        for indices, tokenizer in ((rest, backend), (tied, exact)):
            if indices:
                batch = tokenizer.encode_batch([repaired[index] for index in indices], add_special_tokens=False)
                for index, encoding in zip(indices, batch):
                    encodings[index] = encoding
        ids = [encoding.ids for encoding in encodings]
        if not with_offsets:
            return ids, None
        offsets = [encoding.offsets for encoding in encodings]
        if maps:
            offsets = [self._grapheme_repair.restore(row, maps.get(index)) for index, row in enumerate(offsets)]
        return ids, [
            cover_gaps(piece, [strip_leading_space(piece, span) for span in row])
            for piece, row in zip(pieces, offsets)
        ]

    def _tie_safe_backend(self, texts, split_special_tokens: bool | None = None) -> Tokenizer:
        """The backend to encode `texts` with: the Rust one, or (unigram models, a text where `may_tie` holds) a copy
        whose segmentation is SentencePiece's own.

        Rust's Unigram sums piece scores in float64, SentencePiece in float32; where two segmentations that are
        permutations of the same pieces (`"3"+"33"` and `"33"+"3"` inside `"333"`) tie, float32 rounding decides in
        SentencePiece and the two can differ. Such ties need a unit repeated three times or more, which `may_tie`
        detects; those texts are encoded by both engines first (cheap), and only when the ids differ does the call
        take the copy, which is several times slower. It is rebuilt when tokens are added.
        """
        if not self._settles_ties:
            return self._tokenizer
        tied = [text for text in texts if isinstance(text, str) and may_tie(text)]
        if not tied or self._rust_agrees_with_sentencepiece(tied, split_special_tokens):
            return self._tokenizer
        key = (self._tokenizer.get_vocab_size(with_added_tokens=True), len(self._tokenizer.get_added_tokens_decoder()))
        if self._exact_backend is None or self._exact_backend[0] != key:
            self._exact_backend = (key, exact_sentencepiece_tokenizer(self._tokenizer, self.vocab_file))
        return self._exact_backend[1]

    def _rust_agrees_with_sentencepiece(self, texts: list[str], split_special_tokens: bool | None = None) -> bool:
        """Whether the Rust backend gives SentencePiece's ids on each text (encoded alone, no special tokens)."""
        if self.sp_model is None or self.sp_model_kwargs.get("enable_sampling"):
            return False
        backend = self._tokenizer
        if backend.truncation is not None:
            backend.no_truncation()
        if backend.padding is not None:
            backend.no_padding()
        if split_special_tokens is None:
            split_special_tokens = self.split_special_tokens
        backend.encode_special_tokens = split_special_tokens
        repaired = self._grapheme_repair.repair_texts(texts)[0] if self._grapheme_repair is not None else texts
        rust = [encoding.ids for encoding in backend.encode_batch_fast(repaired, add_special_tokens=False)]
        return rust == self._sentencepiece_text_pieces(texts, split_special_tokens)

    def _encode_text_pieces(
        self,
        pieces: list[str],
        split_special_tokens: bool | None = None,
        offset_capture: dict | None = None,
        one_text: bool = False,
    ) -> list[list[int]]:
        """Word ids of each piece on its own (the backend primitive of `EntityEncodingMixin`), one Rust call.

        With `offset_capture` (a per-call dict, see `_encode_entities_with_offsets`) the ids are stand-ins that point
        to each token's id and character span, which are appended to `offset_capture["tokens"]`.
        """
        capture = offset_capture
        if capture is None and self.sp_model is not None:
            # No offsets wanted: SentencePiece itself (C++, faster than the Rust Unigram/BPE on these models, and
            # exact by construction), with MLukeTokenizer's own batching of the pieces.
            return self._sentencepiece_text_pieces(pieces, split_special_tokens, one_text)
        ids, offsets = self._backend_encode_pieces(pieces, split_special_tokens, with_offsets=capture is not None)
        if capture is None:
            return ids
        # Offsets run: hand the mixin stand-ins that point back to (id, absolute character span) of each token.
        stand_ins = []
        for piece_ids, piece_offsets, piece_start in zip(ids, offsets, capture["piece_starts"]):
            row = []
            for token_id, (start, end) in zip(piece_ids, piece_offsets):
                row.append(TOKEN_REF_BASE + len(capture["tokens"]))
                capture["tokens"].append((token_id, (start + piece_start, end + piece_start)))
            stand_ins.append(row)
        return stand_ins

    def _encode_entities_with_offsets(
        self, text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair, **kwargs
    ) -> BatchEncoding:
        """Run the entity path on stand-in ids that remember each token's span, then swap the real ids back in."""
        return_tensors = kwargs.pop("return_tensors", None)
        kwargs["return_offsets_mapping"] = False
        task = kwargs["task"]
        batched = isinstance(text, (list, tuple))
        texts = list(text) if batched else [text]
        pairs = (list(text_pair) if batched else [text_pair]) if text_pair is not None else [None] * len(texts)
        piece_starts = self._piece_starts(texts, pairs, entity_spans, entity_spans_pair, batched, task)
        capture = {"piece_starts": piece_starts, "tokens": []}
        encoded = EntityEncodingMixin._encode_plus(
            self, text, text_pair, entity_spans, entity_spans_pair, entities, entities_pair, offset_capture=capture,
            **kwargs,
        )  # fmt: skip
        tokens = capture["tokens"]
        markers = (self.entity_token_1_id, self.entity_token_2_id)

        def real_ids(row):
            return stand_in_ids_to_real_ids(row, tokens)

        def offsets_of(row):
            return stand_in_offsets(row, tokens, markers)

        rows = encoded["input_ids"] if batched else [encoded["input_ids"]]
        encoded["offset_mapping"] = [offsets_of(row) for row in rows] if batched else offsets_of(rows[0])
        encoded["input_ids"] = [real_ids(row) for row in rows] if batched else real_ids(rows[0])
        if "overflowing_tokens" in encoded:
            overflow = encoded["overflowing_tokens"]
            encoded["overflowing_tokens"] = [real_ids(row) for row in overflow] if batched else real_ids(overflow)
        return batch_encoding(dict(encoded), tensor_type=return_tensors, prepend_batch_axis=not batched)

    def _piece_starts(self, texts, pairs, entity_spans, entity_spans_pair, batched, task) -> list[int]:
        """Where each piece `_plan_example` cuts starts in its text, in the order the pieces reach the backend."""
        spans = entity_spans if batched else [entity_spans]
        spans_pair = entity_spans_pair if batched else [entity_spans_pair]
        starts = []
        for index, (first, second) in enumerate(zip(texts, pairs)):
            first_spans = spans[index] if spans is not None else None
            second_spans = spans_pair[index] if spans_pair is not None else None
            if (
                first_spans
                and isinstance(first_spans, tuple)
                and len(first_spans) == 2
                and isinstance(first_spans[0], list)
            ):
                first_spans, second_spans = first_spans
            sequences = [(first, first_spans)]
            if second is not None and task is None:
                sequences.append((second, second_spans))
            for sequence, sequence_spans in sequences:
                if sequence_spans is None or not isinstance(sequence, str):
                    starts.append(0)
                    continue
                pieces, _ = split_text_at_spans(sequence, sequence_spans)
                position = 0
                for piece in pieces:
                    starts.append(position)
                    position += len(piece)
        return starts

    # -- saving -------------------------------------------------------------------------------------------------------

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """Copy `sentencepiece.bpe.model` and write `entity_vocab.json` (as `MLukeTokenizer` does)."""
        if not os.path.isdir(save_directory):
            raise ValueError(f"save_directory={save_directory!r} must be an existing directory")
        if not (self.vocab_file and os.path.isfile(self.vocab_file)):
            raise ValueError(
                "cannot save sentencepiece.bpe.model: this MLukeTokenizerFast was loaded without it (vocab_file="
                f"{self.vocab_file!r}); load it from a folder that has the SentencePiece model"
            )
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        out_vocab_file = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["vocab_file"])
        if os.path.abspath(self.vocab_file) != os.path.abspath(out_vocab_file):
            copyfile(self.vocab_file, out_vocab_file)
        out_entity_file = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["entity_vocab_file"])
        save_entity_vocab(self.entity_vocab, out_entity_file)
        return out_vocab_file, out_entity_file

    def save_pretrained(self, save_directory, legacy_format=None, filename_prefix=None, push_to_hub=False, **kwargs):
        """Save the released file set of `MLukeTokenizer` (loadable by it and by transformers 4.x) plus tokenizer.json.

        tokenizer_config.json keeps naming `MLukeTokenizer`: AutoTokenizer gives this fast class for that name once
        `mluke_hf` is imported, and transformers 4.x falls back to its own slow class.
        """
        files = TokenizersBackend.save_pretrained(
            self, save_directory, legacy_format=legacy_format, filename_prefix=filename_prefix, push_to_hub=False,
            **kwargs,
        )  # fmt: skip
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        written = list(files) + list(self.save_vocabulary(str(save_directory), filename_prefix))
        added_path = os.path.join(save_directory, prefix + "added_tokens.json")
        added = {token: index for token, index in self.added_tokens_encoder.items() if index >= self.vocab_size}
        if added:
            with open(added_path, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(added, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
            written.append(added_path)
        written += self._write_released_config_files(str(save_directory), prefix)
        return tuple(dict.fromkeys(written))

    def _released_tokenizer_config(self, config: dict, save_directory: str, prefix: str) -> dict:
        """The released keys (`ReleasedFilesMixin`), no `tokenizer_file` key (the released tokenizer_config.json has
        none), and the fingerprint that ties tokenizer.json to the files saved with it."""
        config = super()._released_tokenizer_config(config, save_directory, prefix)
        config.pop("tokenizer_file", None)
        add_fingerprint(config, save_directory, prefix)
        return config

    # MLukeTokenizer's SentencePiece helpers read these maps per text piece; the backend's properties rebuild them
    # from Rust on every access, so they are cached here until the added vocabulary changes.
    @property
    def _added_tokens_encoder(self) -> dict[str, int]:
        return self._added_token_maps()[0]

    @property
    def _added_tokens_decoder(self) -> dict[int, AddedToken]:
        return self._added_token_maps()[1]

    def _added_token_maps(self) -> tuple[dict[str, int], dict[int, AddedToken]]:
        key = (self._tokenizer.get_vocab_size(with_added_tokens=True), self.__dict__.get("_added_tokens_version", 0))
        cached = self.__dict__.get("_added_maps_cache")
        if cached is None or cached[0] != key:
            # Rebuilt under a lock, then swapped in whole: readers see the old maps or the new ones, never a mix.
            with self.__dict__.setdefault("_added_maps_lock", threading.Lock()):
                cached = self.__dict__.get("_added_maps_cache")
                if cached is None or cached[0] != key:
                    decoder = dict(sorted(self._tokenizer.get_added_tokens_decoder().items()))
                    cached = (key, {token.content: index for index, token in decoder.items()}, decoder)
                    self.__dict__["_added_maps_cache"] = cached
        return cached[1], cached[2]

    @property
    def sp_model(self):
        """The SentencePiece processor of `vocab_file` (as `MLukeTokenizer.sp_model`), or None without the file."""
        return self._engine.processor if self._engine is not None else None

    def _sentencepiece_text_pieces(
        self, pieces: list[str], split_special_tokens: bool | None = None, one_text: bool = False
    ) -> list[list[int]]:
        """Word ids of each piece from the SentencePiece engine (`MLukeTokenizer`'s), on this class's added tokens:
        the route of every call that asks for no offsets."""
        if split_special_tokens is None:
            split_special_tokens = self.split_special_tokens
        return self._engine.encode_pieces(
            pieces, self._added_tokens_encoder, self._added_tokens_decoder, split_special_tokens, one_text
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        # SentencePiece processors and Rust normalisers are rebuilt from vocab_file.
        state.update(_engine=None, _exact_backend=None, _grapheme_repair=None)
        state.pop("_backend_lock", None)
        state.pop("_added_maps_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._backend_lock = threading.RLock()
        self._added_maps_lock = threading.Lock()
        self._engine = self._load_engine()
        if self._engine is not None:
            self._grapheme_repair = GraphemeRepair.from_model_file(self.vocab_file)

    def _load_engine(self) -> SentencePieceEngine | None:
        """The SentencePiece engine of `vocab_file` (as `MLukeTokenizer`'s), or None without the file."""
        if not (self.vocab_file and os.path.isfile(self.vocab_file)):
            return None
        return SentencePieceEngine.from_file(self.vocab_file, self.sp_model_kwargs)


__all__ = ["MLukeTokenizerFast"]

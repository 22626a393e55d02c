"""`MLukeTokenizer`: the SentencePiece tokenizer of mLUKE checkpoints, exact to transformers 4.57.6.

A thin public class: word ids come from `mluke_hf.text.sentencepiece_engine` (XLM-R's fairseq layout, see
`mluke_hf.text.layout`; normalisation is SentencePiece's own), entity handling (spans, per-call `task=`, truncation,
padding) from `mluke_hf.text.entity_encoding`, decoding from `mluke_hf.text.decoding`, the released file set on save
from `mluke_hf.text.released_files`; all are shared with `MLukeTokenizerFast`. This module adds the vocabulary and
the SentencePiece files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from shutil import copyfile
from typing import Any

import sentencepiece as spm
from transformers.tokenization_python import PreTrainedTokenizer
from transformers.tokenization_utils_base import AddedToken
from transformers.utils import logging

from .text.conversion_cache import checked_folder_files
from .text.decoding import DecodingMixin
from .text.entity_encoding import EntityEncodingMixin
from .text.entity_vocab import load_entity_vocab, save_entity_vocab
from .text.layout import (
    ENTITY_TOKEN_ARGUMENTS,
    FAIRSEQ_OFFSET,
    FAIRSEQ_SPECIAL_IDS,
    VOCAB_FILES_NAMES,
    mask_token_id,
)
from .text.released_files import ReleasedFilesMixin
from .text.sentencepiece_engine import SentencePieceEngine

logger = logging.get_logger(__name__)


def _as_added_token(token: Any) -> Any:
    """Special tokens may arrive as plain dicts (special_tokens_map.json): turn them into AddedToken."""
    if isinstance(token, Mapping):
        fields = {key: value for key, value in token.items() if key != "__type"}
        return AddedToken(**fields)
    return token


def special_token_arguments(
    kwargs: dict[str, Any], mask_token: Any, entity_token_1: Any, entity_token_2: Any, **entity_names: str
) -> tuple[dict[str, str], Any, Any, Any, list[Any], dict[str, Any]]:
    """Sort the special-token arguments of both mLUKE tokenizers; pops what it reads from `kwargs`.

    transformers 5's from_pretrained moves every unknown `*_token` entry of tokenizer_config.json into
    `model_specific_special_tokens`: the entity names are taken back from there so they never become word tokens.
    `<mask>` behaves like a word (it takes the space on its left); the entity markers strip nothing.
    Returns (entity names, mask token, marker 1, marker 2, extra special tokens, remaining model-specific tokens).
    """
    model_specific = dict(kwargs.pop("model_specific_special_tokens", None) or {})
    for key in ENTITY_TOKEN_ARGUMENTS:
        if key in model_specific:
            entity_names[key] = model_specific.pop(key)
    entity_names = {key: str(value) for key, value in entity_names.items()}
    if isinstance(mask_token, str):
        mask_token = AddedToken(mask_token, lstrip=True, rstrip=False)
    mask_token = _as_added_token(mask_token)
    markers = []
    for marker in (entity_token_1, entity_token_2):
        marker = _as_added_token(marker)
        markers.append(AddedToken(marker, lstrip=False, rstrip=False) if isinstance(marker, str) else marker)
    extra_tokens = kwargs.pop("extra_special_tokens", None)
    legacy_extra_tokens = kwargs.pop("additional_special_tokens", None)
    if extra_tokens is None:
        extra_tokens = legacy_extra_tokens
    if isinstance(extra_tokens, Mapping):
        model_specific.update(extra_tokens)
        extra_tokens = None
    extra_tokens = [_as_added_token(token) for token in (extra_tokens or [])]
    return entity_names, mask_token, markers[0], markers[1], extra_tokens, model_specific


class MLukeTokenizer(EntityEncodingMixin, DecodingMixin, ReleasedFilesMixin, PreTrainedTokenizer):
    """mLUKE tokenizer backed by `sentencepiece.bpe.model` and `entity_vocab.json`.

    Args:
        vocab_file: the SentencePiece model (`sentencepiece.bpe.model`).
        entity_vocab_file: `entity_vocab.json`, in the full or the lite released shape.
        task: None, `"entity_classification"`, `"entity_pair_classification"` or `"entity_span_classification"`;
            with a task set, `entity_ids` and the `<ent>`/`<ent2>` markers are built from `entity_spans` alone.
        max_entity_length: the most entities kept when truncating (forced to 1 / 2 by the classification tasks).
        max_mention_length: the length of each `entity_position_ids` row (longer mentions keep their first tokens).
        entity_token_1, entity_token_2: the word-level markers `<ent>` and `<ent2>`.
        entity_unk_token, entity_pad_token, entity_mask_token, entity_mask2_token: names of the special entities,
            looked up in the entity vocabulary by name.
        sp_model_kwargs: passed to `sentencepiece.SentencePieceProcessor`.

    Unknown entity names map to the `[UNK]` entity; spans given without names get `[MASK]`.
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "attention_mask"]

    @classmethod
    def _from_pretrained(cls, resolved_vocab_files, *args, **kwargs):
        # A folder's sp_model_kwargs never reach SentencePiece (see mluke_hf.text.conversion_cache).
        resolved_vocab_files, kwargs = checked_folder_files(resolved_vocab_files, kwargs)
        return super()._from_pretrained(resolved_vocab_files, *args, **kwargs)

    def __init__(
        self,
        vocab_file: str,
        entity_vocab_file: str,
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
        contents = {str(token) for token in extra_tokens}
        for marker in (entity_token_1, entity_token_2):
            if str(marker) not in contents:
                extra_tokens.append(marker)
                contents.add(str(marker))

        self.sp_model_kwargs = {} if sp_model_kwargs is None else sp_model_kwargs
        self.sp_model = spm.SentencePieceProcessor(**self.sp_model_kwargs)
        self.sp_model.Load(str(vocab_file))
        self._engine = SentencePieceEngine(self.sp_model, self.sp_model_kwargs)
        self.vocab_file = vocab_file
        self.entity_vocab_file = entity_vocab_file
        self.fairseq_tokens_to_ids = dict(FAIRSEQ_SPECIAL_IDS)
        self.fairseq_offset = FAIRSEQ_OFFSET
        self.fairseq_tokens_to_ids["<mask>"] = mask_token_id(len(self.sp_model))
        self.fairseq_ids_to_tokens = {index: token for token, index in self.fairseq_tokens_to_ids.items()}

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
        # Saved to tokenizer_config.json like the released files, but never handed to transformers as word tokens.
        self.init_kwargs.update(entity_names)
        # Complete: `type(tokenizer)(**tokenizer.init_kwargs)` rebuilds it (as train_new_from_iterator does).
        self.init_kwargs.update(vocab_file=vocab_file, entity_vocab_file=entity_vocab_file)
        # transformers 5 registers special tokens from their strings, losing `<mask>`'s lstrip; restore the
        # AddedToken objects (as 4.x kept them) so splitting and saving see the released settings.
        for token in (mask_token, entity_token_1, entity_token_2):
            if isinstance(token, AddedToken) and str(token) in self._added_tokens_encoder:
                restored = AddedToken(
                    token.content,
                    single_word=token.single_word,
                    lstrip=token.lstrip,
                    rstrip=token.rstrip,
                    normalized=token.normalized,
                    special=True,
                )
                self._added_tokens_decoder[self._added_tokens_encoder[str(token)]] = restored
        self.entity_token_1_id = self.convert_tokens_to_ids(str(entity_token_1))
        self.entity_token_2_id = self.convert_tokens_to_ids(str(entity_token_2))

    # -- vocabulary ---------------------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """SentencePiece pieces + fairseq's extra `<pad>`-slot + `<mask>` (`<ent>`/`<ent2>` are added tokens)."""
        return len(self.sp_model) + self.fairseq_offset + 1

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(FAIRSEQ_SPECIAL_IDS)
        count = len(self.sp_model)
        # Pieces 0-2 of SentencePiece (<unk>, <s>, </s>) sit under fairseq's own specials.
        pieces = self.sp_model.id_to_piece(list(range(3, count))) if count > 3 else []
        for offset, piece in enumerate(pieces):
            vocab[piece] = offset + 3 + self.fairseq_offset
        vocab["<mask>"] = count + self.fairseq_offset
        vocab.update(self._added_tokens_encoder)
        return vocab

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        return self.sp_model.encode(text, out_type=str)

    def _convert_token_to_id(self, token: str) -> int:
        if token in self.fairseq_tokens_to_ids:
            return self.fairseq_tokens_to_ids[token]
        piece_id = self.sp_model.PieceToId(token)
        # SentencePiece's own unknown id 0 becomes fairseq's <unk>.
        return piece_id + self.fairseq_offset if piece_id else self.unk_token_id

    def _convert_id_to_token(self, index: int) -> str:
        if index in self.fairseq_ids_to_tokens:
            return self.fairseq_ids_to_tokens[index]
        return self.sp_model.IdToPiece(index - self.fairseq_offset)

    # -- encoding text pieces (the backend primitive of EntityEncodingMixin) -----------------------------------------

    def _encode_text_pieces(
        self, pieces: list[str], split_special_tokens: bool | None = None, one_text: bool = False
    ) -> list[list[int]]:
        """Word ids of each piece on its own, from the SentencePiece engine (added tokens cut as `tokenize` does)."""
        if split_special_tokens is None:
            split_special_tokens = self.split_special_tokens
        return self._engine.encode_pieces(
            pieces, self._added_tokens_encoder, self._added_tokens_decoder, split_special_tokens, one_text
        )

    # -- special tokens -----------------------------------------------------------------------------------------------

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None):
        """`<s> A </s>` or `<s> A </s></s> B </s>`."""
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        if token_ids_1 is None:
            return cls + token_ids_0 + sep
        return cls + token_ids_0 + sep + sep + token_ids_1 + sep

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            special_ids = set(self.all_special_ids)
            ids = token_ids_0 + (token_ids_1 or [])
            return [1 if token in special_ids else 0 for token in ids]
        if token_ids_1 is None:
            return [1] + [0] * len(token_ids_0) + [1]
        return [1] + [0] * len(token_ids_0) + [1, 1] + [0] * len(token_ids_1) + [1]

    def create_token_type_ids_from_sequences(self, token_ids_0: list[int], token_ids_1: list[int] | None = None):
        """XLM-R has no token types: all zeros."""
        return [0] * len(self.build_inputs_with_special_tokens(token_ids_0, token_ids_1))

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 4 if pair else 2

    # -- saving -------------------------------------------------------------------------------------------------------

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, str]:
        if not os.path.isdir(save_directory):
            raise ValueError(f"save_directory={save_directory!r} must be an existing directory")
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        out_vocab_file = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["vocab_file"])
        vocab_file = str(self.vocab_file) if self.vocab_file else ""
        if os.path.isfile(vocab_file):
            if os.path.abspath(vocab_file) != os.path.abspath(out_vocab_file):
                copyfile(vocab_file, out_vocab_file)
        else:
            with open(out_vocab_file, "wb") as handle:
                handle.write(self.sp_model.serialized_model_proto())
        out_entity_file = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["entity_vocab_file"])
        save_entity_vocab(self.entity_vocab, out_entity_file)
        return out_vocab_file, out_entity_file

    def save_pretrained(self, save_directory, legacy_format=None, filename_prefix=None, push_to_hub=False, **kwargs):
        """Save the released file set, readable by this package and by transformers 4.x.

        Writes sentencepiece.bpe.model, entity_vocab.json (its own file, never inlined), added_tokens.json,
        special_tokens_map.json and a tokenizer_config.json naming `MLukeTokenizer` with the entity settings.
        """
        files = super().save_pretrained(
            save_directory, legacy_format=legacy_format, filename_prefix=filename_prefix, push_to_hub=False, **kwargs
        )
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        special_map_path = self._write_released_config_files(save_directory, prefix)[1]
        return tuple(files) + (special_map_path,)

    # -- pickling -----------------------------------------------------------------------------------------------------

    def __getstate__(self):
        state = self.__dict__.copy()
        state["sp_model"] = None
        state["_engine"] = None
        state["sp_model_proto"] = self.sp_model.serialized_model_proto()
        return state

    def __setstate__(self, state):
        self.__dict__ = state
        self.sp_model = spm.SentencePieceProcessor(**self.sp_model_kwargs)
        self.sp_model.LoadFromSerializedProto(self.sp_model_proto)
        self._engine = SentencePieceEngine(self.sp_model, self.sp_model_kwargs)


__all__ = ["MLukeTokenizer"]

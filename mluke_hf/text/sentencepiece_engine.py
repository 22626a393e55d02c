"""The SentencePiece text engine both mLUKE tokenizers compose: word ids of text pieces, exact to transformers 4.57.6.

`MLukeTokenizer` encodes everything with it; `MLukeTokenizerFast` encodes with it whenever no character offsets are
asked for (SentencePiece's C++ is exact by construction and faster than the Rust Unigram/BPE on these models), and
with its Rust backend when they are (offsets, `word_ids()`, `is_split_into_words`, overflow windows).

What it does, per piece of text, as the reference's `convert_tokens_to_ids(tokenize(piece))`:
- cuts the piece around added tokens (`<mask>`, `<ent>`, `<s>`, ...) with transformers' slow-tokenizer rules
  (longest match first, `lstrip` / `rstrip` / `single_word`), unless `split_special_tokens`;
- encodes the plain parts with SentencePiece in the fairseq id layout (see `mluke_hf.text.layout`): through a twin
  of the model renumbered to fairseq ids (`converter.fairseq_sentencepiece_processor`), so no id is shifted in
  Python, or by shifting SentencePiece's ids for models outside XLM-R's layout.

The engine holds no per-call state: its one cache (the compiled added-token pattern) is rebuilt whole from its key
and swapped in atomically, so threads may share it.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Mapping
from typing import Any

import sentencepiece as spm
from transformers.tokenization_utils_base import AddedToken

from .converter import fairseq_sentencepiece_processor, sentencepiece_processors
from .layout import FAIRSEQ_OFFSET, FAIRSEQ_UNK_ID


class SentencePieceEngine:
    """Word ids of text pieces from one SentencePiece model (see the module docstring).

    Args:
        processor: the loaded `SentencePieceProcessor` of `sentencepiece.bpe.model` (or a
            `converter.DeferredSentencePiece` that loads on first use).
        sp_model_kwargs: the keyword arguments it was built with (subword sampling turns off the sharing of
            identical pieces, so each gets its own draw).
        fairseq_processor: the fairseq-numbered twin when the caller already has it (None: outside XLM-R's
            layout); built from `processor` when not given.
    """

    def __init__(
        self, processor: spm.SentencePieceProcessor, sp_model_kwargs: Mapping[str, Any], fairseq_processor: Any = ...
    ) -> None:
        self.processor = processor
        self.sp_model_kwargs = dict(sp_model_kwargs)
        if fairseq_processor is ...:
            fairseq_processor = fairseq_sentencepiece_processor(processor, **self.sp_model_kwargs)
        self.fairseq_processor = fairseq_processor
        self._pattern: tuple[tuple[str, ...], re.Pattern | None] | None = None

    @classmethod
    def from_file(cls, path: str, sp_model_kwargs: Mapping[str, Any]) -> SentencePieceEngine:
        # One SentencePiece load: the twin comes from the file's bytes, the file's own processor on first use.
        processor, twin = sentencepiece_processors(path, dict(sp_model_kwargs))
        return cls(processor, sp_model_kwargs, fairseq_processor=twin)

    @classmethod
    def from_serialized_proto(cls, proto: bytes, sp_model_kwargs: Mapping[str, Any]) -> SentencePieceEngine:
        processor = spm.SentencePieceProcessor(**sp_model_kwargs)
        processor.LoadFromSerializedProto(proto)
        return cls(processor, sp_model_kwargs)

    # -- plain text ----------------------------------------------------------------------------------------------------

    def encode_plain_texts(self, texts: list[str], one_text: bool = False) -> list[list[int]]:
        """Word ids of texts without added tokens: each distinct text encoded once.

        Span splitting yields many repeated pieces (" the", " of"); identical ones share one list (callers copy).
        With subword sampling on (`sp_model_kwargs`), every text is encoded on its own draw.
        """
        if not texts:
            return []
        if self.sp_model_kwargs.get("enable_sampling"):
            return self.encode_word_ids(list(texts), one_text)
        distinct = list(dict.fromkeys(texts))
        encoded = dict(zip(distinct, self.encode_word_ids(distinct, one_text)))
        return [encoded[text] for text in texts]

    def encode_word_ids(self, texts: list[str], one_text: bool = False) -> list[list[int]]:
        """Word ids of each text, from the fairseq-numbered twin (or shifted SentencePiece ids).

        `one_text`: the pieces of a single-text call, encoded one by one: SentencePiece's batch API starts threads on
        every call, which costs a single text more than it saves and spawns threads in callers that never asked.
        """
        processor = self.fairseq_processor if self.fairseq_processor is not None else self.processor
        encoded = [processor.encode(text) for text in texts] if one_text else processor.encode(texts)
        if processor is self.fairseq_processor:
            return encoded
        return [[piece + FAIRSEQ_OFFSET if piece else FAIRSEQ_UNK_ID for piece in ids] for ids in encoded]

    # -- added tokens --------------------------------------------------------------------------------------------------

    def added_token_pattern(self, encoder: Mapping[str, int]) -> re.Pattern | None:
        """One regex finding every added token, longest first (as transformers' Trie); None without added tokens."""
        key = tuple(sorted(encoder, key=len, reverse=True))
        cached = self._pattern  # read once: another thread may swap in a newer pair meanwhile
        if cached is None or cached[0] != key:
            pattern = re.compile("(" + "|".join(map(re.escape, key)) + ")") if key else None
            # One atomic swap of an immutable pair computed from `key` alone: concurrent rebuilds store equal pairs.
            cached = (key, pattern)
            self._pattern = cached
        return cached[1]

    @staticmethod
    def split_on_added_tokens(
        texts: list[str], pattern: re.Pattern, encoder: Mapping[str, int], decoder: Mapping[int, Any]
    ) -> list[list[tuple[str, bool]]]:
        """Cut each text around added tokens like transformers' slow `tokenize` (with lstrip/rstrip/single_word):
        `(part, is_added_token)` per part."""
        tokens = {content: decoder.get(index) for content, index in encoder.items()}
        layouts = []
        for text in texts:
            # The regex (C) finds the leftmost-longest matches of `tokens_trie.split` (Python, per character).
            parts = [part for part in pattern.split(text) if part]
            for index, part in enumerate(parts):
                token = tokens.get(part)
                if not isinstance(token, AddedToken):
                    continue
                left = parts[index - 1] if index > 0 else None
                right = parts[index + 1] if index < len(parts) - 1 else None
                if token.rstrip and right:
                    parts[index + 1] = right.lstrip()
                if token.lstrip and left:
                    parts[index - 1] = left.rstrip()
                if token.single_word and left and left[-1] != " ":
                    parts[index - 1] += part
                    parts[index] = ""
                elif token.single_word and right and right[0] != " ":
                    parts[index + 1] = part + parts[index + 1]
                    parts[index] = ""
            layouts.append([(part, part in encoder) for part in parts if part])
        return layouts

    # -- pieces ----------------------------------------------------------------------------------------------------------

    def encode_pieces(
        self,
        pieces: list[str],
        encoder: Mapping[str, int],
        decoder: Mapping[int, Any],
        split_special_tokens: bool = False,
        one_text: bool = False,
    ) -> list[list[int]]:
        """Word ids of each piece on its own, with added tokens (`encoder` content -> id, `decoder` id -> AddedToken)
        matched unless `split_special_tokens`; all plain text goes through SentencePiece in one call."""
        pattern = None if split_special_tokens else self.added_token_pattern(encoder)
        if pattern is None:
            return self.encode_plain_texts(pieces, one_text)
        # One scan over all pieces (NUL-separated: no added token holds NUL) finds those holding an added token.
        joined = "\0".join(pieces)
        first_match = pattern.search(joined)
        if first_match is None:
            return self.encode_plain_texts(pieces, one_text)
        # Where each piece starts in `joined` (its length plus one separator per earlier piece; texts may hold NUL
        # themselves, so separators are not counted).
        piece_starts = list(map(operator.add, itertools.accumulate(map(len, pieces), initial=0), itertools.count()))
        special = sorted(
            {
                bisect.bisect_right(piece_starts, match.start()) - 1
                for match in pattern.finditer(joined, first_match.start())
            }
        )
        # Those pieces are cut around their added tokens, as `tokenize` does; their plain parts join the other pieces
        # in one SentencePiece call (the cut pieces themselves are not encoded).
        layouts = self.split_on_added_tokens([pieces[index] for index in special], pattern, encoder, decoder)
        to_encode = list(pieces)
        for index in special:
            to_encode[index] = ""
        to_encode += [part for layout in layouts for part, added in layout if not added]
        encoded = self.encode_plain_texts(to_encode, one_text)
        result, plain_ids = encoded[: len(pieces)], iter(encoded[len(pieces) :])
        for index, layout in zip(special, layouts):
            ids: list[int] = []
            for part, is_added in layout:
                if is_added:
                    ids.append(encoder[part])
                else:
                    ids.extend(next(plain_ids))
            result[index] = ids
        return result

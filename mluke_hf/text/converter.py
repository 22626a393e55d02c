"""Build a `tokenizers.Tokenizer` that reproduces an mLUKE SentencePiece model exactly, in the fairseq id layout.

`MLukeTokenizer` encodes with the `sentencepiece` library; `MLukeTokenizerFast` needs the same ids from the Rust
`tokenizers` library, plus character offsets. transformers' own XLM-R conversion is close but not exact, so this module
builds the pipeline from the model proto itself, one SentencePiece step at a time:

1. normaliser: the model's precompiled charsmap (nmt_nfkc for XLM-R), then SentencePiece's whitespace handling, which
   only ever looks at the ASCII space produced by the charsmap: leading and trailing spaces removed, runs collapsed to
   one, spaces escaped to `▁`, and the dummy `▁` prefix added to any non-empty text. (transformers strips and splits on
   *Unicode* whitespace, so characters such as U+1680 that the charsmap keeps come out differently there.) A literal
   `▁` in the input is an ordinary character to SentencePiece and stays one here.
2. pre-tokeniser: split before every `▁`. SentencePiece pieces never hold a `▁` past their first character, so the
   split changes no segmentation, and gives `word_ids()` SentencePiece's notion of a word.
3. model: Unigram with the piece scores (consecutive unknown characters fused into one `<unk>`, as SentencePiece does),
   or BPE with one merge per way of building each piece from two pieces, ranked by the score of the piece built
   (SentencePiece's BPE merges by piece score; unknown characters stay one `<unk>` each).
4. ids: fairseq layout `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, piece p -> p+1 (SentencePiece's `<unk>` -> 3), then
   `<mask>`, `<ent>`, `<ent2>`; `<mask>` strips the whitespace on its left. Post-processing `<s> A </s>` and
   `<s> A </s></s> B </s>`, token type ids all 0.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE, Unigram, WordLevel

from .layout import FAIRSEQ_SPECIALS, FAIRSEQ_UNK_ID, SPIECE_UNDERLINE

# SentencePiece piece types (sentencepiece_model.proto).
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED, _UNUSED, _BYTE = 1, 2, 3, 4, 5, 6
_UNIGRAM, _BPE = 1, 2


def load_sentencepiece_proto(model_path: str | os.PathLike):
    """Parse a SentencePiece model file into its protobuf (`sentencepiece_model_pb2.ModelProto`)."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(Path(model_path).read_bytes())
    return proto


def is_unigram_model(model_path: str | os.PathLike) -> bool:
    """Whether a SentencePiece model file is a unigram model (False for BPE)."""
    return load_sentencepiece_proto(model_path).trainer_spec.model_type == _UNIGRAM


def _check_supported(proto) -> None:
    trainer, spec = proto.trainer_spec, proto.normalizer_spec
    if trainer.model_type not in (_UNIGRAM, _BPE):
        raise ValueError(
            f"SentencePiece model_type {trainer.model_type} is not supported: mLUKE models are unigram (1) or BPE (2)"
        )
    if trainer.treat_whitespace_as_suffix:
        raise ValueError("SentencePiece models with treat_whitespace_as_suffix=True are not supported")
    if trainer.byte_fallback or any(piece.type == _BYTE for piece in proto.pieces):
        raise ValueError("SentencePiece models with byte_fallback are not supported (mLUKE's model has none)")
    if not spec.escape_whitespaces:
        raise ValueError("SentencePiece models with escape_whitespaces=False are not supported")
    if proto.pieces[0].type != _UNKNOWN:
        raise ValueError(
            "the fairseq id layout needs SentencePiece's <unk> at id 0 (as in XLM-R's sentencepiece.bpe.model); "
            f"this model has {proto.pieces[0].piece!r} there"
        )
    if len(proto.pieces) < 3 or any(piece.type != _CONTROL for piece in proto.pieces[1:3]):
        raise ValueError(
            "the fairseq id layout needs SentencePiece's <s> and </s> control pieces at ids 1 and 2 (as in XLM-R's "
            "sentencepiece.bpe.model; mluke_hf.building.train_sentencepiece trains models that way)"
        )


def build_normalizer(proto) -> normalizers.Normalizer:
    """SentencePiece's normaliser: charsmap, then whitespace removal/collapsing on ASCII spaces, escaping, dummy prefix."""
    spec = proto.normalizer_spec
    steps = []
    if spec.precompiled_charsmap:
        steps.append(normalizers.Precompiled(spec.precompiled_charsmap))
    if spec.remove_extra_whitespaces:
        # Only U+0020 counts: SentencePiece compares the charsmap's output with " ", so other Unicode spaces it keeps
        # (U+1680, ...) are ordinary characters. \A and \z, unlike ^ and $, never match around a newline.
        steps.append(normalizers.Replace(Regex(r"\A +| +\z"), ""))
        steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    steps.append(normalizers.Replace(" ", SPIECE_UNDERLINE))
    if spec.add_dummy_prefix:
        # Prepend leaves an empty text empty, as SentencePiece does (its trailing-space removal eats the prefix).
        steps.append(normalizers.Prepend(SPIECE_UNDERLINE))
    return normalizers.Sequence(steps)


def _fairseq_pieces(proto) -> list[tuple[str, float, int]]:
    """(piece, score, type) in fairseq id order: the four fairseq specials, then SentencePiece pieces from id 1 on.

    SentencePiece id p maps to p + 1, so its pieces 1 and 2 (`<s>`, `</s>` in XLM-R's model) land on fairseq ids 2 and
    3, which the specials own; they are control pieces, never produced from text. We keep the specials there.
    """
    pieces = [(token, 0.0, _CONTROL) for token in FAIRSEQ_SPECIALS]
    for piece in proto.pieces[3:]:
        pieces.append((piece.piece, piece.score, piece.type))
    return pieces


def fairseq_sentencepiece_processor(processor, **processor_kwargs):
    """A twin of the SentencePiece `processor` whose ids are already the fairseq ids (`<s>`=0, `<pad>`=1, `</s>`=2,
    `<unk>`=3, piece p -> p+1), so `encode` returns word ids with no per-id Python remapping. Same pieces, scores and
    normaliser as the model: same segmentation, only renumbered. `processor_kwargs` are the `SentencePieceProcessor`
    arguments (`sp_model_kwargs`, subword sampling included).

    None when the model does not start with `<unk>` and two control pieces (XLM-R's layout), where the p -> p+1
    rule of the mLUKE tokenizers would not be a renumbering.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    serialized = processor.serialized_model_proto()
    spliced = fairseq_renumbered_model_bytes(serialized)
    if spliced is not None:
        twin = spm.SentencePieceProcessor(**processor_kwargs)
        twin.LoadFromSerializedProto(spliced)
        return twin
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(serialized)
    if len(proto.pieces) < 3 or [piece.type for piece in proto.pieces[:3]] != [_UNKNOWN, _CONTROL, _CONTROL]:
        return None
    renumbered = type(proto)()
    renumbered.CopyFrom(proto)
    del renumbered.pieces[:]
    for token, (piece, _, kind) in zip(FAIRSEQ_SPECIALS, _fairseq_pieces(proto)):
        is_unk = token == FAIRSEQ_SPECIALS[FAIRSEQ_UNK_ID]
        renumbered.pieces.add(piece=piece, score=0.0, type=_UNKNOWN if is_unk else kind)
    renumbered.pieces.extend(proto.pieces[3:])
    trainer = renumbered.trainer_spec
    trainer.bos_id, trainer.pad_id, trainer.eos_id, trainer.unk_id = range(4)
    trainer.bos_piece, trainer.pad_piece, trainer.eos_piece, trainer.unk_piece = FAIRSEQ_SPECIALS
    twin = spm.SentencePieceProcessor(**processor_kwargs)
    twin.LoadFromSerializedProto(renumbered.SerializeToString())
    return twin


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    """(value, position after it) of the protobuf varint at `position`."""
    value, shift = 0, 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("truncated or oversized varint")
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        if byte < 0x80:
            return value, position
        shift += 7


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (tag, varint length, payload)."""
    header, length = [(field_number << 3) | 2], len(payload)
    while True:
        if length < 0x80:
            header.append(length)
            return bytes(header) + payload
        header.append((length & 0x7F) | 0x80)
        length >>= 7


def fairseq_renumbered_model_bytes(serialized: bytes) -> bytes | None:
    """The model of `fairseq_sentencepiece_processor`, made by splicing the serialized proto instead of rebuilding it
    in Python (250k pieces: a few milliseconds instead of more than a second).

    Protobuf concatenates repeated fields in the order met and merges a repeated singular message field into the
    first, so: the four fairseq specials, then the original bytes without their first three pieces, then a TrainerSpec
    holding only the renumbered special ids and names. None unless the serialized model starts with its pieces
    `<unk>`-type, control, control (what serializers write first; anything else takes the proto route).
    """
    from google.protobuf.message import DecodeError
    from sentencepiece import sentencepiece_model_pb2

    pieces_field, trainer_field = 1, 2
    piece_tag = (pieces_field << 3) | 2
    position = 0
    try:
        for expected in (_UNKNOWN, _CONTROL, _CONTROL):
            if position >= len(serialized) or serialized[position] != piece_tag:
                return None
            length, start = _read_varint(serialized, position + 1)
            piece = sentencepiece_model_pb2.ModelProto.SentencePiece()
            piece.ParseFromString(serialized[start : start + length])
            if piece.type != expected:
                return None
            position = start + length
    except (ValueError, RuntimeError, DecodeError):  # a malformed head: the proto route reports it
        return None
    head = []
    for index, token in enumerate(FAIRSEQ_SPECIALS):
        kind = _UNKNOWN if index == FAIRSEQ_UNK_ID else _CONTROL
        piece = sentencepiece_model_pb2.ModelProto.SentencePiece(piece=token, score=0.0, type=kind)
        head.append(_length_delimited(pieces_field, piece.SerializeToString()))
    trainer = sentencepiece_model_pb2.TrainerSpec(bos_id=0, pad_id=1, eos_id=2, unk_id=3)
    trainer.bos_piece, trainer.pad_piece, trainer.eos_piece, trainer.unk_piece = FAIRSEQ_SPECIALS
    return b"".join(head) + serialized[position:] + _length_delimited(trainer_field, trainer.SerializeToString())


def _bpe_merges(vocab: dict[str, int], scores: dict[str, float]) -> list[tuple[str, str]]:
    """Every pair (left, right) whose concatenation is a piece, ranked as SentencePiece merges: by that piece's score."""
    merges = []
    for piece, score in scores.items():
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                merges.append((-score, vocab[piece], cut, left, right))
    merges.sort()
    return [(left, right) for _, _, _, left, right in merges]


def build_model(proto, extra_tokens: Sequence[str]):
    """The Unigram or BPE model over the fairseq vocabulary, with `extra_tokens` (`<mask>`, ...) appended."""
    pieces = _fairseq_pieces(proto) + [(token, 0.0, _CONTROL) for token in extra_tokens]
    if proto.trainer_spec.model_type == _UNIGRAM:
        return Unigram([(piece, score) for piece, score, _ in pieces], unk_id=FAIRSEQ_UNK_ID, byte_fallback=False)
    vocab = {piece: index for index, (piece, _, _) in enumerate(pieces)}
    scores = {piece: score for piece, score, kind in pieces if kind in (_NORMAL, _USER_DEFINED)}
    return BPE(
        vocab=vocab,
        merges=_bpe_merges(vocab, scores),
        unk_token=FAIRSEQ_SPECIALS[FAIRSEQ_UNK_ID],
        fuse_unk=True,
        byte_fallback=False,
        dropout=None,
    )


def convert_sentencepiece(
    model_path: str | os.PathLike,
    mask_token: str = "<mask>",
    entity_tokens: Sequence[str] = ("<ent>", "<ent2>"),
) -> Tokenizer:
    """A `tokenizers.Tokenizer` giving the ids of mLUKE's SentencePiece tokenizer, with offsets.

    Ids: fairseq layout, then `mask_token` at `len(sp) + 1` and `entity_tokens` right after it. Special tokens are
    matched on the raw text (like MLukeTokenizer), `<mask>` also eating the whitespace on its left.
    """
    proto = load_sentencepiece_proto(model_path)
    _check_supported(proto)
    tokenizer = Tokenizer(build_model(proto, [mask_token, *entity_tokens]))
    tokenizer.normalizer = build_normalizer(proto)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=SPIECE_UNDERLINE, prepend_scheme="never", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement=SPIECE_UNDERLINE, prepend_scheme="always", split=True)
    # User-defined symbols are whole pieces SentencePiece never splits; they are matched on the normalised text.
    user_defined = [piece.piece for piece in proto.pieces if piece.type == _USER_DEFINED]
    if user_defined:
        tokenizer.add_tokens([AddedToken(piece, normalized=True, special=False) for piece in user_defined])
    specials = [AddedToken(token, normalized=False, special=True) for token in FAIRSEQ_SPECIALS]
    specials.append(AddedToken(mask_token, lstrip=True, normalized=False, special=True))
    specials += [AddedToken(token, normalized=False, special=True) for token in entity_tokens]
    tokenizer.add_special_tokens(specials)
    tokenizer.post_processor = build_post_processor(tokenizer)
    return tokenizer


def build_post_processor(tokenizer: Tokenizer, bos: str = "<s>", eos: str = "</s>") -> processors.PostProcessor:
    """`<s> A </s>` and `<s> A </s></s> B </s>`, every token type id 0 (RoBERTa style)."""
    return processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, tokenizer.token_to_id(bos)), (eos, tokenizer.token_to_id(eos))],
    )


# -- grapheme clusters: where tokenizers' Precompiled differs from SentencePiece ---------------------------------------

# Characters that can make a grapheme cluster longer than one character (Unicode Grapheme_Cluster_Break classes).
# A text without any of them is normalised by `normalizers.Precompiled` exactly as by SentencePiece.
_CLUSTER_EXTENDERS = None
_CLUSTER = None
# Control character both normalisers delete; as a grapheme of its own it stops clusters from forming around it.
_CLUSTER_BREAK = "\x01"


def _cluster_patterns():
    global _CLUSTER_EXTENDERS, _CLUSTER
    if _CLUSTER is None:
        import regex

        _CLUSTER_EXTENDERS = regex.compile(
            r"[\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=ZWJ}\p{GCB=Prepend}\p{GCB=V}\p{GCB=T}\p{GCB=L}"
            r"\p{GCB=Regional_Indicator}]"
        )
        _CLUSTER = regex.compile(r"\X")
    return _CLUSTER_EXTENDERS, _CLUSTER


class DeferredSentencePiece:
    """A `SentencePieceProcessor` loaded from `model_proto` (serialized model bytes) on first use, then delegated to:
    loading one for a 250k-piece model takes about half a second, and some processors a tokenizer keeps (the file's
    own beside its fairseq-numbered twin, the charsmap-only one of `GraphemeRepair`) are rarely or never used."""

    def __init__(self, model_proto: bytes, **processor_kwargs):
        self._model_proto = model_proto
        self._processor_kwargs = processor_kwargs
        self._processor = None
        self._lock = threading.Lock()

    def loaded(self):
        processor = self._processor
        if processor is None:
            with self._lock:
                if self._processor is None:
                    import sentencepiece as spm

                    loaded = spm.SentencePieceProcessor(**self._processor_kwargs)
                    loaded.LoadFromSerializedProto(self._model_proto)
                    self._processor = loaded
                processor = self._processor
        return processor

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.loaded(), name)

    def __len__(self) -> int:
        return len(self.loaded())

    def serialized_model_proto(self) -> bytes:
        return self._model_proto


def sentencepiece_processors(model_path: str | os.PathLike, processor_kwargs: dict | None = None):
    """(the model file's processor, its fairseq-numbered twin) as `fairseq_sentencepiece_processor` pairs them, with
    one load instead of two: the twin comes from the file's bytes, spliced, and the file's own processor is loaded
    only when first used (`DeferredSentencePiece`). Models outside XLM-R's layout load both at once as before."""
    import sentencepiece as spm

    processor_kwargs = dict(processor_kwargs or {})
    model_proto = Path(model_path).read_bytes()
    spliced = fairseq_renumbered_model_bytes(model_proto)
    if spliced is None:
        processor = spm.SentencePieceProcessor(**processor_kwargs)
        processor.LoadFromSerializedProto(model_proto)
        return processor, fairseq_sentencepiece_processor(processor, **processor_kwargs)
    twin = spm.SentencePieceProcessor(**processor_kwargs)
    twin.LoadFromSerializedProto(spliced)
    return DeferredSentencePiece(model_proto, **processor_kwargs), twin


class GraphemeRepair:
    """Make the Rust normaliser agree with SentencePiece on multi-character grapheme clusters.

    `normalizers.Precompiled` looks the charsmap up once per grapheme cluster and, when only a prefix of the cluster
    has a rule, replaces the WHOLE cluster with that prefix's mapping: `"ｶﾞ"` (half-width ka + voiced mark) becomes
    `"カ"`, `"Ｃ\u0308"` becomes `"C"`, dropping the marks that SentencePiece keeps (it maps the longest matching
    prefix and carries on after it). For each such cluster in an input text, this class writes SentencePiece's own
    normalisation of it, one character per grapheme (separated by a control character both normalisers delete), so the
    Rust pipeline then yields SentencePiece's ids; `restore` maps offsets back to the original text (every token
    from a rewritten cluster spans the whole cluster).
    """

    def __init__(self, processor, rust_normalizer: normalizers.Normalizer):
        self._processor = processor
        self._rust = rust_normalizer
        self._cache: dict[str, str | None] = {}

    @classmethod
    def from_model_file(cls, model_path: str | os.PathLike) -> GraphemeRepair | None:
        """None when the model has no charsmap (nothing to repair)."""
        proto = load_sentencepiece_proto(model_path)
        charsmap = proto.normalizer_spec.precompiled_charsmap
        if not charsmap:
            return None
        # A processor that applies the charsmap only: no dummy prefix, no whitespace handling.
        proto.normalizer_spec.add_dummy_prefix = False
        proto.normalizer_spec.remove_extra_whitespaces = False
        proto.normalizer_spec.escape_whitespaces = False
        return cls(DeferredSentencePiece(proto.SerializeToString()), normalizers.Precompiled(charsmap))

    def normalize(self, text: str) -> str:
        """SentencePiece's charsmap normalisation of `text` (no whitespace handling, no dummy prefix)."""
        return self._processor.normalize(text)

    def _replacement(self, cluster: str) -> str | None:
        if cluster in self._cache:
            return self._cache[cluster]
        expected = self._processor.normalize(cluster)
        replacement = None
        if self._rust.normalize_str(cluster) != expected:
            extenders, _ = _cluster_patterns()
            # The leading break keeps a mark from joining the cluster before it; it is left out when not needed
            # because tokenizers misaligns offsets after a deleted character at the very start of a text.
            lead = _CLUSTER_BREAK if expected and (extenders.match(expected[0]) or _is_hangul(expected[0])) else ""
            replacement = lead + _CLUSTER_BREAK.join(expected) + _CLUSTER_BREAK
            if self._rust.normalize_str(replacement) != expected:
                replacement = None  # cannot be expressed; left as the Rust normaliser has it
        if len(self._cache) < 65536:
            self._cache[cluster] = replacement
        return replacement

    def repair(self, text: str) -> tuple[str, list[tuple[int, int, int, int]] | None]:
        """The text to feed the Rust pipeline and the rewritten regions `(new_start, new_end, start, end)`."""
        extenders, clusters = _cluster_patterns()
        if not extenders.search(text):
            return text, None
        # Both normalisations of the whole text agreeing is the common case (Thai, Devanagari, emoji, ...: clusters
        # without a charsmap rule), and then the Rust pipeline already sees SentencePiece's text: two C calls
        # instead of a Python pass over every cluster.
        if self._rust.normalize_str(text) == self._processor.normalize(text):
            return text, None
        parts, regions, cursor, shift = [], [], 0, 0
        for match in clusters.finditer(text):
            cluster = match.group()
            if len(cluster) < 2:
                continue
            replacement = self._replacement(cluster)
            if replacement is None:
                continue
            start, end = match.span()
            parts.append(text[cursor:start])
            parts.append(replacement)
            regions.append((start + shift, start + shift + len(replacement), start, end))
            shift += len(replacement) - (end - start)
            cursor = end
        if not regions:
            return text, None
        parts.append(text[cursor:])
        return "".join(parts), regions

    def repair_texts(self, texts: Sequence[str]) -> tuple[list[str], dict[int, list]]:
        """`repair` over a list; the regions of each rewritten text by its index."""
        repaired, regions_by_index = [], {}
        for index, text in enumerate(texts):
            new_text, regions = self.repair(text)
            repaired.append(new_text)
            if regions:
                regions_by_index[index] = regions
        return repaired, regions_by_index

    @staticmethod
    def restore(offsets: Sequence[tuple[int, int]], regions) -> list[tuple[int, int]]:
        """Map `(start, end)` offsets into a repaired text back to the original text.

        A token made from a rewritten cluster spans the whole cluster; the break characters around a rewritten
        cluster belong to no token.
        """
        if not regions:
            return list(offsets)

        def outside(position: int) -> int:
            shift = 0
            for new_start, new_end, start, end in regions:
                if new_start >= position:
                    break
                shift = new_end - end
            return position - shift

        restored = []
        for token_start, token_end in offsets:
            start, end = outside(token_start), outside(token_end)
            for new_start, new_end, cluster_start, cluster_end in regions:
                if (
                    token_end < new_start
                    or token_start >= new_end
                    or (token_end == new_start and token_start < new_end)
                ):
                    continue
                if token_start >= new_start:
                    # Starting on the trailing break means the token begins after the cluster.
                    reaches_past = token_end > new_end
                    start = cluster_end if (reaches_past and token_start == new_end - 1) else cluster_start
                if token_end <= new_end:
                    end = cluster_end
                    if token_start < new_start and token_end == new_start + 1:
                        end = cluster_start
            restored.append((start, max(start, end)))
        return restored


def _is_hangul(character: str) -> bool:
    return "\uac00" <= character <= "\ud7a3"


# -- ties in unigram scores: SentencePiece's own segmentation, word by word ----------------------------------------------

# A run of one unit repeated three times or more ("333", "ーーー", "abababab"): the only place where two segmentations
# that are permutations of the same pieces ("3"+"33" vs "33"+"3") tie on score.
_REPEATED_UNIT = re.compile(r"(.{1,8}?)\1\1", re.DOTALL)


def may_tie(text: str) -> bool:
    """Whether a text holds a run where unigram segmentations can tie (see `exact_sentencepiece_tokenizer`)."""
    return _REPEATED_UNIT.search(text) is not None


class _SentencePieceSplitter:
    """Custom pre-tokenizer: cut each (already normalised) word where SentencePiece itself cuts the whole text.

    SentencePiece segments a text (each stretch between added tokens) in one Viterbi pass whose float32 score sums
    depend on everything before a word, so words are cut as part of their stretch, not on their own: the first pass
    collects the words, the second cuts each one at the piece boundaries of its stretch.
    """

    def __init__(self, processor):
        self._processor = processor

    def _boundaries(self, pretok) -> list[list[int]]:
        """For each word (split without a token) in order, the cut positions inside it."""
        cuts: list[list[int]] = []
        stretch: list[str] = []

        def flush():
            if not stretch:
                return
            boundaries, position = set(), 0
            for piece in self._processor.encode("".join(stretch), out_type=str):
                position += len(piece)
                boundaries.add(position)
            start = 0
            for word in stretch:
                cuts.append(sorted(cut - start for cut in boundaries if start < cut < start + len(word)))
                start += len(word)
            stretch.clear()

        for word, _, tokens in pretok.get_splits(offset_referential="normalized", offset_type="char"):
            if tokens:
                flush()
            else:
                stretch.append(word)
        flush()
        return cuts

    def pre_tokenize(self, pretok) -> None:
        remaining = iter(self._boundaries(pretok))

        def cut(index, normalized):
            pieces, previous = [], 0
            for position in [*next(remaining), len(str(normalized))]:
                pieces.append(normalized[previous:position])
                previous = position
            return pieces

        pretok.split(cut)


def exact_sentencepiece_tokenizer(tokenizer: Tokenizer, model_path: str | os.PathLike) -> Tokenizer:
    """A copy of `tokenizer` whose segmentation is done by the `sentencepiece` library itself.

    The Rust Unigram runs the same search as SentencePiece but adds scores in float64 where SentencePiece uses
    float32; on ties between permutations of the same pieces (`"3"+"33"` vs `"33"+"3"`) float32 rounding decides in
    SentencePiece, so the two can pick different segmentations. This copy keeps normaliser, added tokens and
    post-processor, and cuts the normalised text with SentencePiece (normalisation switched off, the text is already
    normalised), then looks the pieces up (WordLevel); each piece is a word of its own for `word_ids()`. Several times
    slower than the Rust model: `MLukeTokenizerFast` uses it only for texts where `may_tie` holds. Holds a Python
    pre-tokenizer: never saved.
    """
    import sentencepiece as spm

    proto = load_sentencepiece_proto(model_path)
    spec = proto.normalizer_spec
    spec.name = "identity"
    spec.precompiled_charsmap = b""
    spec.add_dummy_prefix = False
    spec.remove_extra_whitespaces = False
    spec.escape_whitespaces = False
    processor = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
    exact = Tokenizer.from_str(tokenizer.to_str())
    exact.model = WordLevel(tokenizer.get_vocab(with_added_tokens=False), unk_token=FAIRSEQ_SPECIALS[FAIRSEQ_UNK_ID])
    exact.pre_tokenizer = pre_tokenizers.Sequence(
        [tokenizer.pre_tokenizer, pre_tokenizers.PreTokenizer.custom(_SentencePieceSplitter(processor))]
    )
    return exact

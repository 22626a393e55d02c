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
from collections.abc import Sequence
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE, Unigram

SPACE_SYMBOL = "▁"
FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
FAIRSEQ_UNK_ID = 3
# SentencePiece piece types (sentencepiece_model.proto).
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED, _UNUSED, _BYTE = 1, 2, 3, 4, 5, 6
_UNIGRAM, _BPE = 1, 2


def load_sentencepiece_proto(model_path: str | os.PathLike):
    """Parse a SentencePiece model file into its protobuf (`sentencepiece_model_pb2.ModelProto`)."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(Path(model_path).read_bytes())
    return proto


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
    steps.append(normalizers.Replace(" ", SPACE_SYMBOL))
    if spec.add_dummy_prefix:
        # Prepend leaves an empty text empty, as SentencePiece does (its trailing-space removal eats the prefix).
        steps.append(normalizers.Prepend(SPACE_SYMBOL))
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
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE_SYMBOL, prepend_scheme="never", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=SPACE_SYMBOL, prepend_scheme="always", split=True)
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

"""convert_sentencepiece: a `tokenizers.Tokenizer` giving SentencePiece's pieces in the fairseq id layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mluke_hf.text.converter import (
    GraphemeRepair,
    convert_sentencepiece,
    exact_sentencepiece_tokenizer,
    fairseq_sentencepiece_processor,
    load_sentencepiece_proto,
    may_tie,
)

from fixtures_tokenizer import TOKENIZER_DATA
from shared_data import shared_path

COMMITTED = {kind: TOKENIZER_DATA / f"sentencepiece_{kind}.model" for kind in ("unigram", "bpe")}
CORPUS = Path(__file__).resolve().parents[1] / "mluke_hf" / "data" / "corpus.txt"
EXTRA_TEXTS = [
    "",
    "   ",
    "\tTabs\tand  double  spaces\n\nnew lines ",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３ ﬁﬂ ㈱ ①",
    "emoji 🙂👍🏽🇯🇵 and ZWJ 👨\u200d👩\u200d👧",
    "東京タワーは港区にある電波塔で、高さは333メートルです。",
    "▁literal▁marks ▁",
    "Ogham\u1680space and\u00a0nbsp\u3000ideographic",
    "<mask> <ent> <s> not special in SentencePiece",
]


def _processor(model_path):
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(model_path))


def _fairseq_ids(processor, text: str) -> list[int]:
    """SentencePiece ids shifted by one, SentencePiece's <unk> (0) mapped to fairseq's <unk> (3)."""
    return [piece + 1 if piece else 3 for piece in processor.encode(text)]


def _lines() -> list[str]:
    return [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def converted():
    """kind -> (SentencePiece processor, Rust tokenizer, its SentencePiece-segmented copy, grapheme repair)."""
    built = {}
    for kind, path in COMMITTED.items():
        tokenizer = convert_sentencepiece(path)
        built[kind] = (
            _processor(path),
            tokenizer,
            exact_sentencepiece_tokenizer(tokenizer, path),
            GraphemeRepair.from_model_file(path),
        )
    return built


def _encode(entry, text: str) -> list[int]:
    """Rust ids as MLukeTokenizerFast computes them: repair clusters, SentencePiece's own cut where ties can occur."""
    _, tokenizer, exact, repair = entry
    repaired, _ = repair.repair(text)
    backend = exact if may_tie(text) else tokenizer
    return backend.encode(repaired, add_special_tokens=False).ids


@pytest.mark.parametrize("kind", ["unigram", "bpe"])
def test_corpus_ids_equal_sentencepiece(kind, converted):
    processor, tokenizer, _, _ = converted[kind]
    lines = _lines() + EXTRA_TEXTS[:-1]
    ids = [encoding.ids for encoding in tokenizer.encode_batch(lines, add_special_tokens=False)]
    assert ids == [_fairseq_ids(processor, line) for line in lines]


@pytest.mark.parametrize("kind", ["unigram", "bpe"])
def test_pieces_equal_sentencepiece(kind, converted):
    processor, tokenizer, _, _ = converted[kind]
    for line in _lines()[:10]:
        pieces = processor.encode(line, out_type=str)
        assert tokenizer.encode(line, add_special_tokens=False).tokens == pieces


def test_fairseq_layout_and_specials(converted):
    processor, tokenizer, _, _ = converted["unigram"]
    size = processor.get_piece_size()
    assert [tokenizer.token_to_id(token) for token in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    assert tokenizer.token_to_id(processor.id_to_piece(5)) == 6  # piece p -> p + 1
    assert [tokenizer.token_to_id(token) for token in ("<mask>", "<ent>", "<ent2>")] == [size + 1, size + 2, size + 3]
    assert tokenizer.get_vocab_size(with_added_tokens=True) == size + 4
    encoding = tokenizer.encode("Tokyo", "Japan")
    assert encoding.ids[0] == 0 and encoding.ids.count(2) == 3 and set(encoding.type_ids) == {0}
    body = tokenizer.encode("Tokyo", add_special_tokens=False).ids
    assert tokenizer.encode("Tokyo").ids == [0, *body, 2]
    # Special tokens are matched on the raw text; <mask> takes the space on its left.
    ids = tokenizer.encode("Paris is the <mask> of France", add_special_tokens=False).ids
    mask_position = ids.index(size + 1)
    assert ids[:mask_position] == tokenizer.encode("Paris is the", add_special_tokens=False).ids


def test_decode_round_trips_plain_text(converted):
    _, tokenizer, _, _ = converted["unigram"]
    for line in _lines()[:5]:
        ids = tokenizer.encode(line).ids
        assert tokenizer.decode(ids, skip_special_tokens=True) == " ".join(line.split())


def test_transformers_test_model_ids_equal_sentencepiece():
    shared_model = shared_path("fixtures", "test_sentencepiece.model")
    processor = _processor(shared_model)
    tokenizer = convert_sentencepiece(shared_model)
    repair = GraphemeRepair.from_model_file(shared_model)
    for text in _lines() + EXTRA_TEXTS[:-1]:
        repaired, _ = repair.repair(text)
        assert tokenizer.encode(repaired, add_special_tokens=False).ids == _fairseq_ids(processor, text), text


@pytest.mark.parametrize("model_name", [*COMMITTED, "transformers_test_model"])
def test_fairseq_processor_is_sentencepiece_renumbered(model_name):
    """The fairseq-numbered twin segments as the model does: its rows are `[<s>] + fairseq ids + [</s>]`."""
    if model_name in COMMITTED:
        model_path = COMMITTED[model_name]
    else:
        model_path = shared_path("fixtures", "test_sentencepiece.model")
    processor = _processor(model_path)
    renumbered = fairseq_sentencepiece_processor(processor)
    texts = _lines() + EXTRA_TEXTS
    assert renumbered.encode(texts, add_bos=True, add_eos=True) == [
        [0, *_fairseq_ids(processor, text), 2] for text in texts
    ]
    assert renumbered.encode(texts) == [_fairseq_ids(processor, text) for text in texts]
    assert [renumbered.id_to_piece(index) for index in range(4)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert renumbered.get_piece_size() == processor.get_piece_size() + 1


@pytest.mark.parametrize("piece", [1, 2])
def test_fairseq_processor_is_none_outside_the_xlmr_layout(piece):
    """A normal piece where XLM-R has `<s>` or `</s>`: p -> p+1 is not a renumbering there."""
    import sentencepiece as spm

    proto = load_sentencepiece_proto(COMMITTED["unigram"])
    proto.pieces[piece].type = 1  # NORMAL
    processor = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
    assert fairseq_sentencepiece_processor(processor) is None


def test_fairseq_processor_keeps_sampling_arguments():
    processor = _processor(COMMITTED["unigram"])
    sampling = fairseq_sentencepiece_processor(processor, enable_sampling=True, alpha=0.5, nbest_size=-1)
    text = " ".join(_lines()[:3])
    draws = {tuple(sampling.encode(text)) for _ in range(20)}
    assert len(draws) > 1  # subword sampling is on
    assert all(set(draw) <= set(range(processor.get_piece_size() + 1)) for draw in draws)


ALPHABET = list("abcT .,'3") + [
    "\t", "\n", "  ", "\u3000", "\u1680", "Ａ", "ｂ", "ﬁ", "Ⅻ", "ｶ", "ﾞ", "\u0301", "\u0308", "\u200d", "é",
    "東", "京", "ー", "한", "ก", "\u0e31", "🙂", "👍🏽", "🇯🇵", "▁", "…", "333", "...",
]  # fmt: skip


@pytest.mark.parametrize("kind", ["unigram", "bpe"])
@settings(max_examples=80, derandomize=True, deadline=None)
@given(text=st.lists(st.sampled_from(ALPHABET), max_size=24).map("".join))
def test_random_unicode_ids_equal_sentencepiece(kind, text, converted):
    assert _encode(converted[kind], text) == _fairseq_ids(converted[kind][0], text)


@pytest.mark.parametrize("kind", ["unigram", "bpe"])
@settings(max_examples=80, derandomize=True, deadline=None)
@given(text=st.lists(st.sampled_from(ALPHABET), max_size=24).map("".join))
def test_random_unicode_fairseq_processor_equals_remapped_ids(kind, text, converted):
    renumbered = fairseq_sentencepiece_processor(converted[kind][0])
    assert renumbered.encode(text) == _fairseq_ids(converted[kind][0], text)


def test_rust_normaliser_differs_on_clusters_and_repair_fixes_it(converted):
    """Why GraphemeRepair exists: tokenizers' Precompiled drops the voiced mark of half-width ｶﾞ; SentencePiece
    keeps it."""
    processor, tokenizer, _, repair = converted["unigram"]
    text = "ｶﾞ"
    assert tokenizer.normalizer.normalize_str(text) != "▁" + processor.normalize(text).lstrip("▁")
    repaired, regions = repair.repair(text)
    assert regions and tokenizer.encode(repaired, add_special_tokens=False).ids == _fairseq_ids(processor, text)
    offsets = tokenizer.encode(repaired, add_special_tokens=False).offsets
    assert GraphemeRepair.restore(offsets, regions)[-1] == (0, 2)


def test_repair_leaves_texts_whose_normalisations_agree(converted):
    """Clusters without a charsmap rule (Thai, Devanagari, emoji, composed accents) need no rewrite; a text that also
    holds one that does is still rewritten, and its ids are SentencePiece's."""
    processor, tokenizer, _, repair = converted["unigram"]
    for text in ("ภาษาไทย", "हिन्दी", "👍🏽 e\u0301", "한국어"):
        assert repair.repair(text) == (text, None), text
    text = "ภาษาไทย ｶﾞ"
    repaired, regions = repair.repair(text)
    assert regions and repaired != text
    assert tokenizer.encode(repaired, add_special_tokens=False).ids == _fairseq_ids(processor, text)


def test_unigram_tie_settled_by_sentencepiece(converted):
    processor, tokenizer, exact, _ = converted["unigram"]
    text = "高さは333メートル"
    assert may_tie(text) and not may_tie("Tokyo is big")
    assert tokenizer.encode(text, add_special_tokens=False).ids != _fairseq_ids(processor, text)
    assert exact.encode(text, add_special_tokens=False).ids == _fairseq_ids(processor, text)
    # The cut depends on what comes before the run (float32 sums over the whole text), not on the word alone.
    for prefix in ("", "ﾞ ", "a b c ", "<mask> "):
        assert (
            exact.encode(prefix + "333", add_special_tokens=False).ids[-3:]
            == _fairseq_ids(processor, prefix.replace("<mask>", "") + "333")[-3:]
        )


def test_serialises_and_reloads(converted, tmp_path):
    from tokenizers import Tokenizer

    _, tokenizer, _, _ = converted["bpe"]
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    reloaded = Tokenizer.from_file(str(path))
    lines = _lines()
    assert [e.ids for e in reloaded.encode_batch(lines)] == [e.ids for e in tokenizer.encode_batch(lines)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda proto: setattr(proto.trainer_spec, "byte_fallback", True), "byte_fallback"),
        (lambda proto: setattr(proto.trainer_spec, "model_type", 3), "model_type"),
        (lambda proto: setattr(proto.trainer_spec, "treat_whitespace_as_suffix", True), "treat_whitespace_as_suffix"),
        (lambda proto: setattr(proto.normalizer_spec, "escape_whitespaces", False), "escape_whitespaces"),
        (lambda proto: setattr(proto.pieces[0], "type", 1), "<unk>"),
    ],
)
def test_unsupported_models_raise_clear_errors(change, message, tmp_path):
    proto = load_sentencepiece_proto(COMMITTED["unigram"])
    change(proto)
    path = tmp_path / "changed.model"
    path.write_bytes(proto.SerializeToString())
    with pytest.raises(ValueError, match=message):
        convert_sentencepiece(path)

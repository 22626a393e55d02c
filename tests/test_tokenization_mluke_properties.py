"""Property tests of MLukeTokenizer on random text and random character spans (hypothesis, derandomized).

Text mixes scripts, combining marks, emoji (with modifiers and ZWJ), full-width forms, ligatures, control characters,
runs of spaces/tabs/newlines and literal added tokens (`<mask>`, `<s>`, `<ent>`). The properties:

- valid spans never fail, and every entity position points inside the encoded sequence (within the first text);
- any pair of ints as a span either encodes or raises the documented ValueError;
- the batched SentencePiece path equals transformers' generic `tokenize` + `convert_tokens_to_ids` on every piece;
- a batch equals its examples encoded one by one; `pad()` of single encodings equals the padded batch, and stripping
  the padding gives the single encodings back (left and right).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mluke_hf.text.mentions import split_text_at_spans

PROPERTY_SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FRAGMENTS = [
    " ",
    "  ",
    "   ",
    "\t",
    "\t\t",
    "\n",
    " \u3000 ",
    "\u00a0",
    "Tokyo",
    "Paris",
    "the",
    "of",
    "ISO 639-3",
    "(Afghanistan)",
    "3.14",
    "42",
    "東京タワー",
    "日本語の文章です",
    "北京",
    "한국어",
    "Москва",
    "القاهرة",
    "हिन्दी",
    "ภาษาไทย",
    "Ελληνικά",
    "עברית",
    "e\u0301",
    "n\u0303",
    "a\u0308\u0304",
    "\u0915\u094d\u0937",
    "😀",
    "👍🏽",
    "👩\u200d💻",
    "🇯🇵",
    "Ｔｏｋｙｏ",
    "１２３",
    "ﬁ",
    "ﬂ",
    "Ⅻ",
    "㍻",
    "<mask>",
    "<s>",
    "</s>",
    "<ent>",
    "<unk>",
    "<pad>",
    "\x00",
    "\x07",
    "\u200b",
    "\ufeff",
]

texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(min_size=1, max_size=6)), min_size=0, max_size=14).map(
    "".join
)
nonempty_texts = texts.filter(lambda text: len(text) > 0)


@st.composite
def text_with_spans(draw, min_spans: int = 0, max_spans: int = 8):
    text = draw(nonempty_texts)
    span = st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text))).filter(lambda pair: pair[0] < pair[1])
    spans = draw(st.lists(span, min_size=min_spans, max_size=max_spans))
    return text, spans


@pytest.fixture(scope="module")
def task_tokenizers(tokenizer_folders):
    """Tokenizers for each task mode (unigram model, full vocabulary) plus BPE/lite for the plain mode."""
    from mluke_hf import MLukeTokenizer

    folder = tokenizer_folders["unigram-full-base"]
    return {
        None: MLukeTokenizer.from_pretrained(folder),
        "bpe-lite": MLukeTokenizer.from_pretrained(tokenizer_folders["bpe-lite-base"]),
        "entity_classification": MLukeTokenizer.from_pretrained(folder, task="entity_classification"),
        "entity_pair_classification": MLukeTokenizer.from_pretrained(folder, task="entity_pair_classification"),
        "entity_span_classification": MLukeTokenizer.from_pretrained(
            folder, task="entity_span_classification", max_entity_length=8
        ),
    }


def _generic_ids(tokenizer, text: str) -> list[int]:
    """transformers' own slow path: Trie split on added tokens, `_tokenize` per part, token -> id."""
    return tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))


def _assert_positions_inside(encoding, first_text_end: int, mention_length: int) -> None:
    """Every non -1 position lies inside the first text (after `<s>`, before its `</s>`), rows are runs + -1s."""
    for row in encoding["entity_position_ids"]:
        assert len(row) == mention_length
        real = [position for position in row if position != -1]
        assert row == real + [-1] * (mention_length - len(real)), row
        assert real == list(range(real[0], real[0] + len(real))) if real else True
        assert all(1 <= position < first_text_end for position in real), (row, first_text_end)


# -- no crash, positions inside -----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(case=text_with_spans(), names=st.lists(st.sampled_from(["en:Japan", "ja:日本", "en:Nowhere", "[MASK]"])))
def test_valid_spans_encode_and_point_inside(task_tokenizers, case, names):
    tokenizer = task_tokenizers[None]
    text, spans = case
    entities = [names[i % len(names)] for i in range(len(spans))] if names else None
    encoding = tokenizer(text, entity_spans=spans, entities=entities)
    ids = encoding["input_ids"]
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert len(encoding["entity_ids"]) == len(spans)
    _assert_positions_inside(encoding, len(ids) - 1, tokenizer.max_mention_length)
    if entities is not None:
        expected = [tokenizer.entity_vocab.get(name, tokenizer.entity_unk_token_id) for name in entities]
        assert encoding["entity_ids"] == expected


@PROPERTY_SETTINGS
@given(case=text_with_spans(min_spans=1, max_spans=12))
def test_span_classification_positions(task_tokenizers, case):
    tokenizer = task_tokenizers["entity_span_classification"]
    text, spans = case
    encoding = tokenizer(text, entity_spans=spans, truncation=True)
    kept = min(len(spans), tokenizer.max_entity_length)
    assert encoding["entity_ids"] == [tokenizer.entity_mask_token_id] * kept
    _assert_positions_inside(encoding, len(encoding["input_ids"]) - 1, tokenizer.max_mention_length)
    starts, ends = encoding["entity_start_positions"], encoding["entity_end_positions"]
    assert len(starts) == len(ends) == kept
    for row, start, end in zip(encoding["entity_position_ids"], starts, ends):
        # A span over a lone space has no tokens: start then sits one past end (the reference's convention).
        assert 0 <= end < len(encoding["input_ids"]) and 1 <= start < len(encoding["input_ids"])
        if row[0] != -1:
            assert row[0] == start and (end - start + 1 > len(row) or row[end - start] == end)


@PROPERTY_SETTINGS
@given(
    case=text_with_spans(min_spans=2, max_spans=2),
    task=st.sampled_from(["entity_classification", "entity_pair_classification"]),
)
def test_classification_tasks_wrap_mentions_in_markers(task_tokenizers, case, task):
    tokenizer = task_tokenizers[task]
    text, spans = case
    spans = spans[:1] if task == "entity_classification" else spans
    # Overlapping head and tail interleave their markers (as in the reference): the golden suite covers that case.
    (head_start, head_end), (tail_start, tail_end) = case[1]
    assume(task == "entity_classification" or head_end <= tail_start or tail_end <= head_start)
    encoding = tokenizer(text, entity_spans=spans)
    ids = encoding["input_ids"]
    _assert_positions_inside(encoding, len(ids) - 1, tokenizer.max_mention_length)
    markers = [tokenizer.entity_token_1_id, tokenizer.entity_token_2_id][: len(spans)]
    for marker, row in zip(markers, encoding["entity_position_ids"]):
        real = [position for position in row if position != -1]
        # The mention row starts on its opening marker (the row may be cut at max_mention_length).
        assert ids[real[0]] == marker
        assert ids.count(marker) == 2 + _generic_ids(tokenizer, text).count(marker)


# -- invalid spans: a documented ValueError, nothing else ----------------------------------------------------------


@PROPERTY_SETTINGS
@given(text=texts, raw_spans=st.lists(st.tuples(st.integers(-5, 40), st.integers(-5, 40)), min_size=1, max_size=4))
def test_any_int_spans_encode_or_raise_value_error(task_tokenizers, text, raw_spans):
    tokenizer = task_tokenizers[None]
    valid = all(0 <= start < end <= len(text) for start, end in raw_spans)
    if valid:
        encoding = tokenizer(text, entity_spans=raw_spans)
        _assert_positions_inside(encoding, len(encoding["input_ids"]) - 1, tokenizer.max_mention_length)
        return
    with pytest.raises(ValueError, match=r"entity_spans\[\d+\]"):
        tokenizer(text, entity_spans=raw_spans)


# -- exactness of the batched SentencePiece path --------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(text=texts, which=st.sampled_from([None, "bpe-lite"]))
def test_plain_ids_equal_transformers_generic_path(task_tokenizers, text, which):
    tokenizer = task_tokenizers[which]
    assert tokenizer(text, add_special_tokens=False)["input_ids"] == _generic_ids(tokenizer, text)


@PROPERTY_SETTINGS
@given(case=text_with_spans(max_spans=6))
def test_span_ids_are_the_pieces_tokenized_one_by_one(task_tokenizers, case):
    tokenizer = task_tokenizers[None]
    text, spans = case
    pieces, _ = split_text_at_spans(text, spans)
    assert "".join(pieces) == text
    expected = [token for piece in pieces for token in _generic_ids(tokenizer, piece)]
    assert tokenizer(text, entity_spans=spans, add_special_tokens=False)["input_ids"] == expected


# -- batch == single, pad() round trips ----------------------------------------------------------------------------


batches = st.lists(text_with_spans(max_spans=5), min_size=1, max_size=4)


@PROPERTY_SETTINGS
@given(batch=batches)
def test_batch_equals_single_examples(task_tokenizers, batch):
    tokenizer = task_tokenizers[None]
    texts_, spans = zip(*batch)
    batched = tokenizer(list(texts_), entity_spans=list(spans))
    for index, (text, text_spans) in enumerate(batch):
        single = tokenizer(text, entity_spans=text_spans)
        for key, value in single.items():
            assert batched[key][index] == value, key


@PROPERTY_SETTINGS
@given(batch=batches, side=st.sampled_from(["left", "right"]), multiple=st.sampled_from([None, 8]))
def test_pad_round_trip(task_tokenizers, batch, side, multiple):
    tokenizer = task_tokenizers[None]
    singles = [tokenizer(text, entity_spans=spans) for text, spans in batch]
    padded = tokenizer.pad(singles, padding_side=side, pad_to_multiple_of=multiple)
    texts_, spans = zip(*batch)
    direct = tokenizer(list(texts_), entity_spans=list(spans), padding=True, padding_side=side,
                       pad_to_multiple_of=multiple)  # fmt: skip
    assert dict(padded) == dict(direct)
    lengths = {len(row) for row in padded["input_ids"]}
    entity_lengths = {len(row) for row in padded["entity_ids"]}
    assert len(lengths) == 1 and len(entity_lengths) == 1
    if multiple:
        assert lengths.pop() % multiple == 0 and entity_lengths.pop() % multiple == 0
    for index, single in enumerate(singles):
        word_keep = [bool(flag) for flag in padded["attention_mask"][index]]
        entity_keep = [bool(flag) for flag in padded["entity_attention_mask"][index]]
        assert sum(word_keep) == len(single["input_ids"])
        assert sum(entity_keep) == len(single["entity_ids"])
        for key, value in single.items():
            keep = entity_keep if key.startswith("entity_") else word_keep
            restored = [item for item, flag in zip(padded[key][index], keep) if flag]
            assert restored == value, key
        padding_rows = [row for row, flag in zip(padded["entity_position_ids"][index], entity_keep) if not flag]
        assert all(row == [-1] * tokenizer.max_mention_length for row in padding_rows)
        padding_entities = [e for e, flag in zip(padded["entity_ids"][index], entity_keep) if not flag]
        assert padding_entities == [tokenizer.entity_pad_token_id] * len(padding_entities)


@PROPERTY_SETTINGS
@given(case=text_with_spans(max_spans=5), max_length=st.sampled_from([None, 12]))
def test_prepare_for_model_from_token_spans_equals_call(task_tokenizers, case, max_length):
    """The public `prepare_for_model(ids, entity_ids=..., entity_token_spans=...)` path gives `__call__`'s result."""
    tokenizer = task_tokenizers[None]
    text, spans = case
    pieces, pieces_before = split_text_at_spans(text, spans)
    piece_ids = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(piece)) for piece in pieces]
    tokens_before = [sum(len(ids) for ids in piece_ids[:count]) for count in range(len(pieces) + 1)]
    token_spans = [(tokens_before[pieces_before[start]], tokens_before[pieces_before[end]]) for start, end in spans]
    ids = [token for ids in piece_ids for token in ids]
    entity_ids = [tokenizer.entity_mask_token_id] * len(spans)
    truncation = {"max_length": max_length, "truncation": True} if max_length else {}
    prepared = tokenizer.prepare_for_model(ids, entity_ids=entity_ids, entity_token_spans=token_spans, **truncation)
    assert dict(prepared) == dict(tokenizer(text, entity_spans=spans, **truncation))

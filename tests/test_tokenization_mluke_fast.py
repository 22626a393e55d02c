"""MLukeTokenizerFast: the ids of MLukeTokenizer (golden suite of transformers 4.57.6, property tests), plus offsets,
word_ids, pre-split words, overflow with stride, tokenizer.json and AutoTokenizer's choice of class."""

from __future__ import annotations

import json
import logging
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures_tokenizer import (
    TOKENIZER_DATA,
    check_golden_case_with_task_per_call,
    golden_case_tokenizer,
    golden_cases_with_task,
    load_golden_script,
)

GOLDEN = json.loads((TOKENIZER_DATA / "golden.json").read_text(encoding="utf-8"))
CASES = {case["name"]: case for case in GOLDEN["cases"]}
SCRIPT = load_golden_script()

# Invalid input the reference accepts silently; both our classes raise a ValueError naming the argument.
STRICTER_THAN_REFERENCE = {
    "bad/span_reversed": "is reversed",
    "bad/span_empty": "is empty",
    "bad/span_negative": "must not be negative",
}
# The slow reference refuses is_split_into_words outright; the fast class supports it and rejects a plain string there.
STRICTER_THAN_REFERENCE_FAST = {"bad/split_into_words": "must be a list of words"}
# What a fast tokenizer does and the slow reference refuses: offsets, and overflow on pairs with longest_first.
FAST_ONLY = {"bad/offsets": "offset_mapping", "bad/overflow_longest_first_pair": "overflow_to_sample_mapping"}
# `[["a", "b"]]`, which the slow reference refuses, is a batch of one pair to a fast tokenizer (zero-shot pipeline).
FAST_PAIR_BATCH = {"bad/text_pretokenized"}
# Plain-path overflow follows transformers' fast semantics (one row per window plus overflow_to_sample_mapping), where
# the slow reference returns one row and a flat `overflowing_tokens`; the first row is the reference's input_ids.
FAST_OVERFLOW = {"overflow_plain_truncated", "overflow_pair_only_first"}

PLAIN_TEXTS = [
    "Tokyo is the capital of Japan.",
    "東京タワーは港区にある電波塔で、高さは333メートルです。",
    "Ｆｕｌｌ-width ﬁne\tand   spaced text…",
    "Москва — столица России. 🙂",
]


@pytest.fixture(scope="module")
def fast_cache():
    return {}


def _fast_tokenizer(cache, folders, tmp_path_factory, case):
    """Saved cases load what the fast class saved (tokenizer.json included); 4.57.6 read the slow class's files."""
    from mluke_hf import MLukeTokenizerFast

    tokenizer = golden_case_tokenizer(MLukeTokenizerFast, cache, folders, tmp_path_factory, case)
    if case["tokenizer"].startswith("saved:"):
        assert (Path(tokenizer.name_or_path) / "tokenizer.json").is_file()
    return tokenizer


@pytest.fixture(scope="module")
def fast_tokenizers(tokenizer_folders):
    """name -> MLukeTokenizerFast on each golden variant (shared: do not change settings)."""
    from mluke_hf import MLukeTokenizerFast

    return {name: MLukeTokenizerFast.from_pretrained(folder) for name, folder in tokenizer_folders.items()}


@pytest.fixture(scope="module")
def slow_tokenizers(tokenizer_folders):
    from mluke_hf import MLukeTokenizer

    return {name: MLukeTokenizer.from_pretrained(folder) for name, folder in tokenizer_folders.items()}


# -- golden suite ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_fast_matches_transformers_4_57_6(name, fast_cache, tokenizer_folders, tmp_path_factory, caplog):
    case = CASES[name]
    decoded = {**case, "args": SCRIPT.decode_value(case["args"])}
    stricter = {**STRICTER_THAN_REFERENCE, **STRICTER_THAN_REFERENCE_FAST}
    if name in stricter:
        tokenizer = _fast_tokenizer(fast_cache, tokenizer_folders, tmp_path_factory, case)
        with pytest.raises(ValueError, match=stricter[name]):
            SCRIPT.run_case(tokenizer, decoded)
        return
    if name in FAST_ONLY:
        tokenizer = _fast_tokenizer(fast_cache, tokenizer_folders, tmp_path_factory, case)
        output = SCRIPT.run_case(tokenizer, decoded)
        assert FAST_ONLY[name] in output and len(output["input_ids"]) > 0
        return
    if name in FAST_PAIR_BATCH:
        tokenizer = _fast_tokenizer(fast_cache, tokenizer_folders, tmp_path_factory, case)
        pairs = decoded["args"]["text"]
        expected = tokenizer([pair[0] for pair in pairs], [pair[1] for pair in pairs])
        assert dict(SCRIPT.run_case(tokenizer, decoded)) == dict(expected)
        return
    if "error" in case:
        with pytest.raises(Exception) as raised:
            tokenizer = _fast_tokenizer(fast_cache, tokenizer_folders, tmp_path_factory, case)
            SCRIPT.run_case(tokenizer, decoded)
        ours = [klass.__name__ for klass in type(raised.value).__mro__]
        assert case["error"] in ours, f"reference raised {case['error']}, we raised {type(raised.value).__name__}"
        return
    tokenizer = _fast_tokenizer(fast_cache, tokenizer_folders, tmp_path_factory, case)
    with caplog.at_level(logging.WARNING):
        output = SCRIPT.describe_output(SCRIPT.run_case(tokenizer, decoded))
    if name in FAST_OVERFLOW:
        expected = case["ok"]["data"]
        assert output["data"]["input_ids"][0] == expected["input_ids"]
        assert output["data"]["overflow_to_sample_mapping"] == [0] * len(output["data"]["input_ids"])
        if expected["overflowing_tokens"]:
            # Windows without stride: their bodies, concatenated, are the reference's row and overflow together.
            bodies = [row[1:-1] for row in output["data"]["input_ids"]]
            assert sum(bodies, []) == expected["input_ids"][1:-1] + expected["overflowing_tokens"]
        return
    assert output == case["ok"]
    for message in case["warnings"]:
        assert message in caplog.text


@pytest.mark.parametrize("name", golden_cases_with_task(CASES))
def test_fast_task_per_call_matches_transformers_4_57_6_task_at_load(
    name, fast_cache, tokenizer_folders, tmp_path_factory, caplog
):
    from mluke_hf import MLukeTokenizerFast

    check_golden_case_with_task_per_call(
        MLukeTokenizerFast, fast_cache, tokenizer_folders, tmp_path_factory, CASES[name], SCRIPT, caplog
    )


RUST_PATH_CASES = [
    name
    for name, case in CASES.items()
    if case["method"] == "__call__"
    and "ok" in case
    and not case["init"]
    and not case["tokenizer"].startswith("saved:")
    and not any(key.startswith("entit") or key.startswith("return_") or key == "stride" for key in case["args"])
    and name not in FAST_OVERFLOW
]


@pytest.mark.parametrize("name", RUST_PATH_CASES)
def test_golden_plain_cases_on_rust_path(name, fast_tokenizers, caplog):
    """Plain calls take SentencePiece unless alignment is asked for; asking for offsets runs the same golden cases
    through the Rust backend (converted normaliser, model, post-processor, padding and truncation)."""
    case = CASES[name]
    args = {**SCRIPT.decode_value(case["args"]), "return_offsets_mapping": True}
    output = SCRIPT.run_case(fast_tokenizers[case["tokenizer"]], {**case, "args": args})
    output = SCRIPT.describe_output(output)
    output["data"].pop("offset_mapping")
    assert output == case["ok"]


FAST_SAVED = json.loads((TOKENIZER_DATA / "golden_fast_saved.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", FAST_SAVED["cases"], ids=lambda case: case["name"])
def test_folders_saved_by_fast_class_load_in_4_57_6(case, fast_cache, tokenizer_folders, tmp_path_factory):
    """scripts/make_fast_saved_golden.py: 4.57.6 loaded folders saved by MLukeTokenizerFast and gave the released
    folders' results; the fast class, loading the same saved files back, gives them too."""
    assert FAST_SAVED["transformers_version"] == "4.57.6"
    assert case["ok"] == CASES[case["name"]]["ok"]
    tokenizer = _fast_tokenizer(fast_cache, tokenizer_folders, tmp_path_factory, case)
    decoded = {**case, "args": SCRIPT.decode_value(case["args"])}
    assert SCRIPT.describe_output(SCRIPT.run_case(tokenizer, decoded)) == case["ok"]


def test_golden_coverage_of_fast_class():
    """Every golden case runs on the fast class; only the few documented ones are compared differently."""
    special = set(STRICTER_THAN_REFERENCE) | set(STRICTER_THAN_REFERENCE_FAST) | set(FAST_ONLY) | FAST_OVERFLOW
    special |= FAST_PAIR_BATCH
    assert special <= set(CASES)
    assert len(CASES) - len(special) >= 1280
    assert len(RUST_PATH_CASES) >= 150


# -- fast == slow: property tests -------------------------------------------------------------------------------------

# Characters that stress normalisation: tabs/newlines, runs of spaces, full-width forms, ligatures, half-width kana
# with voiced marks, combining marks, emoji (ZWJ sequences, flags), CJK, Unicode spaces, repeated units (unigram ties).
ALPHABET = list("abcxyzTJ .,-'()3") + [
    "\t", "\n", "  ", "\u3000", "\u00a0", "\u1680", "\u2003",
    "Ａ", "ｂ", "１", "（", "ﬁ", "ﬂ", "Ⅻ", "㎏", "ｶ", "ﾞ", "ﾟ", "\u0301", "\u0308", "\u200d",
    "é", "ñ", "ß", "東", "京", "日本", "タワー", "ー", "한", "국", "ก", "\u0e31", "م", "ر", "Ж",
    "🙂", "👍🏽", "👨\u200d👩", "🇯🇵", "▁", "…", "333", "...", "ーー",
]  # fmt: skip
TEXTS = st.lists(st.sampled_from(ALPHABET), min_size=0, max_size=30).map("".join)
PROPERTY_SETTINGS = settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def text_with_spans(draw):
    """A text and up to 5 non-overlapping, non-empty character spans in it."""
    text = draw(st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=30).map("".join))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=10))))
    pairs = [(cuts[index], cuts[index + 1]) for index in range(0, len(cuts) - 1, 2)]
    return text, [span for span in pairs if span[1] > span[0]][:5]


@pytest.mark.parametrize("variant", ["unigram-full-base", "bpe-full-largelite"])
@PROPERTY_SETTINGS
@given(text=TEXTS, pair=st.one_of(st.none(), TEXTS))
def test_fast_equals_slow_on_random_text(variant, text, pair, fast_tokenizers, slow_tokenizers):
    fast, slow = fast_tokenizers[variant], slow_tokenizers[variant]
    from mluke_hf.text.converter import may_tie

    ids = slow(text, pair)["input_ids"]
    assert fast(text, pair)["input_ids"] == ids  # SentencePiece path
    rust = fast(text, pair, return_offsets_mapping=True)  # Rust path (offsets)
    assert rust["input_ids"] == ids and len(rust["offset_mapping"]) == len(ids)
    if not (may_tie(text) and fast.unk_token_id in ids):
        # Known gap: an unknown piece of a text SentencePiece segments for us (unigram ties) is named from its whole
        # source span, which differs from SentencePiece's name when one character normalises to several ("Ⅻ").
        assert fast.tokenize(text) == slow.tokenize(text)
    ids = slow(text)["input_ids"]
    assert fast.decode(ids) == slow.decode(ids)


@pytest.mark.parametrize("variant", ["unigram-full-base", "bpe-full-largelite"])
@PROPERTY_SETTINGS
@given(example=text_with_spans())
def test_fast_equals_slow_on_random_spans(variant, example, fast_tokenizers, slow_tokenizers):
    fast, slow = fast_tokenizers[variant], slow_tokenizers[variant]
    text, spans = example
    if not spans:
        return
    ours = fast(text, entity_spans=spans, return_offsets_mapping=True)
    reference = slow(text, entity_spans=spans)
    assert {key: ours[key] for key in reference} == dict(reference)
    # Offsets: inside the text, markers-free here; the tokens of each mention lie inside its span.
    offsets = ours["offset_mapping"]
    assert len(offsets) == len(ours["input_ids"])
    for start, end in offsets:
        assert 0 <= start <= end <= len(text)
    for (span_start, span_end), positions in zip(spans, ours["entity_position_ids"]):
        for position in positions:
            if position >= 0:
                start, end = offsets[position]
                assert span_start <= start and end <= span_end, (text, spans, offsets)


@pytest.mark.parametrize("task", ["entity_classification", "entity_pair_classification", "entity_span_classification"])
@PROPERTY_SETTINGS
@given(example=text_with_spans())
def test_fast_equals_slow_in_task_modes(task, example, tokenizer_folders, example_cache):
    fast, slow = example_cache(task)
    text, spans = example
    needed = {"entity_classification": 1, "entity_pair_classification": 2}.get(task)
    if len(spans) < (needed or 1):
        return
    spans = spans[:needed] if needed else spans
    ours = fast(text, entity_spans=spans, return_offsets_mapping=True)
    reference = slow(text, entity_spans=spans)
    assert {key: ours[key] for key in reference} == dict(reference)
    markers = {fast.entity_token_1_id, fast.entity_token_2_id}
    for token_id, (start, end) in zip(ours["input_ids"], ours["offset_mapping"]):
        if token_id in markers:
            assert start == end  # zero-width


@pytest.fixture(scope="module")
def example_cache(tokenizer_folders):
    from mluke_hf import MLukeTokenizer, MLukeTokenizerFast

    built = {}

    def get(task):
        if task not in built:
            folder = tokenizer_folders["unigram-full-base"]
            built[task] = (
                MLukeTokenizerFast.from_pretrained(folder, task=task),
                MLukeTokenizer.from_pretrained(folder, task=task),
            )
        return built[task]

    return get


@pytest.mark.parametrize("variant", ["unigram-full-base", "bpe-lite-base"])
@PROPERTY_SETTINGS
@given(
    texts=st.lists(TEXTS, min_size=1, max_size=4),
    pairs=st.booleans(),
    options=st.fixed_dictionaries(
        {},
        optional={
            "padding": st.sampled_from([True, "longest", "max_length", False]),
            "truncation": st.sampled_from([True, "longest_first", "only_first", False]),
            "max_length": st.integers(5, 24),  # from 5: a pair needs 4 special tokens
            "pad_to_multiple_of": st.sampled_from([None, 4, 8]),
            "padding_side": st.sampled_from(["left", "right"]),
            "add_special_tokens": st.booleans(),
            "return_attention_mask": st.booleans(),
            "return_tensors": st.sampled_from([None, "pt"]),
        },
    ),
)
def test_fast_plain_options_equal_slow(variant, texts, pairs, options, fast_tokenizers, slow_tokenizers):
    """The lean SentencePiece path (and its fallbacks) against MLukeTokenizer over padding/truncation options."""
    fast, slow = fast_tokenizers[variant], slow_tokenizers[variant]
    pair = list(reversed(texts)) if pairs else None
    if options.get("padding") == "max_length" and "max_length" not in options:
        options["max_length"] = 16
    try:
        expected = slow(texts, pair, **options)
    except Exception as error:  # noqa: BLE001 - the fast class must fail the same way
        with pytest.raises(type(error)):
            fast(texts, pair, **options)
        return
    ours = fast(texts, pair, **options)
    assert set(ours) == set(expected)
    for key in expected:
        left, right = ours[key], expected[key]
        as_list = lambda value: value.tolist() if hasattr(value, "tolist") else value  # noqa: E731
        assert as_list(left) == as_list(right), key
    assert len(ours.word_ids(0)) == len(ours["input_ids"][0])  # Rust alignment built on demand


def test_fast_equals_slow_on_corpus_batch(fast_tokenizers, slow_tokenizers):
    """One batched call over the whole corpus with padding and truncation, both model types."""
    lines = [line for line in (TOKENIZER_DATA / "corpus.txt").read_text(encoding="utf-8").splitlines() if line]
    for variant in ("unigram-full-base", "bpe-full-largelite"):
        fast, slow = fast_tokenizers[variant], slow_tokenizers[variant]
        arguments = {"padding": True, "truncation": True, "max_length": 40}
        assert fast(lines, **arguments)["input_ids"] == slow(lines, **arguments)["input_ids"]


def test_fast_pad_equals_slow_pad(fast_tokenizers, slow_tokenizers):
    fast, slow = fast_tokenizers["unigram-full-base"], slow_tokenizers["unigram-full-base"]
    texts = ["Tokyo is the capital of Japan.", "Paris is big."]
    spans = [[(0, 5), (24, 29)], [(0, 5)]]
    ours = fast.pad([fast(text, entity_spans=span) for text, span in zip(texts, spans)], return_tensors="pt")
    reference = slow.pad([slow(text, entity_spans=span) for text, span in zip(texts, spans)], return_tensors="pt")
    assert set(ours) == set(reference)
    for key in reference:
        assert ours[key].tolist() == reference[key].tolist(), key


def test_unigram_ties_settled_as_sentencepiece(fast_tokenizers, slow_tokenizers):
    """`333` after `高さは` segments as `33`+`3` in SentencePiece but `3`+`33` by the Rust Unigram (float32 vs float64
    sums); the fast class lets SentencePiece cut such texts, on the plain and the entity path."""
    from mluke_hf.text.converter import convert_sentencepiece

    fast, slow = fast_tokenizers["unigram-full-base"], slow_tokenizers["unigram-full-base"]
    text = "高さは333メートル"
    rust_only = convert_sentencepiece(TOKENIZER_DATA / "sentencepiece_unigram.model")
    assert rust_only.encode(text).ids != slow(text)["input_ids"]  # the case is a real tie
    assert fast(text)["input_ids"] == slow(text)["input_ids"]
    assert fast(text, entity_spans=[(0, 2)])["input_ids"] == slow(text, entity_spans=[(0, 2)])["input_ids"]
    encoded = fast(text, return_offsets_mapping=True)
    assert encoded["offset_mapping"][-2:] == [(9, 10), (0, 0)]


# -- offsets ----------------------------------------------------------------------------------------------------------


def _surface(text: str, span: tuple[int, int]) -> str:
    return unicodedata.normalize("NFKC", text[span[0] : span[1]])


def _check_offsets(tokenizer, text: str, input_ids: list[int], offsets: list[tuple[int, int]]) -> None:
    """Every word token's span holds its text (NFKC; one character such as "…" may give several tokens), a lone `▁`
    one character (a space, or the first character of its word); `<s>`/`</s>` are (0, 0); spans never go backwards."""
    tokens = tokenizer.convert_ids_to_tokens(input_ids)
    previous_start = 0
    for token, token_id, span in zip(tokens, input_ids, offsets):
        if token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id):
            assert span == (0, 0), (token, span)
            continue
        if token_id in (tokenizer.entity_token_1_id, tokenizer.entity_token_2_id):
            assert span[0] == span[1]
            continue
        assert span[0] >= previous_start
        previous_start = span[0]
        if token == "▁":
            assert span[1] - span[0] == 1
        elif token != "<unk>":
            assert token.lstrip("▁") in _surface(text, span), (token, span, text[span[0] : span[1]])


@pytest.mark.parametrize("text", PLAIN_TEXTS)
def test_offsets_plain_path(text, fast_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    encoded = fast(text, return_offsets_mapping=True)
    _check_offsets(fast, text, encoded["input_ids"], encoded["offset_mapping"])


def test_offsets_plain_examples(fast_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    encoded = fast("Tokyo is  big", return_offsets_mapping=True)
    tokens = fast.convert_ids_to_tokens(encoded["input_ids"])
    spans = dict(zip(tokens, encoded["offset_mapping"]))
    assert spans["is"] == (6, 8) and spans["</s>"] == (0, 0)
    # A token made of a rewritten grapheme cluster spans the whole cluster (half-width ka + voiced mark -> ガ).
    encoded = fast("ｶﾞ and", return_offsets_mapping=True)
    tokens = fast.convert_ids_to_tokens(encoded["input_ids"])
    assert encoded["offset_mapping"][tokens.index("ガ")] == (0, 2)


@pytest.mark.parametrize("text", PLAIN_TEXTS[:3])
def test_offsets_entity_path(text, fast_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    words = SCRIPT.word_spans(text)
    spans = words[:1] + words[2:3]
    encoded = fast(text, entity_spans=spans, return_offsets_mapping=True)
    _check_offsets(fast, text, encoded["input_ids"], encoded["offset_mapping"])


def test_offsets_entity_path_markers(tokenizer_folders):
    from mluke_hf import MLukeTokenizerFast

    folder = tokenizer_folders["unigram-full-base"]
    fast = MLukeTokenizerFast.from_pretrained(folder, task="entity_pair_classification")
    text = "Tokyo is the capital of Japan."
    encoded = fast(text, entity_spans=[(0, 5), (24, 29)], return_offsets_mapping=True)
    tokens = fast.convert_ids_to_tokens(encoded["input_ids"])
    marker_spans = [span for token, span in zip(tokens, encoded["offset_mapping"]) if token in ("<ent>", "<ent2>")]
    assert marker_spans == [(0, 0), (5, 5), (24, 24), (29, 29)]
    _check_offsets(fast, text, encoded["input_ids"], encoded["offset_mapping"])


def test_offsets_entity_path_batch_tensors_and_pairs(fast_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    texts = ["Tokyo is the capital of Japan.", "Paris is big."]
    encoded = fast(
        texts, entity_spans=[[(0, 5)], [(0, 5)]], padding=True, return_offsets_mapping=True, return_tensors="pt"
    )
    assert encoded["offset_mapping"].shape == (*encoded["input_ids"].shape, 2)
    second = encoded["offset_mapping"][1].tolist()
    padded = encoded["attention_mask"][1].tolist().count(0)
    assert padded > 0 and all(span == [0, 0] for span in second[-padded:])
    pair = fast("Where is Tokyo?", "Tokyo is in Japan.", entity_spans=[(9, 14)], entity_spans_pair=[(0, 5)],
                return_offsets_mapping=True)  # fmt: skip
    ids, offsets = pair["input_ids"], pair["offset_mapping"]
    second_start = ids.index(fast.sep_token_id) + 2
    _check_offsets(fast, "Where is Tokyo?", ids[:second_start], offsets[:second_start])
    _check_offsets(fast, "Tokyo is in Japan.", ids[second_start:], offsets[second_start:])


# -- word_ids, pre-split words, overflow ---------------------------------------------------------------------------


def test_word_ids_follow_sentencepiece_words(fast_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    encoded = fast("Tokyo is the capital")
    tokens = fast.convert_ids_to_tokens(encoded["input_ids"])
    word_ids = encoded.word_ids()
    assert word_ids[0] is None and word_ids[-1] is None
    # A new word starts exactly at each token beginning with `▁`.
    starts = [index for index, token in enumerate(tokens[1:-1], start=1) if token.startswith("▁")]
    assert [index for index in range(1, len(tokens) - 1) if word_ids[index] != word_ids[index - 1]] == starts
    assert max(word for word in word_ids if word is not None) == 3


def test_is_split_into_words(fast_tokenizers, slow_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    words = ["Tokyo", "is", "ｆｕｌｌ", "東京"]
    encoded = fast(words, is_split_into_words=True, return_offsets_mapping=True)
    assert encoded["input_ids"] == fast(" ".join(words))["input_ids"]
    assert encoded["input_ids"] == slow_tokenizers["unigram-full-base"](" ".join(words))["input_ids"]
    word_ids = encoded.word_ids()
    tokens = fast.convert_ids_to_tokens(encoded["input_ids"])
    for token, word, span in zip(tokens, word_ids, encoded["offset_mapping"]):
        if word is None:
            continue
        # Offsets index into each word (transformers' convention for pre-split input).
        if token not in ("▁", "<unk>"):
            assert _surface(words[word], span) == token.lstrip("▁")
    assert sorted(set(word for word in word_ids if word is not None)) == [0, 1, 2, 3]
    batch = fast([words, words[:2]], is_split_into_words=True, padding=True)
    assert batch["input_ids"][0] == encoded["input_ids"]


def test_overflow_with_stride(fast_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    texts = ["Barack Obama was born in Honolulu, Hawaii, and served as the president of the United States.", "Short."]
    whole = [fast(text)["input_ids"][1:-1] for text in texts]
    encoded = fast(texts, truncation=True, max_length=12, stride=3, return_overflowing_tokens=True,
                   return_offsets_mapping=True)  # fmt: skip
    mapping = encoded["overflow_to_sample_mapping"]
    assert mapping[-1] == 1 and mapping.count(0) > 2
    windows = [row[1:-1] for row, sample in zip(encoded["input_ids"], mapping) if sample == 0]
    assert all(len(row) <= 12 for row in encoded["input_ids"])
    rebuilt = windows[0]
    for previous, window in zip(windows, windows[1:]):
        assert window[:3] == previous[-3:]  # consecutive windows share `stride` tokens
        rebuilt = rebuilt + window[3:]
    assert rebuilt == whole[0]
    assert encoded["input_ids"][-1][1:-1] == whole[1]
    assert len(encoded["offset_mapping"]) == len(encoded["input_ids"])


def test_overflow_on_question_context_pairs(fast_tokenizers):
    """What the question-answering pipeline asks for: only_second truncation with stride, sequence_ids per row."""
    fast = fast_tokenizers["unigram-full-base"]
    question, context = "Where was Obama born?", " ".join(["Barack Obama was born in Honolulu, Hawaii."] * 4)
    encoded = fast(question, context, truncation="only_second", max_length=24, stride=4,
                   return_overflowing_tokens=True, return_offsets_mapping=True)  # fmt: skip
    assert len(encoded["input_ids"]) > 1
    for index, row in enumerate(encoded["input_ids"]):
        assert len(row) <= 24
        sequence_ids = encoded.sequence_ids(index)
        for sequence, (start, end) in zip(sequence_ids, encoded["offset_mapping"][index]):
            if sequence == 1:
                assert 0 <= start <= end <= len(context)


def test_truncation_error_pair_comes_back_whole(fast_tokenizers, slow_tokenizers, caplog):
    fast, slow = fast_tokenizers["unigram-full-base"], slow_tokenizers["unigram-full-base"]
    first, second = "Short.", "A much longer second text that cannot fit in the limit at all."
    with caplog.at_level(logging.ERROR):
        ours = fast(first, second, truncation="only_first", max_length=8, return_offsets_mapping=True)  # Rust path
    assert "truncation='only_first'" in caplog.text
    assert ours["input_ids"] == slow(first, second, truncation="only_first", max_length=8)["input_ids"]


def test_batch_of_pairs_as_lists(fast_tokenizers, slow_tokenizers):
    """`tokenizer([[a, b], ...])`: the fast-tokenizer form of a batch of pairs (zero-shot-classification uses it)."""
    fast, slow = fast_tokenizers["unigram-full-base"], slow_tokenizers["unigram-full-base"]
    firsts, seconds = ["Tokyo is big.", "Paris."], ["This is about cities.", "This is about food."]
    expected = slow(firsts, seconds, padding=True)
    for pairs in ([[a, b] for a, b in zip(firsts, seconds)], list(zip(firsts, seconds))):
        assert dict(fast(pairs, padding=True)) == dict(expected)
        assert fast(pairs, return_offsets_mapping=True)["input_ids"] == slow(firsts, seconds)["input_ids"]


def test_bad_plain_input_names_argument(fast_tokenizers):
    fast = fast_tokenizers["unigram-full-base"]
    with pytest.raises(ValueError, match="is_split_into_words"):
        fast("not a list", is_split_into_words=True)
    with pytest.raises((ValueError, TypeError), match="text"):
        fast(42)


# -- saving, loading, AutoTokenizer -----------------------------------------------------------------------------------


def test_save_writes_tokenizer_json_and_released_files(fast_tokenizers, tmp_path):
    fast = fast_tokenizers["unigram-full-base"]
    fast.save_pretrained(tmp_path)
    names = {path.name for path in tmp_path.iterdir()}
    assert {"tokenizer.json", "sentencepiece.bpe.model", "entity_vocab.json", "tokenizer_config.json",
            "special_tokens_map.json"} <= names  # fmt: skip
    config = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "MLukeTokenizer"
    assert "entity_vocab" not in config  # the entity vocabulary stays in its own file
    backend = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    assert backend["normalizer"]["type"] == "Sequence"


def test_released_folder_converts_then_both_load_identically(tokenizer_folders, tmp_path):
    from mluke_hf import MLukeTokenizer, MLukeTokenizerFast

    released = tokenizer_folders["bpe-lite-base"]
    assert not (released / "tokenizer.json").exists()
    converted = MLukeTokenizerFast.from_pretrained(released)
    converted.save_pretrained(tmp_path)
    reloaded = MLukeTokenizerFast.from_pretrained(tmp_path)
    slow_from_saved = MLukeTokenizer.from_pretrained(tmp_path)
    slow_released = MLukeTokenizer.from_pretrained(released)
    assert reloaded.backend_tokenizer.to_str() == converted.backend_tokenizer.to_str()
    for text in PLAIN_TEXTS:
        expected = slow_released(text, entity_spans=[(0, 2)])
        for tokenizer in (converted, reloaded, slow_from_saved):
            assert dict(tokenizer(text, entity_spans=[(0, 2)])) == dict(expected)
    assert len(reloaded) == len(slow_released) and reloaded.vocab_size == slow_released.vocab_size
    assert reloaded.entity_vocab == slow_released.entity_vocab


def test_added_tokens_survive_round_trip(mluke_tokenizer_folder, tmp_path):
    from mluke_hf import MLukeTokenizer, MLukeTokenizerFast

    fast = MLukeTokenizerFast.from_pretrained(mluke_tokenizer_folder)
    fast.add_tokens(["<new_token>"])
    fast.save_pretrained(tmp_path)
    for cls in (MLukeTokenizerFast, MLukeTokenizer):
        loaded = cls.from_pretrained(tmp_path)
        assert loaded.convert_tokens_to_ids("<new_token>") == fast.convert_tokens_to_ids("<new_token>")
        assert loaded("a <new_token> b")["input_ids"] == fast("a <new_token> b")["input_ids"]


def test_auto_tokenizer_gives_fast_and_slow_stays_reachable(tokenizer_folders):
    from transformers import AutoTokenizer

    from mluke_hf import MLukeTokenizer, MLukeTokenizerFast

    folder = tokenizer_folders["unigram-full-base"]
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "MLukeTokenizer"
    assert type(AutoTokenizer.from_pretrained(folder)) is MLukeTokenizerFast
    assert type(MLukeTokenizer.from_pretrained(folder)) is MLukeTokenizer
    assert MLukeTokenizerFast.slow_tokenizer_class is MLukeTokenizer


def test_tokenizer_json_alone_needs_no_sentencepiece_model(fast_tokenizers, tmp_path):
    """tokenizer.json carries the whole backend: ids are the same when loaded from it (no conversion)."""
    from mluke_hf import MLukeTokenizerFast

    fast = fast_tokenizers["unigram-full-base"]
    fast.save_pretrained(tmp_path)
    loaded = MLukeTokenizerFast(
        tokenizer_file=str(tmp_path / "tokenizer.json"), entity_vocab_file=str(tmp_path / "entity_vocab.json")
    )
    for text in PLAIN_TEXTS[:1]:
        assert loaded(text)["input_ids"] == fast(text)["input_ids"]
    with pytest.raises(ValueError, match="sentencepiece.bpe.model"):
        loaded.save_pretrained(tmp_path / "again")


def test_split_special_tokens_on_every_route(tokenizer_folders):
    """`split_special_tokens=True` reads `<mask>` as text, on the SentencePiece route, the Rust route and the entity
    path with offsets, tie-prone text included (its check must not reset the setting)."""
    from mluke_hf import MLukeTokenizer, MLukeTokenizerFast

    folder = tokenizer_folders["unigram-full-base"]
    fast, slow = MLukeTokenizerFast.from_pretrained(folder), MLukeTokenizer.from_pretrained(folder)
    text = "Paris <mask> 333 ..."
    expected = slow(text, split_special_tokens=True)["input_ids"]
    assert fast.mask_token_id not in expected
    assert fast(text, split_special_tokens=True)["input_ids"] == expected
    assert fast(text, split_special_tokens=True, return_offsets_mapping=True)["input_ids"] == expected
    spans = [(0, 5)]
    expected = slow(text, entity_spans=spans, split_special_tokens=True)["input_ids"]
    ours = fast(text, entity_spans=spans, split_special_tokens=True, return_offsets_mapping=True)
    assert ours["input_ids"] == expected
    assert fast(text)["input_ids"] == slow(text)["input_ids"]  # and the default is back for the next call


@pytest.mark.parametrize("task", ["entity_classification", "entity_pair_classification", "entity_span_classification"])
def test_tokenize_ignores_the_task_mode_like_the_slow_class(task, tokenizer_folders):
    from mluke_hf import MLukeTokenizer, MLukeTokenizerFast

    folder = tokenizer_folders["unigram-full-base"]
    fast = MLukeTokenizerFast.from_pretrained(folder, task=task)
    slow = MLukeTokenizer.from_pretrained(folder, task=task)
    text = "Tokyo est la capitale du Japon."
    assert fast.tokenize(text) == slow.tokenize(text) == MLukeTokenizer.from_pretrained(folder).tokenize(text)
    assert fast.task == task  # restored afterwards


@pytest.mark.parametrize("add_special_tokens", [True, False])
@pytest.mark.parametrize("max_length", [None, 3, 7])
def test_lean_plain_route_cuts_added_tokens_like_slow(
    add_special_tokens, max_length, fast_tokenizers, slow_tokenizers, monkeypatch
):
    """Plain batches are assembled by the fast class's lean route from the fairseq-numbered SentencePiece twin's ids;
    texts holding added tokens (`<mask>` strips the space on its left, `</s>` does not) are cut as MLukeTokenizer
    cuts them, rows are truncated and padded as it does."""
    fast, slow = fast_tokenizers["unigram-full-base"], slow_tokenizers["unigram-full-base"]
    assert fast._engine.fairseq_processor is not None and slow._engine.fairseq_processor is not None
    results = []
    lean = type(fast)._encode_plain_lean
    spy = lambda self, *args: results.append(lean(self, *args)) or results[-1]  # noqa: E731
    monkeypatch.setattr(type(fast), "_encode_plain_lean", spy)
    texts = ["Tokyo <mask> is big.", "plain text only", "<s>start</s> and <mask><mask>end", "", "<mask>"]
    options = {"add_special_tokens": add_special_tokens, "padding": True}
    if max_length is not None:
        options.update(truncation=True, max_length=max_length)
    ours, expected = fast(texts, **options), slow(texts, **options)
    assert results and results[-1] is not None, "the lean route was not taken"
    assert ours["input_ids"] == expected["input_ids"]
    assert ours["attention_mask"] == expected["attention_mask"]
    assert fast.mask_token_id in ours["input_ids"][0] or max_length == 3


@pytest.mark.parametrize("copier", ["pickle", "deepcopy"])
def test_pickled_and_copied_fast_tokenizer_encodes_the_same(copier, fast_tokenizers):
    """DataLoader workers and datasets.map(num_proc=...) pickle the tokenizer: its SentencePiece processors (the
    fairseq-numbered one included) and grapheme repair are rebuilt from vocab_file."""
    import copy
    import pickle

    fast = fast_tokenizers["unigram-full-base"]
    restored = pickle.loads(pickle.dumps(fast)) if copier == "pickle" else copy.deepcopy(fast)
    assert restored._engine.fairseq_processor is not None and restored._grapheme_repair is not None
    texts = ["Tokyo <mask> is ｶﾞ big, 高さは333メートル.", "Paris"]
    for options in ({}, {"return_offsets_mapping": True}, {"entity_spans": [[(0, 5)], [(0, 5)]]}):
        assert dict(restored(texts, **options)) == dict(fast(texts, **options)), options

"""Bad input to MLukeTokenizer (issue 3, point 7): each case gets the reference's behaviour or a clear error.

The golden suite already records the reference's exception TYPE for its "bad/" cases; here every message is checked
to name the offending argument (and the fix), including cases the reference handles silently or with a crash deep
inside (IndexError on short batches, names dropped without spans). Where we raise although transformers 4.57.6
does not, the test says so; docs/tokenizer.md lists those divergences.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from mluke_hf.text.entity_arguments import BatchLengthMismatchError, EntitySpanOutOfRangeError

TEXT = "Tokyo is the capital of Japan."  # Tokyo (0, 5), capital (13, 20), Japan (24, 29)


@pytest.fixture(scope="module")
def tokenizers(tokenizer_folders):
    from mluke_hf import MLukeTokenizer

    folder = tokenizer_folders["unigram-full-base"]
    return {
        "plain": MLukeTokenizer.from_pretrained(folder),
        "esc": MLukeTokenizer.from_pretrained(folder, task="entity_span_classification", max_entity_length=2),
        "ec": MLukeTokenizer.from_pretrained(folder, task="entity_classification"),
        "epc": MLukeTokenizer.from_pretrained(folder, task="entity_pair_classification"),
    }


# -- spans ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spans", "error", "message"),
    [
        ([(0, 31)], IndexError, r"entity_spans\[0\] = \(0, 31\) ends past the end of its text \(30 characters\)"),
        ([(0, 5), (40, 45)], IndexError, r"entity_spans\[1\] = \(40, 45\) ends past the end"),
        ([(5, 0)], ValueError, r"entity_spans\[0\] = \(5, 0\) is reversed"),
        ([(3, 3)], ValueError, r"entity_spans\[0\] = \(3, 3\) is empty"),
        ([(-3, 2)], ValueError, r"entity_spans\[0\] = \(-3, 2\): character indices must not be negative"),
        ([(0.0, 5)], TypeError, r"entity_spans\[0\] = \(0.0, 5\): start and end must be ints"),
        ([("0", "5")], TypeError, r"entity_spans\[0\] = \('0', '5'\): start and end must be ints"),
        ([(False, True)], TypeError, r"entity_spans\[0\] = \(False, True\): start and end must be ints"),
        (
            [[0, 5]],
            ValueError,
            r"entity_spans\[0\] must be a tuple \(start, end\).*write entity_spans=\[\(start, end\)",
        ),
        ([(0, 5, 7)], ValueError, r"entity_spans\[0\] must be a tuple \(start, end\)"),
        ([(0, 5), (0, 5, 7)], ValueError, r"entity_spans\[1\] must be a tuple \(start, end\)"),
        ([None], ValueError, r"entity_spans\[0\] must be a tuple"),
        ((0, 5), TypeError, r"entity_spans must be a list of \(start, end\) character tuples, got tuple"),
    ],
)
def test_bad_spans_name_the_argument(tokenizers, spans, error, message):
    with pytest.raises(error, match=message) as raised:
        tokenizers["plain"](TEXT, entity_spans=spans)
    if error is IndexError:
        # The reference raises IndexError for spans past the text; ours is that and a ValueError.
        assert isinstance(raised.value, (ValueError, EntitySpanOutOfRangeError))


def test_bad_pair_spans_name_entity_spans_pair(tokenizers):
    with pytest.raises(ValueError, match=r"entity_spans_pair\[0\] = \(9, 2\) is reversed"):
        tokenizers["plain"](TEXT, "Paris is nice.", entity_spans=[(0, 5)], entity_spans_pair=[(9, 2)])
    with pytest.raises(IndexError, match=r"entity_spans_pair\[0\] = \(0, 99\) ends past the end of its text"):
        tokenizers["plain"](TEXT, "Paris is nice.", entity_spans_pair=[(0, 99)])


def test_bad_spans_in_a_batch_name_the_argument(tokenizers):
    with pytest.raises(ValueError, match=r"entity_spans\[0\] = \(4, 1\) is reversed"):
        tokenizers["plain"]([TEXT, TEXT], entity_spans=[[(0, 5)], [(4, 1)]])


@pytest.mark.parametrize("task", ["esc", "ec", "epc"])
def test_task_modes_check_spans_too(tokenizers, task):
    spans = {"esc": [(0, 5), (9, 3)], "ec": [(9, 3)], "epc": [(0, 5), (9, 3)]}[task]
    with pytest.raises(ValueError, match=r"entity_spans\[\d\] = \(9, 3\) is reversed"):
        tokenizers[task](TEXT, entity_spans=spans)


def test_numpy_integer_spans_are_accepted(tokenizers):
    tokenizer = tokenizers["plain"]
    as_numpy = [(np.int64(0), np.int64(5)), (np.int32(24), np.int32(29))]
    assert tokenizer(TEXT, entity_spans=as_numpy) == tokenizer(TEXT, entity_spans=[(0, 5), (24, 29)])


def test_overlapping_and_nested_spans_are_accepted(tokenizers):
    """As the reference: overlapping mentions are legal (NER enumerates every n-gram); each gets its own row."""
    tokenizer = tokenizers["plain"]
    encoding = tokenizer(TEXT, entity_spans=[(0, 20), (9, 29), (13, 20)])
    rows = [[position for position in row if position != -1] for row in encoding["entity_position_ids"]]
    assert len(rows) == 3 and all(rows)
    assert set(rows[2]) <= set(rows[0]) & set(rows[1])
    assert rows[0][-1] >= rows[1][0]


# -- entities --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        (["en:Japan", 5], r"entities\[1\] must be an entity name \(str\) such as 'en:Japan'"),
        ([None, "en:Japan"], r"entities\[0\] must be an entity name \(str\).*got None"),
        ("en:Japan", r"entities must be a list of entity names \(str\), got str"),
        (("en:Tokyo", "en:Japan"), r"entities must be a list of entity names \(str\), got tuple"),
        (["en:Japan"], r"entities has 1 names but entity_spans has 2 spans: pass one entity name per span"),
        (["en:Japan"] * 3, r"entities has 3 names but entity_spans has 2 spans"),
    ],
)
def test_bad_entities_name_the_argument(tokenizers, entities, message):
    with pytest.raises(ValueError, match=message):
        tokenizers["plain"](TEXT, entity_spans=[(0, 5), (24, 29)], entities=entities)


def test_bad_pair_entities_name_entities_pair(tokenizers):
    with pytest.raises(ValueError, match=r"entities_pair has 2 names but entity_spans_pair has 1 spans"):
        tokenizers["plain"](TEXT, "Paris is nice.", entity_spans_pair=[(0, 5)], entities_pair=["en:Paris", "x"])


def test_entities_without_spans_raise(tokenizers):
    """Stricter than the reference, which silently drops names that have no mention to sit on."""
    with pytest.raises(ValueError, match="entities needs entity_spans"):
        tokenizers["plain"](TEXT, entities=["en:Japan"])
    with pytest.raises(ValueError, match="entity_spans_pair belongs to the second text: pass text_pair too"):
        tokenizers["plain"](TEXT, entity_spans_pair=[(0, 5)])


def test_unknown_entity_names_map_to_unk(tokenizers):
    tokenizer = tokenizers["plain"]
    encoding = tokenizer(TEXT, entity_spans=[(0, 5), (24, 29), (13, 20)],
                         entities=["en:Nowhere", "ja:日本", "Japan"])  # fmt: skip
    japan = tokenizer.entity_vocab["en:Japan"]
    assert encoding["entity_ids"] == [tokenizer.entity_unk_token_id, japan, tokenizer.entity_unk_token_id]
    assert tokenizer.entity_name_to_id("de:Nirgendwo") == tokenizer.entity_vocab["[UNK]"]


# -- text ------------------------------------------------------------------------------------------------------------


def test_empty_text(tokenizers):
    tokenizer = tokenizers["plain"]
    assert tokenizer("")["input_ids"] == [tokenizer.cls_token_id, tokenizer.sep_token_id]
    assert tokenizer("", entity_spans=[])["entity_ids"] == []
    with pytest.raises(
        IndexError, match=r"entity_spans\[0\] = \(0, 1\) ends past the end of its text \(0 characters\)"
    ):
        tokenizer("", entity_spans=[(0, 1)])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"text": None}, ValueError, "text must be a str .* got NoneType"),
        ({"text": 5}, ValueError, "text must be a str .* got int"),
        ({"text": [["Tokyo", "is", "big"]]}, ValueError, "pretokenized input .* not supported"),
        ({"text": TEXT, "text_pair": 7}, ValueError, "text_pair must be a str"),
        ({"text": []}, ValueError, "text is an empty list: pass at least one text"),
    ],
)
def test_bad_text_names_the_argument(tokenizers, kwargs, error, message):
    with pytest.raises(error, match=message):
        tokenizers["plain"](**kwargs)


# -- batches ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"entity_spans": [[(0, 5)]]}, "entity_spans has 1 items but the batch has 2 texts"),
        ({"entity_spans": [[(0, 5)]] * 3}, "entity_spans has 3 items but the batch has 2 texts"),
        ({"entity_spans": [[(0, 5)]] * 2, "entities": [["en:Tokyo"]]}, "entities has 1 items but the batch has 2"),
        ({"text_pair": ["Paris is nice."]}, "text_pair has 1 items but the batch has 2 texts"),
        (
            {"text_pair": ["a", "b"], "entity_spans": [[]] * 2, "entity_spans_pair": [[(0, 1)]]},
            "entity_spans_pair has 1 items",
        ),
    ],
)
def test_batch_arguments_must_match_the_batch(tokenizers, kwargs, message):
    """The reference raises a bare IndexError (or silently drops extra items); ours names the argument."""
    with pytest.raises(BatchLengthMismatchError, match=message) as raised:
        tokenizers["plain"]([TEXT, TEXT], **kwargs)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, IndexError)


def test_batch_pair_spans_need_first_spans(tokenizers):
    with pytest.raises(
        ValueError, match=r"entity_spans_pair needs entity_spans in a batch: pass entity_spans=\[\[\]\]"
    ):
        tokenizers["plain"]([TEXT], ["Paris."], entity_spans_pair=[[(0, 5)]])
    # The suggested fix works.
    encoding = tokenizers["plain"]([TEXT], ["Paris."], entity_spans=[[]], entity_spans_pair=[[(0, 5)]])
    assert len(encoding["entity_ids"][0]) == 1


def test_batch_encode_plus_checks_lengths(tokenizers):
    with pytest.raises(BatchLengthMismatchError, match="batch_entity_spans_or_entity_spans_pairs has 1 items"):
        tokenizers["plain"].batch_encode_plus([TEXT, TEXT], [[(0, 5)]])


# -- max_entity_length -----------------------------------------------------------------------------------------------

SPANS = [(0, 5), (13, 20), (24, 29)]


def test_more_spans_than_max_entity_length_with_truncation(tokenizer_folders, caplog):
    from mluke_hf import MLukeTokenizer

    tokenizer = MLukeTokenizer.from_pretrained(
        tokenizer_folders["unigram-full-base"], task="entity_span_classification", max_entity_length=2
    )
    with caplog.at_level(logging.WARNING):
        encoding = tokenizer(TEXT, entity_spans=SPANS, truncation=True)
    full = tokenizer(TEXT, entity_spans=SPANS)
    assert len(encoding["entity_ids"]) == 2
    assert encoding["entity_position_ids"] == full["entity_position_ids"][:2]
    assert encoding["entity_start_positions"] == full["entity_start_positions"][:2]
    assert "Entities beyond max_entity_length=2 are dropped (the first ones are kept)" in caplog.text


def test_more_spans_than_max_entity_length_without_truncation(tokenizer_folders, caplog):
    """As the reference: all entities are kept; we add a warning since padded batches then come out ragged."""
    from mluke_hf import MLukeTokenizer

    tokenizer = MLukeTokenizer.from_pretrained(
        tokenizer_folders["unigram-full-base"], task="entity_span_classification", max_entity_length=3
    )
    with caplog.at_level(logging.WARNING):
        encoding = tokenizer([TEXT, TEXT], entity_spans=[[*SPANS, (6, 8)]] * 2)
        tokenizer(TEXT, entity_spans=[*SPANS, (6, 8)])
    assert [len(row) for row in encoding["entity_ids"]] == [4, 4]
    # Once per tokenizer, not once per example.
    assert caplog.text.count("more entities than max_entity_length=3 and truncation is off") == 1


def test_call_max_entity_length_overrides_for_plain_mode(tokenizers):
    encoding = tokenizers["plain"](TEXT, entity_spans=SPANS, max_entity_length=1, truncation=True)
    assert len(encoding["entity_ids"]) == 1


def test_word_truncation_drops_entities_outside_kept_tokens(tokenizers, caplog):
    tokenizer = tokenizers["plain"]
    with caplog.at_level(logging.WARNING):
        encoding = tokenizer(TEXT, entity_spans=[(0, 5), (24, 29)], max_length=8, truncation=True)
    assert len(encoding["input_ids"]) == 8
    assert encoding["entity_ids"] == [tokenizer.entity_mask_token_id]  # "Tokyo" kept, "Japan" cut off
    assert all(1 <= position < 7 for position in encoding["entity_position_ids"][0] if position != -1)
    assert "1 entities are ignored because their entity spans are invalid due to the truncation" in caplog.text


# -- other arguments -------------------------------------------------------------------------------------------------


def test_unknown_task_names_the_choices(tokenizer_folders):
    from mluke_hf import MLukeTokenizer

    with pytest.raises(ValueError, match=r"task='ner' is not supported: use None or one of \['entity_classification'"):
        MLukeTokenizer.from_pretrained(tokenizer_folders["unigram-full-base"], task="ner")


def test_bad_padding_side(tokenizers):
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right', got 'middle'"):
        tokenizers["plain"]([TEXT, "Paris."], padding=True, padding_side="middle")


def test_offsets_mapping_points_to_the_fast_tokenizer(tokenizers):
    with pytest.raises(NotImplementedError, match="use MLukeTokenizerFast"):
        tokenizers["plain"](TEXT, return_offsets_mapping=True)


def test_missing_special_entity_names_the_vocab(tmp_path, tokenizer_folders):
    import json
    import shutil

    from mluke_hf import MLukeTokenizer

    folder = tmp_path / "broken"
    shutil.copytree(tokenizer_folders["unigram-lite-largelite"], folder)
    (folder / "entity_vocab.json").write_text(json.dumps({"[MASK]": 0, "[UNK]": 1, "[PAD]": 2}))
    with pytest.raises(ValueError, match=r"Special entity '\[MASK2\]' is not in the entity vocabulary"):
        MLukeTokenizer.from_pretrained(folder)


@pytest.mark.parametrize(
    ("batch", "error", "message"),
    [
        ([5], TypeError, r"batch_text_or_text_pairs\[0\] must be a str or a \(str, str\) pair, got 5"),
        ([TEXT, None], TypeError, r"batch_text_or_text_pairs\[1\] must be a str or a \(str, str\) pair, got None"),
        ([(TEXT, 5)], TypeError, r"batch_text_or_text_pairs\[0\] must be a str or a \(str, str\) pair"),
        ([(TEXT,)], ValueError, r"batch_text_or_text_pairs\[0\] must be a text or a \(text, text_pair\) pair, got 1"),
        ([(TEXT, TEXT, TEXT)], ValueError, r"batch_text_or_text_pairs\[0\] must be a text or a \(text, text_pair\)"),
    ],
)
def test_batch_encode_plus_checks_items(tokenizers, batch, error, message):
    """Same exception types as the reference (TypeError / ValueError), which fails deeper without naming the item."""
    with pytest.raises(error, match=message):
        tokenizers["plain"].batch_encode_plus(batch)


def test_batch_of_pairs(tokenizers):
    """`text=[(a, b), ...]` is the batch `text=[a, ...], text_pair=[b, ...]` (the reference refuses it)."""
    tokenizer = tokenizers["plain"]
    pairs = [(TEXT, "Paris is nice."), ("東京", "日本")]
    spans = {"entity_spans": [[(0, 5)], [(0, 2)]], "entity_spans_pair": [[(0, 5)], [(0, 2)]]}
    as_pairs = tokenizer(pairs, padding=True, **spans)
    as_lists = tokenizer([a for a, _ in pairs], [b for _, b in pairs], padding=True, **spans)
    assert dict(as_pairs) == dict(as_lists)
    assert as_pairs["input_ids"][0].count(tokenizer.sep_token_id) == 3
    with pytest.raises(ValueError, match="text must be a str .* or a list of str"):
        tokenizer([(TEXT, "a", "b")])


# -- tensors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_tensors_equal_the_padded_lists(tokenizers, return_tensors):
    """Nested lists (entity_position_ids: texts x entities x mention length) go to tensors through numpy; the values,
    int64 dtype and shapes are those of the padded lists, an empty entity batch included."""
    texts, spans = [TEXT, "Paris.", "Rome"], [[(0, 5), (24, 29)], [(0, 5)], [(0, 4)]]
    for tokenizer in (tokenizers["plain"], tokenizers["esc"]):
        lists = tokenizer(texts, entity_spans=spans, padding=True)
        tensors = tokenizer(texts, entity_spans=spans, padding=True, return_tensors=return_tensors)
        assert set(tensors) == set(lists)
        for key, value in tensors.items():
            assert str(value.dtype).endswith("int64"), key
            assert value.tolist() == lists[key], key
        assert tuple(tensors["entity_position_ids"].shape) == (3, 2, tokenizer.max_mention_length)
    empty = tokenizers["plain"](texts, entity_spans=[[], [], []], padding=True, return_tensors=return_tensors)
    assert tuple(empty["entity_ids"].shape) == (3, 0) and str(empty["entity_ids"].dtype).endswith("int64")
    single = tokenizers["plain"](TEXT, entity_spans=[(0, 5)], return_tensors=return_tensors)
    assert tuple(single["entity_position_ids"].shape) == (1, 1, tokenizers["plain"].max_mention_length)


def test_ragged_tensors_ask_for_padding(tokenizers):
    with pytest.raises(ValueError, match="padding=True"):
        tokenizers["plain"]([TEXT, "Paris."], entity_spans=[[(0, 5), (24, 29)], [(0, 5)]], return_tensors="pt")


def test_tensors_keep_float_fields_as_transformers_makes_them(tokenizers):
    """Only the tokenizer's own int fields take the numpy route: float labels stay floats (not truncated to ints)."""
    batch = [{"input_ids": [0, 5, 2], "labels": [[0.5, 1.0]]}, {"input_ids": [0, 2], "labels": [[1.0, 0.25]]}]
    padded = tokenizers["plain"].pad(batch, return_tensors="pt")
    assert padded["labels"].dtype == torch.float32
    assert padded["labels"].tolist() == [[[0.5, 1.0]], [[1.0, 0.25]]]
    assert padded["input_ids"].tolist() == [[0, 5, 2], [0, 2, tokenizers["plain"].pad_token_id]]

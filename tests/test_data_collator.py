"""MLukeDataCollator: padding values and shapes, labels, pad_to_multiple_of, right padding only, errors, and a padded
batch giving each example's own logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mluke_hf import MLukeDataCollator, MLukeForEntitySpanClassification
from mluke_hf.tasks.ner import encode_entity_spans

TEXTS = [
    ("Alice Cooper was born in Brazil and later moved to Dublin.", [(0, 5), (0, 12), (25, 31), (51, 57)]),
    ("Reuters is in Oslo.", [(0, 7)]),
    ("Hans Müller arbeitet bei Siemens in München.", [(0, 11), (25, 32)]),
]


def span_features(tokenizer, with_labels=True):
    features = []
    for index, (text, spans) in enumerate(TEXTS):
        feature = encode_entity_spans(tokenizer, text, spans, task="entity_span_classification")
        if with_labels:
            feature["labels"] = [(index + position) % 3 for position in range(len(spans))]
        features.append(feature)
    return features


def test_span_features_pad_to_longest_with_the_right_values(mluke_tokenizer):
    features = span_features(mluke_tokenizer)
    batch = MLukeDataCollator(mluke_tokenizer)(features)
    word_length = max(len(feature["input_ids"]) for feature in features)
    mention_length = max(len(row) for feature in features for row in feature["entity_position_ids"])
    assert batch["input_ids"].shape == (3, word_length)
    assert batch["entity_ids"].shape == (3, 4)
    assert batch["entity_position_ids"].shape == (3, 4, mention_length)
    assert batch["labels"].dtype == torch.long
    for row, feature in enumerate(features):
        words, entities = len(feature["input_ids"]), len(feature["entity_ids"])
        assert batch["input_ids"][row, :words].tolist() == feature["input_ids"]
        assert (batch["input_ids"][row, words:] == mluke_tokenizer.pad_token_id).all()
        assert batch["attention_mask"][row].tolist() == [1] * words + [0] * (word_length - words)
        assert (batch["entity_ids"][row, entities:] == mluke_tokenizer.entity_pad_token_id).all()
        assert batch["entity_attention_mask"][row].tolist() == [1] * entities + [0] * (4 - entities)
        assert (batch["entity_position_ids"][row, entities:] == -1).all()
        assert batch["entity_start_positions"][row, :entities].tolist() == feature["entity_start_positions"]
        assert batch["entity_end_positions"][row, entities:].tolist() == [0] * (4 - entities)
        assert batch["labels"][row].tolist() == feature["labels"] + [-100] * (4 - entities)


def test_padded_batch_gives_the_logits_of_each_example_alone(mluke_tokenizer, span_checkpoint):
    model = MLukeForEntitySpanClassification.from_pretrained(span_checkpoint).eval()
    features = span_features(mluke_tokenizer, with_labels=False)
    collator = MLukeDataCollator(mluke_tokenizer)
    with torch.no_grad():
        batched = model(**collator(features)).logits
        for row, feature in enumerate(features):
            alone = model(**collator([feature])).logits[0]
            torch.testing.assert_close(batched[row, : len(feature["entity_ids"])], alone, atol=1e-5, rtol=1e-4)


def test_left_padding_tokenizers_are_refused(mluke_tokenizer):
    mluke_tokenizer.padding_side = "left"
    with pytest.raises(ValueError, match="pads on the right only.*padding_side = 'right'"):
        MLukeDataCollator(mluke_tokenizer)


def test_pad_to_multiple_of_rounds_word_and_entity_lengths(mluke_tokenizer):
    batch = MLukeDataCollator(mluke_tokenizer, pad_to_multiple_of=8)(span_features(mluke_tokenizer))
    assert batch["input_ids"].shape[1] % 8 == 0
    assert batch["entity_ids"].shape[1] == 8
    assert batch["labels"].shape == (3, 8)
    assert (batch["labels"][:, 4:] == -100).all()


def test_multi_hot_per_entity_labels_pad_with_zero_rows(mluke_tokenizer):
    features = span_features(mluke_tokenizer, with_labels=False)
    for feature in features:
        feature["labels"] = [[1, 0, 1]] * len(feature["entity_ids"])
    batch = MLukeDataCollator(mluke_tokenizer)(features)
    assert batch["labels"].dtype == torch.float
    assert batch["labels"].shape == (3, 4, 3)
    assert batch["labels"][1, 1:].eq(0).all() and batch["labels"][1, 0].tolist() == [1, 0, 1]


def test_entity_classification_features_stack_per_example_labels(mluke_tokenizer):
    features = []
    for text, spans in TEXTS:
        feature = encode_entity_spans(mluke_tokenizer, text, spans[:1], task="entity_classification")
        features.append(feature)
    collator = MLukeDataCollator(mluke_tokenizer)
    index_labels = collator([{**feature, "labels": label} for feature, label in zip(features, [2, 0, 1])])
    assert index_labels["labels"].tolist() == [2, 0, 1]
    assert "entity_start_positions" not in index_labels
    assert index_labels["entity_ids"].shape == (3, 1)
    multi_hot = collator([{**feature, "labels": [1.0, 0.0]} for feature in features])
    assert multi_hot["labels"].dtype == torch.float and multi_hot["labels"].shape == (3, 2)
    # `label` (singular, as datasets name it) works too and comes out as `labels`.
    assert collator([{**feature, "label": 1} for feature in features])["labels"].tolist() == [1, 1, 1]


def test_word_only_features_and_tensor_inputs(mluke_tokenizer):
    features = [
        {"input_ids": torch.tensor([0, 5, 6, 2]), "attention_mask": np.array([1, 1, 1, 1]), "labels": 1},
        {"input_ids": [0, 7, 2], "attention_mask": [1, 1, 1], "labels": 0},
    ]
    batch = MLukeDataCollator(mluke_tokenizer)(features)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert batch["input_ids"].tolist() == [[0, 5, 6, 2], [0, 7, 2, mluke_tokenizer.pad_token_id]]


def test_without_a_tokenizer_padding_ids_are_required():
    with pytest.raises(ValueError, match="pad_token_id"):
        MLukeDataCollator()
    collator = MLukeDataCollator(pad_token_id=1)
    with pytest.raises(ValueError, match="entity_pad_token_id"):
        collator([{"input_ids": [0, 2], "entity_ids": [3], "entity_position_ids": [[1]]}])
    batch = MLukeDataCollator(pad_token_id=1, entity_pad_token_id=0)(
        [
            {"input_ids": [0, 2], "entity_ids": [3], "entity_position_ids": [[1]]},
            {"input_ids": [0], "entity_ids": [], "entity_position_ids": []},
        ]
    )
    assert batch["entity_ids"].tolist() == [[3], [0]]
    assert batch["entity_position_ids"].tolist() == [[[1]], [[-1]]]


@pytest.mark.parametrize(
    ("features", "error", "message"),
    [
        ([], ValueError, "non-empty list"),
        ({"input_ids": [0, 2]}, ValueError, "non-empty list"),
        (["text"], TypeError, r"features\[0\] must be a dict"),
        ([{"attention_mask": [1]}], ValueError, "has no input_ids"),
        ([{"input_ids": [0, 2], "words": ["a"]}], ValueError, r"does not know how to pad: \['words'\]"),
        ([{"input_ids": [0, 2]}, {"input_ids": [0], "labels": 1}], ValueError, "same fields"),
        ([{"input_ids": [0, 2], "attention_mask": [1]}], ValueError, "attention_mask.*length 1"),
        (
            [{"input_ids": [0, 2], "entity_ids": [3, 4], "entity_position_ids": [[1]]}],
            ValueError,
            "entity_position_ids.*1 entries but entity_ids has 2",
        ),
        ([{"input_ids": [0, 2], "entity_ids": [3]}], ValueError, "both entity_ids and entity_position_ids"),
        ([{"input_ids": [0, 2], "entity_ids": [3], "entity_position_ids": [1]}], ValueError, "one list of token"),
        (
            [
                {
                    "input_ids": [0, 2],
                    "entity_ids": [3],
                    "entity_position_ids": [[1]],
                    "entity_start_positions": [1],
                    "entity_end_positions": [1],
                    "labels": 2,
                }
            ],
            ValueError,
            "one entry per entity",
        ),
        ([{"input_ids": [0, 2], "labels": [1, 0]}, {"input_ids": [0, 2], "labels": [1]}], ValueError, "multi-hot"),
        ([{"input_ids": [0, 2], "labels": "PER"}], TypeError, "labels must be"),
    ],
)
def test_bad_features_get_clear_errors(features, error, message):
    collator = MLukeDataCollator(pad_token_id=1, entity_pad_token_id=0)
    with pytest.raises(error, match=message):
        collator(features)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"pad_to_multiple_of": 0}, "pad_to_multiple_of"), ({"pad_to_multiple_of": 2.5}, "pad_to_multiple_of")],
)
def test_bad_arguments_get_clear_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        MLukeDataCollator(pad_token_id=1, **arguments)

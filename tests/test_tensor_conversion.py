"""tensor_conversion: nested int lists to arrays/tensors in one flat pass, equal to what torch and transformers give."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import BatchEncoding

from mluke_hf.text.tensor_conversion import batch_encoding, int64_tensor, integer_array

INTS = st.integers(-(2**40), 2**40)


@st.composite
def rectangular(draw, depth: int):
    """A rectangular nested list of ints `depth` deep (rows as lists or tuples), empty dimensions included."""
    shape = draw(st.lists(st.integers(0, 4), min_size=depth, max_size=depth))
    shape[0] = max(1, shape[0])

    def build(level: int):
        if level == depth - 1:
            return [draw(INTS) for _ in range(shape[level])]
        rows = [build(level + 1) for _ in range(shape[level])]
        return [tuple(row) if draw(st.booleans()) else row for row in rows] if level > 0 else rows

    return build(0)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(value=st.one_of(rectangular(2), rectangular(3), rectangular(4)))
def test_int64_tensor_equals_torch_tensor(value):
    expected = torch.tensor(value, dtype=torch.long)
    ours = int64_tensor(value)
    assert ours.dtype == torch.long and ours.shape == expected.shape
    assert torch.equal(ours, expected)


@pytest.mark.parametrize(
    "value",
    [
        [1, 2, 3],  # flat: nothing to gain, left to the caller
        [],
        [[1, 2], [3]],  # ragged
        [[[1], [2, 3]]],  # ragged deeper down
        [[1, None]],
        [[1, "2"]],
        [[1, 2**70]],
        [[1, 2.0]],  # floats are not truncated
        [[1, [2]]],  # mixed depth
    ],
)
def test_integer_array_declines_what_it_cannot_copy_exactly(value):
    assert integer_array(value) is None


def test_bools_and_numpy_ints_count_as_ints():
    assert integer_array([[True, np.int32(3)], [np.int64(-1), 0]]).tolist() == [[1, 3], [-1, 0]]


def test_empty_rows_are_int64():
    array = integer_array([[], [], []])
    assert array.shape == (3, 0) and array.dtype == np.int64
    assert integer_array([[[], []]]).shape == (1, 2, 0)


def test_int64_tensor_ragged_rows_keep_torchs_error():
    with pytest.raises(ValueError):
        int64_tensor([[1, 2], [3]])


@pytest.mark.parametrize("tensor_type", ["pt", "np"])
@pytest.mark.parametrize("prepend_batch_axis", [False, True])
def test_batch_encoding_equals_transformers_batch_encoding(tensor_type, prepend_batch_axis):
    data = {
        "input_ids": [[0, 5, 2], [0, 2, 1]],
        "entity_position_ids": [[[1, -1], [-1, -1]], [[1, 2], [-1, -1]]],
        "entity_ids": [[], []],
        "labels": [[0.5, 1.0], [1.0, 0.25]],  # not a tokenizer int field: transformers converts it (floats stay)
    }
    if prepend_batch_axis:
        data = {key: value[0] for key, value in data.items()}
    expected = BatchEncoding(data, tensor_type=tensor_type, prepend_batch_axis=prepend_batch_axis)
    ours = batch_encoding(data, tensor_type=tensor_type, prepend_batch_axis=prepend_batch_axis)
    assert set(ours) == set(expected)
    for key in expected:
        assert type(ours[key]) is type(expected[key]), key
        assert ours[key].dtype == expected[key].dtype, key
        assert ours[key].shape == expected[key].shape, key
        assert ours[key].tolist() == expected[key].tolist(), key


def test_batch_encoding_without_tensors_keeps_lists():
    data = {"input_ids": [[0, 2]], "entity_position_ids": [[[1, -1]]]}
    assert batch_encoding(data)["entity_position_ids"] == [[[1, -1]]]

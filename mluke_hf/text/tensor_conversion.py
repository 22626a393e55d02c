"""Nested lists of ints to numpy arrays and torch tensors, fast.

`torch.tensor` (and `np.asarray`) walk nested Python lists to discover their shape and type, which is slow on the
entity fields: `entity_position_ids` holds entities x mention length ints per text (256 texts x 80 spans x 30 =
614k ints in the span benchmark: `torch.tensor` ~115 ms, this module ~20 ms). Here the shape is read from the row
lengths and the ints are copied in one flat pass (`np.fromiter`). The tokenizers (`batch_encoding`) and the data
collator (`int64_tensor`) convert through it.
"""

from __future__ import annotations

import itertools
import math
import operator

import numpy as np
from transformers.tokenization_utils_base import BatchEncoding, TensorType

# The entity inputs of an mLUKE model (the tokenizers' entity outputs, what the data collator pads).
ENTITY_FIELDS = (
    "entity_ids",
    "entity_attention_mask",
    "entity_token_type_ids",
    "entity_position_ids",
    "entity_start_positions",
    "entity_end_positions",
)

# Fields the mLUKE tokenizers fill with ints: only these take the flat route in `batch_encoding` (a bool or float
# field must keep the dtype transformers gives it); anything else, labels included, keeps transformers' conversion.
TOKENIZER_INTEGER_FIELDS = frozenset(
    (
        "input_ids",
        "attention_mask",
        "token_type_ids",
        "special_tokens_mask",
        "offset_mapping",
        "overflow_to_sample_mapping",
        "length",
        *ENTITY_FIELDS,
    )
)


def integer_array(value) -> np.ndarray | None:
    """A nested (rectangular) list of ints as one int64 array, empty rows included; None when `value` is not a nested
    list, is ragged, or holds anything but ints (callers then fall back to their usual conversion and its errors)."""
    if not (isinstance(value, list) and value and isinstance(value[0], (list, tuple))):
        return None
    shape, level = [len(value)], value
    while True:
        lengths = set(map(len, level))
        if len(lengths) != 1:
            return None
        shape.append(lengths.pop())
        if shape[-1] == 0 or not isinstance(level[0][0], (list, tuple)):
            break
        level = list(itertools.chain.from_iterable(level))
    # operator.index accepts ints (bools, numpy ints) and refuses what fromiter would otherwise coerce silently:
    # floats (truncated) and digit strings.
    leaves = map(operator.index, itertools.chain.from_iterable(level))
    try:
        flat = np.fromiter(leaves, dtype=np.int64, count=math.prod(shape))
    except (TypeError, ValueError, OverflowError):  # a float, a string, None, a deeper list, an int beyond int64
        return None
    return flat.reshape(shape)


def int64_tensor(rows):
    """`torch.tensor(rows, dtype=torch.long)` for nested int lists, through `integer_array` when they are
    rectangular (anything else goes to torch.tensor as it is, with torch's own error for ragged rows)."""
    import torch

    array = integer_array(rows)
    return torch.tensor(rows, dtype=torch.long) if array is None else torch.from_numpy(array)


def batch_encoding(data, tensor_type=None, prepend_batch_axis: bool = False, encoding=None) -> BatchEncoding:
    """`BatchEncoding(data, encoding=..., tensor_type=..., prepend_batch_axis=...)`, with the tokenizer's nested int
    fields made arrays (or tensors) first; the values, dtypes and shapes are transformers' own."""
    if tensor_type is not None and TensorType(tensor_type) in (TensorType.PYTORCH, TensorType.NUMPY):
        # With prepend_batch_axis, transformers wraps each array and stacks it with numpy (no list walk either).
        as_torch = TensorType(tensor_type) == TensorType.PYTORCH and not prepend_batch_axis
        data = dict(data)
        for key, value in data.items():
            array = integer_array(value) if key in TOKENIZER_INTEGER_FIELDS else None
            if array is not None:
                data[key] = _torch_from_numpy(array) if as_torch else array
    return BatchEncoding(data, encoding=encoding, tensor_type=tensor_type, prepend_batch_axis=prepend_batch_axis)


def _torch_from_numpy(array: np.ndarray):
    import torch  # only when tensors are asked for

    return torch.from_numpy(array)

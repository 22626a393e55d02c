"""No host-device syncs in the forward pass: nothing reads tensor values back to Python off the CPU.

Meta tensors carry shapes and dtypes but no data, so any read of their values (`.item()`, `int()`, `bool()`, a
data-dependent shape) raises "cannot be called on meta tensors". A forward that completes with the model and inputs
on the meta device therefore reads no value, which on CUDA means it never waits for the device. On CPU tensors the
input validation still reads the index ranges (cheap there) and raises clear errors.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import mluke_hf

from fixtures_model import TINY_CONFIG, tiny_config, word_entity_batch

HEADS_WITH_ENTITIES = [
    mluke_hf.MLukeModel,
    mluke_hf.MLukeForMaskedLM,
    mluke_hf.MLukeForEntityClassification,
    mluke_hf.MLukeForEntityPairClassification,
    mluke_hf.MLukeForEntitySpanClassification,
    mluke_hf.MLukeForSequenceClassification,
    mluke_hf.MLukeForTokenClassification,
    mluke_hf.MLukeForQuestionAnswering,
]

SPAN_KEYS = ("entity_start_positions", "entity_end_positions")


def _inputs_for(model_class, batch: dict) -> dict:
    if model_class is not mluke_hf.MLukeForEntitySpanClassification:
        batch = {key: value for key, value in batch.items() if key not in SPAN_KEYS}
    if model_class is mluke_hf.MLukeForEntityClassification:
        batch = {key: value[:, :1] if key.startswith("entity_") else value for key, value in batch.items()}
    if model_class is mluke_hf.MLukeForEntityPairClassification:
        batch = {key: value[:, :2] if key.startswith("entity_") else value for key, value in batch.items()}
    return batch


def _labels_for(model_class, batch: dict) -> dict:
    batch_size = batch["input_ids"].shape[0]
    if model_class is mluke_hf.MLukeForEntitySpanClassification:
        labels = torch.zeros(batch["entity_ids"].shape, dtype=torch.long)
        labels[:, -1] = -100
        return {"labels": labels}
    if model_class is mluke_hf.MLukeForTokenClassification:
        return {"labels": torch.zeros(batch["input_ids"].shape, dtype=torch.long)}
    if model_class is mluke_hf.MLukeForQuestionAnswering:
        positions = torch.full((batch_size,), 2, dtype=torch.long)
        return {"start_positions": positions, "end_positions": positions + 1}
    if model_class in (mluke_hf.MLukeForEntityClassification, mluke_hf.MLukeForEntityPairClassification):
        return {"labels": torch.zeros(batch_size, dtype=torch.long)}
    if model_class is mluke_hf.MLukeForSequenceClassification:
        return {"labels": torch.ones(batch_size, dtype=torch.long)}
    return {}


@pytest.mark.parametrize("model_class", HEADS_WITH_ENTITIES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
@pytest.mark.parametrize("entity_aware", [True, False])
def test_forward_reads_no_tensor_value_off_the_cpu(model_class, attn_implementation, entity_aware):
    num_labels = 2 if model_class is mluke_hf.MLukeForQuestionAnswering else 3
    config = tiny_config(
        use_entity_aware_attention=entity_aware, attn_implementation=attn_implementation, num_labels=num_labels
    )
    model = model_class(config).to("meta")
    batch = _inputs_for(model_class, word_entity_batch())
    batch.update(_labels_for(model_class, batch))
    meta_batch = {key: value.to("meta") for key, value in batch.items()}
    outputs = model(**meta_batch)
    first = outputs[0] if not hasattr(outputs, "last_hidden_state") else outputs.last_hidden_state
    assert first.device.type == "meta"
    if "labels" in batch or "start_positions" in batch:
        assert outputs.loss is not None and outputs.loss.device.type == "meta"


class ScalarReadCounter(TorchDispatchMode):
    """Counts the ops that copy a tensor value to the host (`.item()`, `int()`, `bool()` all land here)."""

    def __init__(self):
        super().__init__()
        self.reads = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.reads += 1
        return func(*args, **(kwargs or {}))


def test_the_counter_sees_host_reads_and_the_meta_device_refuses_them():
    # The two instruments of this file, checked on something that does read a value.
    tensor = torch.arange(4)
    with ScalarReadCounter() as counter:
        int(tensor.max())
        bool(tensor.any())
    assert counter.reads == 2
    with pytest.raises(RuntimeError, match="meta"):
        int(tensor.to("meta").max())


def test_cpu_validation_reads_index_ranges_and_still_raises():
    model = mluke_hf.MLukeForEntitySpanClassification(tiny_config()).eval()
    batch = word_entity_batch()
    with ScalarReadCounter() as counter, torch.no_grad():
        model(**batch)
    # CPU tensors: the range checks read values (min and max of each index input), which costs nothing there.
    assert counter.reads >= 2
    bad = dict(batch, entity_ids=batch["entity_ids"].clone())
    bad["entity_ids"][1, 0] = TINY_CONFIG["entity_vocab_size"] + 5
    with pytest.raises(ValueError, match=r"entity_ids must lie in \[0, 10\], got values from 0 to 16"):
        model(**bad)

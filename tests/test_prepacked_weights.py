"""Prepacked linear weights (`mluke_hf.prepack_linear_weights`): opt-in, same outputs, never stale, thread-safe.

The copy is used only while the weight is the one it was made from; everything that changes a weight the usual ways
(in-place arithmetic, `load_state_dict`, an optimizer step, `.to()`) sends the layer back to the plain kernels.
"""

from __future__ import annotations

import copy
import threading

import pytest
import torch
from torch import nn

import mluke_hf
from mluke_hf import linear_kernels
from mluke_hf.modeling_mluke import ENTITY_AWARE_QUERY_NAMES

from fixtures_model import randomize_parameters, tiny_config, word_entity_batch

# Nine linear layers per entity-aware encoder layer: query, key, value, three entity-aware queries, attention output,
# intermediate, output.
LINEARS_PER_LAYER = 9


@pytest.fixture
def onednn_on(monkeypatch):
    """float32 on oneDNN as on an AMD AVX-512 CPU, whatever this machine is."""
    if not torch.backends.mkldnn.is_available():
        pytest.fail("this PyTorch build has no oneDNN; the CPU build of torch==2.13.0 has it")
    monkeypatch.setattr(linear_kernels, "_use_onednn_fp32", lambda: True)


def span_model(dtype=torch.float32) -> nn.Module:
    config = tiny_config(use_entity_aware_attention=True, num_labels=5)
    return randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(config)).eval().to(dtype)


def span_inputs() -> dict[str, torch.Tensor]:
    batch = word_entity_batch()
    entities = batch["entity_ids"].shape[1]
    batch["entity_start_positions"] = torch.ones(batch["entity_ids"].shape[0], entities, dtype=torch.long)
    batch["entity_end_positions"] = torch.full_like(batch["entity_start_positions"], 2)
    return batch


def logits(model, inputs) -> torch.Tensor:
    with torch.inference_mode():
        return model(**inputs).logits.float()


def prepacked_layers(model) -> list[nn.Linear]:
    return [module for module in model.modules() if linear_kernels._PREPACKED in module.__dict__]


def test_prepacked_float32_gives_the_same_logits(onednn_on):
    model, inputs = span_model(), span_inputs()
    expected = logits(model, inputs)
    count = mluke_hf.prepack_linear_weights(model)
    assert count == LINEARS_PER_LAYER * model.config.num_hidden_layers == len(prepacked_layers(model))
    # Only the encoder's layers: the head's classifier and the pooler are called directly, so a copy would be waste.
    assert model.classifier not in prepacked_layers(model)
    torch.testing.assert_close(logits(model, inputs), expected, atol=1e-5, rtol=1e-5)


def test_prepacked_layers_are_the_ones_used(onednn_on):
    model = span_model()
    mluke_hf.prepack_linear_weights(model)
    states = torch.randn(3, model.config.hidden_size)
    for layer in prepacked_layers(model):
        with torch.no_grad():
            assert linear_kernels._prepacked_weight(layer, states) is layer.__dict__[linear_kernels._PREPACKED].packed
        # Training records gradients: the plain layer runs.
        assert linear_kernels._prepacked_weight(layer, states) is None


def test_bfloat16_prepacks_where_onednn_runs_it():
    model, inputs = span_model(torch.bfloat16), span_inputs()
    expected = logits(model, inputs)
    count = mluke_hf.prepack_linear_weights(model)
    if linear_kernels._onednn_bf16():
        assert count == LINEARS_PER_LAYER * model.config.num_hidden_layers
    else:  # no bfloat16 support in this CPU's oneDNN: nothing to gain, nothing stored
        assert count == 0 and not prepacked_layers(model)
    torch.testing.assert_close(logits(model, inputs), expected, atol=2e-2, rtol=2e-2)


def test_nothing_is_prepacked_where_onednn_does_not_run_the_layer(monkeypatch):
    monkeypatch.setattr(linear_kernels, "_use_onednn_fp32", lambda: False)  # float32 on an Intel CPU: MKL runs it
    model = span_model()
    assert mluke_hf.prepack_linear_weights(model) == 0 and not prepacked_layers(model)
    assert mluke_hf.prepack_linear_weights(span_model(torch.float16)) == 0


@pytest.mark.parametrize("change", ["in-place", "load_state_dict", "optimizer step", "to bfloat16", "deepcopy"])
def test_a_changed_weight_never_uses_its_stale_copy(change, onednn_on):
    model, inputs = span_model(), span_inputs()
    mluke_hf.prepack_linear_weights(model)
    other = randomize_parameters(span_model(), seed=1)
    if change == "in-place":
        with torch.no_grad():
            for layer in prepacked_layers(model):
                layer.weight.mul_(1.5)
    elif change == "load_state_dict":
        model.load_state_dict(other.state_dict())
    elif change == "optimizer step":
        model.train()
        torch.optim.SGD(model.parameters(), lr=0.5).zero_grad()
        model(**span_inputs()).logits.sum().backward()
        torch.optim.SGD(model.parameters(), lr=0.5).step()
        model.eval()
    elif change == "to bfloat16":
        model = model.to(torch.bfloat16)
    elif change == "deepcopy":
        model = copy.deepcopy(model)
    # The reference: the same weights, never prepacked (a deep copy holds no copies, see the pickle test).
    reference = copy.deepcopy(model)
    assert mluke_hf.unprepack_linear_weights(reference) == 0
    states = torch.randn(2, model.config.hidden_size, dtype=next(model.parameters()).dtype)
    with torch.no_grad():
        assert all(linear_kernels._prepacked_weight(layer, states) is None for layer in prepacked_layers(model))
    torch.testing.assert_close(logits(model, inputs), logits(reference, inputs), atol=0, rtol=0)


def test_prepacking_again_follows_the_new_weights(onednn_on):
    model, inputs = span_model(), span_inputs()
    mluke_hf.prepack_linear_weights(model)
    model.load_state_dict(randomize_parameters(span_model(), seed=2).state_dict())
    expected = logits(model, inputs)
    assert mluke_hf.prepack_linear_weights(model) == LINEARS_PER_LAYER * model.config.num_hidden_layers
    states = torch.randn(2, model.config.hidden_size)
    with torch.no_grad():
        assert all(linear_kernels._prepacked_weight(layer, states) is not None for layer in prepacked_layers(model))
    torch.testing.assert_close(logits(model, inputs), expected, atol=1e-5, rtol=1e-5)


def test_saved_files_and_state_dict_do_not_change(onednn_on, tmp_path):
    model = span_model()
    keys = list(model.state_dict())
    model.save_pretrained(tmp_path / "plain")
    mluke_hf.prepack_linear_weights(model)
    assert list(model.state_dict()) == keys
    model.save_pretrained(tmp_path / "prepacked")
    plain, prepacked = (
        sorted(p.name for p in (tmp_path / "plain").iterdir()),
        sorted(p.name for p in (tmp_path / "prepacked").iterdir()),
    )
    assert plain == prepacked
    assert (tmp_path / "plain" / "model.safetensors").read_bytes() == (
        tmp_path / "prepacked" / "model.safetensors"
    ).read_bytes()


def test_unprepack_drops_every_copy(onednn_on):
    model = span_model()
    count = mluke_hf.prepack_linear_weights(model)
    assert mluke_hf.unprepack_linear_weights(model) == count > 0
    assert not prepacked_layers(model) and mluke_hf.unprepack_linear_weights(model) == 0


def test_a_prepacked_model_serves_threads(onednn_on):
    model, inputs = span_model(), span_inputs()
    mluke_hf.prepack_linear_weights(model)
    expected = logits(model, inputs)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(logits(model, inputs))
        except Exception as error:  # noqa: BLE001 - collected and reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 40
    assert all(torch.equal(result, expected) for result in results)


def test_copies_and_pickles_of_a_prepacked_model_work_and_hold_no_copy(onednn_on):
    import pickle

    model, inputs = span_model(), span_inputs()
    mluke_hf.prepack_linear_weights(model)
    expected = logits(model, inputs)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        states = torch.randn(2, clone.config.hidden_size)
        with torch.no_grad():
            assert all(linear_kernels._prepacked_weight(layer, states) is None for layer in clone.modules())
        torch.testing.assert_close(logits(clone, inputs), expected, atol=1e-5, rtol=1e-5)
        assert mluke_hf.prepack_linear_weights(clone) > 0  # and it can be prepacked on its own


def test_idle_entity_aware_queries_are_not_prepacked(onednn_on):
    """Released configs turn entity-aware attention off, yet their weights hold the three queries: no copy of those."""
    config = tiny_config(use_entity_aware_attention=False, num_labels=5)
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(config)).eval()
    count = mluke_hf.prepack_linear_weights(model)
    assert count == (LINEARS_PER_LAYER - 3) * config.num_hidden_layers
    for attention in (layer.attention.self for layer in model.luke.encoder.layer):
        assert linear_kernels._PREPACKED in attention.query.__dict__
        for name in ENTITY_AWARE_QUERY_NAMES:
            assert linear_kernels._PREPACKED not in getattr(attention, name).__dict__

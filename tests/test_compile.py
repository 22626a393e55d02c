"""torch.compile(fullgraph=True) traces the whole mLUKE forward (no graph breaks) and computes what eager computes.

`fullgraph=True` turns any graph break into an error, so each case passing is the no-graph-break check. The fast
cases trace with dynamo only (`backend="eager"`); the slow ones add AOTAutograd (`aot_eager`: forward and backward of
a training step, gradients compared) and the default inductor backend (generated code, outputs compared).
"""

from __future__ import annotations

import shutil

import pytest
import torch

import mluke_hf

from fixtures_model import randomize_parameters, tiny_config, word_entity_batch

ATOL = 1e-5
SPAN_KEYS = ("entity_start_positions", "entity_end_positions")


def _model(model_class, entity_aware: bool, attn_implementation: str):
    config = tiny_config(use_entity_aware_attention=entity_aware)
    config._attn_implementation = attn_implementation
    torch.manual_seed(0)
    return randomize_parameters(model_class(config)).eval()


def _inputs(model_class, with_entities: bool = True) -> dict[str, torch.Tensor]:
    batch = word_entity_batch(0, with_entities=with_entities)
    if model_class is not mluke_hf.MLukeForEntitySpanClassification:
        for key in SPAN_KEYS:
            batch.pop(key, None)
    return batch


def _assert_outputs_close(compiled_output, eager_output) -> None:
    compared = 0
    for name, expected in eager_output.items():
        if isinstance(expected, torch.Tensor):
            torch.testing.assert_close(compiled_output[name], expected, atol=ATOL, rtol=0, msg=name)
            compared += 1
    assert compared >= 1


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize(
    ("entity_aware", "attn_implementation"),
    [(False, "sdpa"), (True, "sdpa"), (True, "eager")],
    ids=["plain-sdpa", "entity_aware-sdpa", "entity_aware-eager"],
)
def test_model_forward_compiles_without_graph_breaks(entity_aware, attn_implementation):
    model = _model(mluke_hf.MLukeModel, entity_aware, attn_implementation)
    inputs = _inputs(mluke_hf.MLukeModel)
    with torch.no_grad():
        # A compiled forward keeps the padding rows (packing needs data-dependent shapes): compare like with like.
        expected = model(**inputs, keep_padding_rows=True)
        compiled = torch.compile(model, fullgraph=True, backend="eager")(**inputs)
    _assert_outputs_close(compiled, expected)


def test_words_only_forward_compiles():
    model = _model(mluke_hf.MLukeModel, True, "sdpa")
    inputs = _inputs(mluke_hf.MLukeModel, with_entities=False)
    with torch.no_grad():
        # A compiled forward keeps the padding rows (packing needs data-dependent shapes): compare like with like.
        expected = model(**inputs, keep_padding_rows=True)
        compiled = torch.compile(model, fullgraph=True, backend="eager")(**inputs)
    _assert_outputs_close(compiled, expected)
    assert compiled.entity_last_hidden_state is None


@pytest.mark.slow
@pytest.mark.parametrize("entity_aware", [False, True], ids=["plain", "entity_aware"])
def test_span_classification_training_step_compiles(entity_aware):
    """The NER head with labels: compiled loss and gradients equal eager ones."""
    inputs = _inputs(mluke_hf.MLukeForEntitySpanClassification)
    labels = torch.randint(0, 3, inputs["entity_ids"].shape, generator=torch.Generator().manual_seed(1))
    labels[inputs["entity_attention_mask"] == 0] = -100
    inputs["labels"] = labels
    eager_model = _model(mluke_hf.MLukeForEntitySpanClassification, entity_aware, "sdpa").train()
    compiled_model = _model(mluke_hf.MLukeForEntitySpanClassification, entity_aware, "sdpa").train()

    eager_loss = eager_model(**inputs).loss
    eager_loss.backward()
    compiled_loss = torch.compile(compiled_model, fullgraph=True, backend="aot_eager")(**inputs).loss
    compiled_loss.backward()

    torch.testing.assert_close(compiled_loss, eager_loss, atol=ATOL, rtol=0)
    eager_gradients = dict(eager_model.named_parameters())
    checked = 0
    for name, parameter in compiled_model.named_parameters():
        expected = eager_gradients[name].grad
        if expected is None:
            assert parameter.grad is None, name
            continue
        torch.testing.assert_close(parameter.grad, expected, atol=ATOL, rtol=1e-4, msg=name)
        checked += 1
    # The entity-aware queries get gradients exactly when the feature is on.
    query_grads = [
        name
        for name, parameter in compiled_model.named_parameters()
        if "e2e_query" in name and parameter.grad is not None
    ]
    assert bool(query_grads) == entity_aware
    assert checked > 10


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None, reason="inductor needs a C compiler")
def test_inductor_compiles_entity_aware_forward():
    model = _model(mluke_hf.MLukeModel, True, "sdpa")
    inputs = _inputs(mluke_hf.MLukeModel)
    with torch.no_grad():
        # A compiled forward keeps the padding rows (packing needs data-dependent shapes): compare like with like.
        expected = model(**inputs, keep_padding_rows=True)
        compiled = torch.compile(model, fullgraph=True)(**inputs)
    _assert_outputs_close(compiled, expected)

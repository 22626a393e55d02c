"""`retain_grad()` on `hidden_states[i]` / `entity_hidden_states[i]` gets a gradient, as on transformers' LukeModel
(its upstream tests `test_retain_grad_hidden_states_attentions` and `test_retain_grad_entity_hidden_states`)."""

from __future__ import annotations

import pytest
import torch

from mluke_hf import MLukeModel

from fixtures_model import randomize_parameters, tiny_config, word_entity_batch


def _model(**overrides) -> MLukeModel:
    return randomize_parameters(MLukeModel(tiny_config(**overrides))).train()


@pytest.mark.parametrize("entity_aware", [False, True])
def test_every_word_and_entity_state_receives_gradients(entity_aware):
    model = _model(use_entity_aware_attention=entity_aware)
    batch = word_entity_batch()
    batch.pop("entity_start_positions"), batch.pop("entity_end_positions")
    outputs = model(**batch, output_hidden_states=True, output_attentions=True)
    states = [*outputs.hidden_states, *outputs.entity_hidden_states]
    assert len(states) == 2 * (model.config.num_hidden_layers + 1)
    for state in states:
        state.retain_grad()
    outputs.attentions[0].retain_grad()
    loss = outputs.last_hidden_state.sum() + outputs.entity_last_hidden_state.pow(2).sum()
    loss.backward()
    # Every layer's states lie on the path to both outputs (the last ones are the outputs themselves).
    for index, state in enumerate(states):
        assert state.grad is not None, index
        assert state.grad.abs().sum() > 0, index
    assert outputs.attentions[0].grad is not None
    assert outputs.hidden_states[-1] is outputs.last_hidden_state
    assert outputs.entity_hidden_states[-1] is outputs.entity_last_hidden_state


def test_states_equal_the_outputs_without_hidden_states():
    """Collecting the states (split and rejoined at each layer) changes no value."""
    model = _model().eval()
    batch = word_entity_batch(seed=1)
    batch.pop("entity_start_positions"), batch.pop("entity_end_positions")
    with torch.no_grad():
        plain = model(**batch, keep_padding_rows=True)  # the padded computation, as collecting states runs it
        collected = model(**batch, output_hidden_states=True)
        words = {key: value for key, value in batch.items() if not key.startswith("entity")}
        words_only = model(**words, output_hidden_states=True)
    assert torch.equal(plain.last_hidden_state, collected.last_hidden_state)
    assert torch.equal(plain.entity_last_hidden_state, collected.entity_last_hidden_state)
    assert words_only.entity_hidden_states is None
    assert words_only.hidden_states[-1] is words_only.last_hidden_state

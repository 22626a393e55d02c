"""Behaviour of the mLUKE models: attention kinds, gradient checkpointing, dtypes, ties, input errors."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

import mluke_hf
from mluke_hf.modeling_mluke import MLukeSelfAttention, mean_position_embeddings

from fixtures_model import TINY_CONFIG, randomize_parameters, tiny_config, word_entity_batch


def masked_lm_inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    batch = word_entity_batch(seed)
    for key in ("entity_start_positions", "entity_end_positions"):
        batch.pop(key)
    labels = batch["input_ids"].clone()
    labels[batch["attention_mask"] == 0] = -100
    entity_labels = batch["entity_ids"].clone()
    entity_labels[batch["entity_attention_mask"] == 0] = -100
    return {**batch, "labels": labels, "entity_labels": entity_labels}


def masked_lm(
    attn_implementation: str = "sdpa", entity_aware: bool = True, seed: int = 0
) -> mluke_hf.MLukeForMaskedLM:
    config = tiny_config(use_entity_aware_attention=entity_aware)
    config._attn_implementation = attn_implementation
    return randomize_parameters(mluke_hf.MLukeForMaskedLM(config), seed)


def gradients(model: nn.Module, inputs: dict) -> dict[str, torch.Tensor]:
    model.zero_grad()
    model(**inputs).loss.backward()
    return {name: parameter.grad.clone() for name, parameter in model.named_parameters() if parameter.grad is not None}


@pytest.mark.parametrize("entity_aware", [False, True], ids=["plain", "entity_aware"])
def test_eager_sdpa_and_gradient_checkpointing_give_the_same_outputs_and_gradients(entity_aware):
    inputs = masked_lm_inputs()
    reference = masked_lm("eager", entity_aware).train()  # dropout is 0 in the tiny config
    reference_gradients = gradients(reference, inputs)
    assert len(reference_gradients) > 20

    candidates = {"sdpa": masked_lm("sdpa", entity_aware).train()}
    checkpointed = masked_lm("sdpa", entity_aware).train()
    checkpointed.activation_checkpointing_enable()
    assert all(layer.gradient_checkpointing for layer in checkpointed.luke.encoder.layer)
    candidates["sdpa+checkpointing"] = checkpointed
    for name, model in candidates.items():
        candidate_gradients = gradients(model, inputs)
        assert candidate_gradients.keys() == reference_gradients.keys(), name
        for key, value in reference_gradients.items():
            torch.testing.assert_close(candidate_gradients[key], value, atol=1e-5, rtol=1e-4, msg=f"{name}: {key}")


def test_entity_aware_queries_matter_only_when_the_feature_is_on():
    inputs = masked_lm_inputs()
    model = masked_lm("sdpa", entity_aware=False).eval()
    with torch.no_grad():
        # Peaked attention, so which query is used shows clearly in the outputs.
        for name, parameter in model.named_parameters():
            if "query" in name or "key" in name:
                parameter.mul_(20)
        plain = model(**inputs).logits
        model.config.use_entity_aware_attention = True
        aware = model(**inputs).logits
        for layer in model.luke.encoder.layer:
            layer.attention.self.w2e_query.weight.zero_()
        changed = model(**inputs).logits
    assert (plain - aware).abs().max() > 1e-3
    assert (aware - changed).abs().max() > 1e-3


def test_entity_aware_attention_equals_the_four_query_formula():
    """The joint-query formulation against LUKE's definition written out block by block."""
    torch.manual_seed(0)
    config = tiny_config(use_entity_aware_attention=True)
    config._attn_implementation = "sdpa"
    attention = randomize_parameters(MLukeSelfAttention(config)).eval()
    words, entities = torch.randn(2, 5, 32), torch.randn(2, 3, 32)
    joint = torch.cat([words, entities], dim=1)
    with torch.no_grad():
        output, _ = attention(joint, None, word_length=5)

        def heads(states):  # (batch, length, hidden) -> (batch, heads, length, head_dim)
            return states.view(*states.shape[:2], config.num_attention_heads, -1).transpose(1, 2)

        key, value = heads(attention.key(joint)), heads(attention.value(joint))
        scores_words = torch.cat(
            [heads(attention.query(words)) @ key[:, :, :5].mT, heads(attention.w2e_query(words)) @ key[:, :, 5:].mT],
            dim=-1,
        )
        scores_entities = torch.cat(
            [
                heads(attention.e2w_query(entities)) @ key[:, :, :5].mT,
                heads(attention.e2e_query(entities)) @ key[:, :, 5:].mT,
            ],
            dim=-1,
        )
        probabilities = torch.softmax(torch.cat([scores_words, scores_entities], dim=2) / 8**0.5, dim=-1)
        expected = (probabilities @ value).transpose(1, 2).reshape(2, 8, 32)
    torch.testing.assert_close(output, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
def test_half_precision_forward(dtype, attn_implementation):
    inputs = masked_lm_inputs()
    model = masked_lm(attn_implementation).eval()
    with torch.no_grad():
        full = model(**inputs)
        half = model.to(dtype)(**inputs)
    assert half.logits.dtype == dtype and half.entity_logits.dtype == dtype
    assert torch.isfinite(half.loss) and torch.isfinite(half.logits).all()
    torch.testing.assert_close(half.logits.float(), full.logits, atol=0.1, rtol=0.05)
    torch.testing.assert_close(half.entity_logits.float(), full.entity_logits, atol=0.1, rtol=0.05)


def test_masked_lm_ties_decoders_to_the_embeddings():
    model = mluke_hf.MLukeForMaskedLM(tiny_config())
    assert model.lm_head.decoder.weight is model.luke.embeddings.word_embeddings.weight
    assert model.lm_head.decoder.bias is model.lm_head.bias
    assert model.entity_predictions.decoder.weight is model.luke.entity_embeddings.entity_embeddings.weight
    untied = mluke_hf.MLukeForMaskedLM(tiny_config(tie_word_embeddings=False))
    assert untied.lm_head.decoder.weight is not untied.luke.embeddings.word_embeddings.weight


def test_masked_lm_losses_are_separate_and_summed():
    inputs = masked_lm_inputs()
    model = masked_lm().eval()
    with torch.no_grad():
        both = model(**inputs)
        words_only = model(**{k: v for k, v in inputs.items() if k != "entity_labels"})
        entities_only = model(**{k: v for k, v in inputs.items() if k != "labels"})
    torch.testing.assert_close(both.loss, both.mlm_loss + both.mep_loss)
    torch.testing.assert_close(words_only.loss, both.mlm_loss)
    assert words_only.mep_loss is None
    torch.testing.assert_close(entities_only.loss, both.mep_loss)
    assert entities_only.mlm_loss is None


def test_mention_position_average_ignores_padding():
    table = nn.Embedding(10, 4)
    positions = torch.tensor([[[1, 2, -1], [3, -1, -1], [-1, -1, -1]]])
    averaged = mean_position_embeddings(positions, table)
    weight = table.weight.detach()
    torch.testing.assert_close(averaged[0, 0], (weight[1] + weight[2]) / 2)
    torch.testing.assert_close(averaged[0, 1], weight[3])
    torch.testing.assert_close(averaged[0, 2], torch.zeros(4))


def test_fresh_models_start_entity_aware_queries_from_query():
    model = mluke_hf.MLukeModel(tiny_config())
    attention = model.encoder.layer[0].attention.self
    for name in ("w2e_query", "e2w_query", "e2e_query"):
        assert torch.equal(getattr(attention, name).weight, attention.query.weight)


def test_outputs_carry_entity_states_and_attentions():
    model = masked_lm("sdpa").eval()
    with torch.no_grad():
        outputs = model.luke(**word_entity_batch(), output_hidden_states=True, output_attentions=True)
    layers = TINY_CONFIG["num_hidden_layers"]
    assert outputs.last_hidden_state.shape == (3, 9, 32)
    assert outputs.entity_last_hidden_state.shape == (3, 4, 32)
    assert len(outputs.hidden_states) == len(outputs.entity_hidden_states) == layers + 1
    assert len(outputs.attentions) == layers and outputs.attentions[0].shape == (3, 4, 13, 13)
    # Padding entities get no attention.
    assert outputs.attentions[0][1, :, :, 9 + 2 :].abs().max() == 0


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda batch: batch.pop("entity_position_ids"), "entity_position_ids is required"),
        (lambda batch: batch.update(entity_position_ids=batch["entity_position_ids"][:, :2]), "entity_position_ids"),
        (lambda batch: batch.update(entity_ids=batch["entity_ids"][:1]), "entity_ids must have shape"),
        (lambda batch: batch.pop("input_ids"), "exactly one of input_ids or inputs_embeds"),
    ],
)
def test_bad_entity_inputs_raise_clear_errors(change, message):
    model = mluke_hf.MLukeModel(tiny_config()).eval()
    batch = word_entity_batch()
    for key in ("entity_start_positions", "entity_end_positions"):
        batch.pop(key)
    change(batch)
    with pytest.raises(ValueError, match=message):
        model(**batch)


def _set_first(key: str, value: int):
    def change(batch):
        batch[key] = batch[key].clone()
        batch[key].view(-1)[0] = value

    return change


@pytest.mark.parametrize(
    "key,value",
    [
        ("input_ids", TINY_CONFIG["vocab_size"]),
        ("entity_ids", TINY_CONFIG["entity_vocab_size"]),
        ("entity_ids", -3),
        ("entity_position_ids", TINY_CONFIG["max_position_embeddings"]),
        ("entity_position_ids", -2),
        ("entity_start_positions", 9),
        ("entity_end_positions", 100),
    ],
)
def test_indices_out_of_range_raise_errors_naming_the_argument(key, value):
    model = mluke_hf.MLukeForEntitySpanClassification(tiny_config()).eval()
    batch = word_entity_batch()
    _set_first(key, value)(batch)
    with pytest.raises(ValueError, match=rf"{key} must lie in \[-?\d+, \d+\], got values from"):
        model(**batch)


def test_entity_heads_demand_their_inputs():
    batch = word_entity_batch(with_entities=False)
    with pytest.raises(ValueError, match="pass entity_ids"):
        mluke_hf.MLukeForEntityClassification(tiny_config())(**batch)
    with pytest.raises(ValueError, match="entity_start_positions and entity_end_positions"):
        mluke_hf.MLukeForEntitySpanClassification(tiny_config())(**batch)
    with pytest.raises(ValueError, match="num_labels must be 2"):
        mluke_hf.MLukeForQuestionAnswering(tiny_config(num_labels=3))(**batch)
    with pytest.raises(ValueError, match="num_attention_heads"):
        mluke_hf.MLukeModel(tiny_config(hidden_size=30))


def test_inputs_embeds_equal_input_ids_when_nothing_is_padded():
    model = mluke_hf.MLukeModel(tiny_config()).eval()
    batch = word_entity_batch(batch_size=1)
    for key in ("entity_start_positions", "entity_end_positions", "input_ids"):
        batch.pop(key)
    input_ids = word_entity_batch(batch_size=1)["input_ids"]
    with torch.no_grad():
        from_ids = model(input_ids=input_ids, **batch).entity_last_hidden_state
        from_embeds = model(
            inputs_embeds=model.embeddings.word_embeddings(input_ids), **batch
        ).entity_last_hidden_state
    torch.testing.assert_close(from_ids, from_embeds)


def test_trainer_scales_the_loss_itself():
    assert mluke_hf.MLukeForMaskedLM.accepts_loss_kwargs is False


def test_no_warning_when_entity_aware_queries_are_present(caplog):
    model = masked_lm()
    with caplog.at_level(logging.WARNING):
        model.init_weights()
    assert "entity-aware query" not in caplog.text


@pytest.mark.parametrize("entity_aware", [False, True], ids=["plain", "entity_aware"])
def test_flex_attention_equals_eager_in_inference(entity_aware):
    """Flex attention runs on CPU without autograd only, so this checks the inference forward."""
    inputs = masked_lm_inputs()
    for key in ("labels", "entity_labels"):
        inputs.pop(key)
    reference = masked_lm("eager", entity_aware).eval()
    flex = masked_lm("eager", entity_aware).eval()
    flex.set_attn_implementation("flex_attention")
    assert flex.config._attn_implementation == "flex_attention"
    with torch.no_grad():
        expected, actual = reference(**inputs), flex(**inputs)
    rows = inputs["attention_mask"].bool()
    torch.testing.assert_close(actual.logits[rows], expected.logits[rows], atol=1e-5, rtol=1e-4)
    entity_rows = inputs["entity_attention_mask"].bool()
    torch.testing.assert_close(
        actual.entity_logits[entity_rows], expected.entity_logits[entity_rows], atol=1e-5, rtol=1e-4
    )

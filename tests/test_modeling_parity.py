"""Every mluke_hf head equals transformers' in-tree LUKE head on the same weights.

The in-tree LUKE of transformers 5.x (eager attention only) is the numerical oracle here, in tests only. Each case
loads one state dict into both models and compares every output (losses, logits, word and entity hidden states,
attentions) on a padded batch with labels, for eager and sdpa attention, entity-aware attention on and off, and the
tuple form (`return_dict=False`).

`python tests/test_modeling_parity.py` prints the max |diff| table of the report.
"""

from __future__ import annotations

import pytest
import torch
import transformers

import mluke_hf

from fixtures_model import BATCH_SIZE, NUM_CHOICES, TINY_CONFIG, randomize_parameters, tiny_config, word_entity_batch

ATOL = 1e-5

# (plugin class, in-tree class name, inputs kind)
HEADS = [
    (mluke_hf.MLukeModel, "LukeModel", "plain"),
    (mluke_hf.MLukeForMaskedLM, "LukeForMaskedLM", "masked_lm"),
    (mluke_hf.MLukeForEntityClassification, "LukeForEntityClassification", "entity"),
    (mluke_hf.MLukeForEntityPairClassification, "LukeForEntityPairClassification", "entity_pair"),
    (mluke_hf.MLukeForEntitySpanClassification, "LukeForEntitySpanClassification", "entity_span"),
    (mluke_hf.MLukeForSequenceClassification, "LukeForSequenceClassification", "sequence"),
    (mluke_hf.MLukeForTokenClassification, "LukeForTokenClassification", "token"),
    (mluke_hf.MLukeForQuestionAnswering, "LukeForQuestionAnswering", "question_answering"),
    (mluke_hf.MLukeForMultipleChoice, "LukeForMultipleChoice", "multiple_choice"),
]

SPAN_KEYS = ("entity_start_positions", "entity_end_positions")


def head_inputs(kind: str, seed: int = 0, multi_label: bool = False) -> dict[str, torch.Tensor]:
    """A padded batch with labels for the head `kind`."""
    generator = torch.Generator().manual_seed(seed + 100)
    num_labels = TINY_CONFIG["num_labels"]
    batch = word_entity_batch(seed)
    if kind != "entity_span":
        for key in SPAN_KEYS:
            batch.pop(key)
    if kind == "masked_lm":
        labels = torch.randint(0, TINY_CONFIG["vocab_size"], batch["input_ids"].shape, generator=generator)
        labels[torch.rand(labels.shape, generator=generator) < 0.5] = -100
        entity_labels = torch.randint(
            0, TINY_CONFIG["entity_vocab_size"], batch["entity_ids"].shape, generator=generator
        )
        entity_labels[batch["entity_attention_mask"] == 0] = -100
        batch.update(labels=labels, entity_labels=entity_labels)
    elif kind in ("entity", "entity_pair", "sequence"):
        if multi_label:
            batch["labels"] = torch.randint(0, 2, (BATCH_SIZE, num_labels), generator=generator).float()
        else:
            batch["labels"] = torch.randint(0, num_labels, (BATCH_SIZE,), generator=generator)
    elif kind == "entity_span":
        if multi_label:
            shape = (*batch["entity_ids"].shape, num_labels)
            batch["labels"] = torch.randint(0, 2, shape, generator=generator).float()
        else:
            labels = torch.randint(0, num_labels, batch["entity_ids"].shape, generator=generator)
            labels[batch["entity_attention_mask"] == 0] = -100
            batch["labels"] = labels
    elif kind == "token":
        labels = torch.randint(0, num_labels, batch["input_ids"].shape, generator=generator)
        labels[batch["attention_mask"] == 0] = -100
        batch["labels"] = labels
    elif kind == "question_answering":
        batch["start_positions"] = torch.tensor([1, 3, 40])  # 40: outside the sequence, ignored by the loss
        batch["end_positions"] = torch.tensor([2, 4, 40])
    elif kind == "multiple_choice":
        second = word_entity_batch(seed + 1)
        batch = {key: torch.stack([batch[key], second[key]], dim=1) for key in batch if key not in SPAN_KEYS}
        batch["labels"] = torch.randint(0, NUM_CHOICES, (BATCH_SIZE,), generator=generator)
    return batch


def intree_config(config: mluke_hf.MLukeConfig, attn_implementation: str = "eager") -> transformers.LukeConfig:
    values = {key: getattr(config, key) for key in TINY_CONFIG if key != "num_labels"}
    values["num_labels"] = config.num_labels
    intree = transformers.LukeConfig(**values, use_entity_aware_attention=config.use_entity_aware_attention)
    intree._attn_implementation = attn_implementation
    return intree


def model_pair(plugin_class, intree_name: str, entity_aware: bool, attn_implementation: str, seed: int = 0):
    """(plugin model, in-tree model) in eval mode holding the same random weights."""
    # Question answering scores starts and ends: two labels.
    num_labels = 2 if plugin_class is mluke_hf.MLukeForQuestionAnswering else TINY_CONFIG["num_labels"]
    config = tiny_config(use_entity_aware_attention=entity_aware, num_labels=num_labels)
    config._attn_implementation = attn_implementation
    torch.manual_seed(seed)
    plugin = randomize_parameters(plugin_class(config), seed).eval()
    with torch.no_grad():
        # Peaked attention: a wrong query projection, mask or scale then shows far above the tolerance.
        for name, parameter in plugin.named_parameters():
            if "query" in name or "attention.self.key" in name:
                parameter.mul_(10)
    intree = getattr(transformers, intree_name)(intree_config(config)).eval()
    result = intree.load_state_dict(plugin.state_dict(), strict=False)
    assert not result.missing_keys, result.missing_keys
    # Only the entity-aware queries, which the in-tree model lacks when the feature is off, may be left over.
    assert all(("_query." in key and not entity_aware) for key in result.unexpected_keys), result.unexpected_keys
    return plugin, intree


def max_differences(plugin_output, intree_output) -> dict[str, float]:
    """max |diff| of every tensor field; raises when the fields differ."""
    assert list(plugin_output.keys()) == list(intree_output.keys())
    differences = {}
    for key in intree_output.keys():
        ours, theirs = plugin_output[key], intree_output[key]
        if isinstance(theirs, torch.Tensor):
            differences[key] = (ours - theirs).abs().max().item()
        else:
            assert len(ours) == len(theirs), key
            differences[key] = max((a - b).abs().max().item() for a, b in zip(ours, theirs))
    return differences


def compare_head(plugin_class, intree_name, kind, entity_aware, attn_implementation, multi_label=False):
    plugin, intree = model_pair(plugin_class, intree_name, entity_aware, attn_implementation)
    inputs = head_inputs(kind, multi_label=multi_label)
    # Attentions come from the eager path only; ask for them in the eager case so sdpa really runs sdpa.
    output_attentions = attn_implementation == "eager"
    with torch.no_grad():
        ours = plugin(**inputs, output_hidden_states=True, output_attentions=output_attentions)
        theirs = intree(**inputs, output_hidden_states=True, output_attentions=output_attentions)
    return max_differences(ours, theirs), (plugin, intree, inputs)


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
@pytest.mark.parametrize("entity_aware", [False, True], ids=["plain", "entity_aware"])
@pytest.mark.parametrize("plugin_class,intree_name,kind", HEADS, ids=[name for _, name, _ in HEADS])
def test_head_equals_intree_luke(plugin_class, intree_name, kind, entity_aware, attn_implementation):
    differences, (plugin, intree, inputs) = compare_head(
        plugin_class, intree_name, kind, entity_aware, attn_implementation
    )
    if kind != "plain":
        assert "loss" in differences  # labels were given, so the loss is compared too
    assert differences and max(differences.values()) < ATOL, differences
    # The entity states are part of every output, so entity inputs really went through.
    assert "entity_hidden_states" in differences or "entity_last_hidden_state" in differences

    # Tuple form: same order and values.
    with torch.no_grad():
        ours = plugin(**inputs, output_hidden_states=True, return_dict=False)
        theirs = intree(**inputs, output_hidden_states=True, return_dict=False)
    assert len(ours) == len(theirs)
    for our_item, their_item in zip(ours, theirs):
        if isinstance(their_item, torch.Tensor):
            torch.testing.assert_close(our_item, their_item, atol=ATOL, rtol=0)
        else:
            for a, b in zip(our_item, their_item):
                torch.testing.assert_close(a, b, atol=ATOL, rtol=0)


@pytest.mark.parametrize(
    "plugin_class,intree_name,kind",
    [head for head in HEADS if head[2] in ("entity", "entity_pair", "entity_span", "sequence")],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_multi_hot_labels_use_binary_cross_entropy_like_intree(plugin_class, intree_name, kind):
    differences, (plugin, _, inputs) = compare_head(
        plugin_class, intree_name, kind, entity_aware=True, attn_implementation="sdpa", multi_label=True
    )
    assert max(differences.values()) < ATOL, differences
    if kind == "sequence":
        assert plugin.config.problem_type == "multi_label_classification"


def test_sequence_classification_regression_matches_intree():
    config_overrides = {"num_labels": 1}
    plugin = randomize_parameters(mluke_hf.MLukeForSequenceClassification(tiny_config(**config_overrides))).eval()
    intree = transformers.LukeForSequenceClassification(
        transformers.LukeConfig(**{**TINY_CONFIG, **config_overrides})
    ).eval()
    intree.load_state_dict(plugin.state_dict(), strict=False)
    inputs = head_inputs("sequence")
    inputs["labels"] = torch.randn(BATCH_SIZE)
    with torch.no_grad():
        ours, theirs = plugin(**inputs), intree(**inputs)
    assert plugin.config.problem_type == "regression"
    torch.testing.assert_close(ours.loss, theirs.loss, atol=ATOL, rtol=0)


def test_words_only_inputs_match_intree():
    plugin, intree = model_pair(mluke_hf.MLukeForMaskedLM, "LukeForMaskedLM", True, "sdpa")
    inputs = word_entity_batch(with_entities=False)
    with torch.no_grad():
        ours, theirs = plugin(**inputs), intree(**inputs)
    assert ours.entity_logits is None and theirs.entity_logits is None
    words = inputs["attention_mask"].bool()  # without labels, padding rows are left out (mluke_hf.packing)
    torch.testing.assert_close(ours.logits[words], theirs.logits[words], atol=ATOL, rtol=0)


def parity_table() -> list[tuple[str, str, str, float]]:
    rows = []
    for plugin_class, intree_name, kind in HEADS:
        for entity_aware in (False, True):
            for attn_implementation in ("eager", "sdpa"):
                differences, _ = compare_head(plugin_class, intree_name, kind, entity_aware, attn_implementation)
                rows.append(
                    (
                        plugin_class.__name__,
                        attn_implementation,
                        "on" if entity_aware else "off",
                        max(differences.values()),
                    )
                )
    return rows


if __name__ == "__main__":
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; fp32, CPU")
    print("| head | attention | entity-aware | max abs diff vs in-tree LUKE (eager) |")
    print("|---|---|---|---|")
    for name, attn_implementation, entity_aware, difference in parity_table():
        print(f"| {name} | {attn_implementation} | {entity_aware} | {difference:.2e} |")

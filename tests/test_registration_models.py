"""Registration of the config and model classes with transformers' Auto classes, luke routing and its opt-out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import transformers
from transformers import AutoConfig, AutoModelForMaskedLM, pipeline

import mluke_hf
from mluke_hf.configuration_mluke import PLUGIN_TO_LUKE_ARCHITECTURE

from fixtures_model import LUKE457_DIR
from shared_data import shared_path

TINY = {
    "vocab_size": 40,
    "entity_vocab_size": 5,
    "hidden_size": 16,
    "entity_emb_size": 8,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 8,
    "max_position_embeddings": 20,
}

EXPECTED = [
    (transformers.AutoModel, mluke_hf.MLukeModel),
    (transformers.AutoModelForMaskedLM, mluke_hf.MLukeForMaskedLM),
    (transformers.AutoModelForPreTraining, mluke_hf.MLukeForMaskedLM),
    (transformers.AutoModelForSequenceClassification, mluke_hf.MLukeForSequenceClassification),
    (transformers.AutoModelForTokenClassification, mluke_hf.MLukeForTokenClassification),
    (transformers.AutoModelForQuestionAnswering, mluke_hf.MLukeForQuestionAnswering),
    (transformers.AutoModelForMultipleChoice, mluke_hf.MLukeForMultipleChoice),
    (mluke_hf.AutoModelForEntityClassification, mluke_hf.MLukeForEntityClassification),
    (mluke_hf.AutoModelForEntityPairClassification, mluke_hf.MLukeForEntityPairClassification),
    (mluke_hf.AutoModelForEntitySpanClassification, mluke_hf.MLukeForEntitySpanClassification),
]


def test_autoconfig_knows_mluke_and_routes_luke():
    assert type(AutoConfig.for_model("mluke")) is mluke_hf.MLukeConfig
    assert mluke_hf.luke_checkpoints_routed()
    assert type(AutoConfig.for_model("luke")) is mluke_hf.LukeFormatConfig
    assert type(AutoConfig.from_pretrained(LUKE457_DIR)) is mluke_hf.LukeFormatConfig


def test_config_defaults_equal_lukeconfig():
    ours, theirs = mluke_hf.MLukeConfig(), transformers.LukeConfig()
    for field in transformers.LukeConfig.__dataclass_fields__:
        if not field.startswith("_") and field != "model_type" and hasattr(theirs, field):
            assert getattr(ours, field) == getattr(theirs, field), field


def test_released_config_keeps_its_extra_keys(tmp_path):
    source = shared_path("reference", "mluke-large-lite", "config.json")
    (tmp_path / "config.json").write_text(source.read_text())
    config = mluke_hf.MLukeConfig.from_pretrained(tmp_path)  # not a "luke vs mluke" warning: the class follows
    assert type(config) is mluke_hf.LukeFormatConfig
    assert config.bert_model_name == "xlm-roberta-large" and config.entity_vocab_size == 4
    config.save_pretrained(tmp_path / "saved")
    saved, released = json.loads((tmp_path / "saved" / "config.json").read_text()), json.loads(source.read_text())
    assert saved["model_type"] == "luke"
    for key in (
        "bert_model_name",
        "cls_entity_prediction",
        "deepspeed_transformer_layer_args",
        "output_past",
        "use_deepspeed_transformer_layer",
        "position_embedding_type",
        "gradient_checkpointing",
    ):
        assert saved[key] == released[key], key


@pytest.mark.parametrize("auto_class,model_class", EXPECTED, ids=[auto.__name__ for auto, _ in EXPECTED])
def test_every_auto_class_maps_both_config_classes(auto_class, model_class):
    for config_class in (mluke_hf.MLukeConfig, mluke_hf.LukeFormatConfig):
        assert auto_class._model_mapping[config_class] is model_class
        model = auto_class.from_config(config_class(**TINY, num_labels=2))
        assert type(model) is model_class


def test_model_class_for_config_reads_both_architecture_spellings():
    for plugin_name, luke_name in PLUGIN_TO_LUKE_ARCHITECTURE.items():
        for name in (plugin_name, luke_name):
            config = mluke_hf.MLukeConfig(architectures=[name])
            assert mluke_hf.model_class_for_config(config) is getattr(mluke_hf, plugin_name)
    with pytest.raises(ValueError, match="config.architectures is empty"):
        mluke_hf.model_class_for_config(mluke_hf.MLukeConfig())
    with pytest.raises(ValueError, match="does not implement"):
        mluke_hf.model_class_for_config(mluke_hf.MLukeConfig(architectures=["BertModel"]))


def test_entity_head_auto_class_loads_a_released_style_folder(tiny_checkpoint_factory):
    folder = tiny_checkpoint_factory(variant="large-lite", architecture="LukeForEntitySpanClassification")
    model = mluke_hf.AutoModelForEntitySpanClassification.from_pretrained(folder)
    assert type(model) is mluke_hf.MLukeForEntitySpanClassification
    assert model.config.id2label == {0: "O", 1: "LOC", 2: "PER", 3: "ORG", 4: "MISC"}


def test_register_is_idempotent():
    mluke_hf.register()
    mluke_hf.registration._register_configs()
    mluke_hf.registration._register_models()
    assert transformers.AutoModel._model_mapping[mluke_hf.LukeFormatConfig] is mluke_hf.MLukeModel


def test_routing_can_be_undone_and_redone_at_run_time():
    try:
        mluke_hf.route_luke_checkpoints(False)
        assert not mluke_hf.luke_checkpoints_routed()
        config = AutoConfig.from_pretrained(LUKE457_DIR)
        assert type(config).__name__ == "LukeConfig" and type(config).__module__.startswith("transformers.models.luke")
        assert AutoConfig.for_model("mluke").model_type == "mluke"  # the plugin's own type stays
    finally:
        mluke_hf.route_luke_checkpoints(True)
    assert mluke_hf.luke_checkpoints_routed()
    assert type(AutoModelForMaskedLM.from_pretrained(LUKE457_DIR)) is mluke_hf.MLukeForMaskedLM


def test_environment_variable_turns_routing_off_at_import():
    script = (
        "import mluke_hf, sys; from transformers import AutoConfig; "
        f"config = AutoConfig.from_pretrained({str(LUKE457_DIR)!r}); "
        "print(type(config).__module__, mluke_hf.luke_checkpoints_routed(), AutoConfig.for_model('mluke').model_type)"
    )
    environment = {**os.environ, "MLUKE_HF_ROUTE_LUKE": "0"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=300, check=True
    )
    module, routed, mluke_type = result.stdout.split()
    assert module.startswith("transformers.models.luke") and routed == "False" and mluke_type == "mluke"


def test_fill_mask_pipeline_runs_the_plugin_model(tiny_checkpoint_factory):
    folder = tiny_checkpoint_factory()
    fill_mask = pipeline("fill-mask", model=str(folder))
    assert type(fill_mask.model) is mluke_hf.MLukeForMaskedLM
    predictions = fill_mask(f"Tokyo is the capital of {fill_mask.tokenizer.mask_token}.")
    assert len(predictions) == 5 and all("score" in prediction for prediction in predictions)


def english_luke_folder(folder):
    """A tiny English LUKE checkpoint: RoBERTa BPE files, tokenizer_class LukeTokenizer, entity-aware attention on."""
    from mluke_hf.building import random_model_state_dict, released_config_dict, write_model_weights

    folder.mkdir()
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "H", "e", "l", "o", "Ġ", "w", "r", "d", "He", "ll", "Ġw"]
    vocab = {piece: index for index, piece in enumerate([*pieces, "<ent>", "<ent2>"])}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\nH e\nl l\nĠ w\n")
    (folder / "entity_vocab.json").write_text(json.dumps({"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "[MASK2]": 3}))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "LukeTokenizer", "entity_token_1": "<ent>", "entity_token_2": "<ent2>"})
    )
    config = released_config_dict("base", vocab_size=len(vocab), entity_vocab_size=4)
    del config["bert_model_name"]
    config.update(use_entity_aware_attention=True, max_position_embeddings=40)
    (folder / "config.json").write_text(json.dumps(config))
    write_model_weights(folder, random_model_state_dict(config, "LukeForMaskedLM"))
    return folder


def test_english_luke_keeps_transformers_tokenizer_and_runs_the_plugin_model(tmp_path):
    from transformers import AutoTokenizer

    folder = english_luke_folder(tmp_path / "luke")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert type(tokenizer).__name__ == "LukeTokenizer"
    assert type(tokenizer).__module__.startswith("transformers.models.luke")
    model = AutoModelForMaskedLM.from_pretrained(folder)
    assert type(model) is mluke_hf.MLukeForMaskedLM and model.config.use_entity_aware_attention
    encoding = tokenizer("Hello world", entity_spans=[(0, 5)], return_tensors="pt")
    outputs = model(**encoding)
    assert outputs.logits.shape == (1, encoding["input_ids"].shape[1], model.config.vocab_size)
    assert outputs.entity_logits.shape == (1, 1, 4)


def test_every_entity_input_is_an_explicit_forward_argument():
    """Trainer drops dataset columns the forward signature does not name."""
    import inspect

    entity_inputs = {"entity_ids", "entity_attention_mask", "entity_token_type_ids", "entity_position_ids"}
    for _, model_class in EXPECTED:
        assert entity_inputs <= set(inspect.signature(model_class.forward).parameters), model_class.__name__
    span_inputs = set(inspect.signature(mluke_hf.MLukeForEntitySpanClassification.forward).parameters)
    assert {"entity_start_positions", "entity_end_positions", "labels"} <= span_inputs


def test_pipeline_on_a_released_folder_never_imports_the_intree_luke_model(tiny_checkpoint_factory, tmp_path):
    """pipeline() tries `getattr(transformers, name)` for config.architectures; `LukeFor...` would import in-tree LUKE."""
    folder = tiny_checkpoint_factory()
    saved = tmp_path / "saved"
    script = (
        "import sys, mluke_hf; from transformers import pipeline; "
        f"fill_mask = pipeline('fill-mask', model={str(folder)!r}); "
        f"fill_mask.model.save_pretrained({str(saved)!r}); "
        "print('IN_TREE', 'transformers.models.luke.modeling_luke' in sys.modules, fill_mask.model.config.architectures)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert "IN_TREE False ['MLukeForMaskedLM']" in result.stdout, result.stdout
    assert "[ERROR]" not in result.stdout + result.stderr
    saved_config = json.loads((saved / "config.json").read_text())
    assert saved_config["architectures"] == ["LukeForMaskedLM"] and saved_config["model_type"] == "luke"

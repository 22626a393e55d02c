"""Checkpoints: folders written by transformers 4.57.6 and hub-layout folders load completely and give the right
numbers; save/load round trips are bit-exact; the entity-aware query weights follow the documented rules."""

from __future__ import annotations

import json
import logging
import shutil
import warnings

import pytest
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoModelForMaskedLM

import mluke_hf
from mluke_hf.building import LUKE_ARCHITECTURES, random_model_state_dict, released_config_dict, write_model_weights

from fixtures_model import LUKE457_DIR, word_entity_batch
from shared_data import shared_path

QUERY_NAMES = ("w2e_query", "e2w_query", "e2e_query")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_quietly(capfd, loader, *args, **kwargs):
    """Load, returning (model, loading info, stderr + mluke_hf's log warnings); fails on any Python warning."""
    capfd.readouterr()
    records = _Records()
    logging.getLogger("mluke_hf").addHandler(records)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model, info = loader(*args, output_loading_info=True, **kwargs)
    finally:
        logging.getLogger("mluke_hf").removeHandler(records)
    return model, info, capfd.readouterr().err + "\n".join(records.messages)


def assert_clean_load(info: dict, stderr: str) -> None:
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    assert "LOAD REPORT" not in stderr and "warn" not in stderr.lower(), stderr
    assert "query" not in stderr and "You are using a model of type" not in stderr, stderr


# -- a folder written by transformers 4.57.6 itself (scripts/make_luke_reference_checkpoint.py) -----------------------


@pytest.fixture(scope="module")
def golden():
    return json.loads((LUKE457_DIR / "golden.json").read_text())


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
@pytest.mark.parametrize("entity_aware", [False, True], ids=["off", "on"])
def test_folder_saved_by_transformers_4_57_loads_completely_with_its_numbers(
    capfd, golden, entity_aware, attn_implementation
):
    model, info, stderr = load_quietly(
        capfd,
        AutoModelForMaskedLM.from_pretrained,
        LUKE457_DIR,
        use_entity_aware_attention=entity_aware,
        attn_implementation=attn_implementation,
    )
    assert isinstance(model, mluke_hf.MLukeForMaskedLM)
    assert isinstance(model.config, mluke_hf.LukeFormatConfig)
    assert_clean_load(info, stderr)
    expected = golden["entity_aware_attention_on" if entity_aware else "entity_aware_attention_off"]
    inputs = {name: torch.tensor(value) for name, value in golden["inputs"].items()}
    with torch.no_grad():
        outputs = model(**inputs, output_hidden_states=True)
    actual = {
        "logits": outputs.logits,
        "entity_logits": outputs.entity_logits,
        "last_hidden_state": outputs.hidden_states[-1],
        "entity_last_hidden_state": outputs.entity_hidden_states[-1],
    }
    for name, value in actual.items():
        torch.testing.assert_close(value, torch.tensor(expected[name]), atol=1e-5, rtol=0, msg=name)
    for name in ("loss", "mlm_loss", "mep_loss"):
        assert getattr(outputs, name).item() == pytest.approx(expected[name], abs=1e-5)


def test_golden_outputs_differ_between_entity_aware_on_and_off(golden):
    """Otherwise the test above could not tell whether the stored w2e/e2w/e2e queries were used."""
    on = torch.tensor(golden["entity_aware_attention_on"]["entity_logits"])
    off = torch.tensor(golden["entity_aware_attention_off"]["entity_logits"])
    assert (on - off).abs().max() > 1e-4


def test_saved_keys_equal_those_transformers_4_57_writes(tmp_path, golden):
    model = AutoModelForMaskedLM.from_pretrained(LUKE457_DIR)
    model.save_pretrained(tmp_path)
    with safe_open(tmp_path / "model.safetensors", framework="pt") as saved:
        assert sorted(saved.keys()) == golden["saved_keys"]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "luke" and config["architectures"] == ["LukeForMaskedLM"]


def test_encoder_alone_loads_from_the_4_57_folder(capfd):
    model, info, stderr = load_quietly(capfd, AutoModel.from_pretrained, LUKE457_DIR)
    assert isinstance(model, mluke_hf.MLukeModel)
    assert_clean_load(info, stderr)
    reference = load_file(LUKE457_DIR / "model.safetensors")
    torch.testing.assert_close(
        model.embeddings.word_embeddings.weight, reference["luke.embeddings.word_embeddings.weight"], atol=0, rtol=0
    )


# -- a hub-layout folder with the released small files ------------------------------------------------------------


def released_layout_folder(destination, variant: str, seed: int = 0) -> tuple:
    """The released files of `variant` verbatim, config.json with tiny sizes, weights with ties stored once."""
    source = shared_path("reference", "mluke-base" if variant == "base" else "mluke-large-lite")
    destination.mkdir()
    for path in source.iterdir():
        if path.name != "config.json":
            shutil.copy(path, destination / path.name)
    released = json.loads((source / "config.json").read_text())
    entity_vocab_size = 4 if variant == "large-lite" else 50
    tiny = released_config_dict(variant, vocab_size=97, entity_vocab_size=entity_vocab_size)
    config = {**released, **{key: tiny[key] for key in tiny if key in mluke_hf.MLukeConfig.__dataclass_fields__}}
    config.update(model_type="luke", use_entity_aware_attention=False, max_position_embeddings=40)
    (destination / "config.json").write_text(json.dumps(config, indent=2))
    state_dict = random_model_state_dict(config, "LukeForMaskedLM", seed=seed)
    write_model_weights(destination, state_dict, tie_saved_once=True)
    return config, state_dict


@pytest.mark.parametrize("variant", ["base", "large-lite"])
def test_hub_layout_folder_loads_completely_through_the_auto_classes(tmp_path, capfd, variant):
    config, state_dict = released_layout_folder(tmp_path / "folder", variant)
    with safe_open(tmp_path / "folder" / "model.safetensors", framework="pt") as saved:
        assert "lm_head.decoder.weight" not in saved.keys()  # stored once, under the embedding's name
        assert "luke.encoder.layer.0.attention.self.w2e_query.weight" in saved.keys()

    model, info, stderr = load_quietly(capfd, AutoModelForMaskedLM.from_pretrained, tmp_path / "folder")
    assert type(model) is mluke_hf.MLukeForMaskedLM
    assert_clean_load(info, stderr)
    loaded = model.state_dict()
    for name, tensor in state_dict.items():
        assert torch.equal(loaded[name], tensor), name
    assert model.config.bert_model_name == config["bert_model_name"]

    encoder, info, stderr = load_quietly(capfd, AutoModel.from_pretrained, tmp_path / "folder")
    assert type(encoder) is mluke_hf.MLukeModel
    assert_clean_load(info, stderr)

    # The in-tree model given every weight, the tied ones included, agrees with the loaded plugin model.
    intree_config = transformers.LukeConfig(
        **{key: value for key, value in config.items() if key in transformers.LukeConfig.__dataclass_fields__}
    )
    intree = transformers.LukeForMaskedLM(intree_config).eval()
    intree.load_state_dict(state_dict, strict=False)
    inputs = word_entity_batch(vocab_size=97, entity_vocab_size=config["entity_vocab_size"])
    for key in ("entity_start_positions", "entity_end_positions", "token_type_ids"):
        inputs.pop(key)
    inputs.pop("entity_token_type_ids")
    with torch.no_grad():
        ours, theirs = model.eval()(**inputs), intree(**inputs)
    # Real positions: without labels the plugin leaves padding rows out (mluke_hf.packing).
    words, entities = inputs["attention_mask"].bool(), inputs["entity_attention_mask"].bool()
    torch.testing.assert_close(ours.logits[words], theirs.logits[words], atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.entity_logits[entities], theirs.entity_logits[entities], atol=1e-5, rtol=0)


def test_pytorch_bin_with_every_tied_copy_loads_completely(tmp_path, capfd):
    config, state_dict = released_layout_folder(tmp_path / "folder", "large-lite")
    (tmp_path / "folder" / "model.safetensors").unlink()
    write_model_weights(tmp_path / "bin", state_dict, tie_saved_once=False, pytorch_bin=True)
    shutil.move(tmp_path / "bin" / "pytorch_model.bin", tmp_path / "folder" / "pytorch_model.bin")
    model, info, stderr = load_quietly(capfd, AutoModelForMaskedLM.from_pretrained, tmp_path / "folder")
    assert_clean_load(info, stderr)
    assert model.lm_head.decoder.weight is model.luke.embeddings.word_embeddings.weight


# -- round trips -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", LUKE_ARCHITECTURES)
def test_save_load_round_trip_is_bit_exact(tmp_path, tiny_checkpoint_factory, architecture):
    folder = tiny_checkpoint_factory(variant="large-lite", architecture=architecture)
    model_class = mluke_hf.model_class_for_config(mluke_hf.LukeFormatConfig.from_pretrained(folder))
    model = model_class.from_pretrained(folder).eval()
    model.save_pretrained(tmp_path / "saved")
    reloaded, info = model_class.from_pretrained(tmp_path / "saved", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    original, again = model.state_dict(), reloaded.state_dict()
    assert original.keys() == again.keys()
    for name in original:
        assert torch.equal(original[name], again[name]), name
    saved_config = json.loads((tmp_path / "saved" / "config.json").read_text())
    released_config = json.loads((folder / "config.json").read_text())
    assert saved_config["model_type"] == "luke" and saved_config["architectures"] == [architecture]
    for key in ("bert_model_name", "cls_entity_prediction", "use_entity_aware_attention"):
        assert saved_config[key] == released_config[key], key
    # transformers leaves default labels (LABEL_0, LABEL_1) out of config.json; the loaded labels must agree.
    assert reloaded.config.id2label == model.config.id2label
    if architecture == "LukeForEntitySpanClassification":
        assert saved_config["id2label"] == released_config["id2label"]


def test_plugin_native_round_trip_keeps_model_type_mluke(tmp_path):
    config = mluke_hf.MLukeConfig(
        vocab_size=50,
        entity_vocab_size=6,
        hidden_size=32,
        entity_emb_size=32,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=16,
        max_position_embeddings=40,
    )
    model = mluke_hf.MLukeForMaskedLM(config)
    assert not hasattr(model.luke.entity_embeddings, "entity_embedding_dense")  # same sizes: no projection
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "mluke" and saved["architectures"] == ["MLukeForMaskedLM"]
    reloaded = AutoModelForMaskedLM.from_pretrained(tmp_path)
    assert type(reloaded.config) is mluke_hf.MLukeConfig
    for name, tensor in model.state_dict().items():
        assert torch.equal(reloaded.state_dict()[name], tensor), name


# -- entity-aware query weights ---------------------------------------------------------------------------------------


def test_stored_entity_aware_queries_are_used_when_the_feature_is_turned_on(tmp_path, tiny_checkpoint_factory, capfd):
    folder = tiny_checkpoint_factory()
    stored = load_file(folder / "model.safetensors")
    model, info, stderr = load_quietly(
        capfd, AutoModelForMaskedLM.from_pretrained, folder, use_entity_aware_attention=True
    )
    assert_clean_load(info, stderr)
    assert model.config.use_entity_aware_attention
    attention = model.luke.encoder.layer[1].attention.self
    for name in QUERY_NAMES:
        stored_weight = stored[f"luke.encoder.layer.1.attention.self.{name}.weight"]
        assert torch.equal(getattr(attention, name).weight, stored_weight)
        assert not torch.equal(stored_weight, attention.query.weight)


def without_entity_aware_queries(source, destination):
    shutil.copytree(source, destination)
    tensors = load_file(destination / "model.safetensors")
    kept = {name: tensor for name, tensor in tensors.items() if not any(query in name for query in QUERY_NAMES)}
    assert len(kept) < len(tensors)
    save_file(kept, str(destination / "model.safetensors"), metadata={"format": "pt"})
    return destination


def test_absent_entity_aware_queries_start_from_query_and_the_user_is_told_once(
    tmp_path, tiny_checkpoint_factory, capfd
):
    folder = without_entity_aware_queries(tiny_checkpoint_factory(), tmp_path / "folder")
    model, info, stderr = load_quietly(
        capfd, AutoModelForMaskedLM.from_pretrained, folder, use_entity_aware_attention=True
    )
    assert not info["missing_keys"]  # reported by the message below instead
    assert stderr.count("initialised from each layer's `query` weights") == 1, stderr
    for layer in model.luke.encoder.layer:
        attention = layer.attention.self
        for name in QUERY_NAMES:
            assert torch.equal(getattr(attention, name).weight, attention.query.weight)
            assert torch.equal(getattr(attention, name).bias, attention.query.bias)


def test_absent_entity_aware_queries_are_quiet_while_the_feature_is_off(tmp_path, tiny_checkpoint_factory, capfd):
    folder = without_entity_aware_queries(tiny_checkpoint_factory(), tmp_path / "folder")
    model, info, stderr = load_quietly(capfd, AutoModelForMaskedLM.from_pretrained, folder)
    assert_clean_load(info, stderr)
    assert not model.config.use_entity_aware_attention


def test_english_luke_style_checkpoint_loads_into_the_plugin(tmp_path, capfd):
    """English LUKE: same architecture, entity-aware attention on in the config, RoBERTa-sized type vocabulary."""
    config = released_config_dict("base", vocab_size=80, entity_vocab_size=20)
    for key in ("bert_model_name", "transformers_version"):
        config.pop(key)
    config.update(use_entity_aware_attention=True, type_vocab_size=1, max_position_embeddings=40)
    folder = tmp_path / "luke_base"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    write_model_weights(folder, random_model_state_dict(config, "LukeForMaskedLM"))
    model, info, stderr = load_quietly(capfd, AutoModelForMaskedLM.from_pretrained, folder)
    assert type(model) is mluke_hf.MLukeForMaskedLM and model.config.use_entity_aware_attention
    assert_clean_load(info, stderr)

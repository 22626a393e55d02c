"""`mluke_hf.checkpoint_checks`: each fault of a model folder gets one clear CheckpointError before loading.

The same faults go through the real `mluke-hf` process in test_cli_subprocess.py; here each check is exercised
directly (fast, no model loaded) and against what the loaders would do.
"""

from __future__ import annotations

import json
import shutil
import struct

import pytest

from mluke_hf.checkpoint_checks import (
    HEADS,
    CheckpointError,
    check_head,
    check_hub_reference,
    check_model_folder,
    looks_like_local_path,
    resolve_model_reference,
    safetensors_names,
)

SPAN_HEAD = HEADS["entity-span-classification"]


def damage_truncate_weights(folder):
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage_weights_header(folder):
    path = folder / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(struct.pack("<Q", 1 << 40) + data[8:])


def damage_drop_head_weights(folder):
    from safetensors.torch import load_file, save_file

    tensors = {name: tensor for name, tensor in load_file(folder / "model.safetensors").items()}
    save_file({k: v for k, v in tensors.items() if not k.startswith("classifier.")}, str(folder / "model.safetensors"))


# (damage, substring of the message). Each damage is a function of a fresh copy of a span-classification folder.
FOLDER_FAULTS = {
    "invalid config.json": (
        lambda folder: (folder / "config.json").write_text('{"model_type": "luke",'),
        "config.json is not valid JSON (line 1",
    ),
    "config.json not an object": (lambda folder: (folder / "config.json").write_text("[1]"), "JSON object"),
    "no config.json": (lambda folder: (folder / "config.json").unlink(), "no config.json"),
    "wrong model_type": (
        lambda folder: (folder / "config.json").write_text(
            json.dumps({**json.loads((folder / "config.json").read_text()), "model_type": "bert"})
        ),
        "model_type is 'bert'",
    ),
    "truncated safetensors": (damage_truncate_weights, "truncated"),
    "garbage safetensors header": (damage_weights_header, "not a safetensors file"),
    "no weights": (lambda folder: (folder / "model.safetensors").unlink(), "no model weights"),
    "no sentencepiece": (lambda folder: (folder / "sentencepiece.bpe.model").unlink(), "no tokenizer files"),
    "garbage sentencepiece": (
        lambda folder: (folder / "sentencepiece.bpe.model").write_bytes(b"\x00garbage\xff" * 100),
        "not a SentencePiece model",
    ),
    "no entity vocabulary": (lambda folder: (folder / "entity_vocab.json").unlink(), "no entity_vocab.json"),
    "head weights missing": (damage_drop_head_weights, "classifier.weight missing"),
}


@pytest.fixture(scope="module")
def span_folder(pipeline_folder):
    return pipeline_folder("LukeForEntitySpanClassification")


def test_a_sound_folder_passes_every_check(span_folder, pipeline_folder):
    config = check_model_folder(span_folder, SPAN_HEAD)
    assert config["architectures"] == ["LukeForEntitySpanClassification"]
    assert "classifier.weight" in safetensors_names(span_folder / "model.safetensors")
    # The plugin's own layout (model_type "mluke", MLukeFor... architecture) passes too.
    check_model_folder(pipeline_folder("LukeForEntitySpanClassification", layout="mluke"), SPAN_HEAD)


@pytest.mark.parametrize("fault", sorted(FOLDER_FAULTS))
def test_each_folder_fault_is_one_clear_error(span_folder, tmp_path, fault):
    damage, message = FOLDER_FAULTS[fault]
    folder = shutil.copytree(span_folder, tmp_path / "model")
    damage(folder)
    with pytest.raises(CheckpointError) as error:
        check_model_folder(folder, SPAN_HEAD)
    assert message in str(error.value)
    assert str(folder) in str(error.value) and "\n" not in str(error.value)


def test_a_head_that_does_not_fit_names_found_and_needed(pipeline_folder):
    masked_lm = pipeline_folder("LukeForMaskedLM")
    with pytest.raises(CheckpointError, match=r"is a LukeForMaskedLM; .* \(LukeForEntitySpanClassification\)"):
        check_model_folder(masked_lm, SPAN_HEAD)
    # The masked-LM folder is what entity-fill-mask needs.
    check_model_folder(masked_lm, HEADS["entity-fill-mask"])
    # Without architectures in config.json, the head's weights decide.
    with pytest.raises(CheckpointError, match="checkpoint without architectures.*classifier.weight missing"):
        check_head(masked_lm, {}, {"luke.embeddings.word_embeddings.weight"}, SPAN_HEAD)


@pytest.mark.parametrize(
    "reference, local",
    [
        ("./models/ner", True),
        ("/no/such/folder", True),
        ("a/b/c", True),
        ("~/mluke", True),
        ("C:\\models\\ner", True),
        ("models/", True),
        ("モデル/日本語", True),  # not a hub id: non-ASCII names are local paths
        ("studio-ousia/mluke-base", False),
        ("mluke-base", False),
    ],
)
def test_local_paths_and_hub_ids(reference, local, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert looks_like_local_path(reference) is local
    if local:
        with pytest.raises(CheckpointError, match="no such folder"):
            resolve_model_reference(reference)
    else:
        assert resolve_model_reference(reference) == reference


def test_existing_folders_and_files(span_folder, tmp_path):
    assert resolve_model_reference(str(span_folder)) == span_folder
    file = tmp_path / "config.json"
    file.write_text("{}")
    with pytest.raises(CheckpointError, match="not a folder"):
        resolve_model_reference(str(file))


def test_offline_hub_ids_missing_from_the_cache_fail_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(CheckpointError, match="not in the hub cache"):
        check_hub_reference("someone/not-downloaded")


def test_sharded_index_may_not_name_files_outside_the_folder(span_folder, tmp_path):
    folder = shutil.copytree(span_folder, tmp_path / "model")
    outside = tmp_path / "outside.safetensors"
    shutil.copy(folder / "model.safetensors", outside)
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"x": "../outside.safetensors"}}))
    with pytest.raises(CheckpointError, match="outside the folder"):
        check_model_folder(folder, SPAN_HEAD)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"x": "shard-1.safetensors"}}))
    with pytest.raises(CheckpointError, match="shard-1.safetensors, which is missing"):
        check_model_folder(folder, SPAN_HEAD)

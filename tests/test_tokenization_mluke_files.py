"""MLukeTokenizer files: the released tokenizer_config.json variants, the saved file set, round trips, AutoTokenizer.

The released small files live in ../shared/reference/{mluke-base,mluke-large-lite}/ (tests needing them fail with a
clear message when absent). Their sentencepiece.bpe.model is not there (5 MB); the committed tiny unigram model stands in, with
added_tokens.json giving `<ent>`/`<ent2>` the ids after `<mask>` as 250002/250003 do for the real vocabulary.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

from fixtures_tokenizer import TOKENIZER_DATA
from shared_data import shared_path

RELEASED = {"base": "mluke-base", "large-lite": "mluke-large-lite"}
RELEASED_FILE_SET = {
    "sentencepiece.bpe.model",
    "entity_vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
}
TEXTS = [
    "Tokyo is the capital of Japan.",
    "Paris is the <mask> of France.",
    "東京タワーは港区にある電波塔です。",
    "Ｆｕｌｌ-width ﬁne\ttabs   and spaces 😀",
]
SPANS = [[(0, 5), (24, 29)], [(0, 5), (24, 30)], [(0, 5)], [(0, 10), (11, 15)]]
NAMES = [["en:Tokyo", "en:Japan"], ["en:Paris", "fr:Nowhere"], ["ja:東京"], ["[MASK]", "[UNK]"]]


def _encodings(tokenizer) -> list[dict]:
    """A few encodings covering plain text, names, `<mask>`, CJK, full-width and whitespace runs."""
    batch = tokenizer(TEXTS, entity_spans=SPANS, entities=NAMES, padding=True, return_special_tokens_mask=True)
    return [dict(batch), tokenizer.tokenize(TEXTS[1]), tokenizer.decode(batch["input_ids"][3])]


def _settings(tokenizer) -> dict:
    return {
        "task": tokenizer.task,
        "max_entity_length": tokenizer.max_entity_length,
        "max_mention_length": tokenizer.max_mention_length,
        "model_max_length": tokenizer.model_max_length,
        "len": len(tokenizer),
        "vocab_size": tokenizer.vocab_size,
        "markers": (tokenizer.entity_token_1_id, tokenizer.entity_token_2_id),
        "special_entities": (
            tokenizer.entity_pad_token_id,
            tokenizer.entity_unk_token_id,
            tokenizer.entity_mask_token_id,
            tokenizer.entity_mask2_token_id,
        ),  # fmt: skip
        "mask": (tokenizer.mask_token_id, tokenizer._added_tokens_decoder[tokenizer.mask_token_id].lstrip),
        "entity_vocab": list(tokenizer.entity_vocab.items()),
    }


def _released_folder(tmp_path: Path, variant: str, entity_vocab: dict) -> Path:
    """The released small files byte for byte, with the tiny SentencePiece model and matching added_tokens.json."""
    from mluke_hf import building

    source = shared_path("reference", RELEASED[variant])
    folder = tmp_path / RELEASED[variant]
    folder.mkdir()
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(source / name, folder / name)
    shutil.copyfile(TOKENIZER_DATA / "sentencepiece_unigram.model", folder / "sentencepiece.bpe.model")
    released_ids = json.loads((source / "added_tokens.json").read_text())
    mask_id = building.sentencepiece_size(folder / "sentencepiece.bpe.model") + 1
    # Same layout as the release: <ent>, <ent2> right after <mask> (there 250001 -> 250002, 250003).
    assert released_ids == {"<ent>": 250002, "<ent2>": 250003}
    (folder / "added_tokens.json").write_text(json.dumps({"<ent>": mask_id + 1, "<ent2>": mask_id + 2}))
    if (source / "entity_vocab.json").exists():
        shutil.copyfile(source / "entity_vocab.json", folder / "entity_vocab.json")
    else:
        building.write_entity_vocab(folder, entity_vocab)
    return folder


# -- the released tokenizer_config.json variants --------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["base", "large-lite"])
def test_building_writes_the_released_layouts(variant, tokenizer_folders):
    """`write_released_tokenizer_files` reproduces the released JSON files (the golden suite runs on its folders)."""
    from mluke_hf import building

    source = shared_path("reference", RELEASED[variant])
    name = {"base": "unigram-full-base", "large-lite": "unigram-lite-largelite"}[variant]
    written = tokenizer_folders[name]
    for file_name in ("tokenizer_config.json", "special_tokens_map.json"):
        assert json.loads((written / file_name).read_text()) == json.loads((source / file_name).read_text())
    mask_id = building.sentencepiece_size(written / "sentencepiece.bpe.model") + 1
    assert json.loads((written / "added_tokens.json").read_text()) == {"<ent>": mask_id + 1, "<ent2>": mask_id + 2}
    if variant == "large-lite":
        assert json.loads((written / "entity_vocab.json").read_text()) == json.loads(
            (source / "entity_vocab.json").read_text()
        )


@pytest.mark.parametrize("variant", ["base", "large-lite"])
def test_from_pretrained_reads_the_released_configs(variant, tmp_path, tokenizer_folders, tokenizer_golden_script):
    from mluke_hf import MLukeTokenizer, building

    vocab = building.build_entity_vocab(tokenizer_golden_script.FULL_ENTITIES, shape="full")
    tokenizer = MLukeTokenizer.from_pretrained(_released_folder(tmp_path, variant, vocab))
    settings = _settings(tokenizer)
    assert settings["task"] is None
    assert (settings["max_entity_length"], settings["max_mention_length"], settings["model_max_length"]) == (
        32,
        30,
        512,
    )
    mask_id, mask_lstrip = settings["mask"]
    assert mask_lstrip and settings["markers"] == (mask_id + 1, mask_id + 2) and settings["len"] == mask_id + 3
    if variant == "large-lite":
        # The lite vocabulary orders its specials [MASK], [UNK], [PAD], [MASK2]: looked up by name.
        assert settings["special_entities"] == (2, 1, 0, 3)
    else:
        assert settings["special_entities"] == (0, 1, 2, max(vocab.values()))
    # Same behaviour as the golden-suite folder of that layout (checked case by case against 4.57.6).
    golden_name = {"base": "unigram-full-base", "large-lite": "unigram-lite-largelite"}[variant]
    golden = MLukeTokenizer.from_pretrained(tokenizer_folders[golden_name])
    assert _encodings(tokenizer) == _encodings(golden)


# -- save_pretrained ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["unigram-full-base", "unigram-lite-largelite", "bpe-full-largelite", "bpe-lite-base"]
)
def test_save_pretrained_writes_the_released_file_set(name, tokenizer_folders, tmp_path):
    from mluke_hf import MLukeTokenizer

    source = tokenizer_folders[name]
    tokenizer = MLukeTokenizer.from_pretrained(source)
    tokenizer.save_pretrained(tmp_path / "saved")
    saved = tmp_path / "saved"
    assert {path.name for path in saved.iterdir()} == RELEASED_FILE_SET
    assert (saved / "sentencepiece.bpe.model").read_bytes() == (source / "sentencepiece.bpe.model").read_bytes()
    # entity_vocab.json is its own file, same names, ids and order; never inlined in tokenizer_config.json.
    assert list(json.loads((saved / "entity_vocab.json").read_text()).items()) == list(
        json.loads((source / "entity_vocab.json").read_text()).items()
    )
    config = json.loads((saved / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "MLukeTokenizer"
    assert not {"entity_vocab", "entity_vocab_file", "vocab_file", "is_local", "local_files_only"} & set(config)
    assert config["mask_token"]["lstrip"] is True
    assert [token["content"] for token in config["additional_special_tokens"]] == ["<ent>", "<ent2>"]
    assert {
        key: config[key] for key in ("entity_unk_token", "entity_pad_token", "entity_mask_token", "entity_mask2_token")
    } == {  # fmt: skip
        "entity_unk_token": "[UNK]",
        "entity_pad_token": "[PAD]",
        "entity_mask_token": "[MASK]",
        "entity_mask2_token": "[MASK2]",
    }
    special_map = json.loads((saved / "special_tokens_map.json").read_text())
    assert special_map["mask_token"]["lstrip"] is True
    assert json.loads((saved / "added_tokens.json").read_text()) == json.loads(
        (source / "added_tokens.json").read_text()
    )

    reloaded = MLukeTokenizer.from_pretrained(saved)
    assert _settings(reloaded) == _settings(tokenizer)
    assert _encodings(reloaded) == _encodings(tokenizer)
    # Saving again changes nothing.
    reloaded.save_pretrained(tmp_path / "again")
    for file_name in RELEASED_FILE_SET:
        assert (tmp_path / "again" / file_name).read_bytes() == (saved / file_name).read_bytes(), file_name


def test_save_pretrained_keeps_non_default_settings(tokenizer_folders, tmp_path):
    from mluke_hf import MLukeTokenizer

    tokenizer = MLukeTokenizer.from_pretrained(
        tokenizer_folders["unigram-full-base"],
        task="entity_span_classification",
        max_entity_length=64,
        max_mention_length=16,
        model_max_length=128,
        padding_side="left",
    )
    tokenizer.save_pretrained(tmp_path)
    reloaded = MLukeTokenizer.from_pretrained(tmp_path)
    assert _settings(reloaded) == _settings(tokenizer)
    assert reloaded.padding_side == "left"
    encode = {"entity_spans": SPANS, "padding": True}
    assert dict(reloaded(TEXTS, **encode)) == dict(tokenizer(TEXTS, **encode))


def test_save_pretrained_keeps_user_added_tokens(mluke_tokenizer_folder, tmp_path):
    from mluke_hf import MLukeTokenizer

    tokenizer = MLukeTokenizer.from_pretrained(mluke_tokenizer_folder)
    tokenizer.add_tokens(["<new-token>"])
    tokenizer.save_pretrained(tmp_path)
    reloaded = MLukeTokenizer.from_pretrained(tmp_path)
    text = "A <new-token> and a <mask>."
    assert reloaded(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert tokenizer.convert_tokens_to_ids("<new-token>") == len(tokenizer) - 1
    assert reloaded.convert_tokens_to_ids("<new-token>") in reloaded(text)["input_ids"]


def test_pickle_round_trip(mluke_slow_tokenizer):
    restored = pickle.loads(pickle.dumps(mluke_slow_tokenizer))
    assert type(restored) is type(mluke_slow_tokenizer)
    assert (
        restored._engine.fairseq_processor is not None
    )  # the fairseq-numbered twin is rebuilt from the pickled model
    assert _encodings(restored) == _encodings(mluke_slow_tokenizer)


# -- AutoTokenizer -----------------------------------------------------------------------------------------------------


def test_auto_tokenizer_resolves_the_released_class_name(tokenizer_folders):
    """`tokenizer_class: "MLukeTokenizer"` resolves to mluke_hf's classes, never transformers' broken in-tree one."""
    from transformers import AutoTokenizer
    from transformers.models.auto import tokenization_auto

    import mluke_hf

    assert tokenization_auto.REGISTERED_TOKENIZER_CLASSES["MLukeTokenizer"] is mluke_hf.MLukeTokenizer
    folder = tokenizer_folders["unigram-full-base"]
    auto = AutoTokenizer.from_pretrained(folder)
    # transformers 5 always prefers the fast class (it ignores use_fast=False): MLukeTokenizerFast, same ids.
    assert type(auto).__module__.startswith("mluke_hf.")
    slow = mluke_hf.MLukeTokenizer.from_pretrained(folder)
    assert (
        auto(TEXTS, entity_spans=SPANS, entities=NAMES)["input_ids"]
        == slow(TEXTS, entity_spans=SPANS, entities=NAMES)["input_ids"]
    )


def test_auto_tokenizer_is_registered_for_both_config_classes():
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING

    from mluke_hf import LukeFormatConfig, MLukeConfig, MLukeTokenizerFast

    for config_class in (MLukeConfig, LukeFormatConfig):
        assert TOKENIZER_MAPPING[config_class] in (MLukeTokenizerFast, (None, MLukeTokenizerFast))

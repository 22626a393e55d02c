"""Loading tokenizer folders: the fast backend's conversion cache, tokenizer.json checked against the SentencePiece
model by its fingerprint, a folder's sp_model_kwargs ignored, and the twin SentencePiece model built by splicing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mluke_hf import MLukeTokenizer, MLukeTokenizerFast
from mluke_hf.text import conversion_cache, converter
from mluke_hf.text.conversion_cache import FINGERPRINT_KEY

TEXTS = ["Tokyo 東京 is the capital of 日本.", "กรุงเทพมหานคร และ नई दिल्ली", "Ｆｕｌｌ-width ｶﾞ and ﬁ ligatures"]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MLUKE_HF_CACHE", str(folder))
    return folder


@pytest.fixture
def conversions(monkeypatch) -> list:
    """Counts conversions of a SentencePiece model to a Rust backend."""
    calls = []
    original = converter.convert_sentencepiece

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(converter, "convert_sentencepiece", counted)
    return calls


def _folder(tokenizer_folders, tmp_path, name: str, variant: str = "unigram-full-base") -> Path:
    target = tmp_path / name
    shutil.copytree(tokenizer_folders[variant], target)
    return target


def _ids(tokenizer, **kwargs) -> list:
    return tokenizer(TEXTS, **kwargs)["input_ids"]


def test_conversion_done_once_then_cached(tokenizer_folders, tmp_path, cache, conversions):
    folder = _folder(tokenizer_folders, tmp_path, "released")
    first = MLukeTokenizerFast.from_pretrained(folder)
    assert len(conversions) == 1
    assert len(list((cache / "tokenizers").glob("*.json"))) == 1
    second = MLukeTokenizerFast.from_pretrained(folder)
    assert len(conversions) == 1  # read back from the cache
    slow = MLukeTokenizer.from_pretrained(folder)
    for tokenizer in (first, second):
        assert _ids(tokenizer) == _ids(slow)
        assert _ids(tokenizer, return_offsets_mapping=True) == _ids(slow)


def test_damaged_cache_entry_is_rebuilt(tokenizer_folders, tmp_path, cache, conversions):
    folder = _folder(tokenizer_folders, tmp_path, "released")
    MLukeTokenizerFast.from_pretrained(folder)
    (entry,) = (cache / "tokenizers").glob("*.json")
    entry.write_text('{"version": "1.0", "truncated', encoding="utf-8")
    tokenizer = MLukeTokenizerFast.from_pretrained(folder)
    assert len(conversions) == 2
    assert _ids(tokenizer, return_offsets_mapping=True) == _ids(MLukeTokenizer.from_pretrained(folder))
    assert json.loads(entry.read_text(encoding="utf-8"))["model"]["type"] == "Unigram"


def test_cache_can_be_turned_off(tokenizer_folders, tmp_path, monkeypatch, conversions):
    monkeypatch.setenv("MLUKE_HF_CACHE", "off")
    assert conversion_cache.cache_directory() is None
    folder = _folder(tokenizer_folders, tmp_path, "released")
    MLukeTokenizerFast.from_pretrained(folder)
    MLukeTokenizerFast.from_pretrained(folder)
    assert len(conversions) == 2


def test_unwritable_cache_is_skipped(tokenizer_folders, tmp_path, monkeypatch, conversions):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("MLUKE_HF_CACHE", str(blocker))
    folder = _folder(tokenizer_folders, tmp_path, "released")
    tokenizer = MLukeTokenizerFast.from_pretrained(folder)
    assert len(conversions) == 1
    assert _ids(tokenizer) == _ids(MLukeTokenizer.from_pretrained(folder))


def test_saved_tokenizer_json_is_fingerprinted_and_used(tokenizer_folders, tmp_path, cache, conversions):
    folder = _folder(tokenizer_folders, tmp_path, "released")
    MLukeTokenizerFast.from_pretrained(folder).save_pretrained(tmp_path / "saved")
    config = json.loads((tmp_path / "saved" / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert set(config[FINGERPRINT_KEY]) == {"sentencepiece_sha256", "tokenizer_json_sha256"}
    shutil.rmtree(cache)
    conversions.clear()
    reloaded = MLukeTokenizerFast.from_pretrained(tmp_path / "saved")
    assert conversions == []  # the folder's own tokenizer.json, no conversion
    assert _ids(reloaded, return_offsets_mapping=True) == _ids(MLukeTokenizer.from_pretrained(folder))


def test_edited_tokenizer_json_is_not_used(tokenizer_folders, tmp_path, cache, conversions):
    folder = _folder(tokenizer_folders, tmp_path, "released")
    MLukeTokenizerFast.from_pretrained(folder).save_pretrained(tmp_path / "saved")
    tokenizer_json = tmp_path / "saved" / "tokenizer.json"
    content = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    pieces = content["model"]["vocab"]
    pieces[10], pieces[11] = pieces[11], pieces[10]  # a different backend, same size
    tokenizer_json.write_text(json.dumps(content), encoding="utf-8")
    conversions.clear()
    shutil.rmtree(cache)
    reloaded = MLukeTokenizerFast.from_pretrained(tmp_path / "saved")
    assert len(conversions) == 1
    assert _ids(reloaded, return_offsets_mapping=True) == _ids(MLukeTokenizer.from_pretrained(folder))


def test_slow_resave_with_another_model_never_uses_the_old_tokenizer_json(tokenizer_folders, tmp_path, cache):
    """Fast save, then the slow class saves a different SentencePiece model into the same folder: tokenizer.json
    stays behind, stale; the fast class must give the new model's ids (with and without offsets)."""
    unigram = _folder(tokenizer_folders, tmp_path, "unigram")
    bpe = _folder(tokenizer_folders, tmp_path, "bpe", variant="bpe-lite-base")
    target = tmp_path / "target"
    MLukeTokenizerFast.from_pretrained(unigram).save_pretrained(target)
    stale = (target / "tokenizer.json").read_bytes()
    MLukeTokenizer.from_pretrained(bpe).save_pretrained(target)
    assert (target / "tokenizer.json").read_bytes() == stale  # still there
    assert FINGERPRINT_KEY not in json.loads((target / "tokenizer_config.json").read_text(encoding="utf-8"))
    expected = _ids(MLukeTokenizer.from_pretrained(bpe))
    fast = MLukeTokenizerFast.from_pretrained(target)
    assert _ids(fast) == expected
    assert _ids(fast, return_offsets_mapping=True) == expected
    assert (
        fast.backend_tokenizer.get_vocab_size()
        == MLukeTokenizerFast.from_pretrained(bpe).backend_tokenizer.get_vocab_size()
    )


def test_stale_fingerprint_from_another_folder_does_not_vouch(tokenizer_folders, tmp_path, cache):
    """A record copied along with a config does not vouch for a tokenizer.json of another model."""
    unigram = _folder(tokenizer_folders, tmp_path, "unigram")
    bpe = _folder(tokenizer_folders, tmp_path, "bpe", variant="bpe-full-largelite")
    MLukeTokenizerFast.from_pretrained(unigram).save_pretrained(tmp_path / "a")
    MLukeTokenizerFast.from_pretrained(bpe).save_pretrained(tmp_path / "b")
    shutil.copyfile(tmp_path / "a" / "tokenizer.json", tmp_path / "b" / "tokenizer.json")
    fast = MLukeTokenizerFast.from_pretrained(tmp_path / "b")
    assert _ids(fast, return_offsets_mapping=True) == _ids(MLukeTokenizer.from_pretrained(bpe))


UNSAFE_SP_MODEL_KWARGS = [
    {"enable_sampling": True, "nbest_size": -1, "alpha": 0.1},
    {"model_file": "/dev/zero"},
    {"model_file": "../../etc/passwd", "model_proto": "x"},
]


@pytest.mark.parametrize("tokenizer_class", [MLukeTokenizer, MLukeTokenizerFast])
@pytest.mark.parametrize("folder_kwargs", UNSAFE_SP_MODEL_KWARGS)
def test_folder_sp_model_kwargs_are_ignored(tokenizer_folders, tmp_path, cache, tokenizer_class, folder_kwargs):
    folder = _folder(tokenizer_folders, tmp_path, "released")
    plain = tokenizer_class.from_pretrained(folder)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["sp_model_kwargs"] = folder_kwargs
    config_path.write_text(json.dumps(config), encoding="utf-8")
    tokenizer = tokenizer_class.from_pretrained(folder)
    assert tokenizer.sp_model_kwargs == {}
    # Deterministic: sampling would make repeated calls differ from each other and from the plain tokenizer.
    assert [_ids(tokenizer) for _ in range(5)] == [_ids(plain)] * 5


@pytest.mark.parametrize("tokenizer_class", [MLukeTokenizer, MLukeTokenizerFast])
def test_sp_model_kwargs_given_in_code_are_kept(tokenizer_folders, tmp_path, cache, tokenizer_class):
    folder = _folder(tokenizer_folders, tmp_path, "released")
    sampling = {"enable_sampling": True, "nbest_size": -1, "alpha": 0.5}
    tokenizer = tokenizer_class.from_pretrained(folder, sp_model_kwargs=sampling)
    assert tokenizer.sp_model_kwargs == sampling
    long_text = " ".join(TEXTS * 20)
    draws = {tuple(tokenizer(long_text)["input_ids"]) for _ in range(10)}
    assert len(draws) > 1  # sampling is on


@pytest.mark.parametrize("model", ["sentencepiece_unigram.model", "sentencepiece_bpe.model"])
def test_spliced_twin_equals_the_rebuilt_one(model):
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    path = Path(__file__).parent / "data" / "tokenizer" / model
    processor = spm.SentencePieceProcessor(model_file=str(path))
    spliced = sentencepiece_model_pb2.ModelProto()
    spliced.ParseFromString(converter.fairseq_renumbered_model_bytes(processor.serialized_model_proto()))
    source = sentencepiece_model_pb2.ModelProto()
    source.ParseFromString(processor.serialized_model_proto())
    assert [piece.piece for piece in spliced.pieces[:4]] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert list(spliced.pieces[4:]) == list(source.pieces[3:])
    trainer = spliced.trainer_spec
    assert (trainer.bos_id, trainer.pad_id, trainer.eos_id, trainer.unk_id) == (0, 1, 2, 3)
    assert trainer.model_type == source.trainer_spec.model_type
    assert spliced.normalizer_spec == source.normalizer_spec
    twin = converter.fairseq_sentencepiece_processor(processor)
    assert twin.encode(TEXTS) == [[piece + 1 if piece else 3 for piece in ids] for ids in processor.encode(TEXTS)]


def test_twin_splice_declines_other_layouts():
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.pieces.add(piece="a", score=0.0, type=1)
    proto.pieces.add(piece="<unk>", score=0.0, type=2)
    assert converter.fairseq_renumbered_model_bytes(proto.SerializeToString()) is None
    assert converter.fairseq_renumbered_model_bytes(b"\x12\x00") is None


@pytest.mark.slow
def test_load_benchmark_runs_at_a_tiny_scale(tmp_path):
    """benchmarks/bench_load.py end to end on a tiny folder (mluke_hf's loaders only): rows and equal ids."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_load.py"
    out = tmp_path / "load.json"
    completed = subprocess.run(
        [sys.executable, str(script), "--scale", "0.0005", "--rounds", "1", "--loaders", "mluke_slow,mluke_auto",
         "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    summary = json.loads(out.read_text())["summary"]
    assert set(summary) == {"mluke_slow cold", "mluke_slow warm", "mluke_auto cold", "mluke_auto warm"}
    for values in summary.values():
        assert values["load_s"] > 0 and values["peak_growth_named_mib"] >= values["peak_growth_special_mib"]
    runs = json.loads(out.read_text())["runs"]
    outputs = [result["outputs"] for results in runs.values() for result in results]
    assert all(output == outputs[0] for output in outputs)
    assert outputs[0]["named"]["entity_ids"][-1] == 1  # the unknown name: [UNK]

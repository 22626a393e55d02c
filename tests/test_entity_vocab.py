"""The lazy entity vocabulary: `json.load`'s ids for every key, special entries without reading the whole file, one
full read under threads, byte-identical saving, and none of the vocabulary's cost in an NER pipeline."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import threading
from pathlib import Path

import pytest

from mluke_hf.text import entity_vocab as entity_vocab_module
from mluke_hf.text.entity_vocab import (
    ENTITY_SPECIAL_TOKENS,
    EntityVocab,
    load_entity_vocab,
    save_entity_vocab,
    scan_special_entries,
)

FULL_NAMES = {
    "en:Japan": 3, "ja:日本": 3, "th:ประเทศญี่ปุ่น": 3, "hi:जापान": 3, "ar:اليابان": 3, "ko:일본": 3,
    "en:Tokyo": 4, "ja:東京": 4, "ru:Токио": 4, "zh:东京": 4, "he:טוקיו": 4,
    "en:[MASK]-like \"quoted\" title": 5, "de:Back\\slash/Slash": 5, "fr:tab\there": 6, "emoji:🗾": 7,
    "en:[MASK2": 9, "en:MASK]": 9, "en:Washington, D.C.": 11, "en:Paris, Texas": 12, "en:Trailing, ": 13,
    "en:1, 2, 3": 14,
}  # fmt: skip


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _full_vocab(mask2: int = 10, **extra: int) -> dict:
    return {"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, **FULL_NAMES, **extra, "[MASK2]": mask2}


# Each file as a text: the shapes a vocabulary file takes in the wild (released, 4.57.6's sorted save, json.dump
# with ASCII escapes, one line, lite) and the odd ones (duplicate keys, escaped special names, stray spaces).
VOCAB_FILES = {
    "released_indent2": json.dumps(_full_vocab(), indent=2, ensure_ascii=False),
    "sorted_like_457_save": json.dumps(_full_vocab(), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    # A lone surrogate only exists escaped (UTF-8 cannot hold it).
    "ascii_escaped": json.dumps(_full_vocab(**{"lone:\ud800": 8})),
    "one_line_unescaped": json.dumps(_full_vocab(), ensure_ascii=False, separators=(",", ":")),
    "lite": '{"[MASK]": 0, "[UNK]": 1, "[PAD]": 2, "[MASK2]": 3}',
    "duplicate_specials_last_wins": '{"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "ja:日本": 3, "[MASK]": 7,\n'
    ' "[MASK2]": 4, "ja:日本": 5, "[MASK2]" :  11 }',
    "escaped_special_name": '{"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "\\u005bMASK]": 9, "[MASK2]": 3}',
    "escaped_slash_elsewhere": '{"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "en:AC\\/DC": 4, "[MASK2]": 3}',
    "special_name_inside_a_key": '{"[PAD]": 0, "x\\"[MASK]": 5, "[UNK]": 1, "[MASK]": 2, "[MASK2]": 3}',
    "whitespace_everywhere": '\n\t{ "[PAD]"\n:\n0 ,\r\n"[UNK]": 1,"[MASK]":2 , "ko:서울" : 3, "[MASK2]"   : 4\n}\n\n',
}


@pytest.mark.parametrize("chunk_bytes", [7, 64, 1 << 20])
@pytest.mark.parametrize("name", sorted(VOCAB_FILES))
def test_lazy_vocab_equals_json_load(tmp_path, monkeypatch, name, chunk_bytes):
    monkeypatch.setattr(entity_vocab_module, "CHUNK_BYTES", chunk_bytes)
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES[name])
    expected = json.loads(path.read_text(encoding="utf-8"))
    vocab = EntityVocab(path)
    for special in ENTITY_SPECIAL_TOKENS:
        assert vocab.get(special) == expected.get(special), special
        assert (special in vocab) == (special in expected)
    assert list(vocab.items()) == list(expected.items())  # same ids and the file's (json.load's) order
    for key, value in expected.items():
        assert vocab[key] == value
    assert vocab.get("xx:missing", -1) == -1 and "xx:missing" not in vocab
    with pytest.raises(KeyError):
        vocab["xx:missing"]


@pytest.mark.parametrize("chunk_bytes", [7, 40, 64])
@pytest.mark.parametrize("name", ["released_indent2", "sorted_like_457_save", "one_line_unescaped", "ascii_escaped"])
def test_chunked_read_needs_no_whole_file_fallback(tmp_path, monkeypatch, name, chunk_bytes):
    """Names holding commas never make a piece end inside a string (which would fall back to json.load)."""
    monkeypatch.setattr(entity_vocab_module, "CHUNK_BYTES", chunk_bytes)
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES[name])
    expected = json.loads(path.read_text(encoding="utf-8"))

    def no_whole_file_read(*args, **kwargs):
        raise AssertionError("fell back to json.load")

    monkeypatch.setattr(entity_vocab_module.json, "load", no_whole_file_read)
    assert list(entity_vocab_module._read_json_object(path).items()) == list(expected.items())


def test_special_entries_need_no_full_read(tmp_path, monkeypatch):
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES["released_indent2"])
    reads = []
    original = entity_vocab_module._read_json_object
    monkeypatch.setattr(entity_vocab_module, "_read_json_object", lambda p: reads.append(p) or original(p))
    vocab = EntityVocab(path)
    assert [vocab[name] for name in ENTITY_SPECIAL_TOKENS] == [0, 1, 2, 10]
    assert vocab.get("[MASK2]") == 10 and "[PAD]" in vocab
    assert not vocab.loaded and reads == []
    assert vocab.get("ja:日本") == 3 and vocab["th:ประเทศญี่ปุ่น"] == 3
    assert vocab.loaded and len(reads) == 1
    vocab["hi:जापान"], len(vocab)
    assert len(reads) == 1


@pytest.mark.parametrize("name", ["escaped_special_name", "special_name_inside_a_key", "duplicate_specials_last_wins"])
def test_scan_never_guesses(tmp_path, name):
    """Where bytes alone cannot give json.load's answer, the scan says so (None) instead of guessing."""
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES[name])
    expected = json.loads(path.read_text(encoding="utf-8"))
    found = scan_special_entries(path, ENTITY_SPECIAL_TOKENS)
    if found is not None:
        assert found == {key: expected[key] for key in ENTITY_SPECIAL_TOKENS if key in expected}
    else:
        assert name == "escaped_special_name"


def test_scan_refuses_names_it_cannot_match_bytewise(tmp_path):
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES["released_indent2"])
    assert scan_special_entries(path, ("[MASK]", "ja:日本")) is None
    assert scan_special_entries(path, ("[MASK]", 'a"b')) is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "[MASK2]": 3,}', json.JSONDecodeError),  # trailing comma
        ('{,"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "[MASK2]": 3}', json.JSONDecodeError),  # leading comma
        ('{"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "[MASK2]": 3', json.JSONDecodeError),  # cut short
        ('{"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "[MASK2]": 3, "en:x": 1.5}', ValueError),  # not an int
        ('["[PAD]", "[UNK]"]', ValueError),
    ],
)
@pytest.mark.parametrize("chunk_bytes", [5, 1 << 20])
def test_broken_files_raise_as_json_load(tmp_path, monkeypatch, text, error, chunk_bytes):
    monkeypatch.setattr(entity_vocab_module, "CHUNK_BYTES", chunk_bytes)
    path = _write(tmp_path / "entity_vocab.json", text)
    with pytest.raises(error):
        len(EntityVocab(path))


def test_full_read_once_under_threads(tmp_path, monkeypatch):
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES["released_indent2"])
    reads = []
    original = entity_vocab_module._read_json_object

    def counted(source):
        reads.append(source)
        return original(source)

    monkeypatch.setattr(entity_vocab_module, "_read_json_object", counted)
    vocab = EntityVocab(path)
    barrier = threading.Barrier(8)
    results = []

    def lookup():
        barrier.wait()
        results.append((vocab["ja:東京"], vocab.get("ar:اليابان"), vocab["[MASK]"]))

    threads = [threading.Thread(target=lookup) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(4, 3, 2)] * 8
    assert len(reads) == 1


def test_one_instance_per_file_and_version(tmp_path):
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES["released_indent2"])
    first = load_entity_vocab(path)
    assert load_entity_vocab(str(path)) is first
    _write(path, VOCAB_FILES["lite"])  # a new file version: a new mapping
    second = load_entity_vocab(path)
    assert second is not first and second["[MASK]"] == 0


def test_copies_and_pickles(tmp_path):
    import copy

    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES["sorted_like_457_save"])
    vocab = load_entity_vocab(path)
    assert copy.deepcopy(vocab) is vocab and copy.copy(vocab) is vocab
    restored = pickle.loads(pickle.dumps(vocab))
    assert restored["[MASK2]"] == 10 and not restored.loaded
    vocab["ko:일본"]
    restored = pickle.loads(pickle.dumps(vocab))
    assert restored.loaded and restored == vocab and dict(restored) == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["released_indent2", "ascii_escaped", "duplicate_specials_last_wins"])
def test_save_copies_the_file_bytes(tmp_path, name):
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES[name])
    vocab = EntityVocab(path)
    out = save_entity_vocab(vocab, tmp_path / "saved.json")
    assert out.read_bytes() == path.read_bytes()
    assert not vocab.loaded
    save_entity_vocab(vocab, path)  # onto itself: left as it is
    assert path.read_bytes() == VOCAB_FILES[name].encode("utf-8")


@pytest.mark.parametrize("tokenizer_class_name", ["MLukeTokenizer", "MLukeTokenizerFast"])
def test_tokenizers_save_entity_vocab_byte_identical_without_reading_it(
    tokenizer_folders, tmp_path, tokenizer_class_name
):
    import mluke_hf

    source = tmp_path / "source"
    shutil.copytree(tokenizer_folders["unigram-full-base"], source)
    # A released-style file written by another tool: sorted, ASCII escapes; saving must keep these very bytes.
    vocab = json.loads((source / "entity_vocab.json").read_text(encoding="utf-8"))
    (source / "entity_vocab.json").write_text(json.dumps(vocab, sort_keys=True, indent=4), encoding="utf-8")
    tokenizer = getattr(mluke_hf, tokenizer_class_name).from_pretrained(source)
    tokenizer.save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "entity_vocab.json").read_bytes() == (source / "entity_vocab.json").read_bytes()
    assert not tokenizer.entity_vocab.loaded


def test_slow_and_fast_share_one_vocabulary(tokenizer_folders):
    from mluke_hf import MLukeTokenizer, MLukeTokenizerFast

    folder = tokenizer_folders["unigram-full-base"]
    slow, fast = MLukeTokenizer.from_pretrained(folder), MLukeTokenizerFast.from_pretrained(folder)
    assert slow.entity_vocab is fast.entity_vocab


@pytest.mark.parametrize("tokenizer_class_name", ["MLukeTokenizer", "MLukeTokenizerFast"])
def test_entity_ids_as_json_load_through_the_tokenizer(tokenizer_folders, tmp_path, tokenizer_class_name):
    """Special-entity and named-entity calls give the ids of a fully read vocabulary (json.load), multilingual."""
    import mluke_hf

    folder = tmp_path / "folder"
    shutil.copytree(tokenizer_folders["unigram-full-base"], folder)
    (folder / "entity_vocab.json").write_text(VOCAB_FILES["sorted_like_457_save"], encoding="utf-8")
    expected = json.loads(VOCAB_FILES["sorted_like_457_save"])
    tokenizer = getattr(mluke_hf, tokenizer_class_name).from_pretrained(folder)
    text = "東京 is in 日本; กรุงเทพ is not."
    spans = [(0, 2), (9, 11), (13, 20)]
    masked = tokenizer(text, entity_spans=spans)
    assert masked["entity_ids"] == [expected["[MASK]"]] * 3
    assert not tokenizer.entity_vocab.loaded
    named = tokenizer(text, entities=["ja:東京", "ja:日本", "th:nowhere"], entity_spans=spans)
    assert named["entity_ids"] == [expected["ja:東京"], expected["ja:日本"], expected["[UNK]"]]
    assert tokenizer.entity_vocab.loaded


def test_ner_pipeline_never_reads_the_vocabulary(tiny_checkpoint_factory, tmp_path, monkeypatch):
    """pipeline("entity-span-classification") on a released-layout folder with a full vocabulary: no full read."""
    from transformers import pipeline

    from fixtures_pipelines import PIPELINE_ENTITIES

    folder = tiny_checkpoint_factory(
        copy_to=tmp_path / "ner", architecture="LukeForEntitySpanClassification", entities=PIPELINE_ENTITIES,
        id2label={0: "O", 1: "LOC", 2: "PER", 3: "ORG", 4: "MISC"},
    )  # fmt: skip
    vocab_on_disk = json.loads((folder / "entity_vocab.json").read_text(encoding="utf-8"))
    assert "ja:日本" in vocab_on_disk  # a full vocabulary, not a lite one
    reads = []
    original = entity_vocab_module._read_json_object
    monkeypatch.setattr(entity_vocab_module, "_read_json_object", lambda p: reads.append(p) or original(p))
    ner = pipeline("entity-span-classification", model=str(folder))
    results = ner(["Barack Obama visited Tokyo.", "東京は日本の首都です。", "กรุงเทพ เป็น เมืองหลวง"])
    assert len(results) == 3
    assert reads == [] and not ner.tokenizer.entity_vocab.loaded


def test_scan_result_cached_per_file_version(tmp_path, monkeypatch):
    monkeypatch.setenv("MLUKE_HF_CACHE", str(tmp_path / "cache"))
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES["released_indent2"])
    scans = []
    original = entity_vocab_module.scan_special_entries
    monkeypatch.setattr(entity_vocab_module, "scan_special_entries", lambda *a: scans.append(a) or original(*a))
    assert EntityVocab(path)["[MASK2]"] == 10
    assert EntityVocab(path)["[MASK2]"] == 10
    assert len(scans) == 1 and len(list((tmp_path / "cache" / "entity_vocab").glob("*.json"))) == 1
    # Same size and modification time, other bytes: another file version, scanned again.
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b'"[MASK2]": 10', b'"[MASK2]": 12'))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert EntityVocab(path)["[MASK2]"] == 12
    assert len(scans) == 2


def test_scan_of_names_without_a_shared_prefix(tmp_path):
    path = _write(tmp_path / "entity_vocab.json", '{"[PAD]": 0, "OTHER": 5, "[MASK]": 2, "ja:x": 3}')
    assert scan_special_entries(path, ("[MASK]", "OTHER", "[PAD]", "MISSING")) == {"[PAD]": 0, "OTHER": 5, "[MASK]": 2}

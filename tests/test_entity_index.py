"""The index of large entity vocabularies: `json.load`'s answers for every name and id in every script, a file the
builder cannot prove it reads as json does is never indexed, collisions and stale caches never give a wrong id, one
build under threads, and named tokenizer calls that never read the whole file."""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import numpy as np
import pytest
from test_entity_vocab import VOCAB_FILES

from mluke_hf.text import entity_index
from mluke_hf.text import entity_vocab as entity_vocab_module
from mluke_hf.text.entity_index import build_index, name_bytes, name_hash, open_name_index, read_index
from mluke_hf.text.entity_vocab import ENTITY_SPECIAL_TOKENS, EntityVocab

# Titles in the scripts mLUKE covers, with what JSON escapes: quotes, backslashes, slashes, tabs, emoji.
TITLES = {
    "en": ["Japan", 'The "Heroes" album', "AC/DC", "C:\\path", "Washington, D.C."],
    "ja": ["日本", "東京都", "ブラック・ジャック"],
    "zh": ["北京市", "中华人民共和国"],
    "ko": ["대한민국", "서울특별시"],
    "th": ["ประเทศไทย", "กรุงเทพมหานคร"],
    "ar": ["اليابان", "القاهرة"],
    "he": ["ירושלים"],
    "hi": ["भारत", "नई दिल्ली"],
    "bn": ["বাংলাদেশ"],
    "ru": ["Москва", "Санкт-Петербург"],
    "el": ["Αθήνα"],
    "vi": ["Việt Nam", "Hà Nội"],
    "emoji": ["🗾", "🇯🇵 flag", "a\tb"],
}


def multilingual_vocab(entity_count: int, seed: int = 0) -> dict[str, int]:
    """A full-shaped vocabulary: several names per id across 13 scripts, some needing escapes."""
    rng = random.Random(seed)
    vocab = {"[PAD]": 0, "[UNK]": 1, "[MASK]": 2}
    languages = list(TITLES)
    for entity in range(3, entity_count + 3):
        for language in rng.sample(languages, rng.randint(1, 4)):
            title = rng.choice(TITLES[language])
            vocab[f"{language}:{title} {entity}"] = entity
    vocab["[MASK2]"] = entity_count + 3
    return vocab


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _names_by_id(expected: dict[str, int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for name, value in expected.items():
        names.setdefault(value, []).append(name)
    return names


def assert_same_as_json_load(index, expected: dict[str, int]) -> None:
    assert index is not None
    assert len(index) == len(expected)
    for name, value in expected.items():
        assert index.get(name) == value, name
    for value, names in _names_by_id(expected).items():
        assert index.names_of(value) == names, value
    assert index.get("xx:missing") is None and index.names_of(10**9) == [] and index.names_of(-5) == []


@pytest.mark.parametrize("name", sorted(VOCAB_FILES))
def test_index_equals_json_load_on_every_file_shape(tmp_path, name):
    path = _write(tmp_path / "entity_vocab.json", VOCAB_FILES[name])
    assert_same_as_json_load(build_index(path), json.loads(VOCAB_FILES[name]))


@pytest.mark.parametrize(("block_pairs", "read_bytes"), [(1, 64), (7, 4096), (1 << 18, 16 << 20)])
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_index_equals_json_load_multilingual(tmp_path, monkeypatch, block_pairs, read_bytes, ensure_ascii):
    """Blocks and reads of any size (a pair cut across reads or blocks), escaped or raw UTF-8."""
    monkeypatch.setattr(entity_index, "BLOCK_PAIRS", block_pairs)
    monkeypatch.setattr(entity_index, "READ_BYTES", read_bytes)
    expected = multilingual_vocab(300)
    path = _write(tmp_path / "entity_vocab.json", json.dumps(expected, indent=2, ensure_ascii=ensure_ascii))
    assert_same_as_json_load(build_index(path), expected)


def test_repeated_names_keep_the_last_value_and_the_first_place(tmp_path):
    # `\u65e5\u672c` is "日本" escaped: the same name as the raw one, as json.load sees it.
    text = '{"[PAD]": 0, "ja:日本": 3, "en:Japan": 3, "ko:서울": 5, "ja:\\u65e5\\u672c": 4, "ko:서울": 6, "x": 4}'
    expected = json.loads(text)
    index = build_index(_write(tmp_path / "entity_vocab.json", text))
    assert_same_as_json_load(index, expected)
    assert index.names_of(4) == ["ja:日本", "x"]  # dict order: where the name first appeared


def test_python_and_numpy_hashes_agree():
    rng = random.Random(0)
    alphabet = 'aé日🗾\x00 ,:"\\'
    names = ["", "a", "abcdefgh", "abcdefghi"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(300)
    ]
    encoded = [name_bytes(name) for name in names]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    lengths = np.array([len(item) for item in encoded], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    vectorized = entity_index._name_hashes_block(data, starts, lengths)
    assert vectorized.tolist() == [name_hash(item) for item in encoded]
    assert len(set(vectorized.tolist())) == len(set(names))  # "a" and "a\x00" differ by length


NOT_INDEXABLE = {
    "float value": '{"[PAD]": 0, "en:x": 1.5}',
    "exponent value": '{"[PAD]": 0, "en:x": 1e3}',
    "string value": '{"[PAD]": 0, "en:x": "3"}',
    "nested object": '{"[PAD]": 0, "en:x": {"a": 1}}',
    "trailing comma": '{"[PAD]": 0, "en:x": 1,}',
    "leading comma": '{, "[PAD]": 0, "en:x": 1}',
    "missing comma": '{"[PAD]": 0 "en:x": 1}',
    "missing colon": '{"[PAD]" 0, "en:x": 1}',
    "two colons": '{"[PAD]":: 0, "en:x": 1}',
    "leading zero": '{"[PAD]": 0, "en:x": 01}',
    "space inside a number": '{"[PAD]": 0, "en:x": 1 2}',
    "minus alone": '{"[PAD]": 0, "en:x": -}',
    "19 digits": '{"[PAD]": 0, "en:x": 1234567890123456789}',
    "raw newline in a key": '{"[PAD]": 0, "en:x\ny": 1}',
    "raw tab in a key": '{"[PAD]": 0, "en:x\ty": 1}',
    "bad escape": '{"[PAD]": 0, "en:\\x41": 1}',
    "backslash outside strings": '{"[PAD]": 0, \\"en:x": 1}',
    "byte order mark": '\ufeff{"[PAD]": 0, "en:x": 1}',
    "cut short": '{"[PAD]": 0, "en:x": 1',
    "text after the object": '{"[PAD]": 0, "en:x": 1} x',
    "two objects": '{"[PAD]": 0}{"en:x": 1}',
    "array": '["[PAD]", "en:x"]',
    "empty object": "{}",
    "unterminated key": '{"[PAD]": 0, "en:x: 1}',
}


@pytest.mark.parametrize("name", sorted(NOT_INDEXABLE))
def test_files_json_reads_otherwise_are_not_indexed(tmp_path, monkeypatch, name):
    """The builder declines (None); the vocabulary then reads the file as before: json.load's ids or its error."""
    path = _write(tmp_path / "entity_vocab.json", NOT_INDEXABLE[name])
    assert build_index(path) is None
    monkeypatch.setattr(entity_vocab_module, "INDEX_MIN_BYTES", 0)
    try:
        expected = json.loads(NOT_INDEXABLE[name])
    except ValueError as error:
        with pytest.raises(type(error)):
            EntityVocab(path).get("en:x")
        return
    if not isinstance(expected, dict) or not all(type(v) is int for v in expected.values()):
        with pytest.raises(ValueError, match="not an mLUKE entity vocabulary"):
            EntityVocab(path).get("en:x")
        return
    vocab = EntityVocab(path)
    assert vocab.get("en:x") == expected.get("en:x") and vocab.loaded


def test_invalid_utf8_and_long_keys_are_not_indexed(tmp_path, monkeypatch):
    path = tmp_path / "entity_vocab.json"
    path.write_bytes(b'{"[PAD]": 0, "en:\xff": 1}')
    assert build_index(path) is None
    monkeypatch.setattr(entity_index, "MAX_KEY_BYTES", 8)
    path.write_text('{"[PAD]": 0, "en:a very long title": 1}', encoding="utf-8")
    assert build_index(path) is None


def test_files_that_would_make_the_builder_slow_are_read_whole(tmp_path, monkeypatch):
    """An untrusted file cannot make building slow or large: many escapes, many repeats and a flood of quotes are
    declined before the work grows (json.load reads such files in C)."""
    monkeypatch.setattr(entity_index, "MAX_ESCAPES", 10)
    monkeypatch.setattr(entity_index, "MAX_REPEATED", 10)
    escaped = {f"ja:\u65e5{number}": number for number in range(20)}
    path = _write(tmp_path / "entity_vocab.json", json.dumps({"[PAD]": 0, **escaped}))
    assert build_index(path) is None
    monkeypatch.setattr(entity_index, "MAX_ESCAPES", 100)
    assert_same_as_json_load(build_index(path), json.loads(path.read_text(encoding="utf-8")))
    repeats = "{" + ", ".join(f'"en:x": {number}' for number in range(20)) + "}"
    assert build_index(_write(tmp_path / "repeats.json", repeats)) is None

    def past_the_first_pass(*args):
        raise AssertionError("the first pass should have declined")

    monkeypatch.setattr(entity_index, "_unescaped_quotes", past_the_first_pass)
    quotes = '{"[PAD]": 0, "' + '"' * 1000 + '": 1}'
    assert build_index(_write(tmp_path / "quotes.json", quotes)) is None
    assert build_index(_write(tmp_path / "escapes.json", '{"[PAD]": 0, "' + "\\" * 200 + '": 1}')) is None


def test_hash_collisions_are_resolved_against_the_file(tmp_path, monkeypatch):
    """With a hash that puts every name of the same length together, every answer is still json.load's."""

    def length_hash(data: bytes) -> int:
        return len(data)

    def length_hashes(data, starts, lengths):
        return np.asarray(lengths, dtype=np.uint64)

    monkeypatch.setattr(entity_index, "name_hash", length_hash)
    monkeypatch.setattr(entity_index, "_name_hashes_block", length_hashes)
    expected = multilingual_vocab(20)
    path = _write(tmp_path / "entity_vocab.json", json.dumps(expected, ensure_ascii=False))
    assert_same_as_json_load(build_index(path), expected)
    # A file built to collide beyond MAX_NAMES_PER_HASH is not indexed (lookups would degrade to scans).
    monkeypatch.setattr(entity_index, "MAX_NAMES_PER_HASH", 3)
    assert build_index(path) is None


def test_an_index_never_gives_an_id_its_file_does_not_hold(tmp_path):
    """Lookups check the name and read the id from the vocabulary file: an index applied to another file (a stale
    cache) answers from that file or not at all."""
    original = {"[PAD]": 0, "en:Japan": 3, "en:Tokyo": 4}
    changed_ids = {"[PAD]": 0, "en:Japan": 7, "en:Tokyo": 8}
    changed_names = {"[PAD]": 0, "en:Paris": 3, "en:Tokyo": 4}
    path = _write(tmp_path / "entity_vocab.json", json.dumps(original))
    index = build_index(path)
    _write(path, json.dumps(changed_ids))
    assert index.get("en:Japan") == 7 and index.get("en:Tokyo") == 8
    assert index.names_of(3) == [] and index.names_of(4) == []  # the file no longer gives them these ids
    _write(path, json.dumps(changed_names))
    assert index.get("en:Japan") is None and index.get("en:Paris") is None  # never 3 for another name
    _write(path, '{"[PAD]": 0}')  # shorter than the index thinks: short reads, no crash
    assert index.get("en:Tokyo") is None


def _arrays(index) -> dict:
    return {name: np.asarray(getattr(index, name)) for name in entity_index._ARRAYS}


def test_cache_file_round_trip_and_corruption(tmp_path):
    expected = multilingual_vocab(50)
    path = _write(tmp_path / "entity_vocab.json", json.dumps(expected, ensure_ascii=False))
    cache = tmp_path / "cache" / "vocab.index"
    built = open_name_index(str(path), cache)
    assert cache.is_file()
    assert isinstance(built.hashes, np.memmap)  # memory-mapped from the cache, not held in memory
    assert_same_as_json_load(read_index(cache, str(path)), expected)
    data = cache.read_bytes()
    for broken in (b"", data[:100], b"not an index" + data[12:], data[:-64]):
        cache.write_bytes(broken)
        assert read_index(cache, str(path)) is None
        rebuilt = open_name_index(str(path), cache)  # rebuilt and rewritten
        assert_same_as_json_load(rebuilt, expected)
        assert read_index(cache, str(path)) is not None


def test_an_unwritable_cache_leaves_the_index_in_memory_and_no_temporary_file(tmp_path, monkeypatch):
    expected = multilingual_vocab(20)
    path = _write(tmp_path / "entity_vocab.json", json.dumps(expected, ensure_ascii=False))
    cache = tmp_path / "cache" / "vocab.index"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(entity_index.np, "ascontiguousarray", disk_full)  # fails halfway through the write
    index = open_name_index(str(path), cache)
    assert not isinstance(index.hashes, np.memmap)  # kept in memory
    assert_same_as_json_load(index, expected)
    assert list(cache.parent.iterdir()) == []  # neither the index nor a temporary file


def test_unindexable_files_are_remembered(tmp_path, monkeypatch):
    path = _write(tmp_path / "entity_vocab.json", NOT_INDEXABLE["float value"])
    cache = tmp_path / "cache" / "vocab.index"
    assert open_name_index(str(path), cache) is None
    assert cache.with_suffix(".unindexable").is_file()

    def no_build(*args):
        raise AssertionError("tried to index again")

    monkeypatch.setattr(entity_index, "_build_arrays", no_build)
    assert open_name_index(str(path), cache) is None


@pytest.fixture
def indexed(monkeypatch, tmp_path):
    """Every vocabulary file answers named lookups from its index (tests' files are far below the size limit)."""
    monkeypatch.setattr(entity_vocab_module, "INDEX_MIN_BYTES", 0)
    monkeypatch.setenv("MLUKE_HF_CACHE", str(tmp_path / "cache"))
    reads = []
    original = entity_vocab_module._read_json_object
    monkeypatch.setattr(entity_vocab_module, "_read_json_object", lambda p: reads.append(p) or original(p))
    return reads


def test_vocab_answers_from_the_index_without_reading_the_file(tmp_path, indexed):
    expected = {**multilingual_vocab(100), "[MASK2]": 999}
    path = _write(tmp_path / "entity_vocab.json", json.dumps(expected, indent=2, ensure_ascii=False))
    vocab = EntityVocab(path)
    for name, value in expected.items():
        assert vocab[name] == value and name in vocab and vocab.get(name) == value
    assert vocab.get("xx:missing", -1) == -1 and "xx:missing" not in vocab and 5 not in vocab
    with pytest.raises(KeyError):
        vocab["xx:missing"]
    assert len(vocab) == len(expected)
    assert vocab.names_of(7) == _names_by_id(expected)[7] and vocab.names_of(np.int64(7)) == vocab.names_of(7)
    assert vocab.entity_ids() == sorted(set(expected.values()))
    for wrong in ("7", 7.0, True, None):
        with pytest.raises(TypeError, match="entity_id must be an int"):
            vocab.names_of(wrong)
    assert not vocab.loaded and indexed == []
    # A second process (a new instance) reads the cached index instead of building it.
    cached = list((tmp_path / "cache" / "entity_vocab").glob("*.index"))
    assert len(cached) == 1
    assert EntityVocab(path)["ja:日本 3" if "ja:日本 3" in expected else next(iter(expected))] is not None
    # Iterating needs every name: the whole file is read once, and the index is no longer used.
    assert list(vocab.items()) == list(expected.items())
    assert vocab.loaded and len(indexed) == 1
    assert vocab.names_of(7) == _names_by_id(expected)[7]


def test_ids_to_names_never_scan_every_name_per_call(tmp_path, monkeypatch):
    """Without an index (small file) the dict's id -> names is made once; with one, it keeps answering after the
    whole file was read (entity-fill-mask reads every name for `language=`, then reports names by id)."""
    expected = multilingual_vocab(30)
    small = _write(tmp_path / "small.json", json.dumps(expected, ensure_ascii=False))
    made = []
    original = entity_vocab_module.ReverseEntityNames
    monkeypatch.setattr(entity_vocab_module, "ReverseEntityNames", lambda vocab: made.append(1) or original(vocab))
    vocab = EntityVocab(small)
    assert [vocab.names_of(7), vocab.names_of(8), vocab.entity_ids()] == [
        _names_by_id(expected)[7],
        _names_by_id(expected)[8],
        sorted(set(expected.values())),
    ]
    assert len(made) == 1
    monkeypatch.setattr(entity_vocab_module, "INDEX_MIN_BYTES", 0)
    large = _write(tmp_path / "large.json", json.dumps(expected, ensure_ascii=False))
    vocab = EntityVocab(large)
    assert vocab.names_of(7) == _names_by_id(expected)[7]  # opens the index
    list(vocab.items())
    assert vocab.loaded and vocab.names_of(8) == _names_by_id(expected)[8] and len(made) == 1


def test_vocab_index_with_cache_off_stays_in_memory(tmp_path, indexed, monkeypatch):
    monkeypatch.setenv("MLUKE_HF_CACHE", "off")
    expected = multilingual_vocab(30)
    path = _write(tmp_path / "entity_vocab.json", json.dumps(expected, ensure_ascii=False))
    vocab = EntityVocab(path)
    assert all(vocab[name] == value for name, value in expected.items())
    assert not vocab.loaded and not (tmp_path / "cache").exists()


def test_one_index_build_under_threads(tmp_path, indexed, monkeypatch):
    expected = multilingual_vocab(200)
    path = _write(tmp_path / "entity_vocab.json", json.dumps(expected, ensure_ascii=False))
    builds = []
    original = entity_index._build_arrays
    monkeypatch.setattr(entity_index, "_build_arrays", lambda p: builds.append(p) or original(p))
    vocab = EntityVocab(path)
    names = list(expected)
    barrier = threading.Barrier(8)
    results, errors = {}, []

    def look_up(worker: int) -> None:
        try:
            barrier.wait()
            chosen = names[worker::8]
            results[worker] = [(name, vocab.get(name)) for name in chosen]
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=look_up, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(builds) == 1 and not vocab.loaded
    assert sum(len(found) for found in results.values()) == len(names)
    assert all(expected[name] == value for found in results.values() for name, value in found)


@pytest.mark.parametrize("tokenizer_class_name", ["MLukeTokenizer", "MLukeTokenizerFast"])
def test_named_tokenizer_calls_use_the_index(mluke_tokenizer_folder, indexed, tokenizer_class_name):
    """Both tokenizer classes give the same ids as with the whole file read, and never read it."""
    import mluke_hf

    folder = mluke_tokenizer_folder
    vocab_file = folder / "entity_vocab.json"
    expected = json.loads(vocab_file.read_text(encoding="utf-8"))
    names = [name for name in expected if name not in ENTITY_SPECIAL_TOKENS][:3] + ["xx:unknown"]
    text = "Tokyo is in Japan and 東京 is in 日本."
    spans = [(0, 5), (12, 17), (22, 24), (31, 33)]
    tokenizer = getattr(mluke_hf, tokenizer_class_name).from_pretrained(folder)
    encoding = tokenizer(text, entities=names, entity_spans=spans)
    unk = expected["[UNK]"]
    assert encoding["entity_ids"] == [expected.get(name, unk) for name in names]
    assert not tokenizer.entity_vocab.loaded and indexed == []
    assert os.path.getsize(vocab_file) > 0

"""Entity vocabulary files (`entity_vocab.json`) of mLUKE checkpoints, in both released shapes.

- full (mluke-base, mluke-large): `[PAD]`=0, `[UNK]`=1, `[MASK]`=2, then `"lang:title"` names; the names of one
  Wikipedia entity in several languages share one id (`"en:Japan"` and `"ja:日本"`), then `[MASK2]`.
- lite (mluke-*-lite): only `[MASK]`=0, `[UNK]`=1, `[PAD]`=2, `[MASK2]`=3.

Special entity ids differ between the shapes, so code looks them up by name, never by number.

The full file is large (418 MB, 9.8M names for mluke-base) while the fine-tuned tasks (NER, entity typing, relation
classification) only ever use the four special entities. `load_entity_vocab` therefore returns an `EntityVocab`: a
read-only mapping that finds the special entries with one byte scan of the file (no JSON parsing, a few MB of memory),
looks real names up in a memory-mapped index of the file (`entity_index`, built once per version of a large file and
cached) and reads the whole file only when the mapping is iterated (or the file is small or unusual). Its values are exactly
those of `json.load` (the last of duplicate keys wins, escapes decoded); whenever the byte scan cannot be sure of
that (escaped ASCII in the file, an unusual special name), the scan gives up and the whole file is read at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .entity_index import INDEX_VERSION, EntityNameIndex, open_name_index

ENTITY_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[MASK]", "[MASK2]")

# Bytes read at a time by the scan and by the chunked parse: small next to the file, large enough that the C loops
# (bytes.find, json's scanner) dominate.
CHUNK_BYTES = 8 << 20
# Files at least this large answer named lookups from an index (`entity_index`) rather than a dict of every name;
# smaller ones (lite and test vocabularies) are read whole: under a second at 16 MB (about 370k names), by the
# 430 MB file's 21 s, and no cache file to write.
INDEX_MIN_BYTES = 16 << 20
# A JSON escape of an ASCII character other than a control character (`\u005b` for "["), or an escaped slash: only
# then can a key written with escapes decode to a special name (those are printable ASCII without quote, backslash
# or slash). Files written by json.dump hold neither (JSON's `\u` is lower case; the hex digit tested is a digit).
_ASCII_ESCAPE = re.compile(rb"\\u00[2-7]|\\/")
_JSON_SPACE = b" \t\n\r"
# After a key: `: <int>` then `,` or `}`.
_INTEGER_VALUE = re.compile(rb"[ \t\n\r]*:[ \t\n\r]*(-?(?:0|[1-9][0-9]*))[ \t\n\r]*[,}]")


def _plain_name(name: str) -> bool:
    """A special name the byte scan can look for: printable ASCII without quote, backslash or slash."""
    return bool(name) and all(" " <= character <= "~" for character in name) and not set(name) & set('"\\/')


def scan_special_entries(path: str | os.PathLike, names: tuple[str, ...]) -> dict[str, int] | None:
    """The ids `json.load` would give the keys `names` of the JSON object in `path`, found by scanning bytes.

    A key occurrence is `"name"` preceded (after whitespace) by `{` or `,` and followed by `: <int>`; in valid JSON
    that is always a key of the top-level object's pairs, never text inside a string (an unescaped quote after `{`
    or `,` opens a string). The last occurrence wins, as in `json.load`. Returns None when the scan cannot be sure:
    a name outside `_plain_name`, an escaped ASCII character anywhere in the file (a key could spell a special name
    with escapes), or an occurrence with a non-integer value. Names not in the file are left out of the result.
    """
    if not all(_plain_name(name) for name in names):
        return None
    patterns = {name: b'"' + name.encode("ascii") + b'"' for name in names}
    longest = max(len(pattern) for pattern in patterns.values())
    prefix = os.path.commonprefix(list(patterns.values()))
    # Searched without the opening quote when the names share more than it.
    skip = 1 if len(prefix) > 1 else 0
    needle = prefix[skip:]
    # An occurrence this close to a window's end is left to the next window, which starts `tail_bytes` before the
    # end: it then sees the occurrence whole, its value, and at least 64 bytes of context before it.
    defer_bytes = longest + 64
    tail_bytes = defer_bytes + 64
    found: dict[str, int] = {}
    with open(path, "rb") as handle:
        tail = b""
        while True:
            chunk = handle.read(CHUNK_BYTES)
            at_end = not chunk
            window = tail + chunk
            if b"\\" in window and _ASCII_ESCAPE.search(window):
                return None
            first_new = max(0, len(tail) - defer_bytes) if tail else 0
            limit = len(window) if at_end else len(window) - defer_bytes
            # One pass for what all names share after the opening quote (`[` for the defaults: a rare byte, so the
            # search runs at memchr speed, where the quote itself occurs every few bytes), then each hit is checked
            # by name.
            hit = window.find(needle, first_new + skip, limit + len(prefix) - 1)
            while hit != -1:
                position = hit - skip
                for name, pattern in patterns.items():
                    if window.startswith(pattern, position):
                        outcome = _key_value_at(window, position, len(pattern), at_file_start=not tail)
                        if outcome is _UNSURE:
                            return None
                        if outcome is not None:
                            found[name] = outcome
                hit = window.find(needle, hit + 1, limit + len(prefix) - 1)
            if at_end:
                return found
            tail = window[-tail_bytes:]


# Bytes of the file's start and end hashed into the scan cache's key (with path, size, mtime and inode).
_SAMPLE_BYTES = 1 << 20
_SCAN_CACHE_VERSION = 1


def _file_cache_path(path: str | os.PathLike, kind: str, parts: list, suffix: str) -> Path | None:
    """Where the mluke_hf cache keeps what it derived from this version of the file (path, size, mtime, inode and a
    hash of its first and last MB), or None with caching off."""
    from .conversion_cache import cache_directory

    directory = cache_directory()
    if directory is None:
        return None
    stat = os.stat(path)
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE_BYTES)
        handle.seek(max(0, stat.st_size - _SAMPLE_BYTES))
        sample += handle.read(_SAMPLE_BYTES)
    key = [os.path.realpath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino, hashlib.sha256(sample).hexdigest(),
           kind, *parts]  # fmt: skip
    digest = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()
    return directory / "entity_vocab" / f"{digest}{suffix}"


def _scan_cache_path(path: str | os.PathLike, names: tuple[str, ...]) -> Path | None:
    return _file_cache_path(path, "special_entries", [list(names), _SCAN_CACHE_VERSION], ".json")


def cached_special_entries(path: str | os.PathLike, names: tuple[str, ...]) -> dict[str, int] | None:
    """`scan_special_entries`, remembered in the mluke_hf cache for this version of the file (path, size, mtime,
    inode and a hash of its first and last MB): a warm load reads a few bytes instead of the whole file."""
    from .conversion_cache import write_atomically

    cache = _scan_cache_path(path, names)
    if cache is not None and cache.is_file():
        try:
            entries = json.loads(cache.read_text(encoding="utf-8"))["special_entries"]
            if entries is None or (isinstance(entries, dict) and all(type(v) is int for v in entries.values())):
                return entries
        except (OSError, ValueError, KeyError, TypeError):
            pass  # rescanned and rewritten below
    entries = scan_special_entries(path, names)
    if cache is not None:
        write_atomically(cache, json.dumps({"special_entries": entries}, ensure_ascii=False))
    return entries


_UNSURE = object()
_MISSING = object()
_NOT_OPENED = object()


def _key_value_at(window: bytes, position: int, length: int, at_file_start: bool):
    """The integer value of the key whose quote opens at `position`, None when it is not a key there, `_UNSURE`
    when the bytes around it do not settle the question."""
    before = position
    while before > 0 and window[before - 1] in _JSON_SPACE:
        before -= 1
    if before == 0:
        # Only the file's first bytes may start a window without the context before them.
        return _UNSURE if not at_file_start else None
    if window[before - 1] not in b"{,":
        return None
    match = _INTEGER_VALUE.match(window, position + length)
    if match is None:
        following = window[position + length : position + length + 32].lstrip(_JSON_SPACE)
        if following.startswith(b":"):
            # A special name with a value that is not a plain integer (or that runs past the window's end).
            return _UNSURE
        return None
    return int(match.group(1))


def _chunked_json_object(path: str | os.PathLike) -> dict:
    """`json.load` of a JSON object, parsed in pieces of about CHUNK_BYTES cut after a comma (no whole-file text).

    The file is cut after commas ending a pair (`_cut_after_pair`) and each piece wrapped in braces; pieces merge with `dict.update`, which keeps the
    first position and the last value of a repeated key, as `json.load` does. A cut inside a string leaves that
    string unterminated in its piece, so the piece fails to parse; on any failure (or anything but a flat object)
    the caller falls back to `json.load` itself, which then also raises json's own error for a broken file.
    """
    result: dict = {}
    with open(path, "rb") as handle:
        pending = b""
        first = True
        while True:
            data = handle.read(CHUNK_BYTES)
            pending += data
            cut = _cut_after_pair(pending) if data else len(pending)
            if cut == 0:
                continue
            piece, pending = pending[:cut], pending[cut:]
            text = piece.decode("utf-8").strip()
            if data:
                text = text[:-1]  # the comma the piece was cut after
            if not first:
                text = "{" + text
            if data:
                text += "}"
            value = _loads_object(text)
            if not value and not (first and not data):
                # An empty piece between commas: a stray comma, which json.load rejects.
                raise ValueError("empty object piece")
            result.update(value)
            first = False
            if not data:
                return result


def _cut_after_pair(data: bytes) -> int:
    """Where to cut `data`: after its last comma that sits between an integer and a quote (`3,\n  "`), i.e. after
    a whole `"name": id` pair; 0 when there is none. Commas inside names ("en:Washington, D.C.") are passed over, so
    pieces never end inside a string in practice (if one did, its piece would fail to parse: see the caller)."""
    end = len(data)
    while (comma := data.rfind(b",", 0, end)) != -1:
        before, after = comma - 1, comma + 1
        while before >= 0 and data[before] in _JSON_SPACE:
            before -= 1
        while after < len(data) and data[after] in _JSON_SPACE:
            after += 1
        if before >= 0 and 0x30 <= data[before] <= 0x39 and after < len(data) and data[after] == 0x22:
            return comma + 1
        end = comma
    return 0


def _loads_object(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004  (caught with json's own ValueError)
    return value


def _read_json_object(path: str | os.PathLike) -> dict:
    """The file's object as `json.load` gives it, without a whole-file text copy when the file allows."""
    try:
        return _chunked_json_object(path)
    except ValueError:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)


def _check_vocab(vocab, path) -> dict[str, int]:
    if not isinstance(vocab, dict) or not all(isinstance(value, int) for value in vocab.values()):
        raise ValueError(f"{path} is not an mLUKE entity vocabulary: expected one JSON object mapping names to ints")
    return vocab


class EntityVocab(Mapping):
    """Read-only `entity_vocab.json`: special entries at once, other names on demand.

    A file of at least `INDEX_MIN_BYTES` (a full released vocabulary) answers named lookups, `names_of` and `len`
    from a compact index (`mluke_hf.text.entity_index`: built once per version of the file, memory-mapped from the
    mluke_hf cache) instead of a dict of every name; a smaller file, one the index cannot take, and iteration read
    the whole file into a dict once. Thread-safe (the index and the dict are each made once, under a lock). Tokenizers
    loading the same file in one process share one instance (see `load_entity_vocab`), so the slow and the fast
    class never hold two copies. `loaded` says whether the whole file has been read; `path` is the file it was read
    from (saving copies its bytes).
    """

    def __init__(self, path: str | os.PathLike, special_names: tuple[str, ...] = ENTITY_SPECIAL_TOKENS):
        self.path = str(path)
        self._lock = threading.Lock()
        self._full: dict[str, int] | None = None
        self._index: EntityNameIndex | None | object = _NOT_OPENED
        self._reverse: ReverseEntityNames | None = None
        specials = cached_special_entries(self.path, tuple(special_names))
        if specials is None:
            self._load_full()
            specials = {name: self._full[name] for name in special_names if name in self._full}
        self._specials = specials

    @property
    def loaded(self) -> bool:
        return self._full is not None

    def _load_full(self) -> dict[str, int]:
        full = self._full
        if full is None:
            with self._lock:
                if self._full is None:
                    self._full = _check_vocab(_read_json_object(self.path), self.path)
                full = self._full
        return full

    def _name_index(self) -> EntityNameIndex | None:
        """The index of a large file (None for small or unindexable ones); not opened once the dict is there."""
        index = self._index
        if index is _NOT_OPENED:
            if self._full is not None:
                return None
            with self._lock:
                if self._index is _NOT_OPENED:
                    large = os.path.getsize(self.path) >= INDEX_MIN_BYTES
                    cache = _file_cache_path(self.path, "name_index", [INDEX_VERSION], ".index") if large else None
                    self._index = open_name_index(self.path, cache) if large else None
                index = self._index
        return index

    def _lookup(self, name, default):
        if not isinstance(name, str):
            hash(name)  # an unhashable key raises TypeError, as with a dict
            return default  # json's keys are all str
        value = self._specials.get(name)
        if value is not None:
            return value
        # Once the whole file is read (iteration), its dict is the faster answer.
        if self._full is None and (index := self._name_index()) is not None:
            found = index.get(name)
            return default if found is None else found
        return self._load_full().get(name, default)

    def __getitem__(self, name: str) -> int:
        value = self._lookup(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value

    def get(self, name, default=None):
        return self._lookup(name, default)

    def __contains__(self, name) -> bool:
        return self._lookup(name, _MISSING) is not _MISSING

    def names_of(self, entity_id: int) -> list[str]:
        """Every name of `entity_id` (the names of one entity in several languages share it), in the file's order."""
        if isinstance(entity_id, bool) or not isinstance(entity_id, (int, np.integer)):
            raise TypeError(f"entity_id must be an int (an id of the entity vocabulary), got {entity_id!r}")
        entity_id = int(entity_id)
        if (index := self._name_index()) is not None:
            return index.names_of(entity_id)
        return self._reverse_names().names_of(entity_id)

    def entity_ids(self) -> list[int]:
        """Every id the vocabulary names, ascending, once each."""
        if (index := self._name_index()) is not None:
            return index.entity_ids()
        return self._reverse_names().entity_ids()

    def _reverse_names(self) -> ReverseEntityNames:
        """id -> names of the whole-file dict, made once (not a scan of every name per call)."""
        reverse = self._reverse
        if reverse is None:
            full = self._load_full()
            with self._lock:
                if self._reverse is None:
                    self._reverse = ReverseEntityNames(full)
                reverse = self._reverse
        return reverse

    def __len__(self) -> int:
        if (index := self._name_index()) is not None:
            return len(index)
        return len(self._load_full())

    def __iter__(self) -> Iterator[str]:
        return iter(self._load_full())

    def keys(self):
        return self._load_full().keys()

    def items(self):
        return self._load_full().items()

    def values(self):
        return self._load_full().values()

    def __eq__(self, other) -> bool:
        if other is self:
            return True
        return isinstance(other, Mapping) and self._load_full() == dict(other.items())

    __hash__ = None

    def __repr__(self) -> str:
        state = f"{len(self._full)} names" if self._full is not None else "not read yet"
        return f"EntityVocab({self.path!r}, {state})"

    # Read-only: copies may share it.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_reopen_entity_vocab, (self.path, tuple(self._specials), self._full))


class ReverseEntityNames:
    """`EntityVocab`'s id -> names for any other mapping (a vocabulary given in code)."""

    def __init__(self, vocab: Mapping[str, int]):
        self._names: dict[int, list[str]] = {}
        for name, entity_id in vocab.items():
            self._names.setdefault(entity_id, []).append(name)

    def names_of(self, entity_id: int) -> list[str]:
        return list(self._names.get(entity_id, ()))

    def entity_ids(self) -> list[int]:
        return sorted(self._names)


class FirstNames(Sequence):
    """The first name of each of `entity_ids`, read when asked for (a released vocabulary has 1.2M of them)."""

    def __init__(self, names: EntityVocab | ReverseEntityNames, entity_ids: list[int]):
        self._names, self._ids = names, entity_ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[item] for item in range(*position.indices(len(self)))]
        return self._names.names_of(self._ids[position])[0]


def _reopen_entity_vocab(path, special_names, full):
    if full is not None:
        vocab = EntityVocab.__new__(EntityVocab)
        vocab.path, vocab._lock, vocab._full, vocab._index = path, threading.Lock(), full, _NOT_OPENED
        vocab._reverse = None
        vocab._specials = {name: full[name] for name in special_names if name in full}
        return vocab
    return load_entity_vocab(path, special_names)


# One EntityVocab per file version in this process (keyed by path and stat), dropped when no tokenizer holds it.
_OPEN_VOCABS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_OPEN_LOCK = threading.Lock()


def load_entity_vocab(path: str | os.PathLike, special_names: tuple[str, ...] = ENTITY_SPECIAL_TOKENS) -> EntityVocab:
    """`entity_vocab.json` (one JSON object, name -> id) as a lazy, read-only mapping in the file's order.

    The special names are found by a byte scan (`scan_special_entries`); everything else reads the file on first use.
    """
    real = os.path.realpath(path)
    stat = os.stat(real)
    key = (real, stat.st_size, stat.st_mtime_ns, stat.st_ino, tuple(special_names))
    with _OPEN_LOCK:
        vocab = _OPEN_VOCABS.get(key)
        if vocab is None:
            vocab = EntityVocab(path, tuple(special_names))
            _OPEN_VOCABS[key] = vocab
    return vocab


def save_entity_vocab(vocab: Mapping[str, int], path: str | os.PathLike) -> Path:
    """Write `entity_vocab.json`. A vocabulary read from a file is saved as that file's bytes (released files
    round-trip byte for byte, unread ones stay unread); others in their own order, unescaped UTF-8."""
    path = Path(path)
    if isinstance(vocab, EntityVocab) and os.path.isfile(vocab.path):
        if not (path.exists() and os.path.samefile(vocab.path, path)):
            shutil.copyfile(vocab.path, path)
        return path
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(vocab), indent=2, ensure_ascii=False) + "\n")
    return path


def entity_vocab_shape(vocab: Mapping[str, int]) -> str:
    """ "lite" when the vocabulary holds only the four special entities, else "full"."""
    return "lite" if set(vocab) <= set(ENTITY_SPECIAL_TOKENS) else "full"

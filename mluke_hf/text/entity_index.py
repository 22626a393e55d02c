"""A compact index of a large `entity_vocab.json`, for name -> id and id -> names without reading it into a dict.

Why: a full released vocabulary holds 9.8M names (430 MB). Reading it into a dict, as the first lookup of a real
name did, costs 16-19 s of CPU and 1.7 GB in every process. This index is built once per version of the file by
numpy passes over its bytes (no Python object per name, about 1/3 of that memory at the peak), kept in the mluke_hf cache (see
`conversion_cache.cache_directory`) as one file of flat arrays and memory-mapped, so later processes answer their first
named lookup in milliseconds and hold only the pages they touch. With the cache turned off or not writable, the
arrays stay in memory for the process.

Layout (one entry per distinct name):
- `hashes` (uint64, sorted): `name_hash` of the name's UTF-8 bytes (over 8-byte words);
- `offsets`, `lengths`: where that name's JSON string (between its quotes) sits in `entity_vocab.json`: the occurrence
  whose value `json.load` keeps (the last one of a repeated name);
- `by_id`: entries ordered by (id, first occurrence in the file), and `sorted_ids`, their ids: id -> names in the
  order `json.load`'s dict holds them.

Exactness: a lookup hashes the name, binary-searches `hashes`, and checks each candidate against the file itself
(`os.pread`, so a file that shrinks under us gives a short read, never a crash): the raw string must decode to the
name and the integer written after it is the id returned. A hash collision, a stale or a corrupt cache can therefore
never give another name's id. The builder accepts only what it can prove `json.load` reads the same way: one flat
JSON object of string keys and integer values (at most 18 digits, no leading zero), valid UTF-8, no control
character inside a string, keys of at most `MAX_KEY_BYTES`; escapes are decoded by `json` itself. For anything else
it returns None and the caller reads the whole file as before (so a broken file still raises json's own error).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers.utils import logging

from .conversion_cache import write_atomically

logger = logging.get_logger(__name__)

INDEX_VERSION = 1
MAX_KEY_BYTES = 1 << 16
# Bytes read at a time by the first pass, and pairs handled at a time by the second (bounded temporaries).
READ_BYTES = 16 << 20
BLOCK_PAIRS = 1 << 18
# The text between a key's closing quote and the next key's opening quote (`": 1200000,\n  "` is 13 bytes).
MAX_SEPARATOR_BYTES = 48
# More names under one hash than this means a file built to collide: not indexed.
MAX_NAMES_PER_HASH = 64
# Files with more backslashes, or more names sharing a hash with another, are read whole (json does it in C; the
# builder would handle each in Python).
MAX_ESCAPES = 1 << 20
MAX_REPEATED = 1 << 20

_HASH_SEED = 0xCBF29CE484222325
# Odd (each step is a bijection of the state for a given word), with well-spread bits (2^64 / golden ratio).
_HASH_MULTIPLIER = 0x9E3779B97F4A7C15
_HASH_SHIFT = 29
_MASK64 = (1 << 64) - 1
_MAGIC = b"MLUKE_HF_ENTITY_INDEX\n"
_HEADER_BYTES = 4096
_ARRAYS = ("hashes", "offsets", "lengths", "by_id", "sorted_ids")
_DTYPES = {"uint64", "int64", "uint32", "int32"}
_VALUE_AFTER_KEY = re.compile(rb'"[ \t\n\r]*:[ \t\n\r]*(-?(?:0|[1-9][0-9]{0,17}))[ \t\n\r]*[,}]')


def name_hash(data: bytes) -> int:
    """The hash the index sorts names by: over 8-byte little-endian words (the last one zero-padded), then the
    length, each step `state = (state ^ word) * multiplier; state ^= state >> shift` (the shift brings high bits back
    down, which a multiplication alone never does). Eight bytes per step, so the builder hashes 9.8M names with a few
    numpy passes."""
    value = _HASH_SEED
    for (word,) in struct.iter_unpack("<Q", data + bytes(-len(data) % 8)):
        value = _mix(value ^ word)
    return _mix(value ^ len(data))


def _mix(value: int) -> int:
    value = (value * _HASH_MULTIPLIER) & _MASK64
    return value ^ (value >> _HASH_SHIFT)


def name_bytes(name: str) -> bytes:
    # "surrogatepass": a lone surrogate only exists escaped in the file (`\ud800`), and json decodes it as one.
    return name.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class EntityNameIndex:
    """Read-only name -> id and id -> names over one `entity_vocab.json` (see the module docstring); thread-safe."""

    path: str
    hashes: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    by_id: np.ndarray
    sorted_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)

    def _raw(self, handle: int, entry: int, extra: int = 0) -> bytes:
        return os.pread(handle, int(self.lengths[entry]) + extra, int(self.offsets[entry]))

    def get(self, name: str) -> int | None:
        """The id `json.load` gives `name`, or None when the vocabulary does not hold it."""
        encoded = name_bytes(name)
        key = np.uint64(name_hash(encoded))
        entry = int(np.searchsorted(self.hashes, key))
        if entry == len(self.hashes) or self.hashes[entry] != key:
            return None
        handle = os.open(self.path, os.O_RDONLY)
        try:
            while entry < len(self.hashes) and self.hashes[entry] == key:
                found_name, value = self._pair(handle, entry)
                if found_name == name:
                    return value
                entry += 1
        finally:
            os.close(handle)
        return None

    def _pair(self, handle: int, entry: int) -> tuple[str | None, int | None]:
        """The name and id written in the file at `entry` (None where the file no longer reads as indexed)."""
        # The key's bytes, its closing quote and room for `: <18 digits>,` with some whitespace.
        raw = self._raw(handle, entry, 1 + MAX_SEPARATOR_BYTES)
        length = int(self.lengths[entry])
        value = _VALUE_AFTER_KEY.match(raw, length)
        return _decode_key(raw[:length]), (int(value.group(1)) if value is not None else None)

    def entity_ids(self) -> list[int]:
        """Every id the vocabulary names, ascending, once each."""
        ids = np.asarray(self.sorted_ids)
        if not ids.size:
            return []
        return ids[np.concatenate(([True], ids[1:] != ids[:-1]))].tolist()

    def names_of(self, entity_id: int) -> list[str]:
        """Every name of `entity_id`, in the order of the vocabulary's dict."""
        low = int(np.searchsorted(self.sorted_ids, entity_id, side="left"))
        high = int(np.searchsorted(self.sorted_ids, entity_id, side="right"))
        if low == high:
            return []
        handle = os.open(self.path, os.O_RDONLY)
        try:
            pairs = [self._pair(handle, int(entry)) for entry in self.by_id[low:high]]
        finally:
            os.close(handle)
        # Checked against the file as `get` is: a stale index never names another entity.
        return [name for name, value in pairs if name is not None and value == entity_id]


def _decode_key(raw: bytes) -> str | None:
    if b"\\" in raw:
        try:
            return json.loads(b'"' + raw + b'"')
        except ValueError:
            return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- building --------------------------------------------------------------------------------------------------------


class _NotIndexable(Exception):
    """The file is not one the builder can prove `json.load` reads as the index would."""


def build_index(path: str | os.PathLike) -> EntityNameIndex | None:
    """The index of `path` built in memory, or None when the file is not indexable (see the module docstring)."""
    try:
        arrays = _build_arrays(str(path))
    except _NotIndexable:
        return None
    return EntityNameIndex(str(path), **arrays)


def _first_pass(path: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Positions of every quote and backslash, and the file size; checks that the file is UTF-8 on the way."""
    quotes, backslashes = [], []
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = quote_count = escape_count = 0
    with open(path, "rb") as handle:
        while block := handle.read(READ_BYTES):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                raise _NotIndexable from error
            data = np.frombuffer(block, dtype=np.uint8)
            quotes.append(np.flatnonzero(data == ord('"')) + size)
            found = np.flatnonzero(data == ord("\\"))
            if found.size:
                backslashes.append(found + size)
            size += len(block)
            quote_count += len(quotes[-1])
            escape_count += found.size
            # A pair takes at least 5 bytes for its 2 quotes (`"":0,`); escapes are rare in released files (an
            # ASCII-escaped one is read faster by json itself). Either bound keeps the work linear and small.
            if quote_count > 0.4 * size + 2 or escape_count > MAX_ESCAPES:
                raise _NotIndexable
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise _NotIndexable from error
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(quotes) if quotes else empty), (np.concatenate(backslashes) if backslashes else empty), size


def _unescaped_quotes(quotes: np.ndarray, backslashes: np.ndarray) -> np.ndarray:
    """Quotes that open or close a string: those not escaped by a backslash."""
    if not backslashes.size:
        return quotes
    escaped = []
    escaped_position = -1
    for position in backslashes.tolist():
        if position == escaped_position:  # the second backslash of `\\`
            continue
        escaped_position = position + 1
        escaped.append(escaped_position)
    return np.setdiff1d(quotes, np.asarray(escaped, dtype=np.int64), assume_unique=True)


def _build_arrays(path: str) -> dict[str, np.ndarray]:
    pairs, size = _parse_pairs(path)
    return _sorted_arrays(path, pairs, size)


def _parse_pairs(path: str) -> tuple[dict[str, np.ndarray], int]:
    """Each pair in file order: its key's hash, value, opening quote and length (bytes between the quotes)."""
    quotes, backslashes, size = _first_pass(path)
    quotes = _unescaped_quotes(quotes, backslashes)
    if quotes.size % 2:
        raise _NotIndexable
    opens, closes = quotes[0::2], quotes[1::2]
    lengths = closes - opens - 1
    if lengths.size and int(lengths.max()) > MAX_KEY_BYTES:
        raise _NotIndexable
    # Every backslash must sit inside a key (outside strings it is not JSON).
    escaped_keys = np.zeros(0, dtype=np.int64)
    if backslashes.size:
        owner = np.searchsorted(opens, backslashes, side="right") - 1
        if (owner < 0).any() or (backslashes >= closes[np.maximum(owner, 0)]).any():
            raise _NotIndexable
        escaped_keys = np.unique(owner)
    hashes = np.empty(len(opens), dtype=np.uint64)
    values = np.empty(len(opens), dtype=np.int64)
    with open(path, "rb") as handle:
        _check_head(handle, opens)
        for first in range(0, len(opens), BLOCK_PAIRS):
            last = min(first + BLOCK_PAIRS, len(opens))
            _parse_block(handle, opens, closes, size, first, last, hashes, values)
    _hash_escaped_keys(path, escaped_keys, opens, lengths, hashes)
    narrow = values.size == 0 or (-(1 << 31) <= values.min() and values.max() < (1 << 31))
    pairs = {
        "hashes": hashes,
        "values": values.astype(np.int32) if narrow else values,
        "opens": opens.astype(np.uint32) if size < (1 << 32) else opens.copy(),
        "lengths": lengths.astype(np.uint32),
    }
    return pairs, size


def _check_head(handle, opens: np.ndarray) -> None:
    """Before the first key: `{` and whitespace only. (What follows the last pair is checked with it.) An empty
    object is not indexed: json.load reads it in no time."""
    if not opens.size or int(opens[0]) > MAX_SEPARATOR_BYTES:
        raise _NotIndexable
    if os.pread(handle.fileno(), int(opens[0]), 0).strip(b" \t\n\r") != b"{":
        raise _NotIndexable


# Byte classes of the text between strings.
_SPACE, _COLON, _COMMA, _MINUS, _DIGIT, _OTHER = range(6)
_CLASS = np.full(256, _OTHER, dtype=np.uint8)
_CLASS[list(b" \t\n\r")] = _SPACE
_CLASS[ord(":")], _CLASS[ord(",")], _CLASS[ord("-")] = _COLON, _COMMA, _MINUS
_CLASS[ord("0") : ord("9") + 1] = _DIGIT
_POWERS_OF_TEN = 10 ** np.arange(18, dtype=np.int64)


def _parse_block(handle, opens, closes, size, first, last, hashes, values) -> None:
    """Pairs `first..last`: check the text between their strings (`: <int>,`), read the values, hash the keys."""
    is_last_block = last == len(opens)
    start = int(opens[first])
    end = size if is_last_block else int(opens[last])
    data = np.frombuffer(os.pread(handle.fileno(), end - start, start), dtype=np.uint8)
    if len(data) != end - start:
        raise _NotIndexable  # the file changed while being read
    key_opens, key_closes = opens[first:last] - start, closes[first:last] - start
    # Pair i's separator: from its closing quote to the next opening one (for the file's last pair, to the end).
    separator_starts = key_closes + 1
    separator_ends = np.append(key_opens[1:], len(data))
    opened = np.cumsum(np.bincount(separator_starts, minlength=len(data) + 1)[:-1], dtype=np.int32)
    closed = np.cumsum(np.bincount(separator_ends, minlength=len(data) + 1)[:-1], dtype=np.int32)
    between = opened > closed
    # The separator each byte belongs to (meaningful where `between`).
    separator_of = opened - 1
    del closed
    if ((data < 0x20) & ~between).any():
        raise _NotIndexable  # a raw control character inside a string: json.load rejects it
    classes = _CLASS[data]
    if is_last_block:
        # The object's closing brace ends the last separator as a comma ends the others.
        brace = len(data) - 1
        while brace >= 0 and classes[brace] == _SPACE:
            brace -= 1
        if brace < 0 or data[brace] != ord("}") or not between[brace]:
            raise _NotIndexable
        classes[brace] = _COMMA
    values[first:last] = _separator_values(data, classes, between, separator_of, len(separator_starts))
    hashes[first:last] = _name_hashes_block(data, key_opens + 1, key_closes - key_opens - 1)


def _separator_values(data, classes, between, separator_of, count) -> np.ndarray:
    """The integer of each separator, which must read `<ws> : <ws> -?<digits> <ws> , <ws>`; else not indexable."""
    if (classes[between] == _OTHER).any():
        raise _NotIndexable
    positions = np.flatnonzero(between & (classes != _SPACE))
    sequence = classes[positions]
    separator = separator_of[positions]
    for kind in (_COLON, _COMMA):
        if (np.bincount(separator[sequence == kind], minlength=count) != 1).any():
            raise _NotIndexable
    # One colon and one comma in each: the colon first, the comma last, and in between `-?<digits>` unbroken.
    firsts = np.flatnonzero(np.diff(separator, prepend=-1))
    lasts = np.append(firsts[1:] - 1, len(sequence) - 1)
    if (sequence[firsts] != _COLON).any() or (sequence[lasts] != _COMMA).any():
        raise _NotIndexable
    following = sequence[1:]
    current = sequence[:-1]
    allowed = np.where(
        current == _COLON,
        (following == _MINUS) | (following == _DIGIT),
        np.where(current == _MINUS, following == _DIGIT, np.where(current == _DIGIT, following != _MINUS, True)),
    )
    if not allowed.all():
        raise _NotIndexable
    number = (current == _MINUS) | (current == _DIGIT)
    if (number & (following == _DIGIT) & (positions[1:] != positions[:-1] + 1)).any():
        raise _NotIndexable  # whitespace inside a number
    is_digit = sequence == _DIGIT
    digit_separator = separator[is_digit]
    digit_counts = np.bincount(digit_separator, minlength=count)
    if (digit_counts > 18).any():
        raise _NotIndexable
    digits = data[positions[is_digit]].astype(np.int64) - ord("0")
    group_starts = np.cumsum(digit_counts) - digit_counts
    if ((digits[group_starts] == 0) & (digit_counts > 1)).any():
        raise _NotIndexable  # a leading zero: not JSON
    rank = np.arange(len(digits)) - group_starts[digit_separator]
    terms = digits * _POWERS_OF_TEN[digit_counts[digit_separator] - 1 - rank]
    magnitude = np.add.reduceat(terms, group_starts)
    negative = np.bincount(separator[sequence == _MINUS], minlength=count).astype(bool)
    return np.where(negative, -magnitude, magnitude)


def _name_hashes_block(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """`name_hash` of many byte strings of `data` at once: word j of every string long enough, longest first."""
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order].astype(np.int64), lengths[order].astype(np.int64)
    hashes = np.full(len(starts), _HASH_SEED, dtype=np.uint64)
    if len(starts):
        padded = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
        # Every 8-byte little-endian word of `data`, at every byte offset (an unaligned, overlapping view).
        words = np.ndarray((len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))
        word_counts = (lengths + 7) // 8
        # active[j]: how many strings have a word j (a prefix, as they are sorted longest first).
        active = np.searchsorted(-word_counts, -np.arange(int(word_counts[0])), side="left")
        for column, count in enumerate(active.tolist()):
            head = hashes[:count]
            word = words[starts[:count] + 8 * column]
            remaining = lengths[:count] - 8 * column
            short = remaining < 8
            if short.any():
                keep_bits = np.left_shift(np.uint64(1), (8 * remaining[short]).astype(np.uint64)) - np.uint64(1)
                word[short] &= keep_bits
            np.bitwise_xor(head, word, out=head)
            _mix_array(head)
    np.bitwise_xor(hashes, lengths.astype(np.uint64), out=hashes)
    _mix_array(hashes)
    result = np.empty_like(hashes)
    result[order] = hashes
    return result


def _mix_array(values: np.ndarray) -> None:
    """`_mix` in place (uint64 arithmetic wraps as `& _MASK64` does)."""
    np.multiply(values, np.uint64(_HASH_MULTIPLIER), out=values)
    np.bitwise_xor(values, values >> np.uint64(_HASH_SHIFT), out=values)


def _hash_escaped_keys(path: str, keys: np.ndarray, opens: np.ndarray, lengths: np.ndarray, hashes) -> None:
    """Keys written with escapes are hashed by their decoded name (`json` decodes them)."""
    if not keys.size:
        return
    with open(path, "rb") as handle:
        for key in keys.tolist():
            name = _decode_key(os.pread(handle.fileno(), int(lengths[key]), int(opens[key]) + 1))
            if name is None:
                raise _NotIndexable  # an escape json rejects
            hashes[key] = name_hash(name_bytes(name))


def _sorted_arrays(path: str, pairs: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """One entry per distinct name, sorted by hash; a repeated name keeps its last value and its first position.

    `pairs` is in file order, so stable sorts break ties by position; its arrays are taken out of it as they are
    replaced (at 9.8M names each is 40-80 MB)."""
    order = np.argsort(pairs["hashes"], kind="stable")
    hashes = pairs.pop("hashes")[order]
    repeated = np.flatnonzero(hashes[1:] == hashes[:-1])
    if repeated.size:
        return _sorted_arrays_with_repeats(path, order, hashes, repeated, pairs, size)
    # Entries by (id, position in the file): the file order sorted stably by id, renumbered as entries.
    entry_of = np.empty(len(order), dtype=np.uint32 if len(order) < (1 << 32) else np.uint64)
    entry_of[order] = np.arange(len(order), dtype=entry_of.dtype)
    values = pairs.pop("values")
    file_order_by_id = np.argsort(values, kind="stable")
    sorted_ids = values[file_order_by_id]
    del values
    by_id = entry_of[file_order_by_id]
    del entry_of, file_order_by_id
    offsets = pairs.pop("opens")[order] + 1
    lengths = pairs.pop("lengths")[order]
    return {"hashes": hashes, "offsets": offsets, "lengths": lengths, "by_id": by_id, "sorted_ids": sorted_ids}


def _sorted_arrays_with_repeats(path, order, hashes, repeated, pairs, size) -> dict[str, np.ndarray]:
    values, opens, lengths = (pairs.pop(name)[order] for name in ("values", "opens", "lengths"))
    first_positions = opens.copy()
    keep = np.ones(len(hashes), dtype=bool)
    _merge_equal_hashes(path, repeated, opens, lengths, first_positions, keep)
    hashes, values, opens, lengths, first_positions = (
        array[keep] for array in (hashes, values, opens, lengths, first_positions)
    )
    by_id = np.lexsort((first_positions, values))
    return {
        "hashes": hashes,
        "offsets": opens + 1,
        "lengths": lengths,
        "by_id": by_id.astype(np.uint32 if len(by_id) < (1 << 32) else np.uint64),
        "sorted_ids": values[by_id],
    }


def _merge_equal_hashes(path, repeated, opens, lengths, first_positions, keep) -> None:
    """Within each run of equal hashes (in file order), equal names become one entry: the last occurrence's value
    and position (its value is the one checked at lookup), the first one's place in the dict's order."""
    if repeated.size > MAX_REPEATED:
        raise _NotIndexable
    runs: list[list[int]] = []
    for entry in repeated.tolist():
        if runs and runs[-1][-1] == entry:
            runs[-1].append(entry + 1)
        else:
            runs.append([entry, entry + 1])
    with open(path, "rb") as handle:
        for run in runs:
            if len(run) > MAX_NAMES_PER_HASH:
                raise _NotIndexable
            kept: dict[str, int] = {}
            for entry in run:  # file order: `opens` breaks the ties of the sort
                name = _decode_key(os.pread(handle.fileno(), int(lengths[entry]), int(opens[entry]) + 1))
                if name in kept:
                    survivor = kept[name]
                    first_positions[entry] = first_positions[survivor]
                    keep[survivor] = False
                kept[name] = entry


# -- the cache file --------------------------------------------------------------------------------------------------


def open_name_index(path: str, cache_file: Path | None) -> EntityNameIndex | None:
    """The index of `path`: read from `cache_file`, else built (and stored there, then memory-mapped from it); None
    when the file is not indexable (remembered in the cache too, so the next process does not try again)."""
    if cache_file is not None:
        if cache_file.with_suffix(".unindexable").is_file():
            return None
        if cache_file.is_file():
            index = read_index(cache_file, path)
            if index is not None:
                return index
    logger.info(f"mluke_hf: indexing the entity names of {path} (once per version of the file)")
    try:
        arrays = _build_arrays(path)
    except _NotIndexable:
        if cache_file is not None:
            write_atomically(cache_file.with_suffix(".unindexable"), "not indexable: named lookups read the file\n")
        return None
    if cache_file is not None and write_index(arrays, cache_file):
        index = read_index(cache_file, path)
        if index is not None:
            return index  # memory-mapped: the process holds only the pages its lookups read
    return EntityNameIndex(path, **arrays)


def write_index(index_arrays: dict[str, np.ndarray], destination: Path) -> bool:
    """One file: a header (magic, then JSON describing each array, padded) and the arrays, 64-byte aligned; written
    atomically. Returns whether it was written (an unwritable cache is skipped)."""
    layout, offset = [], _HEADER_BYTES
    for name in _ARRAYS:
        array = index_arrays[name]
        layout.append({"name": name, "dtype": array.dtype.name, "offset": offset, "count": int(array.size)})
        offset += -(-array.nbytes // 64) * 64
    header = _MAGIC + json.dumps({"version": INDEX_VERSION, "arrays": layout, "size": offset}).encode()
    if len(header) > _HEADER_BYTES:
        raise ValueError("index header too long")

    def write(out) -> None:
        out.write(header.ljust(_HEADER_BYTES, b"\0"))
        for entry in layout:
            out.seek(entry["offset"])
            out.write(memoryview(np.ascontiguousarray(index_arrays[entry["name"]])).cast("B"))
        out.truncate(offset)

    return write_atomically(destination, write)


def read_index(source: Path, vocab_path: str) -> EntityNameIndex | None:
    """The index stored in `source`, memory-mapped, or None when the file is not a complete index of this version."""
    try:
        with open(source, "rb") as handle:
            header = handle.read(_HEADER_BYTES)
            file_size = os.fstat(handle.fileno()).st_size
        if not header.startswith(_MAGIC):
            return None
        description = json.loads(header[len(_MAGIC) :].rstrip(b"\0"))
        if description.get("version") != INDEX_VERSION or description.get("size") != file_size:
            return None
        arrays, counts = {}, set()
        for entry in description["arrays"]:
            name, dtype, offset, count = entry["name"], entry["dtype"], entry["offset"], entry["count"]
            if name not in _ARRAYS or dtype not in _DTYPES or type(offset) is not int or type(count) is not int:
                return None
            if offset < _HEADER_BYTES or count < 0 or offset + count * np.dtype(dtype).itemsize > file_size:
                return None
            arrays[name] = (
                np.memmap(source, dtype=dtype, mode="r", offset=offset, shape=(count,))
                if count
                else np.zeros(0, dtype=dtype)
            )
            counts.add(count)
        if set(arrays) != set(_ARRAYS) or len(counts) != 1:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return EntityNameIndex(vocab_path, **arrays)

"""Entity vocabulary files (`entity_vocab.json`) of mLUKE checkpoints, in both released shapes.

- full (mluke-base, mluke-large): `[PAD]`=0, `[UNK]`=1, `[MASK]`=2, then `"lang:title"` names; the names of one
  Wikipedia entity in several languages share one id (`"en:Japan"` and `"ja:日本"`), then `[MASK2]`.
- lite (mluke-*-lite): only `[MASK]`=0, `[UNK]`=1, `[PAD]`=2, `[MASK2]`=3.

Special entity ids differ between the shapes, so code looks them up by name, never by number.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

ENTITY_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[MASK]", "[MASK2]")


def load_entity_vocab(path: str | os.PathLike) -> dict[str, int]:
    """Read `entity_vocab.json` (one JSON object, name -> id) keeping the file's order."""
    with open(path, encoding="utf-8") as handle:
        vocab = json.load(handle)
    if not isinstance(vocab, dict) or not all(isinstance(v, int) for v in vocab.values()):
        raise ValueError(f"{path} is not an mLUKE entity vocabulary: expected one JSON object mapping names to ints")
    return vocab


def save_entity_vocab(vocab: Mapping[str, int], path: str | os.PathLike) -> Path:
    """Write `entity_vocab.json` in the file's own order, unescaped UTF-8 (names round-trip byte for byte)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(vocab), indent=2, ensure_ascii=False) + "\n")
    return path


def entity_vocab_shape(vocab: Mapping[str, int]) -> str:
    """"lite" when the vocabulary holds only the four special entities, else "full"."""
    return "lite" if set(vocab) <= set(ENTITY_SPECIAL_TOKENS) else "full"

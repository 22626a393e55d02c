"""Checks of a model folder before it is loaded: each fault gets one clear `CheckpointError` instead of a traceback
from deep inside transformers, torch or SentencePiece (or a silently, randomly initialised head).

A downloaded folder is untrusted input, so every check reads only files inside the folder, reads at most the
header of a weights file, and never follows the folder to the hub.

```python
from mluke_hf.checkpoint_checks import check_model_folder, resolve_model_reference

reference = resolve_model_reference("path/to/folder")      # a Path, or the hub id as given
if isinstance(reference, Path):
    check_model_folder(reference, head=HEADS["entity-span-classification"])
```
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_TYPES = ("luke", "mluke")
SENTENCEPIECE_FILE = "sentencepiece.bpe.model"
TOKENIZER_JSON = "tokenizer.json"
ENTITY_VOCAB_FILE = "entity_vocab.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PYTORCH_FILE = "pytorch_model.bin"
# Larger headers are not safetensors files written by transformers; never read them whole.
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024
# `name` or `owner/name`, the only forms of a hub repository id.
HUB_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$")


class CheckpointError(ValueError):
    """A model folder (or hub id) that cannot serve: missing, corrupt, or with the wrong head."""


@dataclass(frozen=True)
class Head:
    """The head a command needs: the architecture names that carry it and weights it cannot do without."""

    description: str
    architectures: tuple[str, ...]
    weights: tuple[str, ...]


HEADS = {
    "entity-span-classification": Head(
        "an entity span classification head (NER)",
        ("LukeForEntitySpanClassification", "MLukeForEntitySpanClassification"),
        ("classifier.weight",),
    ),
    "entity-classification": Head(
        "an entity classification head (entity typing)",
        ("LukeForEntityClassification", "MLukeForEntityClassification"),
        ("classifier.weight",),
    ),
    "entity-pair-classification": Head(
        "an entity pair classification head (relation classification)",
        ("LukeForEntityPairClassification", "MLukeForEntityPairClassification"),
        ("classifier.weight",),
    ),
    "entity-fill-mask": Head(
        "a masked-LM head with entity predictions",
        ("LukeForMaskedLM", "MLukeForMaskedLM"),
        ("entity_predictions.transform.dense.weight", "entity_predictions.bias"),
    ),
}


# -- where the model is ------------------------------------------------------------------------------------------------


def looks_like_local_path(reference: str) -> bool:
    """Whether `reference` can only mean a local path (it cannot be a hub id `name` or `owner/name`)."""
    return (
        reference.startswith((".", "/", "~", "\\"))
        or "\\" in reference
        or reference.endswith("/")
        or reference.count("/") > 1
        or re.match(r"^[A-Za-z]:", reference) is not None
        or HUB_ID.match(reference) is None
    )


def resolve_model_reference(reference: str) -> Path | str:
    """The local folder `reference` names (a Path), or `reference` itself when it can only be a hub id.

    A path that exists must be a folder; one that does not exist and cannot be a hub id (`./x`, `/x`, `a/b/c`, ...)
    is reported as a missing folder, never sent to the hub.
    """
    if not isinstance(reference, str) or not reference.strip():
        raise CheckpointError(f"--model must name a folder or a hub id, got {reference!r}")
    path = Path(reference).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise CheckpointError(f"{reference}: not a folder; --model takes the folder that holds config.json")
    if looks_like_local_path(reference):
        raise CheckpointError(f"{reference}: no such folder")
    return reference


def check_hub_reference(reference: str) -> None:
    """Offline, a hub id must be in the local cache: say so at once instead of a long error from the hub client."""
    if not hub_offline():
        return
    from huggingface_hub import try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(reference, "config.json"), str):
        raise CheckpointError(
            f"{reference}: no such folder here, and not in the hub cache (offline: HF_HUB_OFFLINE or "
            "TRANSFORMERS_OFFLINE is set); give the path of a local folder, or download the model first"
        )


def hub_offline() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


# -- the folder's files ------------------------------------------------------------------------------------------------


def check_model_folder(folder: Path, head: Head | None = None) -> dict[str, Any]:
    """Run every check on a local folder; returns its config.json as a dict. Raises CheckpointError."""
    config = check_config(folder)
    weight_names = check_weights(folder)
    check_tokenizer_files(folder)
    if head is not None:
        check_head(folder, config, weight_names, head)
    return config


def read_json_object(path: Path, what: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CheckpointError(f"{path}: {what} is not UTF-8 text (byte {error.start}); the file is damaged") from None
    except OSError as error:
        raise CheckpointError(f"{path}: cannot read {what} ({error.strerror or error})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckpointError(
            f"{path}: {what} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: {what} must hold a JSON object, got {type(value).__name__}")
    return value


def check_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise CheckpointError(f"{folder}: no config.json; --model takes a saved mLUKE checkpoint folder")
    config = read_json_object(path, "config.json")
    model_type = config.get("model_type")
    if model_type not in MODEL_TYPES:
        raise CheckpointError(
            f"{path}: model_type is {model_type!r}; mluke-hf needs an mLUKE checkpoint (model_type 'luke' or 'mluke')"
        )
    return config


def check_weights(folder: Path) -> set[str] | None:
    """Names of the tensors the folder's weights hold (None for a pytorch_model.bin, which is not opened here)."""
    index = folder / SAFETENSORS_INDEX
    if index.is_file():
        weight_map = read_json_object(index, SAFETENSORS_INDEX).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise CheckpointError(f"{index}: has no 'weight_map' of tensor names to shard files")
        names: set[str] = set()
        for shard in sorted(set(weight_map.values())):
            shard_path = _inside(folder, shard, index)
            names |= safetensors_names(shard_path)
        return names
    if (folder / SAFETENSORS_FILE).is_file():
        return safetensors_names(folder / SAFETENSORS_FILE)
    if (folder / PYTORCH_FILE).is_file():
        return None
    raise CheckpointError(f"{folder}: no model weights (expected {SAFETENSORS_FILE} or {PYTORCH_FILE})")


def _inside(folder: Path, name: Any, source: Path) -> Path:
    """`folder / name`, refusing names that lead outside the folder (an index file is untrusted too)."""
    if not isinstance(name, str) or not name:
        raise CheckpointError(f"{source}: names a shard {name!r}, which is not a file name")
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise CheckpointError(f"{source}: names a shard outside the folder ({name!r})")
    if not path.is_file():
        raise CheckpointError(f"{source}: names the shard {name}, which is missing")
    return path


def safetensors_names(path: Path) -> set[str]:
    """Tensor names in a safetensors file, after checking that its header is sound and the file is complete."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: truncated ({size} bytes); download the checkpoint again")
        (header_length,) = struct.unpack("<Q", head)
        if header_length > min(MAX_SAFETENSORS_HEADER, size - 8):
            raise CheckpointError(
                f"{path}: not a safetensors file, or truncated (header of {header_length} bytes in a file of "
                f"{size}); download the checkpoint again"
            )
        raw = handle.read(header_length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: the safetensors header is damaged; download the checkpoint again") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: the safetensors header is damaged; download the checkpoint again")
    data_end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise CheckpointError(f"{path}: tensor {name!r} has no valid data_offsets; the file is damaged")
        data_end = max(data_end, offsets[1])
    expected = 8 + header_length + data_end
    if size < expected:
        raise CheckpointError(f"{path}: truncated ({size} of {expected} bytes); download the checkpoint again")
    return {name for name in header if name != "__metadata__"}


def check_tokenizer_files(folder: Path) -> None:
    """The word tokenizer (tokenizer.json or a loadable SentencePiece model) and the entity vocabulary.

    tokenizer.json and entity_vocab.json are only checked to be there and not empty: parsing them here would double
    the tokenizer's loading time (mluke-base's entity vocabulary holds 1.2 million names); a damaged one still fails
    in loading, as one line.
    """
    sentencepiece = folder / SENTENCEPIECE_FILE
    if sentencepiece.is_file():
        check_sentencepiece(sentencepiece)
    elif not (folder / TOKENIZER_JSON).is_file():
        raise CheckpointError(
            f"{folder}: no tokenizer files (expected {SENTENCEPIECE_FILE} or {TOKENIZER_JSON}); copy them from the "
            "checkpoint the model was fine-tuned from"
        )
    vocab_path = folder / ENTITY_VOCAB_FILE
    if not vocab_path.is_file():
        raise CheckpointError(
            f"{folder}: no {ENTITY_VOCAB_FILE}; an mLUKE tokenizer needs its entity vocabulary next to the model"
        )
    if vocab_path.stat().st_size < 2:
        raise CheckpointError(f"{vocab_path}: the entity vocabulary is empty")


def check_sentencepiece(path: Path) -> None:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor()
    try:
        # Bytes, not the path: SentencePiece reads a path with its own C++ code, which cannot report what went wrong.
        processor.LoadFromSerializedProto(path.read_bytes())
    except (RuntimeError, OSError, ValueError):
        raise CheckpointError(f"{path}: not a SentencePiece model (the file is damaged or of another kind)") from None
    if processor.GetPieceSize() < 1:
        raise CheckpointError(f"{path}: the SentencePiece model holds no pieces")


# -- the head ----------------------------------------------------------------------------------------------------------


def check_head(folder: Path, config: dict, weight_names: Iterable[str] | None, head: Head) -> None:
    """The folder's architecture must be one that carries `head`, and the head's weights must be in the file."""
    architectures = config.get("architectures") or []
    found = architectures[0] if architectures and isinstance(architectures[0], str) else None
    if found is not None and found not in head.architectures:
        raise CheckpointError(
            f"{folder}: the checkpoint is a {found}; this command needs {head.description} ({head.architectures[0]}). "
            "Pick a checkpoint fine-tuned for this task"
        )
    if weight_names is None:
        return
    names = set(weight_names)
    missing = [name for name in head.weights if name not in names]
    if missing:
        what = found or "checkpoint without architectures in config.json"
        raise CheckpointError(
            f"{folder}: the {what} has no head weights ({', '.join(missing)} missing), so {head.description} "
            "would be randomly initialised; pick a checkpoint fine-tuned for this task"
        )


def check_loaded_head(reference: str, model: Any, missing_keys: Iterable[str], head: Head) -> None:
    """The same head check after loading (for hub ids): the model's class and the weights it did not find."""
    found = (getattr(model.config, "architectures", None) or [None])[0]
    if found is not None and found not in head.architectures:
        raise CheckpointError(
            f"{reference}: the checkpoint is a {found}; this command needs {head.description} "
            f"({head.architectures[0]}). Pick a checkpoint fine-tuned for this task"
        )
    missing = sorted(name for name in missing_keys if any(name.endswith(weight) for weight in head.weights))
    if missing:
        raise CheckpointError(
            f"{reference}: the checkpoint has no head weights ({', '.join(missing)} missing), so {head.description} "
            "would be randomly initialised; pick a checkpoint fine-tuned for this task"
        )


__all__ = [
    "HEADS",
    "CheckpointError",
    "Head",
    "check_config",
    "check_head",
    "check_hub_reference",
    "check_loaded_head",
    "check_model_folder",
    "check_sentencepiece",
    "check_tokenizer_files",
    "check_weights",
    "hub_offline",
    "looks_like_local_path",
    "resolve_model_reference",
    "safetensors_names",
]

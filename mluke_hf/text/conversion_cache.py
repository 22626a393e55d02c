"""Loading a tokenizer folder safely and fast: the converted Rust backend cached per SentencePiece model, a folder's
`tokenizer.json` checked against its SentencePiece model, and `sp_model_kwargs` from a folder's config ignored.

- Conversion cache. Converting a 250k-piece SentencePiece model to a `tokenizers.Tokenizer` takes more than a
  second; `cached_conversion` does it once per model (keyed by the sha256 of the model file, the extra tokens and
  the converter's version) and keeps the result as JSON under `cache_directory()`: `$MLUKE_HF_CACHE`, else
  `$XDG_CACHE_HOME/mluke_hf` or `~/.cache/mluke_hf`. `MLUKE_HF_CACHE=off` turns the cache off. A cache that cannot
  be written (read-only home) is skipped quietly.
- Fingerprint. `MLukeTokenizerFast.save_pretrained` records in tokenizer_config.json (key `FINGERPRINT_KEY`) the
  sha256 of the `sentencepiece.bpe.model` and of the `tokenizer.json` it wrote. On loading, a folder's
  `tokenizer.json` is used only when both still match; otherwise (the SentencePiece model was replaced, say by the
  slow class saving into the same folder, or no record) the backend is rebuilt from the SentencePiece model, which
  is what `MLukeTokenizer` and transformers 4.57.6 read, so both classes keep giving the same ids.
- `sp_model_kwargs`. A downloaded folder is untrusted: its config could make `SentencePieceProcessor` open any
  path (`model_file`) or sample segmentations (`enable_sampling`). Settings from a folder are ignored with a
  warning; only keyword arguments given in code reach SentencePiece.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from transformers.utils import logging

logger = logging.get_logger(__name__)

CACHE_ENVIRONMENT_VARIABLE = "MLUKE_HF_CACHE"
FINGERPRINT_KEY = "sentencepiece_fingerprint"
# Bumped whenever `converter.convert_sentencepiece` builds a different backend, so old cache entries are not used.
CONVERSION_VERSION = 1
# tokenizer_config.json is a few kB; a bigger one is not read by this check (transformers reads it itself).
_MAX_CONFIG_BYTES = 1 << 20
_DISABLED = {"", "0", "off", "false", "none", "no"}


def cache_directory() -> Path | None:
    """Where mluke_hf keeps what it derives from checkpoint files, or None when caching is turned off."""
    value = os.environ.get(CACHE_ENVIRONMENT_VARIABLE)
    if value is not None:
        return None if value.strip().lower() in _DISABLED else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mluke_hf"


def file_sha256(path: str | os.PathLike) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def conversion_cache_path(model_path: str | os.PathLike, mask_token: str, entity_tokens: Sequence[str]) -> Path | None:
    """The cache file of this model's converted backend (None with caching off)."""
    directory = cache_directory()
    if directory is None:
        return None
    key = json.dumps([file_sha256(model_path), mask_token, list(entity_tokens), CONVERSION_VERSION])
    return directory / "tokenizers" / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()}.json"


def cached_conversion(
    model_path: str | os.PathLike, mask_token: str = "<mask>", entity_tokens: Sequence[str] = ("<ent>", "<ent2>")
):
    """`converter.convert_sentencepiece(model_path, mask_token, entity_tokens)`, converted once per model and then
    read back from the cache."""
    from tokenizers import Tokenizer

    from .converter import convert_sentencepiece

    path = conversion_cache_path(model_path, mask_token, entity_tokens)
    if path is not None and path.is_file():
        try:
            return Tokenizer.from_file(str(path))
        except Exception as error:  # noqa: BLE001  (a damaged entry is rebuilt and replaced below)
            logger.warning(f"mluke_hf: cached tokenizer {path} is unreadable ({error}); converting again")
    backend = convert_sentencepiece(model_path, mask_token=mask_token, entity_tokens=tuple(entity_tokens))
    if path is not None:
        write_atomically(path, backend.to_str())
    return backend


def write_atomically(path: Path, content: str | Callable[[BinaryIO], None]) -> bool:
    """Write `content` (a text, or a function writing bytes to the open file) through a temporary file and a rename,
    so concurrent loaders never read half a file. A cache that cannot be written is skipped (logged, the temporary
    file removed); returns whether the file was written."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as out:
            temporary = out.name
            if isinstance(content, str):
                out.write(content.encode("utf-8"))
            else:
                content(out)
        os.replace(temporary, path)
        return True
    except OSError as error:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        logger.info(f"mluke_hf: cannot write the cache file {path} ({error}); set {CACHE_ENVIRONMENT_VARIABLE}")
        return False


def tokenizer_json_fingerprint(model_path: str | os.PathLike, tokenizer_json_path: str | os.PathLike) -> dict:
    """The record `MLukeTokenizerFast.save_pretrained` writes: which SentencePiece model the tokenizer.json came from."""
    return {
        "sentencepiece_sha256": file_sha256(model_path),
        "tokenizer_json_sha256": file_sha256(tokenizer_json_path),
    }


def tokenizer_json_matches(record, model_path: str | os.PathLike, tokenizer_json_path: str | os.PathLike) -> bool:
    """Whether `record` (from tokenizer_config.json) vouches for this tokenizer.json with this SentencePiece model."""
    if not isinstance(record, dict):
        return False
    try:
        return record == tokenizer_json_fingerprint(model_path, tokenizer_json_path)
    except OSError:
        return False


def add_fingerprint(config: dict, save_directory: str | os.PathLike, prefix: str = "") -> dict:
    """Record the fingerprint of the saved tokenizer.json in `config` (when both files were written)."""
    model = os.path.join(save_directory, prefix + "sentencepiece.bpe.model")
    tokenizer_json = os.path.join(save_directory, prefix + "tokenizer.json")
    config.pop(FINGERPRINT_KEY, None)
    if os.path.isfile(model) and os.path.isfile(tokenizer_json):
        config[FINGERPRINT_KEY] = tokenizer_json_fingerprint(model, tokenizer_json)
    return config


def _folder_config(resolved_vocab_files: dict) -> dict:
    path = resolved_vocab_files.get("tokenizer_config_file")
    if not path or not os.path.isfile(path) or os.path.getsize(path) > _MAX_CONFIG_BYTES:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return {}  # transformers reports a broken config itself
    return config if isinstance(config, dict) else {}


def checked_folder_files(resolved_vocab_files: dict, kwargs: dict) -> tuple[dict, dict]:
    """What `from_pretrained` may take from a folder: its `tokenizer.json` only when the fingerprint vouches for it,
    and never its `sp_model_kwargs`. `kwargs` are the caller's own keyword arguments (trusted). Returns new dicts."""
    resolved_vocab_files, kwargs = dict(resolved_vocab_files), dict(kwargs)
    config = _folder_config(resolved_vocab_files)
    folder_sp_kwargs = config.get("sp_model_kwargs")
    if "sp_model_kwargs" not in kwargs and folder_sp_kwargs is not None:
        if folder_sp_kwargs != {}:
            logger.warning(
                f"mluke_hf: ignoring sp_model_kwargs={folder_sp_kwargs!r} from the folder's tokenizer_config.json (a "
                "folder's config may not open files or turn on sampling); pass sp_model_kwargs=... to "
                "from_pretrained to use them"
            )
        kwargs["sp_model_kwargs"] = {}
    tokenizer_file = resolved_vocab_files.get("tokenizer_file")
    vocab_file = resolved_vocab_files.get("vocab_file")
    if tokenizer_file and vocab_file and os.path.isfile(vocab_file) and kwargs.get("tokenizer_file") is None:
        record = config.get(FINGERPRINT_KEY)
        if not tokenizer_json_matches(record, vocab_file, tokenizer_file):
            # Folders saved before fingerprints existed have no record: said quietly. A record that no longer
            # matches means a file was replaced: said loudly.
            report = logger.warning if record is not None else logger.info
            report(
                f"mluke_hf: {tokenizer_file} does not match {vocab_file} by the fingerprint in "
                "tokenizer_config.json (or has none): the fast tokenizer is built from the SentencePiece model instead"
            )
            resolved_vocab_files["tokenizer_file"] = None
    return resolved_vocab_files, kwargs

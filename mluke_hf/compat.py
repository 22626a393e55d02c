"""What mluke_hf takes from transformers beyond its public registration API, in one place.

mluke_hf supports every transformers release from 5.10 to below 6 (`SUPPORTED_TRANSFORMERS`); CI tests the oldest
and the newest of `TESTED_TRANSFORMERS`. Registration uses public APIs wherever one exists (`AutoConfig.register`,
`AutoModel*.register`, `AutoTokenizer.register`, `PIPELINE_REGISTRY.register_pipeline`). What has no public
equivalent is reached only through the functions below, so that a release which moves one of these internals gives
a `MissingTransformersInternal` naming the transformers version and what is missing, instead of an AttributeError
somewhere inside a registration step:

- `CONFIG_MAPPING._extra_content`: turn the routing of `model_type: "luke"` folders off and report whether it is on
  (transformers has `register` but no `unregister`).
- `AutoModel*._model_mapping`: map `LukeFormatConfig` too (`AutoModel*.register` refuses a config class whose name
  differs from the model's `config_class`).
- `auto_factory._BaseAutoModelClass`, `auto_factory._LazyAutoMapping`, `configuration_auto.CONFIG_MAPPING_NAMES`: the
  three entity-head Auto classes (transformers has no public way to define a new Auto class).
- `tokenization_auto.tokenizer_class_from_name`: check, after registering, that `tokenizer_class: "MLukeTokenizer"`
  resolves to the plugin's tokenizer.
- `pipelines.REMOVED_TASKS` (5.19 and later only): lift the removal notice of `question-answering`.

All of these exist unchanged from 5.10 to 5.24 unless said otherwise.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import transformers
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "SUPPORTED_TRANSFORMERS",
    "TESTED_TRANSFORMERS",
    "TRANSFORMERS_VERSION",
    "MissingTransformersInternal",
    "UnsupportedTransformersWarning",
    "auto_factory_internals",
    "config_mapping_extra_content",
    "model_mapping",
    "removed_task_notices",
    "support_note",
    "tokenizer_class_from_name",
    "transformers_internal",
    "unsupported_version_message",
]

TRANSFORMERS_VERSION: str = transformers.__version__
SUPPORTED_TRANSFORMERS = ">=5.10,<6"
# Oldest, one in between, newest: the releases the test suite has been run on.
TESTED_TRANSFORMERS = ("5.10.4", "5.18.0", "5.24.0")


class MissingTransformersInternal(RuntimeError):
    """The installed transformers lacks something mluke_hf relies on (moved or removed by a newer release)."""


class UnsupportedTransformersWarning(UserWarning):
    """The installed transformers is outside the range mluke_hf supports (e.g. installed with --no-deps)."""


def unsupported_version_message(version: str | None = None) -> str | None:
    """Why `version` (default: the installed one) of transformers is not supported, or None when it is in the range."""
    version = TRANSFORMERS_VERSION if version is None else version
    try:
        supported = Version(version) in SpecifierSet(SUPPORTED_TRANSFORMERS, prereleases=True)
    except InvalidVersion:
        supported = False
    if supported:
        return None
    return f"transformers {version} is outside the range mluke_hf supports. {support_note()}"


def warn_if_unsupported(version: str | None = None) -> None:
    message = unsupported_version_message(version)
    if message is not None:
        warnings.warn(message, UnsupportedTransformersWarning, stacklevel=2)


def support_note() -> str:
    """What to do when the installed transformers does not work with mluke_hf."""
    return (
        f"mluke_hf supports transformers{SUPPORTED_TRANSFORMERS} and is tested with {', '.join(TESTED_TRANSFORMERS)}: "
        f'install one of those (pip install "transformers=={TESTED_TRANSFORMERS[-1]}") or a newer mluke_hf.'
    )


def _missing(what: str, purpose: str) -> MissingTransformersInternal:
    return MissingTransformersInternal(
        f"transformers {TRANSFORMERS_VERSION} has no `{what}`, which mluke_hf uses to {purpose}. {support_note()}"
    )


def transformers_internal(module: str, name: str, purpose: str) -> Any:
    """`module.name` (e.g. "transformers.models.auto.auto_factory", "_LazyAutoMapping"), or a clear error."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise _missing(f"{module}.{name}", purpose) from error


def _attribute(owner: Any, owner_name: str, name: str, purpose: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError as error:
        raise _missing(f"{owner_name}.{name}", purpose) from error


def config_mapping_extra_content() -> dict[str, type]:
    """The model types registered on top of transformers' own configs (all 5.x: `CONFIG_MAPPING._extra_content`)."""
    purpose = 'turn the routing of `model_type: "luke"` folders off and to report whether it is on'
    mapping = transformers_internal("transformers.models.auto.configuration_auto", "CONFIG_MAPPING", purpose)
    return _attribute(mapping, "CONFIG_MAPPING", "_extra_content", purpose)


def model_mapping(auto_class: type) -> Any:
    """`auto_class._model_mapping` (all 5.x), whose `register` takes any config class."""
    purpose = 'map LukeFormatConfig (released `model_type: "luke"` folders) to the plugin\'s models'
    return _attribute(auto_class, auto_class.__name__, "_model_mapping", purpose)


def auto_factory_internals() -> tuple[type, type, Any]:
    """(`_BaseAutoModelClass`, `_LazyAutoMapping`, `CONFIG_MAPPING_NAMES`) of all 5.x, to define new Auto classes."""
    purpose = "define the entity-head Auto classes (AutoModelForEntitySpanClassification and the others)"
    return (
        transformers_internal("transformers.models.auto.auto_factory", "_BaseAutoModelClass", purpose),
        transformers_internal("transformers.models.auto.auto_factory", "_LazyAutoMapping", purpose),
        transformers_internal("transformers.models.auto.configuration_auto", "CONFIG_MAPPING_NAMES", purpose),
    )


def tokenizer_class_from_name(name: str) -> type | None:
    """The class AutoTokenizer builds for `tokenizer_class: name` in a folder (all 5.x)."""
    resolve = transformers_internal(
        "transformers.models.auto.tokenization_auto",
        "tokenizer_class_from_name",
        'check that `tokenizer_class: "MLukeTokenizer"` folders get the plugin\'s tokenizer',
    )
    return resolve(name)


def removed_task_notices() -> dict[str, str]:
    """transformers' table of removed pipeline tasks, which `pipeline()` refuses with a notice.

    5.19 and later have it (`transformers.pipelines.REMOVED_TASKS`, "question-answering" included); 5.10 to 5.18 have
    none (an unknown task is simply unknown there), so an empty dict stands in for it.
    """
    import transformers.pipelines

    return getattr(transformers.pipelines, "REMOVED_TASKS", {})


# Imported before any class is defined against transformers (configuration_mluke imports this module first), so the
# warning comes before whatever an unsupported release breaks.
warn_if_unsupported()

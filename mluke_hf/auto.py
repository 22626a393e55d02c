"""Auto classes for the three entity heads, which transformers has no Auto class for.

They work like transformers' own Auto classes: the config class picks the model class.

```python
import mluke_hf

model = mluke_hf.AutoModelForEntitySpanClassification.from_pretrained("studio-ousia/mluke-large-lite-finetuned-conll-2003")
```

`model_class_for_config(config)` picks the class a checkpoint was saved as, from `config.architectures`
(`LukeForEntitySpanClassification` and `MLukeForEntitySpanClassification` alike), for loaders that handle every head.

Both config classes are mapped: `MLukeConfig` (plugin folders) and `LukeFormatConfig` (released `model_type: "luke"`
folders while routing is on, see `mluke_hf.registration.route_luke_checkpoints`).

transformers has no public way to define a new Auto class, so these build on its `_BaseAutoModelClass` and
`_LazyAutoMapping` (reached through `mluke_hf.compat`). Should a release lack them, the package still imports and
these classes raise `mluke_hf.compat.MissingTransformersInternal`, naming the version and what is missing.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from transformers.configuration_utils import PreTrainedConfig

from . import modeling_mluke
from .compat import MissingTransformersInternal, auto_factory_internals
from .configuration_mluke import PLUGIN_TO_LUKE_ARCHITECTURE, LukeFormatConfig, MLukeConfig

__all__ = [
    "MODEL_FOR_ENTITY_CLASSIFICATION_MAPPING",
    "MODEL_FOR_ENTITY_PAIR_CLASSIFICATION_MAPPING",
    "MODEL_FOR_ENTITY_SPAN_CLASSIFICATION_MAPPING",
    "AutoModelForEntityClassification",
    "AutoModelForEntityPairClassification",
    "AutoModelForEntitySpanClassification",
    "model_class_for_config",
]


class _UnavailableAutoModelClass:
    """Stands in for transformers' Auto base class when a release lacks it: the package still imports, and using an
    entity-head Auto class raises the MissingTransformersInternal that names what is missing."""

    _problem: MissingTransformersInternal

    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any) -> Any:
        raise cls._problem

    from_config = from_pretrained
    register = from_pretrained


class _UnavailableMapping(dict):
    def register(self, key: type, value: type, exist_ok: bool = False) -> None:
        self[key] = value


try:
    _BaseAutoModelClass, _LazyAutoMapping, CONFIG_MAPPING_NAMES = auto_factory_internals()
except MissingTransformersInternal as problem:
    _UnavailableAutoModelClass._problem = problem
    _BaseAutoModelClass, _LazyAutoMapping, CONFIG_MAPPING_NAMES = _UnavailableAutoModelClass, None, None


def _entity_head_mapping(model_class: type) -> Any:
    # No model type of transformers itself maps here: only the plugin's config classes, registered below.
    mapping = (
        _UnavailableMapping() if _LazyAutoMapping is None else _LazyAutoMapping(CONFIG_MAPPING_NAMES, OrderedDict())
    )
    for config_class in (MLukeConfig, LukeFormatConfig):
        mapping.register(config_class, model_class, exist_ok=True)
    return mapping


MODEL_FOR_ENTITY_CLASSIFICATION_MAPPING = _entity_head_mapping(modeling_mluke.MLukeForEntityClassification)
MODEL_FOR_ENTITY_PAIR_CLASSIFICATION_MAPPING = _entity_head_mapping(modeling_mluke.MLukeForEntityPairClassification)
MODEL_FOR_ENTITY_SPAN_CLASSIFICATION_MAPPING = _entity_head_mapping(modeling_mluke.MLukeForEntitySpanClassification)


class AutoModelForEntityClassification(_BaseAutoModelClass):
    """`from_pretrained` / `from_config` to `MLukeForEntityClassification` (entity typing)."""

    _model_mapping = MODEL_FOR_ENTITY_CLASSIFICATION_MAPPING


class AutoModelForEntityPairClassification(_BaseAutoModelClass):
    """`from_pretrained` / `from_config` to `MLukeForEntityPairClassification` (relation classification)."""

    _model_mapping = MODEL_FOR_ENTITY_PAIR_CLASSIFICATION_MAPPING


class AutoModelForEntitySpanClassification(_BaseAutoModelClass):
    """`from_pretrained` / `from_config` to `MLukeForEntitySpanClassification` (NER over candidate spans)."""

    _model_mapping = MODEL_FOR_ENTITY_SPAN_CLASSIFICATION_MAPPING


def model_class_for_config(config: PreTrainedConfig) -> type[modeling_mluke.MLukePreTrainedModel]:
    """The mluke_hf class named by `config.architectures[0]` (`LukeFor...` or `MLukeFor...`).

    Raises ValueError when the config names no architecture or one mluke_hf does not implement.
    """
    architectures = getattr(config, "architectures", None) or []
    if not architectures:
        raise ValueError(
            "config.architectures is empty: pick the class yourself (e.g. mluke_hf.MLukeForEntitySpanClassification)"
        )
    luke_to_plugin = {luke: plugin for plugin, luke in PLUGIN_TO_LUKE_ARCHITECTURE.items()}
    name = architectures[0]
    plugin_name = name if name in PLUGIN_TO_LUKE_ARCHITECTURE else luke_to_plugin.get(name)
    if plugin_name is None:
        raise ValueError(
            f"config.architectures names {name!r}, which mluke_hf does not implement; known: "
            f"{sorted(PLUGIN_TO_LUKE_ARCHITECTURE) + sorted(luke_to_plugin)}"
        )
    return getattr(modeling_mluke, plugin_name)

"""Fixtures of the pipeline and CLI tests: tiny folders per head, in the released layout and the plugin's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Entities of the tiny full-shape vocabulary: one id per entity, several `lang:title` names for some (as mluke-base).
PIPELINE_ENTITIES = (
    {"en": "Japan", "ja": "日本", "de": "Japan"},
    {"en": "Tokyo", "ja": "東京"},
    {"en": "Germany", "de": "Deutschland"},
    "Berlin",
    {"en": "Paris", "fr": "Paris"},
)


def save_plugin_folder(released_folder: Path, target: Path) -> Path:
    """Re-save a released-layout (`model_type: "luke"`) folder as the plugin saves its own models (`"mluke"`)."""
    from transformers import AutoTokenizer

    from mluke_hf.auto import model_class_for_config
    from mluke_hf.configuration_mluke import MLukeConfig

    config_dict = json.loads((released_folder / "config.json").read_text())
    config_dict.pop("model_type")
    config = MLukeConfig.from_dict(config_dict)
    released = model_class_for_config(config).from_pretrained(released_folder)
    model = model_class_for_config(config)(config)
    model.load_state_dict(released.state_dict())
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(released_folder).save_pretrained(target)
    return target


@pytest.fixture(scope="session")
def pipeline_folder(tiny_checkpoint_factory, tmp_path_factory):
    """`pipeline_folder(architecture, layout="luke", **build_kwargs)`: a tiny folder (read-only; copy to change it).

    layout "luke" is the released hub layout (`build_tiny_checkpoint`); "mluke" the same weights saved by the plugin.
    """
    saved: dict[tuple, Path] = {}

    def make(architecture: str, layout: str = "luke", **kwargs) -> Path:
        released = tiny_checkpoint_factory(architecture=architecture, **kwargs)
        if layout == "luke":
            return released
        if layout != "mluke":
            raise ValueError(f"layout must be 'luke' or 'mluke', got {layout!r}")
        key = (released, architecture)
        if key not in saved:
            saved[key] = save_plugin_folder(released, tmp_path_factory.mktemp("plugin_checkpoint"))
        return saved[key]

    return make


__all__ = ["PIPELINE_ENTITIES", "save_plugin_folder", "pipeline_folder"]

"""The package's public surface: `__all__` lists exactly what `import mluke_hf` offers, and each name resolves."""

from __future__ import annotations

import mluke_hf


def test_all_names_resolve_and_are_unique():
    assert len(mluke_hf.__all__) == len(set(mluke_hf.__all__))
    missing = [name for name in mluke_hf.__all__ if not hasattr(mluke_hf, name)]
    assert missing == []


def test_all_lists_every_public_class_and_function():
    public = {
        name
        for name, value in vars(mluke_hf).items()
        if not name.startswith("_")
        and (isinstance(value, type) or callable(value))
        and not isinstance(value, type(mluke_hf))
    }
    assert public - set(mluke_hf.__all__) == set()

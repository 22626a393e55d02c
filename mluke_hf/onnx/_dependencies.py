"""The optional packages of ONNX export and ONNX Runtime inference, with one clear message when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL_HINT = "pip install 'mluke_hf[onnx]'  (or: pip install onnx onnxruntime)"


def require(module_name: str) -> ModuleType:
    """Import `module_name` (onnx, onnxruntime, onnxruntime.quantization), or an ImportError saying how to get it."""
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(
            f"ONNX export and ONNX Runtime inference need the optional package {module_name.split('.')[0]!r}, which "
            f"is not installed ({error}); install it with: {INSTALL_HINT}"
        ) from error

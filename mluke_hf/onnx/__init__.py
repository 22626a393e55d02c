"""ONNX export of mLUKE's entity heads and masked LM, and ONNX Runtime models the entity pipelines accept.

    mluke-hf export onnx --model CHECKPOINT --output EXPORTED [--quantize int8] [--opset 17]
    mluke-hf ner --model EXPORTED ...          # runs on ONNX Runtime: the folder holds model.onnx

Needs the optional packages `onnx` and `onnxruntime`: `pip install 'mluke_hf[onnx]'`. See docs/deploy.md.
"""

from __future__ import annotations

from .export import DEFAULT_OPSET, ExportReport, OnnxExportError, export_model, export_onnx
from .heads import EXPORT_INFO_FILE, HEADS, ONNX_FILE
from .modeling_ort import (
    ORTModel,
    ORTModelForEntityClassification,
    ORTModelForEntityPairClassification,
    ORTModelForEntitySpanClassification,
    ORTModelForMaskedLM,
    ort_model_class_for_folder,
)

__all__ = [
    "DEFAULT_OPSET",
    "EXPORT_INFO_FILE",
    "HEADS",
    "ONNX_FILE",
    "ExportReport",
    "ORTModel",
    "ORTModelForEntityClassification",
    "ORTModelForEntityPairClassification",
    "ORTModelForEntitySpanClassification",
    "ORTModelForMaskedLM",
    "OnnxExportError",
    "export_model",
    "export_onnx",
    "is_onnx_folder",
    "ort_model_class_for_folder",
]


def is_onnx_folder(model) -> bool:
    """Whether `model` (a path or hub id) is a local folder holding an ONNX export (`model.onnx`)."""
    import os

    return isinstance(model, (str, os.PathLike)) and os.path.isfile(os.path.join(model, ONNX_FILE))

"""Export of an mLUKE checkpoint (an entity head or the masked LM) to ONNX, checked against PyTorch before writing.

```python
from mluke_hf.onnx import export_onnx

report = export_onnx("path/to/checkpoint", "path/to/exported", quantize="int8")
print(report.summary())
```

The output folder is complete: `model.onnx`, the tokenizer files, `config.json` and `onnx_export.json` (what was
exported and how it was checked). The graph's inputs are the tokenizer's output keys in the head's mode, with
dynamic batch, sequence, entity and mention axes; its outputs are the head's logits.

Before anything is written, ONNX Runtime runs the fp32 graph on two padded sample batches of different shapes
(batch 3 and batch 1, multilingual texts, different word and entity counts) and the largest difference from the
PyTorch model must stay within `atol` (1e-4); otherwise nothing is written. An int8 graph (dynamic quantization of
the MatMul weights) is derived from the checked fp32 graph; its difference from PyTorch is reported, not bounded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ._dependencies import require
from .heads import EXPORT_INFO_FILE, ONNX_FILE, ExportedHead, head_for_config

__all__ = ["DEFAULT_OPSET", "OPSET_RANGE", "ExportReport", "OnnxExportError", "export_model", "export_onnx"]

DEFAULT_OPSET = 17
# 17 is the first opset with LayerNormalization; the TorchScript exporter stops at 20.
OPSET_RANGE = (14, 20)
DEFAULT_ATOL = 1e-4
QUANTIZATIONS = ("int8",)

WORD_FIELDS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")
MENTION_FIELD = "entity_position_ids"

# Sample texts of the check (several scripts; each entity is a word found in its text).
SAMPLE_TEXTS = (
    ("Tokyo is the capital of Japan and Berlin lies in Germany.", ("Tokyo", "Japan", "Berlin")),
    ("बर्लिन जर्मनी की राजधानी है।", ("बर्लिन", "जर्मनी")),
    ("القاهرة هي عاصمة مصر وأكبر مدنها.", ("القاهرة", "مصر")),
    ("東京は日本の首都です。", ("東京", "日本")),
)


class OnnxExportError(ValueError):
    """The export failed its check (ONNX Runtime disagrees with PyTorch) or cannot be written where asked."""


@dataclass(frozen=True)
class ExportReport:
    """What `export_onnx` wrote and how well ONNX Runtime matched PyTorch on the sample batches."""

    output_dir: str
    architecture: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    opset: int
    quantization: str | None
    max_abs_diff: float
    quantized_max_abs_diff: float | None
    atol: float
    sample_shapes: tuple[dict[str, list[int]], ...] = field(default_factory=tuple)
    model_bytes: int = 0

    def summary(self) -> str:
        graph = f"{self.quantization or 'fp32'}, {self.model_bytes / 1e6:.2f} MB"
        lines = [
            f"exported {self.architecture} to {self.output_dir}/{ONNX_FILE} (opset {self.opset}, {graph})",
            f"inputs: {', '.join(self.input_names)}; outputs: {', '.join(self.output_names)}",
            f"fp32 graph vs PyTorch on {len(self.sample_shapes)} padded sample batches: "
            + f"max |diff| = {self.max_abs_diff:.2e} (limit {self.atol:.0e})",
        ]
        if self.quantized_max_abs_diff is not None:
            lines.append(f"int8 graph vs PyTorch: max |diff| = {self.quantized_max_abs_diff:.2e} (not bounded)")
        return "\n".join(lines)


# -- the sample batches -------------------------------------------------------------------------------------------------


def _entity_spans(text: str, words: Sequence[str], head: ExportedHead) -> list[tuple[int, int]]:
    spans = [(text.index(word), text.index(word) + len(word)) for word in words]
    if head.tokenizer_task == "entity_classification":
        return spans[:1]
    if head.tokenizer_task == "entity_pair_classification":
        return spans[:2]
    return spans


def sample_features(tokenizer, head: ExportedHead) -> list[dict[str, list]]:
    """Tokenizer features (lists) of the sample texts in the head's mode; masked LM texts get a masked mention."""
    features = []
    for text, words in SAMPLE_TEXTS:
        if head.tokenizer_task is None:
            # The entity cloze: the first entity's mention replaced by the mask token, as entity-fill-mask gives it.
            mask = str(tokenizer.mask_token)
            text = text.replace(words[0], mask, 1)
            words = (mask, *words[1:])
        spans = _entity_spans(text, words, head)
        encoding = tokenizer(text, entity_spans=spans, max_entity_length=len(spans), task=head.tokenizer_task)
        features.append({key: list(value) for key, value in encoding.items()})
    return features


def sample_batches(tokenizer, head: ExportedHead) -> list[dict[str, torch.Tensor]]:
    """Two padded batches of different shapes: the first three texts, then the last one alone."""
    from ..data_collator import MLukeDataCollator

    features = sample_features(tokenizer, head)
    collator = MLukeDataCollator(tokenizer)
    return [collator(features[:3]), collator(features[3:])]


def _shapes(batch: dict[str, torch.Tensor]) -> dict[str, list[int]]:
    return {name: list(tensor.shape) for name, tensor in batch.items()}


# -- the graph -------------------------------------------------------------------------------------------------------


class _GraphModule(torch.nn.Module):
    """The model with positional tensor inputs (in `input_names` order) and a tuple of the head's outputs."""

    def __init__(self, model: torch.nn.Module, input_names: Sequence[str], output_names: Sequence[str]):
        super().__init__()
        self.model = model
        self.input_names = tuple(input_names)
        self.output_names = tuple(output_names)

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs = self.model(**dict(zip(self.input_names, tensors)), return_dict=True)
        return tuple(outputs[name] for name in self.output_names)


def dynamic_axes(input_names: Sequence[str], head: ExportedHead) -> dict[str, dict[int, str]]:
    axes: dict[str, dict[int, str]] = {}
    for name in input_names:
        if name in WORD_FIELDS:
            axes[name] = {0: "batch", 1: "sequence"}
        elif name == MENTION_FIELD:
            axes[name] = {0: "batch", 1: "entities", 2: "mention"}
        else:
            axes[name] = {0: "batch", 1: "entities"}
    for name in head.outputs:
        if head.tokenizer_task == "entity_span_classification" or name == "entity_logits":
            axes[name] = {0: "batch", 1: "entities"}
        elif name == "logits" and head.tokenizer_task is None:
            axes[name] = {0: "batch", 1: "sequence"}
        else:
            axes[name] = {0: "batch"}
    return axes


def _export_graph(model, head: ExportedHead, input_names: Sequence[str], batch: dict, path: Path, opset: int) -> None:
    graph_module = _GraphModule(model, input_names, head.outputs).eval()
    arguments = tuple(batch[name] for name in input_names)
    with warnings.catch_warnings(), torch.no_grad():
        # The tracer warns about every Python-side shape check of the model; none of them shapes the graph.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph_module,
            arguments,
            str(path),
            input_names=list(input_names),
            output_names=list(head.outputs),
            dynamic_axes=dynamic_axes(input_names, head),
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )


def _max_abs_diff(session, model, head: ExportedHead, batches: Sequence[dict]) -> float:
    """Largest |ONNX Runtime - PyTorch| over every output of every batch."""
    largest = 0.0
    for batch in batches:
        with torch.no_grad():
            # The graph computes padding rows too; so does this reference (mluke_hf.packing would leave them out).
            expected = model(**batch, return_dict=True, keep_padding_rows=True)
        feeds = {graph_input.name: batch[graph_input.name].numpy() for graph_input in session.get_inputs()}
        for name, value in zip(head.outputs, session.run(list(head.outputs), feeds)):
            reference = expected[name].float().numpy()
            if value.shape != reference.shape:
                return float("inf")
            largest = max(largest, float(abs(value - reference).max()))
    return largest


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the MatMul weights (activations quantized per call), via onnxruntime."""
    quantization = require("onnxruntime.quantization")
    external = any(path != source for path in source.parent.iterdir())
    # Its advice to pre-process the graph does not apply: symbolic shape inference fails on the traced graph's Loop.
    advice = _MessageFilter("Please consider")
    logging.getLogger().addFilter(advice)
    try:
        quantization.quantize_dynamic(
            str(source),
            str(target),
            weight_type=quantization.QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            use_external_data_format=external,
        )
    finally:
        logging.getLogger().removeFilter(advice)


class _MessageFilter(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


# -- writing ---------------------------------------------------------------------------------------------------------


def _check_output_dir(output_dir: Path, model_dir: Path | None, overwrite: bool) -> None:
    if model_dir is not None and model_dir.exists() and output_dir.resolve() == model_dir.resolve():
        raise OnnxExportError(f"output {output_dir} is the checkpoint folder itself; pass another --output folder")
    if output_dir.exists() and not output_dir.is_dir():
        raise OnnxExportError(f"output {output_dir} is a file; pass a folder")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not overwrite:
        raise OnnxExportError(
            f"output {output_dir} is not empty; pass an empty or new folder, or overwrite=True (--overwrite) to "
            "replace the exported files in it"
        )


def _move_into(scratch: Path, output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    for path in scratch.iterdir():
        target = output_dir / path.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        shutil.move(str(path), str(target))


def _check_opset(opset: Any) -> int:
    if isinstance(opset, bool) or not isinstance(opset, int) or not OPSET_RANGE[0] <= opset <= OPSET_RANGE[1]:
        raise ValueError(f"opset must be an int from {OPSET_RANGE[0]} to {OPSET_RANGE[1]}, got {opset!r}")
    return opset


def _check_quantize(quantize: Any) -> str | None:
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be None or one of {QUANTIZATIONS}, got {quantize!r}")
    return quantize


def export_model(
    model,
    tokenizer,
    output_dir: str | os.PathLike,
    *,
    quantize: str | None = None,
    opset: int = DEFAULT_OPSET,
    atol: float = DEFAULT_ATOL,
    overwrite: bool = False,
    _model_dir: Path | None = None,
) -> ExportReport:
    """Export a loaded model (an entity head or the masked LM, in fp32) with its mLUKE tokenizer to `output_dir`.

    The model is run in eval mode on the sample batches and traced; it is not changed. See `export_onnx`.
    """
    onnx = require("onnx")
    from .modeling_ort import create_session

    opset, quantize = _check_opset(opset), _check_quantize(quantize)
    if not hasattr(tokenizer, "entity_vocab"):
        raise TypeError(f"tokenizer must be an mLUKE tokenizer (with entity spans), got {type(tokenizer).__name__}")
    if model.training:
        raise ValueError("model is in training mode (dropout on); call model.eval() before exporting it")
    if any(parameter.dtype != torch.float32 for parameter in model.parameters()):
        raise ValueError("model must hold float32 weights for the export check; load it with dtype=torch.float32")
    head = head_for_config(model.config)
    output_dir = Path(output_dir)
    _check_output_dir(output_dir, _model_dir, overwrite)

    batches = sample_batches(tokenizer, head)
    input_names = tuple(batches[0])
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_dir.parent, prefix=f".{output_dir.name}.export-") as scratch_name:
        scratch = Path(scratch_name)
        fp32_dir = scratch / "fp32"
        fp32_dir.mkdir()
        fp32_path = fp32_dir / ONNX_FILE
        _export_graph(model, head, input_names, batches[0], fp32_path, opset)
        onnx.checker.check_model(str(fp32_path))
        max_diff = _max_abs_diff(create_session(fp32_path), model, head, batches)
        if not max_diff <= atol:
            raise OnnxExportError(
                f"ONNX Runtime disagrees with PyTorch on the sample batches: max |diff| = {max_diff:.3e} > {atol:.0e}; "
                f"nothing was written to {output_dir}. Try another --opset, or report the checkpoint's config"
            )
        final_dir = scratch / "final"
        final_dir.mkdir()
        quantized_diff = None
        if quantize == "int8":
            quantize_int8(fp32_path, final_dir / ONNX_FILE)
            quantized_diff = _max_abs_diff(create_session(final_dir / ONNX_FILE), model, head, batches)
        else:
            for path in fp32_dir.iterdir():
                shutil.move(str(path), str(final_dir / path.name))
        # The graph and its external data files, if any (models over 2 GB).
        model_bytes = sum(path.stat().st_size for path in final_dir.iterdir())
        tokenizer.save_pretrained(final_dir)
        model.config.save_pretrained(final_dir)
        report = ExportReport(
            output_dir=str(output_dir),
            architecture=head.architecture,
            input_names=input_names,
            output_names=head.outputs,
            opset=opset,
            quantization=quantize,
            max_abs_diff=max_diff,
            quantized_max_abs_diff=quantized_diff,
            atol=atol,
            sample_shapes=tuple(_shapes(batch) for batch in batches),
            model_bytes=model_bytes,
        )
        info = {**asdict(report), "torch_version": torch.__version__, "onnx_version": onnx.__version__}
        info.pop("output_dir")
        (final_dir / EXPORT_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        _move_into(final_dir, output_dir)
    return report


def export_onnx(
    model_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    quantize: str | None = None,
    opset: int = DEFAULT_OPSET,
    atol: float = DEFAULT_ATOL,
    overwrite: bool = False,
) -> ExportReport:
    """Export the checkpoint `model_dir` (a folder or hub id of an entity head or masked LM) to `output_dir`.

    Args:
        quantize: None (fp32) or "int8" (dynamic quantization of the MatMul weights).
        opset: ONNX opset, 14 to 20 (default 17).
        atol: largest |ONNX Runtime - PyTorch| the fp32 graph may show on the sample batches (default 1e-4).
        overwrite: write into a non-empty `output_dir`, replacing the files of the export.

    Returns an `ExportReport`; raises `OnnxExportError` (nothing written) when the check fails.
    """
    from transformers import AutoConfig, AutoTokenizer

    import mluke_hf  # noqa: F401  (registration)

    from ..auto import model_class_for_config

    require("onnx")
    require("onnxruntime")
    opset, quantize = _check_opset(opset), _check_quantize(quantize)
    model_path = Path(model_dir)
    _check_output_dir(Path(output_dir), model_path, overwrite)
    config = AutoConfig.from_pretrained(model_dir)
    head_for_config(config)
    model = model_class_for_config(config).from_pretrained(
        model_dir, config=config, attn_implementation="eager", dtype=torch.float32
    )
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return export_model(
        model, tokenizer, output_dir, quantize=quantize, opset=opset, atol=atol, overwrite=overwrite,
        _model_dir=model_path,
    )  # fmt: skip

"""The command line's ONNX pieces: `mluke-hf export onnx`, and pipelines over exported folders.

    mluke-hf export onnx --model CHECKPOINT --output EXPORTED [--quantize int8] [--opset 17] [--overwrite]

`mluke_hf.cli` registers the `export` subcommand with `add_export_parser` and builds its pipelines with
`pipeline_arguments`, which hands an exported folder (one holding model.onnx) to ONNX Runtime.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXPORT_ERROR_STATUS = 2


def add_export_parser(subcommands) -> argparse.ArgumentParser:
    """Add `export onnx` to the `mluke-hf` subcommands; `args.run(args)` runs it (also set as `args.export_run`)."""
    from .export import DEFAULT_ATOL, DEFAULT_OPSET, OPSET_RANGE, QUANTIZATIONS

    export = subcommands.add_parser(
        "export", help="export a checkpoint for deployment (ONNX)", description="export a checkpoint for deployment"
    )
    formats = export.add_subparsers(dest="export_format", required=True, metavar="FORMAT")
    onnx = formats.add_parser(
        "onnx",
        help="ONNX graph + tokenizer + config, checked against PyTorch (see docs/deploy.md)",
        description=(
            "Write OUTPUT/model.onnx (dynamic batch, sequence, entity and mention axes; the tokenizer's keys as "
            "inputs, the head's logits as outputs), the tokenizer files and config.json. ONNX Runtime is compared "
            "with PyTorch on sample batches first; nothing is written when they disagree beyond --atol."
        ),
    )
    onnx.add_argument("--model", required=True, help="checkpoint folder or hub id (an entity head or the masked LM)")
    onnx.add_argument("--output", required=True, help="folder to write (new or empty, unless --overwrite)")
    onnx.add_argument("--quantize", choices=QUANTIZATIONS, default=None, help="int8: dynamic quantization of MatMuls")
    onnx.add_argument(
        "--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset, {OPSET_RANGE[0]}-{OPSET_RANGE[1]} (default 17)"
    )
    onnx.add_argument(
        "--atol", type=float, default=DEFAULT_ATOL, help="largest fp32 difference from PyTorch allowed (1e-4)"
    )
    onnx.add_argument("--overwrite", action="store_true", help="write into a non-empty folder, replacing its files")
    export.set_defaults(run=run_export)
    return export


def run_export(args: argparse.Namespace) -> int:
    """Run `export onnx`; prints the report (stdout) or one error line (stderr, exit status 2)."""
    from ._dependencies import require
    from .export import OnnxExportError, export_onnx

    try:
        require("onnx")
        require("onnxruntime")
        report = export_onnx(
            args.model, args.output, quantize=args.quantize, opset=args.opset, atol=args.atol, overwrite=args.overwrite
        )
    except (OnnxExportError, ImportError, OSError, ValueError, TypeError) as error:
        print(f"mluke-hf export {args.export_format}: error: {error}", file=sys.stderr)
        return EXPORT_ERROR_STATUS
    print(report.summary())
    return 0


def pipeline_arguments(model: str, task: str) -> dict[str, Any]:
    """Keyword arguments of `transformers.pipeline(task, ...)` for `--model`.

    A local folder holding model.onnx gives its ONNX Runtime model and tokenizer; anything else `{"model": model}`.
    """
    from . import is_onnx_folder

    if not is_onnx_folder(model):
        return {"model": model}
    from transformers import AutoTokenizer

    from .heads import HEADS
    from .modeling_ort import ort_model_class_for_folder

    model_class = ort_model_class_for_folder(model)
    exported_task = HEADS[model_class.architecture].pipeline_task
    if exported_task != task:
        raise ValueError(
            f"{model} holds an ONNX export of {model_class.architecture}, which runs the {exported_task} pipeline, "
            f"not {task}; export a checkpoint with the matching head"
        )
    return {"model": model_class.from_pretrained(model), "tokenizer": AutoTokenizer.from_pretrained(model)}

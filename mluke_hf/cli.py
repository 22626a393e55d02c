"""The `mluke-hf` command: the entity pipelines over files, and the demo.

    mluke-hf ner                --model FOLDER_OR_HUB_ID [--input FILE] [--output FILE]
    mluke-hf classify-entities  --model ... --input spans.jsonl          # {"text", "span": [s, e]} per line
    mluke-hf classify-relations --model ... --input pairs.jsonl          # {"text", "head": [s, e], "tail": [s, e]}
    mluke-hf fill-entity        --model ... --input cloze.jsonl --top-k 5 --language en
    mluke-hf demo [--output-dir DIR] [--epochs N] ...                    # see `mluke-hf demo --help`

Input is JSONL (one object per line with the pipeline's keys; other keys such as ids are copied to the output) or,
for `ner` and `fill-entity`, plain text (one text per line; `fill-entity` then finds the `<mask>` run). `-` (the
default) is stdin/stdout. The output is JSONL: each input record plus the pipeline's result under `entities`
(ner), `labels` (classify-entities, classify-relations) or `predictions` (fill-entity). See docs/cli.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

# Inputs of at least this many records get a progress bar (on stderr).
PROGRESS_MIN_RECORDS = 20
# Records handed to the pipeline at once (its batch_size still decides the forward passes).
RECORDS_PER_CALL = 64


@dataclass(frozen=True)
class Command:
    """One pipeline subcommand: its task, the record keys it reads and the key its result is written under."""

    task: str
    span_keys: tuple[str, ...]
    result_key: str
    plain_text: bool
    help: str


COMMANDS = {
    "ner": Command("entity-span-classification", (), "entities", True, "named entities of each text"),
    "classify-entities": Command(
        "entity-classification", ("span",), "labels", False, "labels of one mention per record (entity typing)"
    ),
    "classify-relations": Command(
        "entity-pair-classification", ("head", "tail"), "labels", False, "relation of a head and a tail mention"
    ),
    "fill-entity": Command(
        "entity-fill-mask", ("span",), "predictions", True, "entities that fill a masked mention (cloze)"
    ),
}


class InputError(ValueError):
    """A problem with the user's input file, reported as `path:line: message`."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mluke-hf", description="mLUKE entity pipelines and demo")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subcommands.add_parser(name, help=command.help, description=f"{command.help} ({command.task} pipeline)")
        sub.add_argument("--model", required=True, help="a checkpoint folder or a hub id")
        sub.add_argument("--input", default="-", help="JSONL or text file, '-' for stdin (default)")
        sub.add_argument("--output", default="-", help="JSONL file to write, '-' for stdout (default)")
        input_formats = ["auto", "jsonl", "text"] if command.plain_text else ["auto", "jsonl"]
        fallback = "text" if command.plain_text else "JSONL"
        sub.add_argument(
            "--format",
            choices=input_formats,
            default="auto",
            help=f"input format; auto: JSONL for .jsonl/.json files, else {fallback}",
        )
        sub.add_argument("--batch-size", type=int, default=8, help="model inputs per forward pass (default 8)")
        sub.add_argument("--device", default=None, help="torch device, e.g. cpu, cuda, cuda:1 (default: cpu)")
        sub.add_argument("--no-progress", action="store_true", help="no progress bar, even on long inputs")
        if name == "ner":
            sub.add_argument("--max-mention-length", type=int, default=None, help="longest span in words (16)")
            sub.add_argument("--max-entity-length", type=int, default=None, help="spans per model input (32)")
        if name in ("classify-entities", "classify-relations"):
            sub.add_argument("--top-k", type=int, default=None, help="best labels kept (single-label heads)")
            sub.add_argument("--threshold", type=float, default=None, help="score cut of multi-label heads (0.5)")
        if name == "fill-entity":
            sub.add_argument("--top-k", type=int, default=5, help="entities kept per record (default 5)")
            sub.add_argument("--candidates", default=None, help="comma-separated entity names to choose from")
            sub.add_argument("--language", default=None, help="only entities named in this language, e.g. en")
    demo = subcommands.add_parser(
        "demo", help="train a tiny mLUKE for multilingual NER and run it as a pipeline", add_help=False
    )
    demo.add_argument("demo_args", nargs=argparse.REMAINDER)
    from .onnx.cli import add_export_parser

    add_export_parser(subcommands)
    return parser


def pipeline_options(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Call options of the subcommand's pipeline, only those the user set."""
    options: dict[str, Any] = {}
    for option in ("max_mention_length", "max_entity_length", "top_k", "threshold", "language"):
        value = getattr(args, option, None)
        if value is not None:
            options[option] = value
    candidates = getattr(args, "candidates", None)
    if candidates is not None:
        options["candidates"] = [name.strip() for name in candidates.split(",") if name.strip()]
    return options


@contextlib.contextmanager
def open_stream(path: str, mode: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdin if "r" in mode else sys.stdout
        return
    with open(path, mode, encoding="utf-8") as handle:
        yield handle


def read_records(path: str, command: Command, input_format: str) -> list[tuple[int, dict]]:
    """`(line number, record)` of every non-empty input line; text lines become `{"text": line}`."""
    if input_format == "auto":
        is_jsonl = path != "-" and Path(path).suffix.lower() in (".jsonl", ".json")
        input_format = "jsonl" if is_jsonl or not command.plain_text else "text"
    name = "<stdin>" if path == "-" else path
    records = []
    with open_stream(path, "r") as handle:
        for line_number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if input_format == "text":
                records.append((line_number, {"text": line}))
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{name}:{line_number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict) or "text" not in record:
                raise InputError(f"{name}:{line_number}: expected a JSON object with a 'text' key, got {line[:80]!r}")
            records.append((line_number, record))
    return records


def pipeline_input(record: dict, command: Command) -> dict:
    """The keys the pipeline reads (JSON lists become (start, end) tuples); the rest of the record is only copied."""
    values = {"text": record["text"]}
    for key in command.span_keys:
        if record.get(key) is not None:
            span = record[key]
            values[key] = tuple(span) if isinstance(span, list) else span
    return values


def run_command(name: str, args: argparse.Namespace) -> int:
    import mluke_hf  # noqa: F401  (registers the entity pipelines)
    from transformers import pipeline

    command = COMMANDS[name]
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {args.batch_size}")
    records = read_records(args.input, command, args.format)
    options = pipeline_options(name, args)
    device = args.device if args.device is not None else "cpu"
    # Whatever a model's loading code prints must not mix with the JSONL on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        from .onnx.cli import pipeline_arguments  # an exported folder (model.onnx) runs on ONNX Runtime

        sources = pipeline_arguments(args.model, command.task)
        runner = pipeline(command.task, **sources, device=device, batch_size=args.batch_size)
    name_of_input = "<stdin>" if args.input == "-" else args.input

    from tqdm.auto import tqdm

    progress = tqdm(
        total=len(records),
        unit="record",
        desc=name,
        disable=args.no_progress or len(records) < PROGRESS_MIN_RECORDS,
        file=sys.stderr,
    )
    with open_stream(args.output, "w") as output, progress:
        for begin in range(0, len(records), RECORDS_PER_CALL):
            block = records[begin : begin + RECORDS_PER_CALL]
            results = run_block(runner, block, command, options, name_of_input)
            for (_, record), result in zip(block, results):
                output.write(json.dumps({**record, command.result_key: result}, ensure_ascii=False) + "\n")
            output.flush()
            progress.update(len(block))
    return 0


def run_block(runner, block: Sequence[tuple[int, dict]], command: Command, options: dict, name: str) -> list:
    """Results of a block of records; a record the pipeline refuses is reported with its line number."""
    inputs = [pipeline_input(record, command) for _, record in block]
    try:
        return runner(inputs, **options)
    except (ValueError, TypeError) as error:
        # Find the record at fault (options errors fail on the first record too).
        for (line_number, _), single in zip(block, inputs):
            try:
                runner(single, **options)
            except (ValueError, TypeError) as record_error:
                raise InputError(f"{name}:{line_number}: {record_error}") from None
        raise InputError(str(error)) from None


def run_demo(demo_args: list[str]) -> int:
    from . import demo

    demo.main(demo_args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mluke-hf`; returns the exit status (0 on success, 2 on bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "demo":
        # Everything after `demo` belongs to the demo's own parser (its --help included).
        return run_demo(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "export":
        return args.run(args)
    try:
        return run_command(args.command, args)
    except (InputError, OSError) as error:
        # OSError: an input file or model folder that cannot be read (or a hub id that cannot be fetched).
        print(f"mluke-hf {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

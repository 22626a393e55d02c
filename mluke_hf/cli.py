"""The `mluke-hf` command: the entity pipelines over files or streams, and the demo.

    mluke-hf ner                --model FOLDER_OR_HUB_ID [--input FILE] [--output FILE]
    mluke-hf classify-entities  --model ... --input spans.jsonl          # {"text", "span": [s, e]} per line
    mluke-hf classify-relations --model ... --input pairs.jsonl          # {"text", "head": [s, e], "tail": [s, e]}
    mluke-hf fill-entity        --model ... --input cloze.jsonl --top-k 5 --language en
    mluke-hf demo [--output-dir DIR] [--epochs N] ...                    # see `mluke-hf demo --help`

Input is JSONL (one object per line with the pipeline's keys; other keys such as ids are copied to the output) or,
for `ner` and `fill-entity`, plain text (one text per line; `fill-entity` then finds the `<mask>` run). `-` (the
default) is stdin/stdout. Input is read as it comes: each group of at most `--batch-size` records (fewer when the
input pauses) is run and its lines are written and flushed at once. The output is JSONL: each input record plus the
pipeline's result under `entities` (ner), `labels` (classify-entities, classify-relations) or `predictions`
(fill-entity). Exit statuses: see `EXIT_*` below and docs/cli.md.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from .argument_types import positive_int, probability
from .checkpoint_checks import CheckpointError

EXIT_OK = 0  # done, or the reader of stdout closed it early (`| head -1`)
EXIT_INTERNAL_ERROR = 1  # a bug of mluke-hf (or torch failing); the message asks for --debug
EXIT_USAGE = 2  # anything the user can fix: options, input, model folder, device
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), 128 + 2 as shells report it

# Inputs of at least this many lines get a progress bar (on stderr).
PROGRESS_MIN_RECORDS = 20
READ_CHUNK = 1 << 16
# Longest wait in one system call for input: Ctrl-C is handled between two (see `LineReader.next_line`).
SIGNAL_CHECK_SECONDS = 0.1


@dataclass(frozen=True)
class Command:
    """One pipeline subcommand: its task, the record keys it reads and the key its result is written under."""

    task: str
    span_keys: tuple[str, ...]
    result_key: str
    plain_text: bool
    help: str
    # Record keys that are call options of the pipeline for that record alone (a list of str each).
    record_options: tuple[str, ...] = ()


COMMANDS = {
    "ner": Command("entity-span-classification", (), "entities", True, "named entities of each text"),
    "classify-entities": Command(
        "entity-classification", ("span",), "labels", False, "labels of one mention per record (entity typing)"
    ),
    "classify-relations": Command(
        "entity-pair-classification", ("head", "tail"), "labels", False, "relation of a head and a tail mention"
    ),
    "fill-entity": Command(
        "entity-fill-mask",
        ("span",),
        "predictions",
        True,
        "entities that fill a masked mention (cloze)",
        record_options=("candidates",),
    ),
}


class CliError(ValueError):
    """A failure the user can fix (exit status 2): printed as one line, without a traceback unless --debug."""


class InputError(CliError):
    """A problem with the user's input, reported as `path:line: message`."""


# -- command line ------------------------------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (plus a pointer to --help) instead of the whole usage text."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_debug_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--debug", action="store_true", default=default, help="show the traceback of an error")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mluke-hf", description="mLUKE entity pipelines and demo")
    add_debug_option(parser, False)
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name, command in COMMANDS.items():
        sub = subcommands.add_parser(name, help=command.help, description=f"{command.help} ({command.task} pipeline)")
        add_pipeline_options(sub, name, command)
        sub.set_defaults(run=run_pipeline_command)
    demo = subcommands.add_parser(
        "demo", help="train a tiny mLUKE for multilingual NER and run it as a pipeline", add_help=False
    )
    demo.add_argument("demo_args", nargs=argparse.REMAINDER)
    # Further subcommands register here: `subcommands.add_parser(...)` and `set_defaults(run=their_function)`;
    # `main` calls `args.run(args)` inside the one error path.
    from .onnx.cli import add_export_parser

    add_export_parser(subcommands)
    return parser


def add_pipeline_options(sub: argparse.ArgumentParser, name: str, command: Command) -> None:
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
    sub.add_argument("--encoding", default="utf-8", help="encoding of the input (default utf-8; a BOM is skipped)")
    sub.add_argument(
        "--errors",
        choices=["strict", "replace"],
        default="strict",
        help="undecodable input bytes: strict stops with the line (default), replace writes U+FFFD",
    )
    sub.add_argument(
        "--batch-size",
        type=positive_int,
        default=8,
        help="records run and written together, and model inputs per forward pass (default 8)",
    )
    sub.add_argument("--device", default=None, help="torch device, e.g. cpu, cuda, cuda:1 (default: cpu)")
    sub.add_argument(
        "--dtype",
        choices=["fp32", "bf16", "auto"],
        default="fp32",
        help="weights and arithmetic: fp32 (default), bf16 (faster where the hardware has bfloat16 matrix "
        "instructions, near-tie results may change), auto (bf16 on such hardware, else fp32)",
    )
    sub.add_argument(
        "--prepack-weights",
        action="store_true",
        help="keep the encoder's linear weights in oneDNN's layout too (CPU: about 10%% faster, a second copy of "
        "those weights in memory; see mluke_hf.prepack_linear_weights)",
    )
    sub.add_argument("--no-progress", action="store_true", help="no progress bar, even on long inputs")
    sub.add_argument(
        "--result-key",
        default=command.result_key,
        help=f"key the result is written under (default {command.result_key})",
    )
    sub.add_argument(
        "--overwrite", action="store_true", help="replace the result key when an input record already has it"
    )
    add_debug_option(sub, argparse.SUPPRESS)
    if name == "ner":
        sub.add_argument("--max-mention-length", type=positive_int, default=None, help="longest span in words (16)")
        sub.add_argument(
            "--max-entity-length",
            type=positive_int,
            default=None,
            help="spans per model input (the checkpoint's, 128)",
        )
    if name in ("classify-entities", "classify-relations"):
        sub.add_argument("--top-k", type=positive_int, default=None, help="best labels kept (single-label heads)")
        sub.add_argument("--threshold", type=probability, default=None, help="score cut of multi-label heads (0.5)")
    if name == "fill-entity":
        sub.add_argument("--top-k", type=positive_int, default=5, help="entities kept per record (default 5)")
        sub.add_argument("--candidates", default=None, help="comma-separated entity names to choose from")
        sub.add_argument(
            "--candidate", action="append", default=None, help="one entity name, kept whole (commas allowed); repeat"
        )
        sub.add_argument("--candidates-file", default=None, help="UTF-8 file of entity names, one per line")
        sub.add_argument("--language", default=None, help="only entities named in this language, e.g. en")


def pipeline_options(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Call options of the subcommand's pipeline, only those the user set."""
    options: dict[str, Any] = {}
    for option in ("max_mention_length", "max_entity_length", "top_k", "threshold", "language"):
        value = getattr(args, option, None)
        if value is not None:
            options[option] = value
    candidates = candidate_names(args)
    if candidates is not None:
        options["candidates"] = candidates
    return options


def candidate_names(args: argparse.Namespace) -> list[str] | None:
    """--candidates (split at commas), --candidate (whole names) and --candidates-file (one per line), together."""
    given = [getattr(args, name, None) for name in ("candidates", "candidate", "candidates_file")]
    if all(value is None for value in given):
        return None
    comma_separated, whole, path = given
    names = [name.strip() for name in (comma_separated or "").split(",") if name.strip()]
    names += [name.strip() for name in whole or [] if name.strip()]
    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        names.append(line.strip())
        except UnicodeDecodeError as error:
            raise CliError(f"{path}: not valid UTF-8 (byte {error.start}); --candidates-file must be UTF-8") from None
        except OSError as error:
            raise CliError(f"--candidates-file {path}: {error.strerror or error}") from None
    if not names:
        raise CliError("the candidate options name no entity; give at least one name")
    return names


# -- reading input as it comes ---------------------------------------------------------------------------------------


class LineReader:
    """Lines of a binary file or pipe, read as they arrive: `ready()` says whether a line can be had without waiting.

    Reads with os.read on the file descriptor (no Python buffering that would hide what is waiting in the pipe); a
    stream without a descriptor (e.g. io.StringIO in tests) is read line by line and is always ready.
    """

    def __init__(self, handle: BinaryIO | TextIO):
        self._handle = handle
        self._buffer = bytearray()
        self._eof = False
        try:
            self._fd: int | None = handle.fileno()
        except (AttributeError, OSError, ValueError):
            self._fd = None

    def ready(self) -> bool:
        """Whether `next_line` returns at once (a whole line, or the end, is already here)."""
        if self._eof or b"\n" in self._buffer or self._fd is None:
            return True
        import select

        try:
            readable, _, _ = select.select([self._fd], [], [], 0)
        except (OSError, ValueError):  # e.g. pipes on Windows: read whole blocks, as a file
            return True
        return bool(readable)

    def next_line(self) -> bytes | None:
        """The next line (with its newline), or None at the end; waits for the line to arrive."""
        if self._fd is None:
            line = self._handle.readline()
            if isinstance(line, str):
                line = line.encode("utf-8")
            return line or None
        while b"\n" not in self._buffer and not self._eof:
            self._wait_readable()
            data = os.read(self._fd, READ_CHUNK)
            if data:
                self._buffer += data
            else:
                self._eof = True
        if not self._buffer:
            return None
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        line = bytes(self._buffer[:end])
        del self._buffer[:end]
        return line

    def _wait_readable(self) -> None:
        """Wait for input in short `select` calls rather than one blocking read: the kernel may hand Ctrl-C to any
        thread of the process (torch's worker threads too), and then a main thread asleep in read() would not wake
        until input came; between two short waits Python runs the signal's handler."""
        import select

        while True:
            try:
                readable, _, _ = select.select([self._fd], [], [], SIGNAL_CHECK_SECONDS)
            except (OSError, ValueError):  # not selectable (e.g. pipes on Windows): read blocks, as before
                return
            if readable:
                return


@dataclass
class InputSource:
    """Numbered, decoded, parsed records of the input; `records_ready` and `next_record` feed the batching."""

    reader: LineReader
    name: str
    command: Command
    input_format: str
    encoding: str
    errors: str
    result_key: str
    overwrite: bool
    line_number: int = 0

    def decode(self, raw: bytes) -> str:
        try:
            text = raw.decode(self.encoding, self.errors)
        except UnicodeDecodeError as error:
            raise InputError(
                f"{self.name}:{self.line_number}: not valid {self.encoding} (byte 0x{raw[error.start]:02x} at byte "
                f"{error.start + 1} of the line); convert the file to UTF-8, or pass --encoding ENCODING or "
                "--errors replace"
            ) from None
        if self.line_number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        return text.rstrip("\r\n")

    def next_record(self) -> tuple[int, dict] | None:
        """`(line number, record)` of the next non-blank line, or None at the end."""
        while True:
            raw = self.reader.next_line()
            if raw is None:
                return None
            self.line_number += 1
            line = self.decode(raw)
            if line.strip():
                return self.line_number, self.parse(line)

    def parse(self, line: str) -> dict:
        where = f"{self.name}:{self.line_number}"
        if self.input_format == "text":
            return {"text": line}
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: not valid JSON ({error.msg}, column {error.colno})") from None
        if not isinstance(record, dict) or "text" not in record:
            raise InputError(f"{where}: expected a JSON object with a 'text' key, got {line[:80]!r}")
        for key in self.command.record_options:
            value = record.get(key)
            if value is not None and (
                not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value)
            ):
                raise InputError(f"{where}: {key!r} must be a non-empty list of names (strings), got {value!r}")
        if self.result_key in record and not self.overwrite:
            raise InputError(
                f"{where}: the record already has a {self.result_key!r} key, which the result would replace; pass "
                "--overwrite to replace it, or --result-key NAME to write the result under another key"
            )
        return record

    def batches(self, size: int) -> Iterator[list[tuple[int, dict]]]:
        """Groups of at most `size` records: a group waits for its first record, then takes only what has arrived.

        An input error is raised once the records before it have been given out (so their results are written).
        """
        while True:
            batch: list[tuple[int, dict]] = []
            try:
                record = self.next_record()
                while record is not None:
                    batch.append(record)
                    if len(batch) >= size or not self.reader.ready():
                        break
                    record = self.next_record()
            except InputError:
                if batch:
                    yield batch
                raise
            if batch:
                yield batch
            if record is None:
                return


def resolve_input_format(path: str, command: Command, input_format: str) -> str:
    if input_format != "auto":
        return input_format
    is_jsonl = path != "-" and Path(path).suffix.lower() in (".jsonl", ".json")
    return "jsonl" if is_jsonl or not command.plain_text else "text"


def check_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise CliError(
            f"--encoding {encoding!r} is not an encoding Python knows (e.g. utf-8, latin-1, cp1252)"
        ) from None
    if "\n".encode(name) != b"\n":
        raise CliError(f"--encoding {encoding}: lines are split at byte 0x0a, so only ASCII-compatible encodings work")
    return name


@contextlib.contextmanager
def open_input(path: str) -> Iterator[BinaryIO | TextIO]:
    if path == "-":
        yield getattr(sys.stdin, "buffer", sys.stdin)
        return
    with open_file(path, "rb", "--input") as handle:
        yield handle


def open_file(path: str, mode: str, option: str):
    """The file opened, or a CliError naming the option and the reason (missing, a folder, no permission)."""
    try:
        return open(path, mode, encoding=None if "b" in mode else "utf-8")
    except OSError as error:
        raise CliError(f"{option} {path}: {error.strerror or error}") from None


@contextlib.contextmanager
def open_output(path: str) -> Iterator[TextIO]:
    if path == "-":
        # JSONL is UTF-8 whatever the locale says (a cp1252 or ASCII console could not encode the texts).
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        if codecs.lookup(encoding).name != "utf-8" and hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8")
        yield sys.stdout
        return
    with open_file(path, "w", "--output") as handle:
        yield handle


def count_lines(path: str) -> int | None:
    """Lines of an input file (for the progress bar's total); None for stdin and pipes (counting would consume them)."""
    if path == "-" or not Path(path).is_file():
        return None
    count = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            count += chunk.count(b"\n")
    return count


# -- the model ---------------------------------------------------------------------------------------------------------


def resolve_device(value: str | None) -> str:
    """The torch device to run on, checked: a device this torch cannot use is a CliError, not a traceback later."""
    if value is None:
        return "cpu"
    import torch

    try:
        device = torch.device(value)
    except (RuntimeError, ValueError):
        raise CliError(f"--device {value!r} is not a torch device; use cpu, cuda, cuda:1, mps, ...") from None
    if device.type == "cpu":
        return value
    backend = getattr(torch, device.type, None)
    if device.type == "mps":
        backend = torch.backends.mps
    if backend is None or not hasattr(backend, "is_available"):
        raise CliError(f"--device {value}: this torch has no {device.type} backend; use --device cpu")
    if not backend.is_available():
        built = {"cuda": torch.version.cuda is not None}.get(device.type, True)
        reason = "this torch was built without it" if not built else "no such device is visible"
        raise CliError(f"--device {value}: {device.type} is not available ({reason}); use --device cpu")
    count = getattr(backend, "device_count", lambda: 1)()
    if device.index is not None and device.index >= count:
        raise CliError(f"--device {value}: only {count} {device.type} device(s) visible (indices from 0)")
    return value


def load_runner(command: Command, args: argparse.Namespace):
    """The pipeline of `command` over `--model`, after the checks; every load failure is a CliError."""
    device = resolve_device(args.device)
    if is_onnx_folder(args.model):
        # An exported folder (model.onnx) runs on ONNX Runtime; its export already checked it against PyTorch.
        def build():
            return build_onnx_pipeline(command, args, device)
    else:
        source = checked_model_source(command, args.model)

        def build():
            return build_pipeline(command, args, source, device)

    if args.no_progress:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    try:
        # Whatever a model's loading code prints must not mix with the JSONL on stdout.
        with contextlib.redirect_stdout(sys.stderr):
            return build()
    except (CliError, CheckpointError):
        raise
    except Exception as error:  # any failure to load is the checkpoint's or the hub's
        raise CliError(f"{args.model}: cannot load the model: {one_line(error)}") from error


def is_onnx_folder(model: str) -> bool:
    from .onnx import is_onnx_folder as holds_onnx_model

    return holds_onnx_model(model)


def build_onnx_pipeline(command: Command, args: argparse.Namespace, device: str):
    """The pipeline of `command` on ONNX Runtime over an exported folder (CPU; `--dtype` does not apply)."""
    from transformers import pipeline

    import mluke_hf  # noqa: F401  (registers the entity pipelines)

    from .onnx.cli import pipeline_arguments

    if getattr(args, "dtype", "fp32") != "fp32":
        raise CliError(
            f"{args.model}: --dtype {args.dtype} does not apply to an ONNX export (its graph is fp32 or int8)"
        )
    arguments = pipeline_arguments(args.model, command.task)
    return pipeline(command.task, **arguments, device=device, batch_size=args.batch_size)


def checked_model_source(command: Command, model: str) -> str:
    """`--model` as a folder path or hub id to load from, after the checks that need no loading."""
    from .checkpoint_checks import HEADS, check_hub_reference, check_model_folder, resolve_model_reference

    reference = resolve_model_reference(model)
    if isinstance(reference, Path):
        check_model_folder(reference, HEADS[command.task])
    else:
        check_hub_reference(reference)
    return str(reference)


def pipeline_dtype(args: argparse.Namespace, device: str):
    """The torch dtype of `--dtype` (auto: bf16 where the device has bfloat16 matrix instructions)."""
    from .precision import resolve_dtype

    return resolve_dtype(getattr(args, "dtype", "fp32"), device)


def build_pipeline(command: Command, args: argparse.Namespace, source: str, device: str):
    """Model (its head checked once loaded: hub ids were not checked before), tokenizer and pipeline of `command`."""
    from transformers import AutoTokenizer, pipeline
    from transformers.pipelines import PIPELINE_REGISTRY

    import mluke_hf  # noqa: F401  (registers the entity pipelines)

    from .checkpoint_checks import HEADS, check_loaded_head

    model_class = PIPELINE_REGISTRY.supported_tasks[command.task]["pt"][0]
    model, loading = model_class.from_pretrained(source, output_loading_info=True, dtype=pipeline_dtype(args, device))
    check_loaded_head(args.model, model, loading.get("missing_keys", ()), HEADS[command.task])
    tokenizer = AutoTokenizer.from_pretrained(source)
    served = pipeline(command.task, model=model, tokenizer=tokenizer, device=device, batch_size=args.batch_size)
    if getattr(args, "prepack_weights", False):
        from .modeling_mluke import prepack_linear_weights

        # After the pipeline placed the model on its device: prepacked copies are CPU-only and tied to the weights.
        if not prepack_linear_weights(served.model):
            print("--prepack-weights: nothing to prepack on this device and dtype (oneDNN does not run these layers)",
                  file=sys.stderr)  # fmt: skip
    return served


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


# -- running -----------------------------------------------------------------------------------------------------------


def pipeline_input(record: dict, command: Command) -> dict:
    """The keys the pipeline reads (JSON lists become (start, end) tuples); the rest of the record is only copied."""
    values = {"text": record["text"]}
    for key in command.span_keys:
        if record.get(key) is not None:
            span = record[key]
            values[key] = tuple(span) if isinstance(span, list) else span
    return values


def run_batch(runner, batch: Sequence[tuple[int, dict]], command: Command, options: dict, name: str):
    """`(results, error)`: results of the records in order, up to the first record the pipeline refuses (then an
    InputError with its line, else None). Consecutive records with the same call options run together."""
    results: list = []
    start = 0
    while start < len(batch):
        group_options = record_call_options(batch[start][1], command, options)
        end = start + 1
        while end < len(batch) and record_call_options(batch[end][1], command, options) == group_options:
            end += 1
        group_results, error = run_group(runner, batch[start:end], command, group_options, name)
        results += group_results
        if error is not None:
            return results, error
        start = end
    return results, None


def record_call_options(record: dict, command: Command, options: dict) -> dict:
    """The command's options, with those a record sets for itself (fill-entity's `candidates`) in their place."""
    own = {key: record[key] for key in command.record_options if record.get(key) is not None}
    return {**options, **own} if own else options


def run_group(runner, group: Sequence[tuple[int, dict]], command: Command, options: dict, name: str):
    inputs = [pipeline_input(record, command) for _, record in group]
    try:
        return runner(inputs, **options), None
    except (ValueError, TypeError):
        pass
    # Find the record at fault; the ones before it still get their results.
    results = []
    for (line_number, _), single in zip(group, inputs):
        try:
            results.append(runner(single, **options))
        except (ValueError, TypeError) as record_error:
            return results, InputError(f"{name}:{line_number}: {record_error}")
    # Each record ran alone: the error came only from running them together, and the results do not need that.
    return results, None


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C while a group of lines is written, so that every line written is complete; raise it after."""
    try:
        previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    except ValueError:  # not the main thread: nothing to defer
        yield
        return
    caught: list[int] = []
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def run_pipeline_command(args: argparse.Namespace) -> int:
    command = COMMANDS[args.command]
    encoding = check_encoding(args.encoding)
    options = pipeline_options(args.command, args)
    input_format = resolve_input_format(args.input, command, args.format)
    input_name = "<stdin>" if args.input == "-" else args.input
    with open_input(args.input) as handle:
        runner = load_runner(command, args)
        try:
            runner._sanitize_parameters(**options)  # option errors now, before any input is read
        except (ValueError, TypeError) as error:
            raise CliError(str(error)) from None
        source = InputSource(
            LineReader(handle),
            input_name,
            command,
            input_format,
            encoding,
            args.errors,
            args.result_key,
            args.overwrite,
        )
        with open_output(args.output) as output, progress_bar(args, command) as progress:
            write = record_writer(output, args.result_key)
            for batch in source.batches(args.batch_size):
                results, error = run_batch(runner, batch, command, options, input_name)
                write(batch, results)
                progress.update(batch[len(results) - 1][0] - progress.n if results else 0)
                if error is not None:
                    raise error
    return EXIT_OK


def record_writer(output: TextIO, result_key: str) -> Callable[[Sequence[tuple[int, dict]], list], None]:
    def write(batch: Sequence[tuple[int, dict]], results: list) -> None:
        lines = "".join(
            json.dumps({**record, result_key: result}, ensure_ascii=False) + "\n"
            for (_, record), result in zip(batch, results)
        )
        with interrupts_deferred():
            output.write(lines)
            output.flush()

    return write


def progress_bar(args: argparse.Namespace, command: Command):
    """A bar on stderr for files of PROGRESS_MIN_RECORDS lines or more, and for stdin when stderr is a terminal."""
    from tqdm.auto import tqdm

    total = count_lines(args.input)
    shown = total >= PROGRESS_MIN_RECORDS if total is not None else sys.stderr.isatty()
    return tqdm(total=total, unit="line", desc=args.command, disable=args.no_progress or not shown, file=sys.stderr)


def run_demo(demo_args: list[str]) -> int:
    from . import demo

    demo.main(demo_args)
    return EXIT_OK


# -- entry point -------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mluke-hf`; returns the exit status (EXIT_* above)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "demo":
        # Everything after `demo` belongs to the demo's own parser (its --help included).
        args = argparse.Namespace(command="demo", debug=False, run=lambda _: run_demo(argv[1:]))
    else:
        args = build_parser().parse_args(argv)
    return run_with_error_path(args)


def run_with_error_path(args: argparse.Namespace) -> int:
    """`args.run(args)`, with every failure turned into its exit status and one line on stderr."""
    prog = f"mluke-hf {args.command}"
    try:
        return args.run(args)
    except (CliError, CheckpointError) as error:
        return report(args, f"{prog}: error: {error}", EXIT_USAGE)
    except BrokenPipeError:
        # The reader of stdout is gone (`| head -1`): stop quietly; what it read was whole lines.
        silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        return report(args, f"{prog}: interrupted; the lines written so far are complete", EXIT_INTERRUPTED)
    except OSError as error:
        # A file that cannot be read or written during the run (disk full, permissions).
        return report(args, f"{prog}: error: {one_line(error)}", EXIT_USAGE)
    except Exception as error:  # noqa: BLE001  (a bug, or torch failing: one line; the traceback with --debug)
        message = f"{prog}: internal error: {one_line(error)} (rerun with --debug for the traceback)"
        return report(args, message, EXIT_INTERNAL_ERROR)


def report(args: argparse.Namespace, message: str, status: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc()
    try:
        print(message, file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass
    return status


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())

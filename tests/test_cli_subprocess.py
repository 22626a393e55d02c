"""The real `mluke-hf` process: exit statuses, the shape of stderr, complete JSONL on stdout, streaming, signals.

Each process imports torch and transformers (seconds), so independent cases run a few processes at once and the
tests are marked slow. The command is `python -m mluke_hf.cli` with this interpreter (the `mluke-hf` console script
runs the same `main`).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_cli_checkpoint_checks import FOLDER_FAULTS

from mluke_hf.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "mluke_hf.cli"]
# Only a guard against a hung process; the machine may be loaded, so it is generous.
TIMEOUT = 600
PARALLEL = 3
# The faults of the issue report; test_cli_checkpoint_checks.py and test_cli.py run every fault in-process.
SUBPROCESS_FOLDER_FAULTS = (
    "invalid config.json",
    "wrong model_type",
    "truncated safetensors",
    "no sentencepiece",
    "garbage sentencepiece",
)
TEXTS = [
    "Barack Obama visited Tokyo.",
    "東京は日本の首都です。",
    "नई दिल्ली भारत की राजधानी है।",
    "Angela Merkel lebt in Berlin.",
]


def environment() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


# A shell's background job inherits SIGINT ignored, and Python then keeps it ignored; the signal tests need Ctrl-C to
# reach the command, so it starts through a launcher that restores SIGINT and execs the command.
WITH_SIGINT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
]


def run_cli(arguments, stdin: bytes = b"", cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *map(str, arguments)],
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        env=environment(),
        cwd=cwd,
        check=False,
    )


def run_all(cases: dict) -> dict[str, subprocess.CompletedProcess]:
    """`{name: (arguments, stdin bytes)}` run a few at a time; `{name: completed process}`."""
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = {name: pool.submit(run_cli, *case) for name, case in cases.items()}
        return {name: future.result() for name, future in futures.items()}


def jsonl_records(stdout: bytes) -> list[dict]:
    """Every line of stdout parsed; stdout must end with a complete line (or be empty)."""
    text = stdout.decode("utf-8")
    assert text == "" or text.endswith("\n"), f"stdout ends in a partial line: {text[-200:]!r}"
    return [json.loads(line) for line in text.splitlines()]


def assert_one_line_error(completed: subprocess.CompletedProcess, message: str, status: int = EXIT_USAGE) -> str:
    stderr = completed.stderr.decode("utf-8", "replace")
    assert completed.returncode == status, stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("mluke-hf "), stderr
    assert len([line for line in lines if line.startswith("mluke-hf ")]) == 1, stderr
    assert message in lines[-1], stderr
    return lines[-1]


class LineReaderThread:
    """Lines of a process's stdout, read in a thread, so a test can wait for one with a timeout."""

    def __init__(self, stream):
        self.lines: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout: float = TIMEOUT) -> bytes | None:
        return self.lines.get(timeout=timeout)

    def rest(self) -> bytes:
        self._thread.join(TIMEOUT)
        lines = []
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                lines.append(line)
        return b"".join(lines)


def start_cli(arguments) -> subprocess.Popen:
    return subprocess.Popen(
        [*WITH_SIGINT, *CLI, *map(str, arguments)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
    )


@pytest.fixture(scope="module")
def span_folder(pipeline_folder):
    return pipeline_folder("LukeForEntitySpanClassification")


@pytest.fixture(scope="module")
def texts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_input") / "many.txt"
    path.write_text("".join(f"{TEXTS[index % len(TEXTS)]}\n" for index in range(400)), encoding="utf-8")
    return path


def test_model_folder_faults_end_with_one_line_and_status_2(span_folder, pipeline_folder, tmp_path):
    cases, messages = {}, {}
    for index, fault in enumerate(SUBPROCESS_FOLDER_FAULTS):
        damage, message = FOLDER_FAULTS[fault]
        folder = shutil.copytree(span_folder, tmp_path / f"model-{index}")
        damage(folder)
        cases[fault] = (["ner", "--model", folder, "--no-progress"], TEXTS[0].encode())
        messages[fault] = message
    missing = tmp_path / "no-such-model"
    cases["missing folder"] = (["ner", "--model", missing], b"")
    messages["missing folder"] = f"{missing}: no such folder"
    cases["masked LM for ner"] = (["ner", "--model", pipeline_folder("LukeForMaskedLM")], b"")
    messages["masked LM for ner"] = "is a LukeForMaskedLM; this command needs an entity span classification head"
    for fault, completed in run_all(cases).items():
        line = assert_one_line_error(completed, messages[fault])
        assert line.startswith("mluke-hf ner: error: "), (fault, line)
        assert completed.stdout == b"", fault


def test_input_and_option_faults_keep_the_lines_before_them(span_folder, tmp_path):
    bad_utf8 = tmp_path / "bad.txt"
    bad_utf8.write_bytes(TEXTS[1].encode() + b"\n" + b"caf\xe9 au lait\n" + TEXTS[0].encode() + b"\n")
    clash = tmp_path / "clash.jsonl"
    clash.write_text(
        json.dumps({"id": 1, "text": TEXTS[2]}, ensure_ascii=False) + "\n" + json.dumps({"text": "x", "entities": []})
    )
    broken = tmp_path / "broken.jsonl"
    broken.write_text(f'{{"text": "{TEXTS[0]}"}}\n{{"text": "{TEXTS[3]}"}}\n{{"text": \n', encoding="utf-8")
    device = "cuda:99" if _cuda_available() else "cuda"
    model = ["--model", span_folder, "--no-progress"]
    cases = {
        "non-UTF-8 file": (["ner", *model, "--input", bad_utf8], b""),
        "binary stdin": (["ner", *model], b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8\n"),
        "result key in input": (["ner", *model, "--input", clash], b""),
        "broken JSON": (["ner", *model, "--input", broken], b""),
        "device": (["ner", *model, "--device", device], TEXTS[0].encode()),
        "missing input": (["ner", *model, "--input", tmp_path / "nope.txt"], b""),
        "bad option": (["ner", *model, "--max-entity-length", "0"], b""),
        "demo epochs": (["demo", "--epochs", "-1"], b""),
    }
    results = run_all(cases)

    completed = results["non-UTF-8 file"]
    assert_one_line_error(completed, f"{bad_utf8}:2: not valid utf-8 (byte 0xe9")
    assert [record["text"] for record in jsonl_records(completed.stdout)] == [TEXTS[1]]
    assert_one_line_error(results["binary stdin"], "<stdin>:1: not valid utf-8 (byte 0x89")
    completed = results["result key in input"]
    assert_one_line_error(completed, f"{clash}:2: the record already has a 'entities' key")
    assert "--overwrite" in completed.stderr.decode()
    assert [record["id"] for record in jsonl_records(completed.stdout)] == [1]
    completed = results["broken JSON"]
    assert_one_line_error(completed, f"{broken}:3: not valid JSON")
    assert [record["text"] for record in jsonl_records(completed.stdout)] == [TEXTS[0], TEXTS[3]]
    assert_one_line_error(results["device"], f"--device {device}: ")
    assert_one_line_error(results["missing input"], "nope.txt: No such file")
    assert_one_line_error(results["bad option"], "--max-entity-length: must be at least 1, got 0")
    demo = results["demo epochs"]
    assert demo.returncode == EXIT_USAGE and b"Traceback" not in demo.stderr
    assert b"--epochs: must be a positive number, got -1" in demo.stderr


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def test_successes_through_the_command(span_folder, pipeline_folder, tmp_path):
    entities = ({"en": "Washington, D.C.", "ja": "ワシントンD.C."}, {"en": "Tokyo", "ja": "東京"}, "Paris, Texas")
    fill_folder = pipeline_folder("LukeForMaskedLM", entities=entities)
    names = tmp_path / "names.txt"
    names.write_text("Paris, Texas\nja:ワシントンD.C.\n", encoding="utf-8")
    clash = tmp_path / "clash.jsonl"
    clash.write_text(json.dumps({"text": TEXTS[0], "entities": ["mine"]}) + "\n")
    cloze = b"The capital of the United States is <mask>.\n"
    cases = {
        "candidate with a comma": (
            ["fill-entity", "--model", fill_folder, "--language", "en", "--candidate", "Washington, D.C."]
            + ["--candidate", "Tokyo"],
            cloze,
        ),
        "candidates file": (["fill-entity", "--model", fill_folder, "--candidates-file", names], cloze),
        "overwrite": (["ner", "--model", span_folder, "--input", clash, "--overwrite"], b""),
        "result key": (["ner", "--model", span_folder, "--input", clash, "--result-key", "found"], b""),
        "latin-1": (["ner", "--model", span_folder, "--encoding", "latin-1"], "Café Müller\n".encode("latin-1")),
        "replace": (["ner", "--model", span_folder, "--errors", "replace"], b"caf\xe9\n"),
    }
    results = run_all(cases)
    for name, completed in results.items():
        assert completed.returncode == EXIT_OK, (name, completed.stderr.decode())
        assert b"Traceback" not in completed.stderr
    (record,) = jsonl_records(results["candidate with a comma"].stdout)
    assert {prediction["entity"] for prediction in record["predictions"]} == {"en:Washington, D.C.", "en:Tokyo"}
    (record,) = jsonl_records(results["candidates file"].stdout)
    assert {prediction["entity"] for prediction in record["predictions"]} == {"Paris, Texas", "ja:ワシントンD.C."}
    (record,) = jsonl_records(results["overwrite"].stdout)
    assert record["entities"] != ["mine"] and all("entity_group" in entity for entity in record["entities"])
    (record,) = jsonl_records(results["result key"].stdout)
    assert record["entities"] == ["mine"] and all("entity_group" in entity for entity in record["found"])
    assert jsonl_records(results["latin-1"].stdout)[0]["text"] == "Café Müller"
    assert jsonl_records(results["replace"].stdout)[0]["text"] == "caf\ufffd"


def test_the_first_result_comes_while_stdin_stays_open(span_folder):
    process = start_cli(["ner", "--model", span_folder, "--no-progress"])
    reader = LineReaderThread(process.stdout)
    try:
        process.stdin.write((TEXTS[1] + "\n").encode())
        process.stdin.flush()
        first = reader.next()
        assert first is not None, process.stderr.read().decode()
        assert json.loads(first)["text"] == TEXTS[1]
        assert process.poll() is None  # still running, waiting for more input
        process.stdin.write((TEXTS[2] + "\n").encode())
        process.stdin.flush()
        assert json.loads(reader.next())["text"] == TEXTS[2]
        process.stdin.close()
        assert process.wait(TIMEOUT) == EXIT_OK
        assert reader.rest() == b""
    finally:
        process.kill()


def test_a_closed_pipe_ends_quietly_with_status_0(span_folder, texts_file, tmp_path):
    errors = tmp_path / "stderr.txt"
    command = " ".join(
        f"'{part}'" for part in [*CLI, "ner", "--model", span_folder, "--input", texts_file, "--batch-size", "1",
                                 "--no-progress"]
    )  # fmt: skip
    completed = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} 2> '{errors}' | head -1"],
        capture_output=True,
        timeout=TIMEOUT,
        env=environment(),
        check=False,
    )
    assert completed.returncode == EXIT_OK, errors.read_text()
    assert len(jsonl_records(completed.stdout)) == 1
    assert errors.read_text() == ""


def test_ctrl_c_while_waiting_for_input_is_status_130_and_one_line(span_folder):
    process = start_cli(["ner", "--model", span_folder, "--no-progress"])
    reader = LineReaderThread(process.stdout)
    try:
        process.stdin.write((TEXTS[0] + "\n").encode())
        process.stdin.flush()
        assert reader.next() is not None, process.stderr.read().decode()
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == EXIT_INTERRUPTED
        stderr = process.stderr.read().decode()
        assert stderr.strip().splitlines() == ["mluke-hf ner: interrupted; the lines written so far are complete"]
        assert jsonl_records(reader.rest()) == []
    finally:
        process.kill()


def test_ctrl_c_in_the_middle_of_a_run_leaves_only_complete_lines(span_folder, texts_file):
    process = start_cli(["ner", "--model", span_folder, "--input", texts_file, "--batch-size", "1", "--no-progress"])
    reader = LineReaderThread(process.stdout)
    try:
        first_lines = [reader.next() for _ in range(3)]
        assert all(first_lines), process.stderr.read().decode()
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == EXIT_INTERRUPTED
        stderr = process.stderr.read().decode()
        assert "Traceback" not in stderr and stderr.strip().endswith(
            "interrupted; the lines written so far are complete"
        )
        records = jsonl_records(b"".join(first_lines) + reader.rest())
        assert 3 <= len(records) < 400
        assert [record["text"] for record in records] == [TEXTS[index % len(TEXTS)] for index in range(len(records))]
    finally:
        process.kill()

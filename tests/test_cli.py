"""The `mluke-hf` command through `main([...])` on tiny folders: each subcommand, formats, streams, errors.

The real process (exit statuses, signals, streaming through pipes) is tested in test_cli_subprocess.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import types

import pytest
from test_cli_checkpoint_checks import FOLDER_FAULTS
from transformers import pipeline

from mluke_hf import cli

from fixtures_pipelines import PIPELINE_ENTITIES

TEXT = "Barack Obama visited Tokyo and Paris."
OBAMA, TOKYO = [0, 12], [21, 26]


@pytest.fixture(scope="module")
def span_folder(pipeline_folder):
    return pipeline_folder("LukeForEntitySpanClassification")


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_ner_reads_text_lines_and_writes_what_the_pipeline_gives(span_folder, tmp_path):
    texts = [TEXT, "Angela Merkel lebt in Berlin.", "東京は日本の首都です。"]
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(texts[:2]) + "\n\n" + texts[2] + "\n", encoding="utf-8")  # a blank line is skipped
    target = tmp_path / "out.jsonl"
    assert cli.main(["ner", "--model", str(span_folder), "--input", str(source), "--output", str(target)]) == 0
    records = read_jsonl(target)
    ner = pipeline("entity-span-classification", model=str(span_folder))
    assert [record["text"] for record in records] == texts
    for record in records:
        expected = ner(record["text"])
        assert [(e["start"], e["end"], e["entity_group"]) for e in record["entities"]] == [
            (e["start"], e["end"], e["entity_group"]) for e in expected
        ]
        assert [e["score"] for e in record["entities"]] == pytest.approx([e["score"] for e in expected], abs=1e-5)


def test_ner_jsonl_keeps_extra_keys_and_options_reach_the_pipeline(span_folder, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": 7, "text": TEXT}])
    target = tmp_path / "out.jsonl"
    arguments = ["ner", "--model", str(span_folder), "--input", str(source), "--output", str(target)]
    assert cli.main([*arguments, "--max-mention-length", "1", "--batch-size", "3"]) == 0
    (record,) = read_jsonl(target)
    assert record["id"] == 7 and record["text"] == TEXT
    assert record["entities"] and all(" " not in entity["word"] for entity in record["entities"])  # one-word spans


def test_ner_streams_stdin_to_stdout(span_folder, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEXT + "\n"))
    assert cli.main(["ner", "--model", str(span_folder)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["text"] == TEXT


def test_console_script_stdout_is_only_jsonl(span_folder):
    # A fresh interpreter: transformers prints docstring warnings to stdout the first time it imports its LUKE module.
    completed = subprocess.run(
        [sys.executable, "-m", "mluke_hf.cli", "ner", "--model", str(span_folder)],
        input=TEXT + "\nParis\n",
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    assert [json.loads(line)["text"] for line in completed.stdout.splitlines()] == [TEXT, "Paris"]


def test_classify_entities_and_relations(pipeline_folder, tmp_path):
    typing = pipeline_folder("LukeForEntityClassification", id2label={0: "person", 1: "location"})
    relation = pipeline_folder("LukeForEntityPairClassification", id2label={0: "none", 1: "visited"})
    source = write_jsonl(tmp_path / "spans.jsonl", [{"text": TEXT, "span": TOKYO}, {"text": TEXT, "span": OBAMA}])
    target = tmp_path / "labels.jsonl"
    assert (
        cli.main(
            [
                "classify-entities",
                "--model",
                str(typing),
                "--input",
                str(source),
                "--output",
                str(target),
                "--top-k",
                "1",
            ]
        )
        == 0
    )
    clf = pipeline("entity-classification", model=str(typing))
    for record in read_jsonl(target):
        expected = clf(record["text"], span=tuple(record["span"]), top_k=1)
        assert [label["label"] for label in record["labels"]] == [label["label"] for label in expected]
        assert record["labels"][0]["score"] == pytest.approx(expected[0]["score"], abs=1e-5)

    source = write_jsonl(tmp_path / "pairs.jsonl", [{"text": TEXT, "head": OBAMA, "tail": TOKYO}])
    target = tmp_path / "relations.jsonl"
    assert (
        cli.main(["classify-relations", "--model", str(relation), "--input", str(source), "--output", str(target)])
        == 0
    )
    (record,) = read_jsonl(target)
    expected = pipeline("entity-pair-classification", model=str(relation))(TEXT, head=tuple(OBAMA), tail=tuple(TOKYO))
    assert {label["label"]: label["score"] for label in record["labels"]} == pytest.approx(
        {label["label"]: label["score"] for label in expected}, abs=1e-5
    )


def test_fill_entity_with_candidates_and_language(pipeline_folder, tmp_path):
    folder = pipeline_folder("LukeForMaskedLM", entities=PIPELINE_ENTITIES)
    source = tmp_path / "cloze.txt"
    source.write_text("Tokyo is the capital of <mask>.\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    arguments = ["fill-entity", "--model", str(folder), "--input", str(source), "--output", str(target)]
    assert cli.main([*arguments, "--candidates", "Japan, Germany", "--language", "en"]) == 0
    (record,) = read_jsonl(target)
    fill = pipeline("entity-fill-mask", model=str(folder))
    expected = fill(record["text"], candidates=["Japan", "Germany"], language="en")
    assert [p["entity"] for p in record["predictions"]] == [p["entity"] for p in expected]
    assert {p["entity"] for p in expected} == {"en:Japan", "en:Germany"}
    assert cli.main([*arguments, "--top-k", "2"]) == 0
    assert len(read_jsonl(target)[0]["predictions"]) == 2


def test_long_inputs_show_a_progress_bar(span_folder, tmp_path, capsys):
    source = tmp_path / "many.txt"
    source.write_text("Paris\n" * cli.PROGRESS_MIN_RECORDS, encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert cli.main(["ner", "--model", str(span_folder), "--input", str(source), "--output", str(target)]) == 0
    assert f"{cli.PROGRESS_MIN_RECORDS}/{cli.PROGRESS_MIN_RECORDS}" in capsys.readouterr().err
    assert len(read_jsonl(target)) == cli.PROGRESS_MIN_RECORDS
    assert (
        cli.main(
            ["ner", "--model", str(span_folder), "--input", str(source), "--output", str(target), "--no-progress"]
        )
        == 0
    )
    assert f"{cli.PROGRESS_MIN_RECORDS}/{cli.PROGRESS_MIN_RECORDS}" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"text": "Paris", "span": [0, 5]}', "{not json"], r"in\.jsonl:2: not valid JSON"),
        (['{"span": [0, 5]}'], r"in\.jsonl:1: expected a JSON object with a 'text' key"),
        (['{"text": "Paris", "span": [0, 5]}', '{"text": "Paris", "span": [0, 50]}'], r"in\.jsonl:2: span=.*outside"),
        (['{"text": "Paris"}'], r"in\.jsonl:1: span is required"),
    ],
)
def test_bad_records_are_reported_with_their_line(pipeline_folder, tmp_path, capsys, lines, message):
    folder = pipeline_folder("LukeForEntityClassification", id2label={0: "person", 1: "location"})
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = cli.main(
        ["classify-entities", "--model", str(folder), "--input", str(source), "--output", str(tmp_path / "out.jsonl")]
    )
    assert status == 2
    assert re.search(message, capsys.readouterr().err)


def test_missing_files_and_bad_options_are_clear_errors(span_folder, tmp_path, capsys):
    assert cli.main(["ner", "--model", str(span_folder), "--input", str(tmp_path / "nope.txt")]) == 2
    assert "nope.txt" in capsys.readouterr().err
    source = tmp_path / "in.txt"
    source.write_text(TEXT + "\n")
    with pytest.raises(SystemExit) as exit_info:  # argparse, with one line on stderr
        cli.main(["ner", "--model", str(span_folder), "--input", str(source), "--batch-size", "0"])
    assert exit_info.value.code == cli.EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        "mluke-hf ner: error: argument --batch-size: must be at least 1, got 0 (see mluke-hf ner --help)"
    ]
    assert cli.main(["ner", "--model", str(tmp_path / "no-model"), "--input", str(source)]) == 2
    assert "no-model" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: classify-entities reads JSONL only
        cli.main(["classify-entities", "--model", str(span_folder), "--format", "text"])


def test_demo_passes_its_arguments_to_the_demo_module(monkeypatch):
    received = []
    fake = types.ModuleType("mluke_hf.demo")
    fake.main = lambda argv: received.append(argv) or {"f1": 1.0}
    monkeypatch.setitem(sys.modules, "mluke_hf.demo", fake)
    monkeypatch.setattr("mluke_hf.demo", fake, raising=False)
    assert cli.main(["demo", "--epochs", "1", "--output-dir", "x"]) == 0
    assert received == [["--epochs", "1", "--output-dir", "x"]]


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    for name in (*cli.COMMANDS, "demo"):
        assert name in help_text


@pytest.mark.parametrize("fault", sorted(FOLDER_FAULTS))
def test_every_model_folder_fault_is_status_2_before_loading(span_folder, tmp_path, capsys, fault):
    damage, message = FOLDER_FAULTS[fault]
    folder = shutil.copytree(span_folder, tmp_path / "model")
    damage(folder)
    (tmp_path / "in.txt").write_text(TEXT + "\n")
    assert cli.main(["ner", "--model", str(folder), "--input", str(tmp_path / "in.txt")]) == cli.EXIT_USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("mluke-hf ner: error: ") and message in line


@pytest.mark.parametrize(
    "model, message",
    [("./no-such-model", "./no-such-model: no such folder"), ("someone/not-downloaded", "not in the hub cache")],
)
def test_missing_folders_are_not_sent_to_the_hub(tmp_path, capsys, monkeypatch, model, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "in.txt").write_text(TEXT + "\n")
    assert cli.main(["ner", "--model", model, "--input", "in.txt"]) == cli.EXIT_USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert message in line


def test_a_head_that_does_not_fit_the_command_is_refused(pipeline_folder, tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text(json.dumps({"text": TEXT, "span": OBAMA}) + "\n")
    folder = pipeline_folder("LukeForEntitySpanClassification")
    assert cli.main(["classify-entities", "--model", str(folder), "--input", str(tmp_path / "in.jsonl")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "is a LukeForEntitySpanClassification; this command needs an entity classification head" in line


def test_unexpected_failures_are_status_1_with_a_traceback_only_under_debug(span_folder, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke\nsecond line")

    monkeypatch.setattr(cli, "load_runner", broken)
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEXT + "\n"))
    assert cli.main(["ner", "--model", str(span_folder)]) == cli.EXIT_INTERNAL_ERROR
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        line
        == "mluke-hf ner: internal error: RuntimeError: something inside broke (rerun with --debug for the traceback)"
    )
    assert cli.main(["ner", "--model", str(span_folder), "--debug"]) == cli.EXIT_INTERNAL_ERROR
    assert "Traceback" in capsys.readouterr().err
    assert cli.main(["--debug", "ner", "--model", str(span_folder)]) == cli.EXIT_INTERNAL_ERROR
    assert "Traceback" in capsys.readouterr().err


def test_input_is_read_in_groups_that_end_when_the_pipe_pauses():
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb", buffering=0) as handle, os.fdopen(write_end, "wb", buffering=0) as writer:
        source = cli.InputSource(
            cli.LineReader(handle), "<pipe>", cli.COMMANDS["ner"], "text", "utf-8", "strict", "entities", False
        )
        batches = source.batches(3)
        writer.write("東京\nनई दिल्ली\n".encode())
        assert next(batches) == [(1, {"text": "東京"}), (2, {"text": "नई दिल्ली"})]  # no wait for a third line
        writer.write(b"a\n\nb\nc\nd\n")
        assert next(batches) == [(3, {"text": "a"}), (5, {"text": "b"}), (6, {"text": "c"})]  # at most 3
        writer.write(b"\xff\n")
        writer.close()
        assert next(batches) == [(7, {"text": "d"})]  # the line before the fault first
        with pytest.raises(cli.InputError, match="<pipe>:8: not valid utf-8"):
            next(batches)


class _Interrupted(Exception):
    pass


def _raise_interrupted(number, frame):
    raise _Interrupted


def test_ctrl_c_reaches_a_reader_waiting_for_input_when_another_thread_takes_the_signal():
    """The kernel hands a process's SIGINT to any of its threads (torch's workers too). Delivered to another thread,
    it must still end the main thread's wait for input (a blocking read() would sleep until input came)."""
    read_end, write_end = os.pipe()
    previous = signal.signal(signal.SIGINT, _raise_interrupted)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, args=(30,))
    worker.start()

    def interrupt_then_unblock():
        time.sleep(0.3)
        signal.pthread_kill(worker.ident, signal.SIGINT)  # to the worker thread, not the reading one
        # Without the fix the reader would stay blocked: a line after 10 s lets the test end (and fail) instead.
        if not stop.wait(10):
            os.write(write_end, b"too late\n")

    sender = threading.Thread(target=interrupt_then_unblock)
    try:
        with os.fdopen(read_end, "rb", buffering=0) as handle:
            sender.start()
            started = time.monotonic()
            with pytest.raises(_Interrupted):
                cli.LineReader(handle).next_line()
            assert time.monotonic() - started < 5
    finally:
        stop.set()
        signal.signal(signal.SIGINT, previous)
        sender.join()
        worker.join()
        os.close(write_end)


def test_encoding_options_are_checked(span_folder, tmp_path, capsys):
    (tmp_path / "in.txt").write_text(TEXT + "\n")
    arguments = ["ner", "--model", str(span_folder), "--input", str(tmp_path / "in.txt")]
    assert cli.main([*arguments, "--encoding", "no-such-codec"]) == cli.EXIT_USAGE
    assert "--encoding 'no-such-codec' is not an encoding" in capsys.readouterr().err
    assert cli.main([*arguments, "--encoding", "utf-16"]) == cli.EXIT_USAGE
    assert "only ASCII-compatible encodings" in capsys.readouterr().err


def test_candidate_options_combine(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("Paris, Texas\n\nワシントンD.C.\n", encoding="utf-8")
    args = cli.build_parser().parse_args(
        ["fill-entity", "--model", "m", "--candidates", "Japan, Germany", "--candidate", "Washington, D.C.",
         "--candidates-file", str(names)]
    )  # fmt: skip
    assert cli.candidate_names(args) == ["Japan", "Germany", "Washington, D.C.", "Paris, Texas", "ワシントンD.C."]
    args = cli.build_parser().parse_args(["fill-entity", "--model", "m", "--candidates-file", str(tmp_path / "x")])
    with pytest.raises(cli.CliError, match="--candidates-file .*x: No such file"):
        cli.candidate_names(args)


def test_files_found_damaged_only_while_loading_are_one_line_too(span_folder, tmp_path, capsys):
    folder = shutil.copytree(span_folder, tmp_path / "model")
    vocab = folder / "entity_vocab.json"
    vocab.write_text(vocab.read_text()[:-5], encoding="utf-8")  # truncated JSON: not parsed before loading
    (tmp_path / "in.txt").write_text("東京\n", encoding="utf-8")
    assert cli.main(["ner", "--model", str(folder), "--input", str(tmp_path / "in.txt")]) == cli.EXIT_USAGE
    line = capsys.readouterr().err.splitlines()[-1]
    assert line.startswith(f"mluke-hf ner: error: {folder}: cannot load the model: ")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_as_input_is_read_once(span_folder, tmp_path):
    fifo = tmp_path / "texts.fifo"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w", encoding="utf-8") as writer:
            writer.write("Paris\n東京は日本の首都です。\n")

    feeder = threading.Thread(target=feed)
    feeder.start()
    target = tmp_path / "out.jsonl"
    assert cli.main(["ner", "--model", str(span_folder), "--input", str(fifo), "--output", str(target)]) == 0
    feeder.join(60)
    assert [record["text"] for record in read_jsonl(target)] == ["Paris", "東京は日本の首都です。"]


def test_fill_entity_records_may_carry_their_own_candidates(pipeline_folder, tmp_path, capsys):
    folder = pipeline_folder("LukeForMaskedLM", entities=PIPELINE_ENTITIES)
    cloze = "Tokyo is the capital of <mask>."
    records = [
        {"text": cloze, "candidates": ["Japan", "Germany"]},
        {"text": cloze, "candidates": ["Japan", "Germany"]},
        {"text": "<mask>は日本の首都です。", "candidates": ["Tokyo"]},
        {"text": cloze},
    ]
    source = write_jsonl(tmp_path / "cloze.jsonl", records)
    target = tmp_path / "out.jsonl"
    arguments = ["fill-entity", "--model", str(folder), "--input", str(source), "--output", str(target)]
    assert cli.main([*arguments, "--language", "en", "--top-k", "3"]) == 0
    found = [{prediction["entity"] for prediction in record["predictions"]} for record in read_jsonl(target)]
    assert found[:3] == [{"en:Japan", "en:Germany"}, {"en:Japan", "en:Germany"}, {"en:Tokyo"}]
    assert len(found[3]) == 3  # the command's own options: no candidates, top 3 of every entity named in English
    write_jsonl(source, [*records[:1], {"text": cloze, "candidates": "Japan, Germany"}])
    assert cli.main([*arguments, "--language", "en"]) == cli.EXIT_USAGE
    assert "cloze.jsonl:2: 'candidates' must be a non-empty list of names" in capsys.readouterr().err
    assert len(read_jsonl(target)) == 1  # the line before the fault

"""The demo's NER model on ONNX Runtime: `mluke-hf ner --model EXPORTED` finds the PyTorch folder's entities on every
held-out sentence, and the int8 graph keeps the held-out entity F1 within 0.02.

The demo is trained once for this module (one epoch: enough for a model that finds most entities; slow)."""

from __future__ import annotations

import json

import pytest

from mluke_hf import cli, demo

DEMO_EPOCHS = "1"
F1_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """The trained demo folder, its fp32 and int8 exports, and `mluke-hf ner` output of each on the held-out set."""
    root = tmp_path_factory.mktemp("onnx_demo")
    folder = root / "demo"
    demo.main(["--output-dir", str(folder), "--epochs", DEMO_EPOCHS, "--examples-per-language", "0"])
    records = [json.loads(line) for line in demo.demo_data_path("heldout.jsonl").read_text("utf-8").splitlines()]
    texts = root / "heldout.txt"
    texts.write_text("".join(record["text"] + "\n" for record in records), encoding="utf-8")
    folders = {"torch": folder, "fp32": root / "fp32", "int8": root / "int8"}
    assert cli.main(["export", "onnx", "--model", str(folder), "--output", str(folders["fp32"])]) == 0
    assert (
        cli.main(["export", "onnx", "--model", str(folder), "--output", str(folders["int8"]), "--quantize", "int8"])
        == 0
    )
    outputs = {}
    for name, model in folders.items():
        target = root / f"{name}.jsonl"
        arguments = ["ner", "--model", str(model), "--input", str(texts), "--output", str(target), "--no-progress"]
        assert cli.main(arguments + ["--max-mention-length", "4", "--max-entity-length", "64"]) == 0
        outputs[name] = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    return records, outputs


def entity_keys(entities: list[dict]) -> set[tuple]:
    return {(entity["start"], entity["end"], entity["entity_group"]) for entity in entities}


def entity_f1(records: list[dict], outputs: list[dict]) -> float:
    gold_count = predicted_count = correct = 0
    for record, output in zip(records, outputs, strict=True):
        assert output["text"] == record["text"]
        gold = {(entity["start"], entity["end"], entity["label"]) for entity in record["entities"]}
        predicted = entity_keys(output["entities"])
        gold_count, predicted_count, correct = (
            gold_count + len(gold),
            predicted_count + len(predicted),
            correct + len(gold & predicted),
        )
    precision, recall = correct / max(1, predicted_count), correct / max(1, gold_count)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@pytest.mark.slow
def test_ner_on_the_exported_folder_finds_the_pytorch_entities(demo_runs):
    records, outputs = demo_runs
    assert len(outputs["fp32"]) == len(outputs["torch"]) == len(records) >= 100
    assert {record["language"] for record in records} == set(demo.LANGUAGES)
    for torch_output, ort_output in zip(outputs["torch"], outputs["fp32"], strict=True):
        assert entity_keys(ort_output["entities"]) == entity_keys(torch_output["entities"]), torch_output["text"]
        for ours, theirs in zip(ort_output["entities"], torch_output["entities"]):
            assert ours["score"] == pytest.approx(theirs["score"], abs=1e-4)
    # The model is trained: it finds entities, so equal outputs are not two empty lists.
    assert entity_f1(records, outputs["torch"]) > 0.3


@pytest.mark.slow
def test_int8_keeps_the_demo_f1(demo_runs):
    records, outputs = demo_runs
    torch_f1, int8_f1 = entity_f1(records, outputs["torch"]), entity_f1(records, outputs["int8"])
    assert torch_f1 > 0.3
    assert abs(int8_f1 - torch_f1) <= F1_TOLERANCE, (torch_f1, int8_f1)

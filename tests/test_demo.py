"""The demo, shortened (a quarter epoch): it trains, reports held-out F1 per language, saves, reloads through the
pipeline, whose F1 on the held-out raw texts equals the training run's, prints entities per language, and says
plainly that it demonstrates the machinery."""

from __future__ import annotations

import json

import pytest

from mluke_hf import demo


def test_demo_arguments_and_data():
    args = demo.parse_args([])
    assert (str(args.output_dir), args.seed, args.epochs) == ("mluke-demo", 0, demo.DEFAULT_EPOCHS)
    args = demo.parse_args(["--output-dir", "x", "--seed", "3", "--epochs", "2"])
    assert (str(args.output_dir), args.seed, args.epochs) == ("x", 3, 2.0)
    for split in ("train.jsonl", "heldout.jsonl"):
        records = [json.loads(line) for line in demo.demo_data_path(split).read_text("utf-8").splitlines()]
        assert {record["language"] for record in records} == set(demo.LANGUAGES)
    assert {"ja", "zh", "th", "hi", "ar", "ko"} <= set(demo.LANGUAGES)

    def texts(split):
        return [json.loads(line)["text"] for line in demo.demo_data_path(split).read_text("utf-8").splitlines()]

    assert not set(texts("train.jsonl")) & set(texts("heldout.jsonl"))


@pytest.mark.slow
def test_shortened_demo_runs_end_to_end(tmp_path, capsys):
    from transformers import AutoConfig

    output_dir = tmp_path / "demo"
    result = demo.main(["--output-dir", str(output_dir), "--epochs", "0.25", "--examples-per-language", "1"])
    printed = capsys.readouterr().out
    assert "demonstrates the machinery" in printed.replace("\n", " ") or "shows the machinery" in printed
    assert "--model" in printed and "held-out entity F1" in printed
    assert 0.0 <= result["f1"] <= 1.0 and f"{result['f1']:.3f}" in printed
    # One decoder on the same candidates: the pipeline on raw held-out text scores what compute_metrics reported.
    assert result["pipeline_f1"] == result["f1"]
    assert result["pipeline_f1_per_language"] == result["f1_per_language"]
    assert set(result["f1_per_language"]) == set(demo.LANGUAGES)
    for language, f1 in result["f1_per_language"].items():
        assert f"     {language:8}  {f1:12.3f}  {f1:8.3f}" in printed
    # Saved as a plugin checkpoint, reloaded through pipeline("entity-span-classification").
    config = AutoConfig.from_pretrained(output_dir)
    assert config.model_type == "mluke" and config.id2label[0] == "O"
    assert [item["language"] for item in result["shown"]] == list(demo.LANGUAGES)
    for item in result["shown"]:
        assert f"[{item['language']}] {item['text']}" in printed
        for entity in item["entities"]:
            assert {"entity_group", "score", "word", "start", "end"} <= set(entity)
            assert item["text"][entity["start"] : entity["end"]] == entity["word"]

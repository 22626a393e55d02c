"""The Trainer examples end to end on tiny data: loss goes down, metrics are computed, the saved checkpoint reloads
with the same predictions; --gradient_checkpointing and --bf16 runs."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoTokenizer, EvalPrediction

from mluke_hf import (
    AutoModelForEntityClassification,
    AutoModelForEntityPairClassification,
    AutoModelForEntitySpanClassification,
)
from mluke_hf.tasks.ner import read_ner_file
from mluke_hf.tasks.training import (
    RESULTS_FILE,
    decode_ner_predictions,
    entity_typing_features,
    ner_features,
    read_entity_typing_file,
    read_relation_file,
    relation_features,
)

from fixtures_training import logits_of

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
FAST = ["--use_cpu", "--learning_rate", "1e-3", "--num_train_epochs", "5", "--logging_steps", "5", "--seed", "0"]


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_common_results(results: dict, output_dir: Path, task: str) -> None:
    assert results["task"] == task
    assert json.loads((output_dir / RESULTS_FILE).read_text()) == pytest.approx(results)
    assert results["world_size"] == 1
    assert math.isfinite(results["train_loss"])
    # Learning happened: the held-out loss dropped.
    assert results["eval_loss"] < results["eval_loss_before"]
    for name in ("precision", "recall", "f1"):
        assert 0.0 <= results[name] <= 1.0


@pytest.mark.slow
def test_ner_example_trains_scores_and_reloads(pretrained_checkpoint, ner_files, tmp_path):
    train_file, dev_file = ner_files
    output_dir = tmp_path / "ner"
    argv = ["--model", str(pretrained_checkpoint), "--train_file", str(train_file), "--validation_file",
            str(dev_file), "--output_dir", str(output_dir), "--max_mention_length", "4", *FAST]  # fmt: skip
    results = load_example("train_ner").main(argv)
    check_common_results(results, output_dir, "ner")
    assert {"f1_PER", "f1_LOC", "f1_ORG"} <= set(results)
    assert results["train_examples"] == 20 and results["eval_examples"] == 10

    model = AutoModelForEntitySpanClassification.from_pretrained(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(output_dir)
    assert model.config.id2label == {0: "O", 1: "LOC", 2: "ORG", 3: "PER"}
    # The reloaded checkpoint predicts what was scored: decoding its logits gives the reported F1.
    examples = read_ner_file(dev_file)
    features = ner_features(tokenizer, examples, model.config.label2id, max_mention_length=4)
    predicted = decode_ner_predictions(logits_of(model, features.dataset, tokenizer), features, len(examples),
                                       model.config.id2label)  # fmt: skip
    from mluke_hf.tasks.ner import entity_scores

    assert entity_scores([example.entities for example in examples], predicted)["f1"] == pytest.approx(results["f1"])


@pytest.mark.slow
def test_ner_example_on_raw_text_in_every_script_matches_the_pipeline(pretrained_checkpoint, tmp_path):
    from transformers import pipeline

    from mluke_hf.tasks.ner import entity_scores

    from fixtures_training import demo_records, write_jsonl

    languages = ("en", "de", "ja", "zh", "th", "hi", "ar", "ko")
    train_file = write_jsonl(tmp_path / "train.jsonl", demo_records("train", 3, languages))
    dev_file = write_jsonl(tmp_path / "dev.jsonl", demo_records("heldout", 2, languages))
    output_dir = tmp_path / "ner"
    argv = ["--model", str(pretrained_checkpoint), "--train_file", str(train_file), "--validation_file",
            str(dev_file), "--output_dir", str(output_dir), "--max_mention_length", "6", *FAST]  # fmt: skip
    results = load_example("train_ner").main(argv)
    check_common_results(results, output_dir, "ner")
    assert results["train_examples"] == 3 * len(languages) and results["eval_examples"] == 2 * len(languages)
    # The reloaded pipeline, on the raw dev texts with the training run's settings, scores the reported F1.
    ner = pipeline("entity-span-classification", model=str(output_dir))
    examples = read_ner_file(dev_file)
    found = ner([example.text for example in examples], max_mention_length=6, max_entity_length=32)
    predicted = [[(entity["start"], entity["end"], entity["entity_group"]) for entity in result] for result in found]
    assert entity_scores([example.entities for example in examples], predicted)["f1"] == pytest.approx(results["f1"])


@pytest.mark.slow
def test_ner_with_gradient_checkpointing(pretrained_checkpoint, ner_files, tmp_path):
    from mluke_hf.tasks.training import load_model_and_tokenizer, run_ner

    train_file, dev_file = ner_files
    model, tokenizer = load_model_and_tokenizer(
        pretrained_checkpoint, AutoModelForEntitySpanClassification, ["O", "LOC", "ORG", "PER"]
    )
    args = load_example("train_ner").parse_args(
        ["--model", str(pretrained_checkpoint), "--train_file", str(train_file), "--validation_file", str(dev_file),
         "--output_dir", str(tmp_path / "ner"), "--max_mention_length", "4", "--gradient_checkpointing", *FAST]
    )  # fmt: skip
    results = run_ner(args, model=model, tokenizer=tokenizer)
    assert model.is_activation_checkpointing
    check_common_results(results, tmp_path / "ner", "ner")


@pytest.mark.slow
def test_relation_classification_example_with_bf16(pretrained_checkpoint, tmp_path):
    from fixtures_training import demo_records, relation_records, write_jsonl

    train_file = write_jsonl(tmp_path / "train.jsonl", relation_records(demo_records("train", 4)))
    dev_file = write_jsonl(tmp_path / "dev.jsonl", relation_records(demo_records("heldout", 2)))
    output_dir = tmp_path / "relation"
    argv = ["--model", str(pretrained_checkpoint), "--train_file", str(train_file), "--validation_file",
            str(dev_file), "--output_dir", str(output_dir), "--bf16", *FAST]  # fmt: skip
    results = load_example("train_relation_classification").main(argv)
    check_common_results(results, output_dir, "relation_classification")
    assert 0.0 <= results["accuracy"] <= 1.0

    model = AutoModelForEntityPairClassification.from_pretrained(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(output_dir)
    records = read_relation_file(dev_file)
    assert set(model.config.label2id) == {record["label"] for record in read_relation_file(train_file) + records}
    dataset = relation_features(tokenizer, records, model.config.label2id)
    predicted = logits_of(model, dataset, tokenizer).argmax(-1)
    gold = np.array([feature["labels"] for feature in dataset.features])
    # bf16 autocast during evaluation may flip near-ties, so allow one disagreement in the reloaded accuracy.
    assert abs(float((predicted == gold).mean()) - results["accuracy"]) <= 1 / len(gold) + 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("multi_label", [True, False], ids=["multi-label", "single-label"])
def test_entity_typing_example(pretrained_checkpoint, tmp_path, multi_label):
    from fixtures_training import demo_records, typing_records, write_jsonl

    train_file = write_jsonl(tmp_path / "train.jsonl", typing_records(demo_records("train", 4), multi_label))
    dev_file = write_jsonl(tmp_path / "dev.jsonl", typing_records(demo_records("heldout", 2), multi_label))
    output_dir = tmp_path / "typing"
    argv = ["--model", str(pretrained_checkpoint), "--train_file", str(train_file), "--validation_file",
            str(dev_file), "--output_dir", str(output_dir), *FAST]  # fmt: skip
    results = load_example("train_entity_typing").main(argv)
    check_common_results(results, output_dir, "entity_typing")

    model = AutoModelForEntityClassification.from_pretrained(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(output_dir)
    expected_problem = "multi_label_classification" if multi_label else "single_label_classification"
    assert model.config.problem_type == expected_problem
    dataset = entity_typing_features(tokenizer, read_entity_typing_file(dev_file), model.config.label2id, multi_label)
    logits = logits_of(model, dataset, tokenizer)
    gold = np.array([feature["labels"] for feature in dataset.features])
    from mluke_hf.tasks.training import classification_compute_metrics, multi_label_compute_metrics

    metric = multi_label_compute_metrics() if multi_label else classification_compute_metrics(model.config.id2label)
    assert metric(EvalPrediction(predictions=logits, label_ids=gold))["f1"] == pytest.approx(results["f1"], abs=1e-6)

"""transformers' own pipelines, unchanged, on tiny mLUKE folders in both layouts: released (`model_type: "luke"`,
no tokenizer.json) and plugin-saved (`"mluke"`). Each pipeline's output is checked against the model run directly.

Already covered elsewhere (not repeated here): fill-mask on the released layout (test_registration_models.py),
question-answering and token-classification on the released layout (test_tokenization_mluke_fast_pipelines.py).
"""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoTokenizer, pipeline

import mluke_hf

BOTH = ["luke", "mluke"]
TEXT = "Barack Obama visited Tokyo and Paris."
NLI_LABELS = {0: "contradiction", 1: "neutral", 2: "entailment"}
NER_LABELS = {0: "O", 1: "B-LOC", 2: "I-LOC", 3: "B-PER", 4: "I-PER"}


def check_layout(folder, layout):
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == layout
    assert (folder / "tokenizer.json").exists() == (layout == "mluke")


def run_model(model, tokenizer, *texts):
    encoding = tokenizer(*texts, return_tensors="pt")
    with torch.no_grad():
        return model(**encoding), encoding


def test_fill_mask_on_the_plugin_layout(pipeline_folder):
    folder = pipeline_folder("LukeForMaskedLM", layout="mluke")
    check_layout(folder, "mluke")
    fill = pipeline("fill-mask", model=str(folder))
    assert type(fill.model) is mluke_hf.MLukeForMaskedLM
    text = f"Tokyo is the capital of {fill.tokenizer.mask_token}."
    predictions = fill(text, top_k=3)
    outputs, encoding = run_model(fill.model, fill.tokenizer, text)
    mask_index = encoding["input_ids"][0].tolist().index(fill.tokenizer.mask_token_id)
    probabilities = torch.softmax(outputs.logits[0, mask_index], -1)
    top = torch.topk(probabilities, 3)
    assert [p["token"] for p in predictions] == top.indices.tolist()
    assert [p["score"] for p in predictions] == pytest.approx(top.values.tolist(), abs=1e-5)


@pytest.mark.parametrize("layout", BOTH)
def test_feature_extraction(pipeline_folder, layout):
    folder = pipeline_folder("LukeModel", layout=layout)
    check_layout(folder, layout)
    extract = pipeline("feature-extraction", model=str(folder))
    assert type(extract.model) is mluke_hf.MLukeModel
    features = torch.tensor(extract(TEXT))
    outputs, encoding = run_model(extract.model, extract.tokenizer, TEXT)
    assert features.shape == (1, encoding["input_ids"].shape[1], extract.model.config.hidden_size)
    torch.testing.assert_close(features, outputs.last_hidden_state, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("layout", BOTH)
def test_text_classification(pipeline_folder, layout):
    folder = pipeline_folder("LukeForSequenceClassification", layout=layout, id2label={0: "negative", 1: "positive"})
    check_layout(folder, layout)
    classify = pipeline("text-classification", model=str(folder))
    assert type(classify.model) is mluke_hf.MLukeForSequenceClassification
    results = classify(TEXT, top_k=None)
    outputs, _ = run_model(classify.model, classify.tokenizer, TEXT)
    probabilities = torch.softmax(outputs.logits[0], -1)
    expected = {classify.model.config.id2label[i]: p.item() for i, p in enumerate(probabilities)}
    assert {r["label"]: r["score"] for r in results} == pytest.approx(expected, abs=1e-5)
    assert classify([TEXT, "Paris"], batch_size=2)[0] == pytest.approx(classify(TEXT)[0])


def test_token_classification_with_aggregation_on_the_plugin_layout(pipeline_folder):
    folder = pipeline_folder("LukeForTokenClassification", layout="mluke", id2label=NER_LABELS)
    check_layout(folder, "mluke")
    ner = pipeline("token-classification", model=str(folder), aggregation_strategy="simple")
    assert type(ner.model) is mluke_hf.MLukeForTokenClassification
    per_token = pipeline("token-classification", model=str(folder))(TEXT)
    outputs, _ = run_model(ner.model, ner.tokenizer, TEXT)
    labels = outputs.logits[0].argmax(-1).tolist()
    assert per_token, "random weights label some tokens"
    for token in per_token:
        assert token["entity"] == NER_LABELS[labels[token["index"]]]
        assert 0 <= token["start"] <= token["end"] <= len(TEXT)
    groups = ner(TEXT)
    assert groups, "random weights label some tokens"
    for group in groups:
        assert group["entity_group"] in {"LOC", "PER"}
        assert group["word"].strip() == TEXT[group["start"] : group["end"]].strip()


def test_question_answering_on_the_plugin_layout(pipeline_folder):
    folder = pipeline_folder("LukeForQuestionAnswering", layout="mluke")
    check_layout(folder, "mluke")
    qa = pipeline("question-answering", model=str(folder))
    assert type(qa.model) is mluke_hf.MLukeForQuestionAnswering
    answer = qa(question="Who visited Tokyo?", context=TEXT)
    assert answer["answer"] == TEXT[answer["start"] : answer["end"]]
    assert 0 <= answer["start"] < answer["end"] <= len(TEXT)
    assert 0.0 < answer["score"] <= 1.0


@pytest.mark.parametrize("layout", BOTH)
def test_zero_shot_classification(pipeline_folder, layout):
    folder = pipeline_folder("LukeForSequenceClassification", layout=layout, id2label=NLI_LABELS)
    check_layout(folder, layout)
    zero_shot = pipeline("zero-shot-classification", model=str(folder))
    assert type(zero_shot.model) is mluke_hf.MLukeForSequenceClassification
    candidates = ["travel", "politics", "sports"]
    result = zero_shot(TEXT, candidate_labels=candidates)
    assert result["sequence"] == TEXT and sorted(result["labels"]) == sorted(candidates)
    # Reference: entailment logits of (text, hypothesis) pairs, softmaxed across the candidate labels.
    tokenizer = AutoTokenizer.from_pretrained(folder)
    entailment = []
    for label in candidates:
        outputs, _ = run_model(zero_shot.model, tokenizer, TEXT, f"This example is {label}.")
        entailment.append(outputs.logits[0, 2].item())
    expected = dict(zip(candidates, torch.softmax(torch.tensor(entailment), -1).tolist()))
    assert dict(zip(result["labels"], result["scores"])) == pytest.approx(expected, abs=1e-5)

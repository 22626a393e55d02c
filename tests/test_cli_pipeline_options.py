"""Pipeline options beyond what the model's position table holds are a ValueError naming the option and its range
(not an IndexError deep in the embedding), and a head whose weights were not found is caught after loading."""

from __future__ import annotations

import shutil

import pytest
from transformers import pipeline

from mluke_hf.checkpoint_checks import HEADS, CheckpointError, check_loaded_head
from mluke_hf.tasks.ner import model_max_tokens

CONTEXT = "東京は日本の首都です。Tokyo is the capital of Japan. नई दिल्ली भारत की राजधानी है।"


def test_ner_max_tokens_is_bounded_by_the_model(pipeline_folder):
    ner = pipeline("entity-span-classification", model=str(pipeline_folder("LukeForEntitySpanClassification")))
    limit = model_max_tokens(ner.tokenizer, ner.model.config)
    with pytest.raises(ValueError, match=rf"max_tokens must lie between 1 and {limit} .*got 100000"):
        ner(CONTEXT, max_tokens=100_000)
    with pytest.raises(ValueError, match=rf"max_tokens must lie between 1 and {limit}"):
        pipeline("entity-span-classification", model=ner.model, tokenizer=ner.tokenizer, max_tokens=limit + 1)
    assert ner(CONTEXT, max_tokens=limit) == ner(CONTEXT)  # the limit itself is the default window


def test_question_answering_max_seq_len_is_bounded_by_the_model(pipeline_folder):
    qa = pipeline("question-answering", model=str(pipeline_folder("LukeForQuestionAnswering")))
    limit = model_max_tokens(qa.tokenizer, qa.model.config) + 2
    with pytest.raises(ValueError, match=rf"max_seq_len must lie between 1 and {limit} .*got 100000"):
        qa(question="首都は?", context=CONTEXT, max_seq_len=100_000)
    answer = qa(question="首都は?", context=CONTEXT, max_seq_len=limit)
    assert CONTEXT[answer["start"] : answer["end"]] == answer["answer"]


def test_head_weights_missing_after_loading_are_refused(pipeline_folder, tmp_path):
    from safetensors.torch import load_file, save_file

    import mluke_hf

    folder = shutil.copytree(pipeline_folder("LukeForEntitySpanClassification"), tmp_path / "model")
    tensors = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in tensors.items() if not k.startswith("classifier.")}, str(folder / "model.safetensors"))
    model, loading = mluke_hf.AutoModelForEntitySpanClassification.from_pretrained(folder, output_loading_info=True)
    with pytest.raises(CheckpointError, match=r"classifier\.weight.* missing.*randomly initialised"):
        check_loaded_head("some/hub-model", model, loading["missing_keys"], HEADS["entity-span-classification"])
    complete, loading = mluke_hf.AutoModelForEntitySpanClassification.from_pretrained(
        pipeline_folder("LukeForEntitySpanClassification"), output_loading_info=True
    )
    check_loaded_head("some/hub-model", complete, loading["missing_keys"], HEADS["entity-span-classification"])
    with pytest.raises(CheckpointError, match="is a M?LukeForEntitySpanClassification; .*entity classification head"):
        check_loaded_head("some/hub-model", complete, [], HEADS["entity-classification"])

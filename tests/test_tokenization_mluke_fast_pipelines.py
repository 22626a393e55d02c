"""End to end: `pipeline("question-answering")` and `pipeline("token-classification", aggregation_strategy="simple")`
on tiny released-layout folders (`tokenizer_class: "MLukeTokenizer"`, no tokenizer.json), no tokenizer passed.

The weights are random, so the controlled tests replace the model's forward with one that puts the answer (or the
entity) on known tokens; the pipelines must then map those tokens back to the right characters of the input."""

from __future__ import annotations

import json

import pytest
import torch
from transformers.modeling_outputs import QuestionAnsweringModelOutput, TokenClassifierOutput

NER_LABELS = {0: "O", 1: "B-LOC", 2: "I-LOC", 3: "B-PER", 4: "I-PER"}
CONTEXT = "Barack Obama was born in Honolulu, Hawaii. He was the president of the United States."


@pytest.fixture(scope="module")
def qa_folder(tiny_checkpoint_factory):
    return tiny_checkpoint_factory(architecture="LukeForQuestionAnswering")


@pytest.fixture(scope="module")
def ner_folder(tiny_checkpoint_factory):
    return tiny_checkpoint_factory(architecture="LukeForTokenClassification", id2label=NER_LABELS)


@pytest.fixture(scope="module")
def qa_pipeline(qa_folder):
    from transformers import pipeline

    return pipeline("question-answering", model=str(qa_folder))


@pytest.fixture(scope="module")
def ner_pipeline(ner_folder):
    from transformers import pipeline

    return pipeline("token-classification", model=str(ner_folder), aggregation_strategy="simple")


def _token_positions(tokenizer, encoding_row_offsets, sequence_ids, start: int, end: int) -> list[int]:
    """Token indices of the context (sequence 1, or 0 for single texts) whose span lies in [start, end)."""
    return [
        index
        for index, ((token_start, token_end), sequence) in enumerate(zip(encoding_row_offsets, sequence_ids))
        if sequence is not None and start <= token_start and token_end <= end and token_end > token_start
    ]


def test_folders_are_released_layout(qa_folder, ner_folder):
    for folder in (qa_folder, ner_folder):
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        assert config["tokenizer_class"] == "MLukeTokenizer"
        assert not (folder / "tokenizer.json").exists()


# -- question answering -----------------------------------------------------------------------------------------------


def test_qa_pipeline_loads_fast_tokenizer_and_answers_from_context(qa_pipeline):
    from mluke_hf import MLukeForQuestionAnswering, MLukeTokenizerFast

    assert isinstance(qa_pipeline.tokenizer, MLukeTokenizerFast)
    assert isinstance(qa_pipeline.model, MLukeForQuestionAnswering)
    result = qa_pipeline(question="Where was Obama born?", context=CONTEXT)
    assert set(result) == {"score", "start", "end", "answer"}
    assert 0 <= result["start"] < result["end"] <= len(CONTEXT)
    assert result["answer"] == CONTEXT[result["start"] : result["end"]]
    assert result["answer"] == result["answer"].strip() and 0.0 < result["score"] <= 1.0


def test_qa_pipeline_best_span_matches_brute_force(qa_pipeline):
    """The pipeline's answer is the best P(start)*P(end) span of the model's own logits (one window)."""
    tokenizer, model = qa_pipeline.tokenizer, qa_pipeline.model
    question = "Where was Obama born?"
    encoded = tokenizer(question, CONTEXT, return_offsets_mapping=True, return_tensors="pt")
    with torch.no_grad():
        output = model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
    context_tokens = [index for index, sequence in enumerate(encoded.sequence_ids(0)) if sequence == 1]
    allowed = [0, *context_tokens]
    start_probs = output.start_logits[0, allowed].softmax(-1)
    end_probs = output.end_logits[0, allowed].softmax(-1)
    best = max(
        (float(start_probs[i] * end_probs[j]), allowed[i], allowed[j])
        for i in range(1, len(allowed))
        for j in range(i, min(len(allowed), i + 15))
    )
    offsets = encoded["offset_mapping"][0].tolist()
    start, end = offsets[best[1]][0], offsets[best[2]][1]
    while CONTEXT[start].isspace():
        start += 1
    result = qa_pipeline(question=question, context=CONTEXT)
    assert (result["start"], result["end"]) == (start, end)
    assert result["score"] == pytest.approx(best[0], rel=1e-5)


def _answer_on(tokenizer, question: str, context: str, answer: str):
    """A forward that puts the start logit on the first token of `answer` and the end logit on its last one, in
    whichever window the tokens fall (found through the fast tokenizer's own offsets). Set `forward.max_seq_len` and
    `forward.stride` to the pipeline's."""
    answer_start = context.index(answer)
    answer_end = answer_start + len(answer)

    def forward(input_ids=None, attention_mask=None, **kwargs):
        start_logits = torch.zeros(input_ids.shape)
        end_logits = torch.zeros(input_ids.shape)
        # The same windows as the pipeline's (same length, stride and padding), with their offsets.
        windows = tokenizer(question, context, truncation="only_second", max_length=forward.max_seq_len,
                            stride=forward.stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                            padding="longest")  # fmt: skip
        for row, ids in enumerate(input_ids.tolist()):
            window = windows["input_ids"].index(ids)
            positions = _token_positions(
                tokenizer, windows["offset_mapping"][window], windows.sequence_ids(window), answer_start, answer_end
            )
            positions = [index for index in positions if windows.sequence_ids(window)[index] == 1]
            if positions:
                start_logits[row, positions[0]] = 20.0
                end_logits[row, positions[-1]] = 20.0
        return QuestionAnsweringModelOutput(start_logits=start_logits, end_logits=end_logits)

    return forward


def test_qa_pipeline_maps_answer_tokens_to_characters(qa_folder):
    from transformers import pipeline

    qa = pipeline("question-answering", model=str(qa_folder))
    question = "Where was Obama born?"
    forward = _answer_on(qa.tokenizer, question, CONTEXT, "Honolulu, Hawaii")
    forward.max_seq_len, forward.stride = 384, 128  # the pipeline's defaults
    qa.model.forward = forward
    result = qa(question=question, context=CONTEXT)
    assert result["answer"] == "Honolulu, Hawaii"
    assert CONTEXT[result["start"] : result["end"]] == "Honolulu, Hawaii"
    assert result["score"] > 0.99


def test_qa_pipeline_long_context_windows(qa_folder):
    """An answer far past the first window: found in its window and mapped to characters of the whole context."""
    from transformers import pipeline

    qa = pipeline("question-answering", model=str(qa_folder))
    question = "Where is the island?"
    context = " ".join(["Barack Obama was born in Honolulu."] * 30) + " The island is Zanzibar, in Tanzania."
    forward = _answer_on(qa.tokenizer, question, context, "Zanzibar")
    forward.max_seq_len, forward.stride = 40, 8
    qa.model.forward = forward
    results = qa(question=question, context=context, max_seq_len=40, doc_stride=8, top_k=2)
    assert isinstance(results, list) and len(results) == 2
    assert results[0]["answer"] == "Zanzibar" and context[results[0]["start"] : results[0]["end"]] == "Zanzibar"
    assert results[0]["start"] == context.index("Zanzibar")
    assert results[0]["score"] >= results[1]["score"]


def test_qa_pipeline_call_forms_and_errors(qa_pipeline):
    inputs = [
        {"question": "Where?", "context": CONTEXT},
        {"question": "何?", "context": "東京タワーは港区にある電波塔です。"},
    ]
    results = qa_pipeline(inputs)
    assert isinstance(results, list) and len(results) == 2
    for example, result in zip(inputs, results):
        assert result["answer"] == example["context"][result["start"] : result["end"]]
    single = qa_pipeline({"question": "Where?", "context": CONTEXT})
    assert single == results[0]
    assert qa_pipeline(inputs, batch_size=2) == results  # windows are the batch; batch_size is ignored
    both = qa_pipeline(question="Where?", context=[CONTEXT, CONTEXT])
    assert both[0] == both[1] == single
    with pytest.raises(ValueError, match="context"):
        qa_pipeline(question="Where?", context="")
    with pytest.raises(ValueError, match="question= and context="):
        qa_pipeline(question="Where?")
    with pytest.raises(ValueError, match="doc_stride"):
        qa_pipeline(question="Where?", context=CONTEXT, max_seq_len=24, doc_stride=30)
    with pytest.raises(ValueError, match="top_k"):
        qa_pipeline(question="Where?", context=CONTEXT, top_k=0)


def test_qa_pipeline_refuses_slow_tokenizer(qa_folder):
    from transformers import pipeline

    from mluke_hf import MLukeTokenizer

    with pytest.raises(ValueError, match="fast tokenizer"):
        pipeline("question-answering", model=str(qa_folder), tokenizer=MLukeTokenizer.from_pretrained(qa_folder))


# -- token classification ----------------------------------------------------------------------------------------


def test_ner_pipeline_loads_fast_tokenizer_and_groups_cover_text(ner_pipeline):
    from mluke_hf import MLukeForTokenClassification, MLukeTokenizerFast

    assert isinstance(ner_pipeline.tokenizer, MLukeTokenizerFast)
    assert isinstance(ner_pipeline.model, MLukeForTokenClassification)
    groups = ner_pipeline(CONTEXT)
    assert groups, "random weights label something in a sentence this long"
    previous_end = 0
    for group in groups:
        assert group["entity_group"] in {"LOC", "PER"}
        assert previous_end <= group["start"] < group["end"] <= len(CONTEXT)
        # A group may end on a lone `▁` token, whose span is the space it stands for.
        assert CONTEXT[group["start"] : group["end"]].rstrip() == group["word"]
        previous_end = group["end"]


def _labels_on(tokenizer, text: str, entities: dict[str, str]):
    """A forward that labels the tokens of each entity string (B- on the first, I- on the rest), O elsewhere."""
    label_ids = {label: index for index, label in NER_LABELS.items()}
    encoded = tokenizer(text, return_offsets_mapping=True)
    labels = [label_ids["O"]] * len(encoded["input_ids"])
    for surface, kind in entities.items():
        start = text.index(surface)
        positions = _token_positions(tokenizer, encoded["offset_mapping"], encoded.sequence_ids(0), start,
                                     start + len(surface))  # fmt: skip
        for rank, position in enumerate(positions):
            labels[position] = label_ids[("B-" if rank == 0 else "I-") + kind]

    def forward(input_ids=None, **kwargs):
        assert input_ids.tolist()[0] == encoded["input_ids"]
        logits = torch.full((*input_ids.shape, len(NER_LABELS)), -5.0)
        for position, label in enumerate(labels):
            logits[0, position, label] = 5.0
        return TokenClassifierOutput(logits=logits)

    return forward


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        (CONTEXT, {"Barack Obama": "PER", "Honolulu": "LOC", "United States": "LOC"}),
        ("東京タワーは港区にある電波塔です。", {"港区": "LOC"}),
        ("Ｆｕｌｌ width Ｔｏｋｙｏ and ﬁne Paris", {"Ｔｏｋｙｏ": "LOC", "Paris": "LOC"}),
    ],
)
def test_ner_pipeline_aggregates_to_character_spans(ner_folder, text, entities):
    from transformers import pipeline

    ner = pipeline("token-classification", model=str(ner_folder), aggregation_strategy="simple")
    ner.model.forward = _labels_on(ner.tokenizer, text, entities)
    groups = ner(text)
    found = [(text[group["start"] : group["end"]], group["entity_group"]) for group in groups]
    assert found == list(entities.items())
    assert all(group["score"] > 0.99 for group in groups)

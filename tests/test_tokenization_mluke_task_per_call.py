"""`task=` per call on both tokenizer classes: equal to a tokenizer loaded with that task, never changing the tokenizer.

The golden suite replays every case transformers 4.57.6 recorded with a task set at load time with the task passed
per call instead (tests/test_tokenization_mluke_golden.py, tests/test_tokenization_mluke_fast.py); here the other
entry points (batches, `encode_plus`, `batch_encode_plus`, `prepare_for_model`, `pad`) and the defaults.
"""

from __future__ import annotations

import logging

import pytest

TEXT = "Angela Merkel besuchte Tokio und 東京タワー, dann กรุงเทพ."
SPANS = {
    "entity_classification": [(0, 13)],
    "entity_pair_classification": [(23, 28), (0, 13)],
    "entity_span_classification": [(0, 6), (7, 13), (23, 28), (33, 38), (45, 52)],
}
TASKS = list(SPANS)


@pytest.fixture(scope="module", params=["MLukeTokenizer", "MLukeTokenizerFast"])
def loaded(request, tokenizer_folders):
    """(class, folder, tokenizer without a task, {task: tokenizer loaded with that task})."""
    import mluke_hf

    klass = getattr(mluke_hf, request.param)
    folder = tokenizer_folders["unigram-full-base"]
    with_task = {task: klass.from_pretrained(folder, task=task) for task in TASKS}
    return klass, folder, klass.from_pretrained(folder), with_task


@pytest.mark.parametrize("task", TASKS)
def test_call_with_task_equals_tokenizer_loaded_with_it(loaded, task, caplog):
    _, _, tokenizer, with_task = loaded
    with caplog.at_level(logging.WARNING):
        ours = tokenizer(TEXT, entity_spans=SPANS[task], task=task)
    assert "not recognized" not in caplog.text
    assert dict(ours) == dict(with_task[task](TEXT, entity_spans=SPANS[task]))
    assert tokenizer.task is None and tokenizer.max_entity_length == 32


@pytest.mark.parametrize("task", TASKS)
def test_batches_and_old_entry_points_take_the_task(loaded, task):
    _, _, tokenizer, with_task = loaded
    reference = with_task[task]
    texts = [TEXT, TEXT[:29] + " Москва."]
    spans = [SPANS[task], SPANS[task][:1] if task != "entity_pair_classification" else SPANS[task]]
    options = {"padding": "max_length", "max_length": 48, "truncation": True, "return_tensors": "pt"}
    batch = tokenizer(texts, entity_spans=spans, task=task, **options)
    expected = reference(texts, entity_spans=spans, **options)
    assert batch.keys() == expected.keys()
    assert all(batch[key].tolist() == expected[key].tolist() for key in expected)
    assert dict(tokenizer.encode_plus(TEXT, entity_spans=SPANS[task], task=task)) == dict(
        reference.encode_plus(TEXT, entity_spans=SPANS[task])
    )
    old_batch = tokenizer.batch_encode_plus(texts, batch_entity_spans_or_entity_spans_pairs=spans, task=task)
    assert dict(old_batch) == dict(reference.batch_encode_plus(texts, batch_entity_spans_or_entity_spans_pairs=spans))


def test_padding_to_max_length_uses_the_task_budget(loaded):
    """The pair task pads entities to 2 (not the tokenizer's 32), the single-entity task to 1."""
    _, _, tokenizer, _ = loaded
    for task, budget in (("entity_pair_classification", 2), ("entity_classification", 1)):
        encoded = tokenizer(TEXT, entity_spans=SPANS[task], task=task, padding="max_length", max_length=64)
        assert len(encoded["entity_ids"]) == budget
        padded = tokenizer.pad([tokenizer(TEXT, entity_spans=SPANS[task], task=task)], padding="max_length",
                               max_length=64, task=task)  # fmt: skip
        assert len(padded["entity_ids"][0]) == budget


def test_task_none_per_call_overrides_the_loaded_task(loaded):
    _, _, tokenizer, with_task = loaded
    span_tokenizer = with_task["entity_span_classification"]
    plain = span_tokenizer(TEXT, entity_spans=SPANS["entity_span_classification"], task=None)
    assert "entity_start_positions" not in plain
    assert dict(plain) == dict(tokenizer(TEXT, entity_spans=SPANS["entity_span_classification"]))
    assert span_tokenizer.task == "entity_span_classification"


def test_prepare_for_model_takes_the_task(loaded):
    _, _, tokenizer, with_task = loaded
    ids = tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    arguments = {"entity_ids": [2, 2], "entity_token_spans": [(0, 2), (3, 5)]}
    ours = tokenizer.prepare_for_model(ids, task="entity_span_classification", **arguments)
    expected = with_task["entity_span_classification"].prepare_for_model(ids, **arguments)
    assert dict(ours) == dict(expected)
    assert "entity_start_positions" in ours


@pytest.mark.parametrize("task", ["ner", "", 3, "Entity_Classification"])
def test_unknown_task_per_call_names_the_choices(loaded, task):
    _, _, tokenizer, _ = loaded
    with pytest.raises(ValueError, match="is not supported: use None or one of"):
        tokenizer(TEXT, entity_spans=[(0, 6)], task=task)
    assert tokenizer.task is None


def test_assigning_task_changes_the_default_and_its_entity_budget(loaded):
    klass, folder, _, with_task = loaded
    tokenizer = klass.from_pretrained(folder)
    tokenizer.task = "entity_pair_classification"
    assert tokenizer.max_entity_length == 2
    spans = SPANS["entity_pair_classification"]
    assert dict(tokenizer(TEXT, entity_spans=spans)) == dict(
        with_task["entity_pair_classification"](TEXT, entity_spans=spans)
    )
    tokenizer.task = None
    assert tokenizer.max_entity_length == 32
    with pytest.raises(ValueError, match="is not supported"):
        tokenizer.task = "relation"


def test_readme_quickstart_call(tokenizer_folders):
    """The README's `tokenizer(text, entity_spans=[(0, 9)], task="entity_classification", return_tensors="pt")`."""
    from transformers import AutoTokenizer

    import mluke_hf  # noqa: F401

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folders["unigram-full-base"])
    text = "ISO 639-3 uses the code fas for the dialects spoken across Iran and アフガニスタン (Afghanistan)."
    inputs = tokenizer(text, entity_spans=[(0, 9)], task="entity_classification", return_tensors="pt")
    marker = tokenizer.convert_tokens_to_ids("<ent>")
    assert inputs["input_ids"][0].tolist().count(marker) == 2
    assert inputs["entity_ids"].tolist() == [[tokenizer.entity_mask_token_id]]


# -- pad() by the fields present --------------------------------------------------------------------------------------


def test_pad_pads_features_of_any_task_by_their_fields(loaded):
    """Span-task features (with start/end positions) pad on a tokenizer loaded without that task, and vice versa."""
    _, _, tokenizer, with_task = loaded
    span_features = [
        dict(tokenizer(TEXT[: 13 + 10 * index], entity_spans=SPANS["entity_span_classification"][: index + 1],
                       task="entity_span_classification"))
        for index in range(2)
    ]  # fmt: skip
    for padder in (tokenizer, with_task["entity_classification"]):
        padded = padder.pad(span_features, return_tensors="pt")
        assert padded["entity_start_positions"].shape == padded["entity_ids"].shape == (2, 2)
        assert padded["entity_end_positions"][0].tolist()[1] == 0
        assert padded["entity_attention_mask"][0].tolist() == [1, 0]
        assert padded["entity_position_ids"][0, 1].tolist() == [-1] * tokenizer.max_mention_length
    plain_features = [
        dict(tokenizer(TEXT, entity_spans=SPANS["entity_pair_classification"])),
        dict(tokenizer(TEXT[:20], entity_spans=[(0, 6)])),
    ]
    plain = with_task["entity_span_classification"].pad(plain_features)
    assert "entity_start_positions" not in plain
    assert plain["entity_ids"][1] == [tokenizer.entity_mask_token_id, tokenizer.entity_pad_token_id]


def test_collator_pads_entity_fields_as_pad_does(loaded):
    """One padding module: MLukeDataCollator and tokenizer.pad() give the same entity (and word) fields."""
    from mluke_hf import MLukeDataCollator

    _, _, tokenizer, _ = loaded
    features = [
        dict(tokenizer(text, entity_spans=spans, task="entity_span_classification"))
        for text, spans in ((TEXT, SPANS["entity_span_classification"]), (TEXT[:29], [(0, 6), (23, 28)]))
    ]
    collated = MLukeDataCollator(tokenizer=tokenizer)([dict(feature) for feature in features])
    padded = tokenizer.pad(features, return_tensors="pt")
    assert collated.keys() == padded.keys()
    for key in collated:
        assert collated[key].tolist() == padded[key].tolist(), key


# -- rebuilding, targets, bad input -----------------------------------------------------------------------------------


def test_init_kwargs_rebuild_the_tokenizer(loaded):
    """`type(tok)(**tok.init_kwargs)` (what train_new_from_iterator and transformers' signature test rely on)."""
    import inspect

    klass, _, _, with_task = loaded
    tokenizer = with_task["entity_pair_classification"]
    assert tokenizer.init_kwargs["entity_vocab_file"] and tokenizer.init_kwargs["vocab_file"]
    for name in inspect.signature(klass.__init__).parameters:
        if name not in ("self", "kwargs", "tokenizer_file"):
            assert name in tokenizer.init_kwargs, name
    rebuilt = klass(**tokenizer.init_kwargs)
    spans = SPANS["entity_pair_classification"]
    assert rebuilt.task == "entity_pair_classification"
    assert dict(rebuilt(TEXT, entity_spans=spans)) == dict(tokenizer(TEXT, entity_spans=spans))
    assert len(rebuilt) == len(tokenizer)


def test_text_target_gives_labels_on_both_classes(loaded):
    _, _, tokenizer, _ = loaded
    encoded = tokenizer(TEXT, entity_spans=[(0, 13)], task="entity_classification", text_target="東京タワー")
    assert encoded["labels"] == tokenizer("東京タワー")["input_ids"]
    assert encoded["entity_ids"] == [tokenizer.entity_mask_token_id]
    batch = tokenizer(["Москва", TEXT], text_target=["Moscow", "กรุงเทพ"], padding=True, return_tensors="pt")
    assert batch["labels"].tolist() == tokenizer(["Moscow", "กรุงเทพ"], padding=True)["input_ids"]
    assert dict(tokenizer(text_target="Moscow")) == dict(tokenizer("Moscow"))
    with pytest.raises(ValueError, match="text_pair_target needs text_target"):
        tokenizer(TEXT, text_pair_target="x")


@pytest.mark.parametrize(
    ("text", "argument"),
    [("Paris \ud800", "text holds '\\\\ud800' at character 6"), (["ok", "東京 \udcff"], r"text\[1\] holds")],
)
def test_lone_surrogates_name_the_input(loaded, text, argument):
    _, _, tokenizer, _ = loaded
    with pytest.raises(ValueError, match=argument):
        tokenizer(text)
    with pytest.raises(ValueError, match=argument):
        tokenizer(text, entity_spans=[(0, 2)] if isinstance(text, str) else [[(0, 2)], [(0, 2)]])
    with pytest.raises(ValueError, match="text_pair holds"):
        tokenizer("Paris", text_pair="Paris \ud800")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"pad_to_multiple_of": 0, "padding": True}, "pad_to_multiple_of must be an int >= 1 or None, got 0"),
        ({"pad_to_multiple_of": 0, "padding": "max_length", "max_length": 8}, "pad_to_multiple_of must be an int"),
        ({"max_entity_length": 0}, "max_entity_length must be an int >= 1 or None, got 0"),
        ({"max_entity_length": -2, "entity_spans": [(0, 6)]}, "max_entity_length must be an int >= 1 or None, got -2"),
    ],
)
def test_bad_lengths_name_the_argument(loaded, arguments, message):
    _, _, tokenizer, _ = loaded
    with pytest.raises(ValueError, match=message):
        tokenizer(TEXT, **arguments)
    with pytest.raises(ValueError, match=message.split(",")[0]):
        tokenizer([TEXT, TEXT], **{**arguments, "entity_spans": None})
    if "pad_to_multiple_of" in arguments:
        with pytest.raises(ValueError, match="pad_to_multiple_of must be"):
            tokenizer.pad([tokenizer(TEXT)], pad_to_multiple_of=0)


def test_span_over_whitespace_only_is_not_silent(loaded, caplog):
    """Kept as transformers 4.57.6 keeps it (a mention row of -1s), with a warning naming the span."""
    _, _, tokenizer, _ = loaded
    text = "東京\t\tタワー"
    with caplog.at_level(logging.WARNING):
        encoded = tokenizer(text, entity_spans=[(0, 2), (2, 4)])
    assert "entity_spans[1] ([(2, 4)]) cover no token" in caplog.text
    assert set(encoded["entity_position_ids"][1]) == {-1}


def test_single_texts_never_use_the_threaded_batch_api(loaded):
    """SentencePiece's batch API starts threads on every call: single texts encode piece by piece."""
    klass, folder, _, _ = loaded
    tokenizer = klass.from_pretrained(folder)
    calls = []

    class Recorder:
        def __init__(self, processor):
            self.processor = processor

        def encode(self, value, *args, **kwargs):
            calls.append(type(value).__name__)
            return self.processor.encode(value, *args, **kwargs)

    tokenizer._engine.fairseq_processor = Recorder(tokenizer._engine.fairseq_processor)
    expected = tokenizer(TEXT, entity_spans=SPANS["entity_span_classification"])
    tokenizer(TEXT)
    tokenizer(TEXT, entity_spans=SPANS["entity_span_classification"], task="entity_span_classification")
    assert calls and set(calls) == {"str"}
    batch = tokenizer([TEXT, TEXT], entity_spans=[SPANS["entity_span_classification"]] * 2)
    assert "list" in calls
    assert batch["input_ids"][1] == expected["input_ids"]

"""mluke_hf.tasks.ner: words, span enumeration and chunking, windows, greedy decoding, BIO <-> spans, entity scores,
file readers, span features; mluke_hf.tasks.training's NER decoding and metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import EvalPrediction

from mluke_hf.tasks.ner import (
    NerExample,
    bio_to_spans,
    chunk_spans,
    decode_greedy,
    encode_entity_spans,
    encode_span_features,
    entity_scores,
    enumerate_spans,
    label_list,
    plan_windows,
    read_conll,
    read_jsonl,
    read_ner_file,
    spans_to_bio,
    split_words,
    word_token_counts,
    words_from_tokens,
)
from mluke_hf.tasks.training import NerFeatures, decode_ner_predictions, ner_compute_metrics, ner_features, ner_labels


def test_split_words_separates_punctuation_and_elisions():
    text = "l'Espagne, Jean-Luc a 3 ans."
    assert [text[start:end] for start, end in split_words(text)] == [
        "l", "'", "Espagne", ",", "Jean", "-", "Luc", "a", "3", "ans", ".",
    ]  # fmt: skip


def test_words_from_tokens_joins_with_spaces_and_refuses_blank_words():
    text, offsets = words_from_tokens(["Hans", "Müller", "."])
    assert text == "Hans Müller ." and offsets == [(0, 4), (5, 11), (12, 13)]
    with pytest.raises(ValueError, match="non-empty and contain no whitespace"):
        words_from_tokens(["New York"])


@given(st.integers(0, 20), st.integers(1, 6))
def test_enumerate_spans_covers_every_short_span_once(num_words, max_length):
    spans = enumerate_spans(num_words, max_length)
    expected = {(s, e) for s in range(num_words) for e in range(s, num_words) if e - s < max_length}
    assert len(spans) == len(set(spans)) and set(spans) == expected


def test_enumerate_and_chunk_reject_bad_lengths():
    with pytest.raises(ValueError, match="max_mention_length"):
        enumerate_spans(3, 0)
    with pytest.raises(ValueError, match="max_entity_length"):
        chunk_spans([(0, 0)], 0)


@given(st.lists(st.integers(0, 9), max_size=40), st.integers(1, 7))
def test_chunk_spans_keeps_order_and_sizes(spans, size):
    chunks = chunk_spans(spans, size)
    assert [span for chunk in chunks for span in chunk] == spans
    assert all(1 <= len(chunk) <= size for chunk in chunks)


@settings(max_examples=200)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=40), st.integers(4, 30))
def test_plan_windows_decides_every_word_once_within_the_budget(counts, max_tokens):
    windows = plan_windows(counts, max_tokens)
    cores = [word for window in windows for word in range(window.core_start, window.core_end)]
    assert cores == list(range(len(counts)))
    for window in windows:
        assert window.start <= window.core_start < window.core_end <= window.end
        # A window may exceed the budget only when a single word does.
        assert sum(counts[window.start : window.end]) <= max_tokens or window.end - window.start == 1


def test_plan_windows_one_window_when_the_text_fits():
    (window,) = plan_windows([2, 3, 1], 6)
    assert (window.start, window.end, window.core_start, window.core_end) == (0, 3, 0, 3)
    with pytest.raises(ValueError, match="max_tokens"):
        plan_windows([1], 0)


def test_decode_greedy_keeps_best_non_overlapping_spans():
    candidates = [(0.9, 0, 1, "PER"), (0.95, 1, 2, "ORG"), (0.5, 3, 3, "LOC"), (0.4, 0, 0, "PER")]
    assert decode_greedy(candidates) == [(0.4, 0, 0, "PER"), (0.95, 1, 2, "ORG"), (0.5, 3, 3, "LOC")]
    assert decode_greedy([]) == []


@given(st.lists(st.tuples(st.floats(-5, 5), st.integers(0, 10), st.integers(0, 3)), max_size=30))
def test_decode_greedy_never_overlaps(raw):
    candidates = [(score, start, start + length, "X") for score, start, length in raw]
    kept = decode_greedy(candidates)
    taken = [position for _, start, end, _ in kept for position in range(start, end + 1)]
    assert len(taken) == len(set(taken))
    # Every dropped candidate overlaps a kept one that scores at least as high.
    for candidate in candidates:
        if candidate not in kept:
            assert any(k[0] >= candidate[0] and k[1] <= candidate[2] and candidate[1] <= k[2] for k in kept)


def test_bio_to_spans_reads_like_seqeval():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-ORG", "B-ORG", "I-PER", "S-MISC", "B-LOC", "E-LOC"]
    assert bio_to_spans(tags) == [(0, 1, "PER"), (3, 4, "LOC"), (5, 5, "ORG"), (6, 6, "ORG"), (7, 7, "PER"),
                                  (8, 8, "MISC"), (9, 10, "LOC")]  # fmt: skip
    with pytest.raises(ValueError, match="position 1"):
        bio_to_spans(["O", "X-PER"])


@given(st.integers(1, 15).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1),
       st.integers(0, 2), st.sampled_from(["PER", "LOC"])), max_size=5))))  # fmt: skip
def test_spans_to_bio_round_trips(case):
    num_words, raw = case
    spans = [(score, start, min(start + length, num_words - 1), label) for score, (start, length, label) in
             enumerate(raw)]  # fmt: skip
    kept = [(start, end, label) for _, start, end, label in decode_greedy(spans)]
    assert bio_to_spans(spans_to_bio(num_words, kept)) == kept


def test_entity_scores_micro_and_per_type():
    gold = [[(0, 1, "PER"), (3, 3, "LOC")], [(0, 0, "ORG")]]
    predicted = [[(0, 1, "PER"), (3, 3, "ORG")], [(0, 0, "ORG"), (2, 2, "LOC")]]
    scores = entity_scores(gold, predicted)
    assert scores["precision"] == pytest.approx(2 / 4) and scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert scores["f1_PER"] == 1.0 and scores["f1_LOC"] == 0.0 and scores["f1_ORG"] == pytest.approx(2 / 3)
    assert entity_scores([[]], [[]])["f1"] == 0.0
    with pytest.raises(ValueError, match="sentences"):
        entity_scores([[]], [])


def test_read_conll_and_jsonl(tmp_path):
    conll = tmp_path / "data.conll"
    conll.write_text("-DOCSTART- -X- -X- O\n\nJan NNP B-NP B-PER\nwoont VBZ B-VP O\nin IN O O\nDen NNP B-NP B-LOC\n"
                     "Haag NNP I-NP I-LOC\n\nOK X X O\n", encoding="utf-8")  # fmt: skip
    first, second = read_conll(conll)
    assert first.text == "Jan woont in Den Haag" and first.entities == [(0, 0, "PER"), (3, 4, "LOC")]
    assert second.entities == [] and read_ner_file(conll)[0].words == first.words
    bad = tmp_path / "bad.conll"
    bad.write_text("lonely\n")
    with pytest.raises(ValueError, match="bad.conll:1"):
        read_conll(bad)

    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text('{"text": "Anna lives in Paris.", "entities": [{"start": 14, "end": 19, "label": "LOC"}], '
                     '"language": "en"}\n\n{"tokens": ["Bonn", "!"], "ner_tags": ["B-LOC", "O"]}\n')  # fmt: skip
    records = read_ner_file(jsonl)
    assert records[0].entities == [(3, 3, "LOC")] and records[0].language == "en"
    assert records[1].text == "Bonn !" and records[1].entities == [(0, 0, "LOC")]
    misaligned = tmp_path / "misaligned.jsonl"
    misaligned.write_text('{"text": "Anna lives", "entities": [{"start": 1, "end": 4, "label": "PER"}]}\n')
    with pytest.raises(ValueError, match="word boundaries"):
        read_jsonl(misaligned)
    assert label_list(records) == ["O", "LOC"]


def test_word_token_counts_ignore_and_keep_the_tokenizer_mode(mluke_tokenizer):
    mluke_tokenizer.task = "entity_classification"
    try:
        # Counting works whatever mode the tokenizer was loaded in, and leaves that mode alone.
        counts = word_token_counts(mluke_tokenizer, ["Paris", "Zürich", "東京"])
        assert mluke_tokenizer.task == "entity_classification"
        assert counts == [max(1, len(mluke_tokenizer.tokenize(word))) for word in ("Paris", "Zürich", "東京")]
    finally:
        mluke_tokenizer.task = None


def test_encode_entity_spans_keeps_every_span(mluke_tokenizer):
    text = " ".join(["Paris"] * 40)
    spans = [(6 * index, 6 * index + 5) for index in range(40)]
    encoding = encode_entity_spans(mluke_tokenizer, text, spans, task="entity_span_classification")
    assert len(encoding["entity_ids"]) == 40  # more than the tokenizer's default max_entity_length (32)
    assert mluke_tokenizer.task is None


def test_encode_span_features_windows_chunks_and_labels(mluke_tokenizer):
    sentence = "Anna Schmidt wohnt seit 2010 in Berlin und arbeitet bei Siemens ."
    example = NerExample(*words_from_tokens(sentence.split()))
    labels = {(0, 1): 2, (6, 6): 1, (10, 10): 3}
    features = encode_span_features(mluke_tokenizer, example.text, example.word_offsets, 3, 8, 510, labels=labels)
    spans = [span for feature in features for span in feature.spans]
    assert [(s, e) for s, e, _, _ in spans] == enumerate_spans(12, 3)
    assert all(len(feature.spans) <= 8 for feature in features)
    for feature in features:
        assert feature.encoding["labels"] == [labels.get((s, e), 0) for s, e, _, _ in feature.spans]
        for start_word, end_word, start, end in feature.spans:
            assert (start, end) == (example.word_offsets[start_word][0], example.word_offsets[end_word][1])
    # A small token budget gives several windows; every span is decided at most once and every word is covered.
    # (Spans running past a window's right context are not candidates: the default context is a quarter of the
    # window, far longer than a mention at real sizes.)
    windowed = encode_span_features(mluke_tokenizer, example.text, example.word_offsets, 3, 8, 6, labels=labels)
    decided = [span[:2] for feature in windowed for span in feature.spans]
    assert len(decided) == len(set(decided)) and set(decided) <= set(enumerate_spans(12, 3))
    assert {(word, word) for word in range(12)} <= set(decided)
    assert len({tuple(feature.encoding["input_ids"]) for feature in windowed}) > 1
    assert all(len(feature.encoding["input_ids"]) <= 6 + 2 + 3 for feature in windowed)


def test_ner_features_and_greedy_decoding_give_perfect_scores_from_gold_logits(mluke_tokenizer):
    gold = [(0, 0, "PER"), (3, 4, "LOC")]
    examples = [NerExample(*words_from_tokens("Jan woont in Den Haag".split()), entities=gold),
                NerExample(*words_from_tokens("Niets hier".split()))]  # fmt: skip
    label2id = {"O": 0, "LOC": 1, "PER": 2}
    features = ner_features(mluke_tokenizer, examples, label2id, max_mention_length=3, max_entity_length=4)
    assert isinstance(features, NerFeatures) and features.sentence_indices[0] == 0
    width = max(len(spans) for spans in features.spans)
    logits = np.full((len(features.spans), width, 3), -100.0)  # Trainer pads with -100
    for row, feature in enumerate(features.dataset.features):
        for column, label in enumerate(feature["labels"]):
            logits[row, column] = np.eye(3)[label] * 5
    id2label = {index: label for label, index in label2id.items()}
    assert decode_ner_predictions(logits, features, 2, id2label) == [[(0, 0, "PER"), (3, 4, "LOC")], []]
    metrics = ner_compute_metrics(examples, features, id2label)
    assert metrics(EvalPrediction(predictions=logits, label_ids=None))["f1"] == 1.0
    with pytest.raises(ValueError, match="expected"):
        metrics(EvalPrediction(predictions=logits[:1], label_ids=None))
    with pytest.raises(ValueError, match="not one of the model's labels"):
        ner_features(mluke_tokenizer, [NerExample("Bonn", [(0, 4)], [(0, 0, "GPE")])], label2id)


def test_ner_labels_keep_a_model_that_already_covers_the_data():
    class Config:
        id2label = {0: "O", 1: "LOC", 2: "PER", 3: "ORG", 4: "MISC"}

    examples = [NerExample("Bonn", [(0, 4)], [(0, 0, "LOC")])]
    assert ner_labels(Config, examples) == ["O", "LOC", "PER", "ORG", "MISC"]
    Config.id2label = {0: "LABEL_0", 1: "LABEL_1"}
    assert ner_labels(Config, examples) == ["O", "LOC"]

"""mluke_hf.tasks.ner: candidate units in every script, span enumeration and chunking, windows, the span decoder,
BIO <-> spans, entity scores, file readers, span features; mluke_hf.tasks.training's NER decoding and metrics."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import EvalPrediction

from mluke_hf.tasks.ner import (
    NerExample,
    bio_to_spans,
    candidate_units,
    chunk_spans,
    decode_greedy,
    decode_span_logits,
    encode_entity_spans,
    encode_span_features,
    entity_scores,
    enumerate_spans,
    grapheme_starts,
    label_list,
    plan_windows,
    read_conll,
    read_jsonl,
    read_ner_file,
    spans_to_bio,
    split_words,
    text_units,
    word_token_counts,
    words_from_tokens,
)
from mluke_hf.tasks.ner.boundaries import GRAPHEME_PATTERN
from mluke_hf.tasks.training import NerFeatures, decode_ner_predictions, ner_compute_metrics, ner_features, ner_labels

# Grapheme clusters that naive splitting breaks: Devanagari vowel signs and a conjunct, Thai vowels and tone marks,
# a decomposed accent, an emoji ZWJ family, a flag, a skin-tone modifier.
TRICKY = ["बराक ओबामा", "क्षत्रिय", "บารัค โอบามา", "e\u0301te\u0301", "👨\u200d👩\u200d👧", "🇯🇵", "👍🏽", "東京でオバマ"]


def words_of(text, offsets):
    return [text[start:end] for start, end in offsets]


def test_split_words_separates_punctuation_and_elisions():
    text = "l'Espagne, Jean-Luc a 3 ans."
    assert [text[start:end] for start, end in split_words(text)] == [
        "l", "'", "Espagne", ",", "Jean", "-", "Luc", "a", "3", "ans", ".",
    ]  # fmt: skip


def test_split_words_keeps_grapheme_clusters_whole():
    assert words_of("बराक ओबामा ने", split_words("बराक ओबामा ने")) == ["बराक", "ओबामा", "ने"]
    assert words_of("บารัค โอบามา", split_words("บารัค โอบามา")) == ["บารัค", "โอบามา"]
    family = "👨\u200d👩\u200d👧"
    assert words_of(f"{family} family 🇯🇵!", split_words(f"{family} family 🇯🇵!")) == [family, "family", "🇯🇵", "!"]
    # A change of script inside a token is a boundary: digits and Latin beside Han, Han beside Hiragana.
    text = "2015年Google社で"
    assert words_of(text, split_words(text)) == ["2015", "年", "Google", "社", "で"]


@pytest.mark.parametrize("text", TRICKY)
def test_units_never_split_a_grapheme_cluster(mluke_tokenizer, text):
    for units in (split_words(text), candidate_units(mluke_tokenizer, text)):
        assert units, text
        starts = grapheme_starts(text)
        assert all(start in starts and end in starts for start, end in units), words_of(text, units)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TRICKY + ["서울에서", "وباريس", "l'Espagne", ", ", " ", "奥巴马访问了东京", "\u0301"]),
                max_size=8))  # fmt: skip
def test_units_tile_the_text_between_spaces(mluke_tokenizer, parts):
    text = "".join(parts)
    units = candidate_units(mluke_tokenizer, text)
    assert all(left[1] <= right[0] for left, right in itertools.pairwise(units))
    assert not any(character.isspace() for start, end in units for character in text[start:end])
    # Every grapheme cluster that does not open with whitespace lies whole inside one unit.
    for cluster in GRAPHEME_PATTERN.finditer(text):
        if not cluster.group()[0].isspace():
            assert any(start <= cluster.start() and cluster.end() <= end for start, end in units), cluster


def test_spaceless_and_clitic_runs_are_cut_at_piece_boundaries(mluke_tokenizer):
    # Entities inside a spaceless clause, and inside space-separated tokens with an attached particle or clitic.
    for text, inside in (("東京でオバマに会った", "東京"), ("東京でオバマに会った", "オバマ"), ("서울에서 만났다", "서울"),
                         ("زرت وباريس", "باريس"), ("ไปเชียงใหม่กับสมชาย", "เชียงใหม่")):  # fmt: skip
        units = candidate_units(mluke_tokenizer, text)
        start = text.index(inside)
        assert start in {unit_start for unit_start, _ in units}, words_of(text, units)
        assert start + len(inside) in {unit_end for _, unit_end in units}, words_of(text, units)
    # A run of characters the vocabulary lacks is one unknown piece: each grapheme becomes a unit.
    text = "奥巴马访问了东京"
    assert words_of(text, candidate_units(mluke_tokenizer, text)) == list(text)
    # Space-separated words stay whole.
    text = "Barack Obama visited l'Espagne."
    assert candidate_units(mluke_tokenizer, text) == split_words(text)


def test_words_from_tokens_joins_with_spaces_and_refuses_blank_words():
    text, offsets = words_from_tokens(["Hans", "Müller", "."])
    assert text == "Hans Müller ." and offsets == [(0, 4), (5, 11), (12, 13)]
    with pytest.raises(ValueError, match="non-empty and contain no whitespace"):
        words_from_tokens(["New York"])
    # Words of spaceless scripts join as they are written; others keep their space.
    text, offsets = words_from_tokens(["オバマ", "は", "東京", "で", "Google", "に", "บารัค", "โอบามา"])
    assert text == "オバマは東京で Google に บารัคโอบามา"
    assert words_of(text, offsets) == ["オバマ", "は", "東京", "で", "Google", "に", "บารัค", "โอบามา"]


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


def test_decode_span_logits_is_greedy_on_best_labels():
    id2label = {0: "O", 1: "PER", 2: "LOC"}
    spans = [(0, 1, 0, 12), (1, 1, 7, 12), (3, 3, 21, 26), (4, 4, 27, 30)]
    logits = np.array([[0, 9, 1], [0, 4, 0], [0, 1, 6], [5, 1, 2], [7, 7, 7]], dtype=np.float32)  # last row: padding
    entities = decode_span_logits(logits, spans, id2label)
    assert [(e.start, e.end, e.label) for e in entities] == [(0, 12, "PER"), (21, 26, "LOC")]
    expected = np.exp(9) / (1 + np.exp(9) + np.exp(1))
    assert entities[0].score == pytest.approx(expected, rel=1e-6)
    assert [e.label for e in decode_span_logits(logits, spans, id2label, ignore_labels=[])] == ["PER", "LOC", "O"]
    assert decode_span_logits(np.zeros((0, 3)), [], id2label) == []


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
                     "Haag NNP I-NP I-LOC\n\nOK X X O\n\n東京 X X B-LOC\nで X X O\n", encoding="utf-8")  # fmt: skip
    first, second, third = read_conll(conll)
    assert first.text == "Jan woont in Den Haag" and first.entities == [(0, 3, "PER"), (13, 21, "LOC")]
    assert first.source == f"{conll}:3" and second.entities == [] and third.text == "東京で"
    assert third.entities == [(0, 2, "LOC")] and read_ner_file(conll)[0].text == first.text
    bad = tmp_path / "bad.conll"
    bad.write_text("lonely\n")
    with pytest.raises(ValueError, match="bad.conll:1"):
        read_conll(bad)

    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text('{"text": "Anna lives in Paris.", "entities": [{"start": 14, "end": 19, "label": "LOC"}], '
                     '"language": "en"}\n\n{"tokens": ["Bonn", "!"], "ner_tags": ["B-LOC", "O"]}\n'
                     '{"text": "奥巴马访问了东京", "entities": [{"start": 0, "end": 3, "label": "PER"}]}\n',
                     encoding="utf-8")  # fmt: skip
    records = read_ner_file(jsonl)
    assert records[0].entities == [(14, 19, "LOC")] and records[0].language == "en"
    assert records[1].text == "Bonn !" and records[1].entities == [(0, 4, "LOC")] and records[1].source.endswith(":3")
    assert records[2].entities == [(0, 3, "PER")]
    for body, match in [('{"text": "Anna", "entities": [{"start": 2, "end": 9, "label": "PER"}]}', "not a non-empty"),
                        ('{"text": "Anna", "entities": [{"start": 0}]}', "needs 'start', 'end' and 'label'"),
                        ('{"tokens": ["Anna"], "ner_tags": []}', "1 tokens but 0 tags"),
                        ("not json", "not a JSON line")]:  # fmt: skip
        broken = tmp_path / "broken.jsonl"
        broken.write_text('{"text": "ok"}\n' + body + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=f"broken.jsonl:2: .*{match}"):
            read_jsonl(broken)
    assert label_list(records) == ["O", "LOC", "PER"]


def test_misaligned_and_too_long_entities_are_reported_with_their_line(mluke_tokenizer, tmp_path, caplog):
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text('{"text": "Anna lives in Paris.", "entities": [{"start": 1, "end": 4, "label": "PER"}]}\n'
                     '{"text": "Den Haag aan zee", "entities": [{"start": 0, "end": 16, "label": "LOC"}]}\n',
                     encoding="utf-8")  # fmt: skip
    examples = read_jsonl(jsonl)
    with caplog.at_level(logging.WARNING, logger="mluke_hf.tasks.training"):
        features = ner_features(mluke_tokenizer, examples, {"O": 0, "LOC": 1, "PER": 2}, max_mention_length=3)
    assert f"{jsonl}:1: PER 'nna' [1, 4): not on candidate boundaries" in caplog.text
    assert f"{jsonl}:2: LOC 'Den Haag aan zee' [0, 16): too long" in caplog.text
    # Unreachable entities are not labelled, but still count as gold (misses) in the metrics.
    assert not any(any(feature["labels"]) for feature in features.dataset.features)


def test_word_token_counts_match_tokenize_in_one_batched_call(mluke_tokenizer):
    words = ["Paris", "Zürich", "東京", "Paris", "<mask>"]
    cache: dict[str, int] = {}
    counts = word_token_counts(mluke_tokenizer, words, cache)
    assert counts == [max(1, len(mluke_tokenizer.tokenize(word))) for word in words]
    assert set(cache) == set(words)
    mluke_tokenizer.task = "entity_classification"
    try:
        # Counting works whatever mode the tokenizer was loaded in, and leaves that mode alone.
        assert word_token_counts(mluke_tokenizer, words) == counts
        assert mluke_tokenizer.task == "entity_classification"
    finally:
        mluke_tokenizer.task = None


def test_encode_entity_spans_keeps_every_span(mluke_tokenizer):
    text = " ".join(["Paris"] * 40)
    spans = [(6 * index, 6 * index + 5) for index in range(40)]
    encoding = encode_entity_spans(mluke_tokenizer, text, spans, task="entity_span_classification")
    assert len(encoding["entity_ids"]) == 40  # more than the tokenizer's default max_entity_length (32)
    assert mluke_tokenizer.task is None
    cut = encode_entity_spans(mluke_tokenizer, text, spans, task="entity_span_classification", max_length=12)
    assert len(cut["input_ids"]) <= 12 and 0 < len(cut["entity_ids"]) < 40


def test_encode_span_features_windows_chunks_and_labels(mluke_tokenizer):
    sentence = "Anna Schmidt wohnt seit 2010 in Berlin und arbeitet bei Siemens ."
    text, offsets = words_from_tokens(sentence.split())
    labels = {(0, 1): 2, (6, 6): 1, (10, 10): 3}
    features = encode_span_features(mluke_tokenizer, text, offsets, 3, 8, 510, labels=labels)
    spans = [span for feature in features for span in feature.spans]
    assert [(s, e) for s, e, _, _ in spans] == enumerate_spans(12, 3)
    assert all(len(feature.spans) <= 8 for feature in features)
    for feature in features:
        assert feature.encoding["labels"] == [labels.get((s, e), 0) for s, e, _, _ in feature.spans]
        for start_word, end_word, start, end in feature.spans:
            assert (start, end) == (offsets[start_word][0], offsets[end_word][1])
    # A small token budget gives several windows; every span is decided at most once and every word is covered.
    # (Spans running past a window's right context are not candidates: the default context is a quarter of the
    # window, far longer than a mention at real sizes.)
    windowed = encode_span_features(mluke_tokenizer, text, offsets, 3, 8, 8, labels=labels)
    decided = [span[:2] for feature in windowed for span in feature.spans]
    assert len(decided) == len(set(decided)) and set(decided) <= set(enumerate_spans(12, 3))
    assert {(word, word) for word in range(12)} <= set(decided)
    assert len({tuple(feature.encoding["input_ids"]) for feature in windowed}) > 1
    assert all(len(feature.encoding["input_ids"]) <= 8 + 2 for feature in windowed)


@pytest.mark.parametrize("run", ["x" * 5000, "http://example.com/" + "a1b2c3" * 800, "東京" * 2000, "ก\u0e31" * 2500])
def test_a_run_longer_than_the_window_is_cut_into_units_that_fit(mluke_tokenizer, run, caplog):
    text = f"Anna {run} Berlin"
    max_tokens = 40
    with caplog.at_level(logging.WARNING):
        units, counts = text_units(mluke_tokenizer, text, max_tokens)
        features = encode_span_features(mluke_tokenizer, text, units, 2, 16, max_tokens, token_counts=counts)
    assert "skipped" not in caplog.text
    assert max(counts) <= max_tokens // 2 and len(units) > 3
    starts = grapheme_starts(text)
    assert all(start in starts and end in starts for start, end in units)
    # The units still tile the run, and every one of them is decided in some window that fits.
    assert "".join(text[start:end] for start, end in units) == text.replace(" ", "")
    assert all(len(feature.encoding["input_ids"]) <= max_tokens + 2 for feature in features)
    decided = {span[:2] for feature in features for span in feature.spans}
    assert {(index, index) for index in range(len(units))} <= decided


def test_ner_features_and_greedy_decoding_give_perfect_scores_from_gold_logits(mluke_tokenizer):
    examples = [NerExample("Jan woont in Den Haag", [(0, 3, "PER"), (13, 21, "LOC")]), NerExample("Niets hier"),
                NerExample("東京でオバマに会った", [(0, 2, "LOC"), (3, 6, "PER")])]  # fmt: skip
    label2id = {"O": 0, "LOC": 1, "PER": 2}
    features = ner_features(mluke_tokenizer, examples, label2id, max_mention_length=3, max_entity_length=4)
    assert isinstance(features, NerFeatures) and features.sentence_indices[0] == 0
    width = max(len(spans) for spans in features.spans)
    logits = np.full((len(features.spans), width, 3), -100.0)  # Trainer pads with -100
    for row, feature in enumerate(features.dataset.features):
        for column, label in enumerate(feature["labels"]):
            logits[row, column] = np.eye(3)[label] * 5
    id2label = {index: label for label, index in label2id.items()}
    assert decode_ner_predictions(logits, features, 3, id2label) == [example.entities for example in examples]
    metrics = ner_compute_metrics(examples, features, id2label)
    assert metrics(EvalPrediction(predictions=logits, label_ids=None))["f1"] == 1.0
    with pytest.raises(ValueError, match="expected"):
        metrics(EvalPrediction(predictions=logits[:1], label_ids=None))
    with pytest.raises(ValueError, match="not one of the model's labels"):
        ner_features(mluke_tokenizer, [NerExample("Bonn", [(0, 4, "GPE")])], label2id)


def test_ner_labels_keep_a_model_that_already_covers_the_data():
    from types import SimpleNamespace

    config = SimpleNamespace(id2label={0: "O", 1: "LOC", 2: "PER", 3: "ORG", 4: "MISC"})
    examples = [NerExample("Bonn", [(0, 4, "LOC")])]
    assert ner_labels(config, examples) == ["O", "LOC", "PER", "ORG", "MISC"]
    config.id2label = {0: "LABEL_0", 1: "LABEL_1"}
    assert ner_labels(config, examples) == ["O", "LOC"]

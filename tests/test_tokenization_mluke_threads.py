"""Thread safety as a tested property: one tokenizer, and one pipeline of each entity task, shared by 8 threads give
exactly the sequential results, with no exception.

Each test first runs its workload sequentially, then the same calls from 8 threads at once (each thread in its own
shuffled order, so different tasks and options overlap), and compares every result with the sequential one.
"""

from __future__ import annotations

import gc
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from transformers import pipeline

THREADS = 8
TEXT = "Barack Obama visited Tokyo and Paris."
OBAMA, TOKYO, PARIS = (0, 12), (21, 26), (31, 36)
TEXTS = [
    TEXT,
    "Angela Merkel besuchte 東京 und Москва im Mai.",
    "กรุงเทพมหานคร เป็นเมืองหลวงของประเทศไทย",
    "नई दिल्ली भारत की राजधानी है और मुंबई बड़ा शहर है।",
    "القاهرة عاصمة مصر <mask> وأكبر مدنها.",
]


def _plain(value):
    """Outputs as plain Python values (tensors to lists), for exact comparison."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict) or hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def run_in_threads(calls: list, rounds: int = 2) -> tuple[list, list]:
    """Run every call sequentially, then `rounds` times from each of 8 threads in a shuffled order.

    Returns (mismatches, exceptions): the (call index, result) pairs that differ from the sequential result, and the
    exceptions raised in threads.
    """
    expected = [_plain(call()) for call in calls]
    mismatches, exceptions = [], []

    def worker(seed: int) -> None:
        order = [index for _ in range(rounds) for index in range(len(calls))]
        random.Random(seed).shuffle(order)
        for index in order:
            try:
                result = _plain(calls[index]())
            except Exception as error:  # noqa: BLE001 - every exception is a failure to report
                exceptions.append((index, repr(error)))
                continue
            if result != expected[index]:
                mismatches.append((index, result))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))
    return mismatches, exceptions


def tokenizer_calls(tokenizer) -> list:
    """Mixed tasks and options on one tokenizer (the task given per call)."""
    spans = [(0, 6), (7, 12), (21, 26)]
    calls = [
        lambda: tokenizer(TEXTS),
        lambda: tokenizer(TEXT, entity_spans=[TOKYO], task="entity_classification", return_tensors="pt"),
        lambda: tokenizer(
            TEXT, entity_spans=[TOKYO, OBAMA], task="entity_pair_classification", padding="max_length", max_length=32
        ),
        lambda: tokenizer(
            [TEXT, TEXT], entity_spans=[spans, spans[:1]], task="entity_span_classification", padding=True
        ),
        lambda: tokenizer(TEXT, entity_spans=spans, entities=["en:Barack Obama", "[MASK]", "en:Tokyo"]),
        lambda: tokenizer(TEXTS[1], text_pair=TEXTS[2], truncation="only_second", max_length=16),
        lambda: tokenizer.tokenize(TEXTS[3]),
        lambda: tokenizer.pad(
            [
                tokenizer(TEXT, entity_spans=spans[:1], task="entity_span_classification"),
                tokenizer(TEXT, entity_spans=spans, task="entity_span_classification"),
            ],
        ),
        lambda: tokenizer.decode(tokenizer(TEXTS[4])["input_ids"]),
        lambda: tokenizer(TEXTS[4], split_special_tokens=True),
    ]
    if tokenizer.is_fast:
        calls += [
            lambda: tokenizer(TEXTS, return_offsets_mapping=True, padding=True),
            lambda: tokenizer(
                TEXT, entity_spans=spans, return_offsets_mapping=True, task="entity_span_classification"
            ),
            lambda: tokenizer(TEXTS[1], return_overflowing_tokens=True, stride=2, max_length=8, truncation=True),
            lambda: tokenizer(TEXTS[:2]).word_ids(1),
        ]
    return calls


@pytest.mark.parametrize("class_name", ["MLukeTokenizer", "MLukeTokenizerFast"])
def test_one_tokenizer_with_mixed_tasks_in_8_threads(class_name, tokenizer_folders):
    import mluke_hf

    tokenizer = getattr(mluke_hf, class_name).from_pretrained(tokenizer_folders["unigram-full-base"])
    gc_was_enabled = gc.isenabled()
    mismatches, exceptions = run_in_threads(tokenizer_calls(tokenizer), rounds=3)
    assert exceptions == []
    assert mismatches == []
    assert tokenizer.task is None and tokenizer.max_entity_length == 32
    assert gc.isenabled() == gc_was_enabled  # no process-wide switch left behind


def test_encoding_leaves_the_garbage_collector_alone(tokenizer_folders, monkeypatch):
    """No process-wide side effect: the tokenizers never switch the cyclic garbage collector off."""
    import mluke_hf

    switched = []
    monkeypatch.setattr(gc, "disable", lambda: switched.append("disable"))
    for class_name in ("MLukeTokenizer", "MLukeTokenizerFast"):
        tokenizer = getattr(mluke_hf, class_name).from_pretrained(tokenizer_folders["unigram-full-base"])
        for call in tokenizer_calls(tokenizer):
            call()
    assert switched == []


# -- pipelines ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def span_pipeline(pipeline_folder):
    return pipeline("entity-span-classification", model=str(pipeline_folder("LukeForEntitySpanClassification")))


@pytest.mark.slow
def test_entity_span_pipeline_and_its_tokenizer_in_8_threads(span_pipeline):
    """The NER pipeline from 8 threads, while the same threads also call its tokenizer directly."""
    tokenizer = span_pipeline.tokenizer
    calls = [lambda text=text: span_pipeline(text) for text in TEXTS]
    calls += [lambda: span_pipeline(TEXTS[:3], batch_size=2)]
    calls += tokenizer_calls(tokenizer)
    mismatches, exceptions = run_in_threads(calls)
    assert exceptions == []
    assert mismatches == []


@pytest.mark.slow
def test_entity_classification_pipeline_in_8_threads(pipeline_folder):
    labels = {0: "person", 1: "location", 2: "organization"}
    clf = pipeline("entity-classification", model=str(pipeline_folder("LukeForEntityClassification", id2label=labels)))
    calls = [lambda span=span: clf(TEXT, span=span) for span in (OBAMA, TOKYO, PARIS)]
    calls += [lambda: clf([TEXT, TEXTS[1]], span=[TOKYO, (23, 25)], batch_size=2)]
    calls += [lambda: clf.tokenizer(TEXT, entity_spans=[OBAMA, PARIS], task="entity_pair_classification")]
    mismatches, exceptions = run_in_threads(calls)
    assert exceptions == []
    assert mismatches == []


@pytest.mark.slow
def test_entity_pair_pipeline_in_8_threads(pipeline_folder):
    labels = {0: "no_relation", 1: "visited", 2: "lives_in"}
    rel = pipeline(
        "entity-pair-classification", model=str(pipeline_folder("LukeForEntityPairClassification", id2label=labels))
    )
    calls = [lambda pair=pair: rel(TEXT, head=pair[0], tail=pair[1]) for pair in ((OBAMA, TOKYO), (OBAMA, PARIS))]
    calls += [lambda: rel(TEXT, head=TOKYO, tail=OBAMA)]
    calls += [lambda: rel.tokenizer(TEXT, entity_spans=[TOKYO], task="entity_classification")]
    mismatches, exceptions = run_in_threads(calls)
    assert exceptions == []
    assert mismatches == []


@pytest.mark.slow
def test_entity_fill_mask_pipeline_in_8_threads(pipeline_folder):
    from fixtures_pipelines import PIPELINE_ENTITIES

    fill = pipeline("entity-fill-mask", model=str(pipeline_folder("LukeForMaskedLM", entities=PIPELINE_ENTITIES)))
    calls = [lambda span=span: fill(TEXT, span=span, top_k=3) for span in (OBAMA, TOKYO, PARIS)]
    calls += [lambda: fill.tokenizer(TEXT, entity_spans=[TOKYO, OBAMA], task="entity_pair_classification")]
    mismatches, exceptions = run_in_threads(calls)
    assert exceptions == []
    assert mismatches == []

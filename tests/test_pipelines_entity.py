"""entity-classification, entity-pair-classification and entity-fill-mask pipelines: outputs against the model run
directly on the tokenizer's encoding, label modes, call forms and errors."""

from __future__ import annotations

import shutil

import pytest
import torch
from transformers import AutoTokenizer, pipeline

import mluke_hf
from mluke_hf.pipelines import EntityClassificationPipeline, EntityFillMaskPipeline, EntityPairClassificationPipeline

from fixtures_pipelines import PIPELINE_ENTITIES

TEXT = "Barack Obama visited Tokyo and Paris."
OBAMA, TOKYO, PARIS = (0, 12), (21, 26), (31, 36)
TYPING_LABELS = {0: "person", 1: "location", 2: "organization"}
RELATION_LABELS = {0: "no_relation", 1: "visited", 2: "lives_in", 3: "born_in"}


@pytest.fixture(scope="module")
def typing_folder(pipeline_folder):
    return pipeline_folder("LukeForEntityClassification", id2label=TYPING_LABELS)


@pytest.fixture(scope="module")
def multi_label_folder(pipeline_folder):
    return pipeline_folder(
        "LukeForEntityClassification",
        id2label=TYPING_LABELS,
        config_overrides={"problem_type": "multi_label_classification"},
        seed=3,
    )


@pytest.fixture(scope="module")
def relation_folder(pipeline_folder):
    return pipeline_folder("LukeForEntityPairClassification", id2label=RELATION_LABELS)


@pytest.fixture(scope="module")
def cloze_folder(pipeline_folder):
    return pipeline_folder("LukeForMaskedLM", entities=PIPELINE_ENTITIES)


def direct_logits(model, tokenizer, text, spans, task, output="logits"):
    """The model's logits on the tokenizer's own encoding: the reference the pipelines must reproduce."""
    encoding = tokenizer(text, entity_spans=list(spans), return_tensors="pt", task=task)
    with torch.no_grad():
        return getattr(model(**encoding), output)[0]


def as_pairs(results):
    return [(result["label"], result["score"]) for result in results]


# -- entity-classification --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["luke", "mluke"])
def test_entity_classification_is_the_softmax_of_the_marked_mention(pipeline_folder, typing_folder, layout):
    folder = (
        typing_folder
        if layout == "luke"
        else pipeline_folder("LukeForEntityClassification", layout="mluke", id2label=TYPING_LABELS)
    )
    clf = pipeline("entity-classification", model=str(folder))
    assert isinstance(clf, EntityClassificationPipeline)
    assert type(clf.model) is mluke_hf.MLukeForEntityClassification
    results = clf(TEXT, span=TOKYO)
    probabilities = torch.softmax(direct_logits(clf.model, clf.tokenizer, TEXT, [TOKYO], "entity_classification"), -1)
    expected = sorted(((TYPING_LABELS[i], p.item()) for i, p in enumerate(probabilities)), key=lambda item: -item[1])
    assert [label for label, _ in as_pairs(results)] == [label for label, _ in expected]
    assert [score for _, score in as_pairs(results)] == pytest.approx([score for _, score in expected], abs=1e-5)
    # The span matters: another mention gets other scores.
    assert as_pairs(clf(TEXT, span=OBAMA)) != as_pairs(results)


def test_entity_classification_top_k(typing_folder):
    clf = pipeline("entity-classification", model=str(typing_folder))
    everything = clf(TEXT, span=TOKYO)
    assert clf(TEXT, span=TOKYO, top_k=1) == everything[:1]
    assert pipeline("entity-classification", model=str(typing_folder), top_k=2)(TEXT, span=TOKYO) == everything[:2]


def test_multi_label_head_reports_labels_above_the_threshold(multi_label_folder):
    clf = pipeline("entity-classification", model=str(multi_label_folder))
    assert clf.model.config.problem_type == "multi_label_classification"
    probabilities = torch.sigmoid(
        direct_logits(clf.model, clf.tokenizer, TEXT, [PARIS], "entity_classification")
    ).tolist()
    for threshold in (0.0, 0.5, sorted(probabilities)[1], 1.0):
        results = clf(TEXT, span=PARIS, threshold=threshold)
        expected = sorted(
            ((TYPING_LABELS[i], p) for i, p in enumerate(probabilities) if p >= threshold), key=lambda x: -x[1]
        )
        assert [label for label, _ in as_pairs(results)] == [label for label, _ in expected]
        assert [score for _, score in as_pairs(results)] == pytest.approx([s for _, s in expected], abs=1e-5)
    # Sigmoid scores are independent: they need not sum to 1.
    assert sum(result["score"] for result in clf(TEXT, span=PARIS, threshold=0.0)) != pytest.approx(1.0)


def test_entity_classification_call_forms_agree(typing_folder):
    clf = pipeline("entity-classification", model=str(typing_folder))
    tokyo, paris = clf(TEXT, span=TOKYO), clf(TEXT, span=PARIS)
    other = "Paris is in France."
    assert clf({"text": TEXT, "span": TOKYO}) == tokyo
    batched = clf([{"text": TEXT, "span": TOKYO}, {"text": TEXT, "span": PARIS}], batch_size=2)
    by_list_of_spans = clf([TEXT, TEXT], span=[TOKYO, PARIS])
    same_span = clf([TEXT, other], span=(0, 5))
    for results in (batched, by_list_of_spans):
        assert [label for label, _ in as_pairs(results[0])] == [label for label, _ in as_pairs(tokyo)]
        assert [s for _, s in as_pairs(results[0])] == pytest.approx([s for _, s in as_pairs(tokyo)], abs=1e-5)
        assert [s for _, s in as_pairs(results[1])] == pytest.approx([s for _, s in as_pairs(paris)], abs=1e-5)
    assert [s for _, s in as_pairs(same_span[1])] == pytest.approx(
        [s for _, s in as_pairs(clf(other, span=(0, 5)))], abs=1e-5
    )


# -- entity-pair-classification ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["luke", "mluke"])
def test_entity_pair_classification_scores_head_and_tail(pipeline_folder, layout):
    folder = pipeline_folder("LukeForEntityPairClassification", layout=layout, id2label=RELATION_LABELS)
    rel = pipeline("entity-pair-classification", model=str(folder))
    assert isinstance(rel, EntityPairClassificationPipeline)
    assert type(rel.model) is mluke_hf.MLukeForEntityPairClassification
    results = rel(TEXT, head=OBAMA, tail=TOKYO)
    logits = direct_logits(rel.model, rel.tokenizer, TEXT, [OBAMA, TOKYO], "entity_pair_classification")
    probabilities = torch.softmax(logits, -1)
    expected = sorted(((RELATION_LABELS[i], p.item()) for i, p in enumerate(probabilities)), key=lambda x: -x[1])
    assert [label for label, _ in as_pairs(results)] == [label for label, _ in expected]
    assert [score for _, score in as_pairs(results)] == pytest.approx([score for _, score in expected], abs=1e-5)
    # Head and tail are not interchangeable (<ent> vs <ent2>, [MASK] vs [MASK2]).
    swapped = rel(TEXT, head=TOKYO, tail=OBAMA)
    assert dict(as_pairs(swapped)) != pytest.approx(dict(as_pairs(results)), abs=1e-6)
    batched = rel([{"text": TEXT, "head": OBAMA, "tail": TOKYO}, {"text": TEXT, "head": TOKYO, "tail": OBAMA}])
    assert [s for _, s in as_pairs(batched[1])] == pytest.approx([s for _, s in as_pairs(swapped)], abs=1e-5)


# -- entity-fill-mask -------------------------------------------------------------------------------------------------


def test_fill_mask_ranks_every_named_entity_by_the_entity_head(cloze_folder):
    fill = pipeline("entity-fill-mask", model=str(cloze_folder))
    assert isinstance(fill, EntityFillMaskPipeline) and type(fill.model) is mluke_hf.MLukeForMaskedLM
    text = "Tokyo is the capital of <mask>."
    span = (text.index("<mask>"), text.index("<mask>") + len("<mask>"))
    results = fill(text, top_k=10)
    vocab = fill.tokenizer.entity_vocab
    entity_ids = sorted({index for name, index in vocab.items() if not name.startswith("[")})
    assert len(results) == len(entity_ids) == len(PIPELINE_ENTITIES)
    logits = direct_logits(fill.model, fill.tokenizer, text, [span], None, output="entity_logits")[0]
    probabilities = torch.softmax(logits[entity_ids], -1)
    expected = sorted(zip(entity_ids, probabilities.tolist()), key=lambda item: -item[1])
    assert [vocab[result["entity"]] for result in results] == [index for index, _ in expected]
    assert [result["score"] for result in results] == pytest.approx([p for _, p in expected], abs=1e-5)
    # The mask run is found without a span; top_k cuts.
    assert fill(text, span=span, top_k=2) == fill(text, top_k=2) == results[:2]


def test_fill_mask_candidates_and_language(cloze_folder):
    fill = pipeline("entity-fill-mask", model=str(cloze_folder))
    text = "Tokyo is the capital of <mask>."
    everything = {fill.tokenizer.entity_vocab[r["entity"]]: r["score"] for r in fill(text, top_k=10)}
    results = fill(text, candidates=["en:Japan", "Berlin"])
    assert {r["entity"] for r in results} == {"en:Japan", "Berlin"}
    vocab = fill.tokenizer.entity_vocab
    japan, berlin = everything[vocab["en:Japan"]], everything[vocab["Berlin"]]
    expected = {"en:Japan": japan / (japan + berlin), "Berlin": berlin / (japan + berlin)}
    assert {r["entity"]: r["score"] for r in results} == pytest.approx(expected, abs=1e-5)
    # With a language, bare titles read as "<language>:title", and results are that language's names.
    english = fill(text, candidates=["Japan", "Germany"], language="en")
    assert {r["entity"] for r in english} == {"en:Japan", "en:Germany"}
    german = fill(text, language="de", top_k=10)
    assert {r["entity"] for r in german} == {"de:Japan", "de:Deutschland"}
    assert sum(r["score"] for r in german) == pytest.approx(1.0, abs=1e-5)
    assert [r["entity"] for r in fill(text, language="ja", top_k=10)] == sorted(
        ["ja:日本", "ja:東京"], key=lambda name: -everything[fill.tokenizer.entity_vocab[name]]
    )


def test_fill_mask_on_an_indexed_vocabulary_reads_no_dict(cloze_folder, tmp_path, monkeypatch):
    """A released-size vocabulary answers from its index (forced here on the small one): the same results as the
    whole-file read, and the file is read whole only for `language=` (whose names lie all over it)."""
    from mluke_hf.text import entity_vocab as entity_vocab_module

    text = "Tokyo is the capital of <mask>."
    plain = pipeline("entity-fill-mask", model=str(cloze_folder))
    expected = [plain(text, top_k=10), plain(text, candidates=["en:Japan", "Berlin"]), plain(text, language="de")]
    monkeypatch.setattr(entity_vocab_module, "INDEX_MIN_BYTES", 0)
    monkeypatch.setenv("MLUKE_HF_CACHE", str(tmp_path / "cache"))
    folder = shutil.copytree(cloze_folder, tmp_path / "copy")  # a file of its own, not the instance loaded above
    fill = pipeline("entity-fill-mask", model=str(folder))
    assert fill(text, top_k=10) == expected[0]
    assert fill(text, candidates=["en:Japan", "Berlin"]) == expected[1]
    assert not fill.tokenizer.entity_vocab.loaded
    assert fill(text, language="de") == expected[2]
    assert fill.tokenizer.entity_vocab.loaded


def test_fill_mask_reads_a_languages_names_once(cloze_folder, monkeypatch):
    fill = pipeline("entity-fill-mask", model=str(cloze_folder))
    fill.remembered_languages = 2
    searches = []
    original = fill._find_language_choices
    monkeypatch.setattr(
        fill, "_find_language_choices", lambda language: searches.append(language) or original(language)
    )
    text = "Tokyo is the capital of <mask>."
    first = fill(text, language="de")
    assert fill(text, language="de") == first and searches == ["de"]
    fill(text, language="en"), fill(text, language="ja"), fill(text, language="de")  # "de" was the oldest: dropped
    assert searches == ["de", "en", "ja", "de"]
    with pytest.raises(ValueError, match="no entity of the vocabulary has a 'xx:' name"):
        fill(text, language="xx")


def test_fill_mask_batches_lists(cloze_folder):
    fill = pipeline("entity-fill-mask", model=str(cloze_folder))
    texts = ["Tokyo is the capital of <mask>.", "<mask> <mask> is a city in Germany."]
    singles = [fill(text) for text in texts]
    batched = fill(texts, batch_size=2)
    for single, together in zip(singles, batched):
        assert [r["entity"] for r in single] == [r["entity"] for r in together]
        assert [r["score"] for r in single] == pytest.approx([r["score"] for r in together], abs=1e-5)


def test_fill_mask_refuses_a_lite_checkpoint(pipeline_folder):
    folder = pipeline_folder("LukeForMaskedLM", variant="large-lite")
    with pytest.raises(ValueError, match="only the special entities"):
        pipeline("entity-fill-mask", model=str(folder))


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"candidates": ["Atlantis"]}, ValueError, r"candidates \['Atlantis'\]"),
        ({"candidates": "en:Japan"}, TypeError, "candidates must be a non-empty list"),
        ({"candidates": ["[MASK]"]}, ValueError, "not entities"),
        ({"language": "xx"}, ValueError, "language='xx'.*languages present"),
        ({"top_k": 0}, ValueError, "top_k"),
        ({"span": (5, 2)}, ValueError, "reversed"),
    ],
)
def test_fill_mask_errors(cloze_folder, arguments, error, match):
    fill = pipeline("entity-fill-mask", model=str(cloze_folder))
    with pytest.raises(error, match=match):
        fill("Tokyo is the capital of <mask>.", **arguments)


def test_fill_mask_without_mask_or_span_asks_for_a_span(cloze_folder):
    fill = pipeline("entity-fill-mask", model=str(cloze_folder))
    with pytest.raises(ValueError, match="span is required"):
        fill("Tokyo is the capital of Japan.")


# -- errors shared by the span pipelines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({}, ValueError, "span is required"),
        ({"span": (0, 99)}, ValueError, r"span=\(0, 99\) lies outside the text.*0 to 37"),
        ({"span": (-1, 3)}, ValueError, "lies outside the text"),
        ({"span": (12, 0)}, ValueError, r"reversed.*\(0, 12\)"),
        ({"span": (4, 4)}, ValueError, "empty"),
        ({"span": (12, 13)}, ValueError, "only whitespace"),
        ({"span": "0-5"}, TypeError, "span must be a \\(start, end\\) pair.*got span='0-5'"),
        ({"span": (0, 5, 7)}, TypeError, "span must be a \\(start, end\\) pair"),
        ({"span": (0.0, 5)}, TypeError, "span offsets must be ints"),
        ({"span": (True, 5)}, TypeError, "span offsets must be ints"),
        ({"span": TOKYO, "top_k": -1}, ValueError, "top_k"),
        ({"span": TOKYO, "threshold": 2}, ValueError, "threshold"),
        ({"span": TOKYO, "head": OBAMA}, TypeError, "unexpected arguments"),
    ],
)
def test_entity_classification_errors_name_the_argument(typing_folder, arguments, error, match):
    clf = pipeline("entity-classification", model=str(typing_folder))
    with pytest.raises(error, match=match):
        clf(TEXT, **arguments)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda rel: rel(TEXT, head=OBAMA), ValueError, "tail is required"),
        (lambda rel: rel(TEXT, head=OBAMA, tail=(30, 40)), ValueError, "tail=.*outside"),
        (lambda rel: rel([TEXT, TEXT], head=OBAMA, tail=[TOKYO]), ValueError, "list of 2 spans"),
        (
            lambda rel: rel([{"text": TEXT, "head": OBAMA, "tail": (9, 2)}]),
            ValueError,
            r"tail=\(9, 2\) \(input 0\) is reversed",
        ),
        (lambda rel: rel({"text": TEXT, "head": OBAMA, "tail": TOKYO, "span": PARIS}), ValueError, "unknown keys"),
    ],
)
def test_entity_pair_errors_name_the_argument(relation_folder, call, error, match):
    rel = pipeline("entity-pair-classification", model=str(relation_folder))
    with pytest.raises(error, match=match):
        call(rel)


def test_span_beyond_the_model_window_is_an_error(typing_folder):
    clf = pipeline("entity-classification", model=str(typing_folder))
    text = "Tokyo " * 600 + "Paris"
    with pytest.raises(ValueError, match="span lies beyond the model's window"):
        clf(text, span=(len(text) - 5, len(text)))
    assert clf(text, span=(0, 5))  # a mention inside the window still works (the rest is cut)


def test_entity_pipelines_need_an_mluke_tokenizer(typing_folder):
    model = mluke_hf.AutoModelForEntityClassification.from_pretrained(typing_folder)
    with pytest.raises(ValueError, match="needs an mLUKE tokenizer"):
        EntityClassificationPipeline(model=model, tokenizer=None)
    tokenizer = AutoTokenizer.from_pretrained(typing_folder)
    assert EntityClassificationPipeline(model=model, tokenizer=tokenizer)(TEXT, span=TOKYO)

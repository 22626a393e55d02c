"""The entity-span-classification (NER) pipeline: loading, decoding, windows, batching, inputs and errors."""

from __future__ import annotations

import pytest
import torch
from transformers import pipeline

import mluke_hf
from mluke_hf.pipelines import EntitySpanClassificationPipeline
from mluke_hf.tasks.ner import split_words

SPAN_ARCHITECTURE = "LukeForEntitySpanClassification"
TEXT = "Barack Obama visited Tokyo and Paris."


@pytest.fixture(scope="module")
def ner(pipeline_folder):
    return pipeline("entity-span-classification", model=str(pipeline_folder(SPAN_ARCHITECTURE)))


class ScriptedSpanLogits(torch.nn.Module):
    """Stands in for the model: each span's logits come from a table keyed by the span's decoded text.

    Spans not in the table get `O`; so the pipeline's expected output is known whatever chunks, windows and batches
    it makes, while the tokenizer, padding, chunking and decoding all run for real.
    """

    def __init__(self, model, tokenizer, table: dict[str, tuple[str, float]], spaceless: bool = False):
        super().__init__()
        self.config, self.tokenizer, self.table = model.config, tokenizer, table
        # Units inside a whitespace token are encoded apart (each with its own `▁`): compare without spaces.
        self.spaceless = spaceless
        self.calls = 0
        self.longest_input = 0
        self.dtype, self.device = model.dtype, model.device

    def forward(self, input_ids, entity_start_positions, entity_end_positions, entity_attention_mask, **_):
        self.calls += 1
        self.longest_input = max(self.longest_input, input_ids.shape[1])
        label2id = self.config.label2id
        logits = torch.zeros(*entity_start_positions.shape, len(label2id))
        logits[..., label2id["O"]] = 1.0
        for row in range(input_ids.shape[0]):
            for column in range(entity_start_positions.shape[1]):
                if not entity_attention_mask[row, column]:
                    continue
                start, end = entity_start_positions[row, column], entity_end_positions[row, column]
                span_text = self.tokenizer.decode(input_ids[row, start : end + 1]).strip()
                if self.spaceless:
                    span_text = "".join(span_text.split())
                if span_text in self.table:
                    label, logit = self.table[span_text]
                    logits[row, column, label2id[label]] = logit
        return {"logits": logits}


@pytest.fixture
def scripted_ner(ner):
    def make(table, spaceless=False, **kwargs):
        model = ScriptedSpanLogits(ner.model, ner.tokenizer, table, spaceless)
        built = EntitySpanClassificationPipeline(model=ner.model, tokenizer=ner.tokenizer, **kwargs)
        built.model = model
        return built, model

    return make


def test_pipeline_factory_builds_it_without_a_tokenizer_argument(ner):
    assert isinstance(ner, EntitySpanClassificationPipeline)
    assert type(ner.model) is mluke_hf.MLukeForEntitySpanClassification
    assert type(ner.tokenizer).__name__ == "MLukeTokenizerFast"


@pytest.mark.parametrize("layout", ["luke", "mluke"])
def test_output_is_aggregated_entities_over_whole_words(pipeline_folder, layout):
    ner = pipeline("entity-span-classification", model=str(pipeline_folder(SPAN_ARCHITECTURE, layout=layout)))
    entities = ner(TEXT)
    labels = set(ner.model.config.id2label.values()) - {"O"}
    word_starts = {start for start, _ in split_words(TEXT)}
    word_ends = {end for _, end in split_words(TEXT)}
    assert entities, "random weights give some non-O spans"
    previous_end = 0
    for entity in entities:
        assert set(entity) == {"entity_group", "score", "word", "start", "end"}
        assert entity["entity_group"] in labels
        assert 0.0 < entity["score"] <= 1.0
        assert entity["start"] in word_starts and entity["end"] in word_ends
        assert entity["word"] == TEXT[entity["start"] : entity["end"]]
        assert entity["start"] >= previous_end, "entities are sorted and do not overlap"
        previous_end = entity["end"]


def test_released_and_plugin_layouts_give_the_same_entities(pipeline_folder):
    released = pipeline("entity-span-classification", model=str(pipeline_folder(SPAN_ARCHITECTURE)))
    plugin = pipeline("entity-span-classification", model=str(pipeline_folder(SPAN_ARCHITECTURE, layout="mluke")))
    assert plugin.model.config.model_type == "mluke" and released.model.config.model_type == "luke"
    first, second = released(TEXT), plugin(TEXT)
    assert [(e["start"], e["end"], e["entity_group"]) for e in first] == [
        (e["start"], e["end"], e["entity_group"]) for e in second
    ]
    assert [e["score"] for e in first] == pytest.approx([e["score"] for e in second], abs=1e-5)


def test_greedy_decoding_keeps_the_best_non_overlapping_spans(scripted_ner):
    table = {
        "Barack Obama": ("PER", 9.0),
        "Obama visited": ("ORG", 5.0),  # overlaps a better span: dropped
        "Obama": ("PER", 4.0),  # inside a better span: dropped
        "Tokyo": ("LOC", 6.0),
        "Tokyo and Paris": ("ORG", 3.0),  # overlaps better spans: dropped
        "Paris": ("LOC", 7.0),
    }
    ner, _ = scripted_ner(table)
    entities = ner(TEXT)
    assert [(e["word"], e["entity_group"], e["start"], e["end"]) for e in entities] == [
        ("Barack Obama", "PER", 0, 12),
        ("Tokyo", "LOC", 21, 26),
        ("Paris", "LOC", 31, 36),
    ]
    # Reported scores are the probabilities of the chosen labels (softmax over the scripted logits).
    # Scripted logits of "Barack Obama": O=1, PER=9, others 0 (labels O, LOC, PER, ORG, MISC).
    expected = torch.softmax(torch.tensor([1.0, 0.0, 9.0, 0.0, 0.0]), -1)
    assert entities[0]["score"] == pytest.approx(expected[2].item(), rel=1e-5)


def test_chunks_of_max_entity_length_are_batched_into_forward_passes(scripted_ner):
    table = {"Barack Obama": ("PER", 9.0), "Paris": ("LOC", 7.0)}
    ner, model = scripted_ner(table)
    words = len(split_words(TEXT))  # 7 words
    spans = sum(min(3, words - start) for start in range(words))  # max_mention_length=3
    entities = ner(TEXT, max_mention_length=3, max_entity_length=2, batch_size=4)
    assert [e["word"] for e in entities] == ["Barack Obama", "Paris"]
    chunks = -(-spans // 2)
    assert model.calls == -(-chunks // 4)


def test_max_mention_length_limits_the_span_length(scripted_ner):
    ner, _ = scripted_ner({"Barack Obama": ("PER", 9.0), "Obama": ("PER", 2.0)})
    assert [e["word"] for e in ner(TEXT, max_mention_length=1)] == ["Obama"]


def test_long_texts_are_read_in_windows_with_the_same_result(scripted_ner):
    sentence = "Barack Obama visited Tokyo and Paris . "
    text = sentence * 12
    table = {"Barack Obama": ("PER", 9.0), "Tokyo": ("LOC", 6.0), "Paris": ("LOC", 7.0)}
    ner, model = scripted_ner(table)
    windowed = ner(text, max_tokens=40)
    expected_words = ["Barack Obama", "Tokyo", "Paris"] * 12
    assert [e["word"] for e in windowed] == expected_words
    for entity in windowed:
        assert text[entity["start"] : entity["end"]] == entity["word"]
    # Every model input held at most 40 word tokens (+ <s> </s>), though the whole text needs far more.
    whole, whole_model = scripted_ner(table)
    assert [e["word"] for e in whole(text, max_tokens=500)] == expected_words
    assert model.longest_input <= 42 < whole_model.longest_input


def test_lists_batch_and_equal_one_by_one_results(ner):
    texts = [TEXT, "Angela Merkel lebt in Berlin.", "", "Paris"]
    one_by_one = [ner(text) for text in texts]
    batched = ner(texts, batch_size=5)
    assert len(batched) == 4 and batched[2] == []
    for single, together in zip(one_by_one, batched):
        assert [(e["start"], e["end"], e["entity_group"]) for e in single] == [
            (e["start"], e["end"], e["entity_group"]) for e in together
        ]
        assert [e["score"] for e in single] == pytest.approx([e["score"] for e in together], abs=1e-5)


def test_chunks_are_batched_by_size_and_results_keep_the_input_order(scripted_ner):
    table = {"Barack Obama": ("PER", 9.0), "Paris": ("LOC", 7.0), "Berlin": ("LOC", 6.0)}
    texts = [TEXT, "Paris", "Angela Merkel lebt in Berlin und liebt Paris.", "Berlin"]
    one_by_one = [[(e["word"], e["entity_group"]) for e in scripted_ner(table)[0](text)] for text in texts]
    ner, model = scripted_ner(table)
    entity_counts = []  # per forward pass: real entities of each row
    forward = model.forward

    def recording_forward(**inputs):
        entity_counts.append(inputs["entity_attention_mask"].sum(dim=1).tolist())
        return forward(**inputs)

    model.forward = recording_forward
    batched = ner(texts, max_mention_length=3, max_entity_length=4, batch_size=3)
    assert [[(e["word"], e["entity_group"]) for e in result] for result in batched] == [
        [(word, label) for word, label in result] for result in one_by_one
    ]
    assert one_by_one[0] == [("Barack Obama", "PER"), ("Paris", "LOC")]
    rows = [count for counts in entity_counts for count in counts]
    # Sorted by entity count: the short last chunks of the texts share batches instead of padding full ones.
    assert rows == sorted(rows) and rows[0] < 4 and rows[-1] == 4


def test_dicts_and_generators_work_like_strings(ner):
    expected = ner(TEXT)
    assert ner({"text": TEXT}) == expected
    assert list(ner(text for text in [TEXT, TEXT])) == [expected, expected]


@pytest.mark.parametrize("bad", [42, {"txt": TEXT}])
def test_a_stream_delivers_every_result_before_a_bad_item_then_names_it(scripted_ner, bad):
    ner, _ = scripted_ner({"Paris": ("LOC", 7.0)})
    texts = ["Paris", "Tokyo and Paris", "東京", "Paris Paris", "nothing here"]
    delivered = []
    with pytest.raises((TypeError, ValueError), match="input 5"):
        delivered.extend(ner(item for item in [*texts, bad, "Paris"]))  # keeps what came before the error
    assert [[entity["word"] for entity in result] for result in delivered] == [
        ["Paris"],
        ["Paris"],
        [],
        ["Paris", "Paris"],
        [],
    ]


def test_entities_inside_spaceless_clauses_and_attached_particles(scripted_ner):
    table = {"東京": ("LOC", 8.0), "日本": ("LOC", 7.0), "北京": ("LOC", 8.0), "서울": ("LOC", 8.0),
             "مصر": ("LOC", 8.0), "القاهرة": ("LOC", 7.0), "กรุงเทพมหานคร": ("LOC", 8.0), "दिल्ली": ("LOC", 8.0)}  # fmt: skip
    ner, _ = scripted_ner(table, spaceless=True)
    texts = {
        "東京は日本の首都です": ["東京", "日本"],  # Japanese, no spaces
        "北京是首都": ["北京"],  # Chinese, no spaces
        "서울에서 만났다": ["서울"],  # Korean particle attached
        "القاهرة ومصر": ["القاهرة", "مصر"],  # Arabic clitic attached
        "ไปกรุงเทพมหานครเมื่อวาน": ["กรุงเทพมหานคร"],  # Thai, no spaces
        "नई दिल्ली भारत की राजधानी है।": ["दिल्ली"],  # Devanagari: whole words, vowel signs kept
    }
    for text, expected in texts.items():
        entities = ner(text)
        assert [entity["word"] for entity in entities] == expected, text
        for entity in entities:
            assert text[entity["start"] : entity["end"]] == entity["word"]


@pytest.mark.parametrize("run", ["a" * 5000, "東京" * 200, "x\u0301" * 2500])
def test_a_single_run_longer_than_the_model_window_never_raises(scripted_ner, run):
    ner, model = scripted_ner({"Paris": ("LOC", 7.0)})
    text = f"Paris {run} Paris"
    entities = ner(text, max_tokens=60, max_mention_length=2)
    assert [(entity["word"], entity["start"]) for entity in entities] == [("Paris", 0), ("Paris", len(text) - 5)]
    assert model.longest_input <= 62
    # At the model's own window too.
    assert ner(run, max_mention_length=2) == []


def test_ignore_labels_can_report_outside_spans(scripted_ner):
    ner, _ = scripted_ner({"Paris": ("LOC", 7.0)})
    entities = ner("Paris", ignore_labels=[])
    assert [(e["word"], e["entity_group"]) for e in entities] == [("Paris", "LOC")]
    assert ner("Tokyo", ignore_labels=[]) == [
        {
            "entity_group": "O",
            "score": pytest.approx(1 / (1 + 4 * torch.exp(torch.tensor(-1.0)).item()), rel=1e-5),
            "word": "Tokyo",
            "start": 0,
            "end": 5,
        }
    ]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda ner: ner(42), TypeError, "inputs must be"),
        (lambda ner: ner([TEXT, 3]), TypeError, "input 1 must be a str"),
        (lambda ner: ner({"txt": TEXT}), ValueError, "unknown keys"),
        (lambda ner: ner({"text": 5}), TypeError, "text must be a str"),
        (lambda ner: ner(TEXT, max_mention_length=0), ValueError, "max_mention_length"),
        (lambda ner: ner(TEXT, max_entity_length="4"), ValueError, "max_entity_length"),
        (lambda ner: ner(TEXT, ignore_labels="O"), TypeError, "ignore_labels"),
        (lambda ner: ner(TEXT, spans=[(0, 1)]), TypeError, "unexpected arguments"),
    ],
)
def test_bad_input_gets_a_clear_error(ner, call, error, match):
    with pytest.raises(error, match=match):
        call(ner)


def test_the_slow_tokenizer_gives_the_same_entities(pipeline_folder):
    folder = pipeline_folder(SPAN_ARCHITECTURE)
    fast = pipeline("entity-span-classification", model=str(folder))
    slow_tokenizer = mluke_hf.MLukeTokenizer.from_pretrained(folder)
    slow = pipeline("entity-span-classification", model=str(folder), tokenizer=slow_tokenizer)
    assert type(slow.tokenizer) is mluke_hf.MLukeTokenizer
    assert slow(TEXT) == fast(TEXT)


def test_every_entity_task_is_registered_once(caplog):
    from transformers.pipelines import PIPELINE_REGISTRY

    from mluke_hf.registration import _register_pipelines

    tasks = {
        "entity-classification": mluke_hf.EntityClassificationPipeline,
        "entity-pair-classification": mluke_hf.EntityPairClassificationPipeline,
        "entity-span-classification": mluke_hf.EntitySpanClassificationPipeline,
        "entity-fill-mask": mluke_hf.EntityFillMaskPipeline,
    }
    for task, pipeline_class in tasks.items():
        assert PIPELINE_REGISTRY.check_task(task)[1]["impl"] is pipeline_class
    _register_pipelines()  # again: no "already registered" warning
    assert "already registered" not in caplog.text

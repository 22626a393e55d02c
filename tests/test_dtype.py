"""bfloat16 as a first-class option: the model heads and a training step in bf16, the entity pipelines with
`dtype=torch.bfloat16` (decoding on float32 copies of the logits), the CLI's `--dtype`, and NER's spans per input."""

from __future__ import annotations

import json
import math

import pytest
import torch
from transformers import pipeline

import mluke_hf
from mluke_hf import cli
from mluke_hf.pipelines.entity_span_classification import DEFAULT_SPANS_PER_INPUT, spans_per_input
from mluke_hf.precision import cpu_flags, fast_bf16, resolve_dtype
from mluke_hf.tasks.ner import enumerate_spans, split_words

from fixtures_model import randomize_parameters, tiny_config, word_entity_batch

SPAN_ARCHITECTURE = "LukeForEntitySpanClassification"
TEXTS = ["Barack Obama visited Tokyo and Paris.", "東京は日本の首都です。", "नरेंद्र मोदी दिल्ली में रहते हैं।"]


# -- choosing the dtype ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "choice,flags,expected",
    [
        ("fp32", {"amx_bf16"}, torch.float32),
        ("bf16", set(), torch.bfloat16),
        ("auto", {"avx512f", "amx_bf16", "amx_tile"}, torch.bfloat16),
        ("auto", {"avx512f", "avx512_bf16"}, torch.bfloat16),
        ("auto", {"avx2", "avx512f"}, torch.float32),
        ("auto", set(), torch.float32),
    ],
)
def test_resolve_dtype_picks_bf16_only_where_asked_or_native(choice, flags, expected):
    assert resolve_dtype(choice, "cpu", flags=flags) is expected


def test_resolve_dtype_rejects_unknown_choices():
    with pytest.raises(ValueError, match="dtype must be one of fp32, bf16, auto, got 'float8'"):
        resolve_dtype("float8", "cpu")


def test_cpu_flags_read_the_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\nbugs\t\t: none\n", encoding="utf-8")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()
    assert fast_bf16("cpu", cpu_flags(cpuinfo)) and not fast_bf16("meta", {"amx_bf16"})


# -- the model in bf16 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity_aware", [True, False])
@pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
def test_span_head_in_bf16_stays_close_to_fp32(entity_aware, attn_implementation):
    config = tiny_config(use_entity_aware_attention=entity_aware, attn_implementation=attn_implementation)
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(config)).eval()
    batch = word_entity_batch()
    with torch.inference_mode():
        full = model(**batch).logits
        half = model.to(torch.bfloat16)(**batch).logits
    assert half.dtype == torch.bfloat16
    real = batch["entity_attention_mask"].bool()
    torch.testing.assert_close(half.float()[real], full[real], atol=0.05, rtol=0.05)


def test_training_step_in_bf16_gives_finite_gradients_on_every_weight():
    config = tiny_config(use_entity_aware_attention=True)
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(config)).to(torch.bfloat16).train()
    batch = word_entity_batch()
    labels = torch.randint(0, config.num_labels, batch["entity_ids"].shape, generator=torch.Generator().manual_seed(0))
    labels[~batch["entity_attention_mask"].bool()] = -100
    loss = model(**batch, labels=labels).loss
    assert loss.dtype == torch.bfloat16 and torch.isfinite(loss)
    loss.backward()
    unused = {"luke.pooler.dense.weight", "luke.pooler.dense.bias"}
    for name, parameter in model.named_parameters():
        if name in unused:
            continue
        assert parameter.grad is not None and parameter.grad.dtype == torch.bfloat16, name
        assert torch.isfinite(parameter.grad).all(), name


# -- pipelines -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def span_folder(pipeline_folder):
    return pipeline_folder(SPAN_ARCHITECTURE, config_overrides={"use_entity_aware_attention": True})


def test_ner_pipeline_in_bf16_decodes_from_float32_logits(span_folder):
    ner = pipeline("entity-span-classification", model=str(span_folder), dtype=torch.bfloat16)
    assert ner.model.dtype == torch.bfloat16 and ner.model.config.use_entity_aware_attention
    results = ner(TEXTS, ignore_labels=[])
    scores = [entity["score"] for entities in results for entity in entities]
    assert scores and all(isinstance(score, float) and 0.0 < score <= 1.0 for score in scores)
    # Softmax in bf16 would leave every score on the bf16 grid; computed in float32 most fall between.
    off_grid = [score for score in scores if torch.tensor(score).bfloat16().float().item() != score]
    assert len(off_grid) > len(scores) // 2


@pytest.mark.parametrize(
    "architecture,task,arguments",
    [
        ("LukeForEntityClassification", "entity-classification", {"span": (0, 12)}),
        ("LukeForEntityPairClassification", "entity-pair-classification", {"head": (0, 12), "tail": (21, 26)}),
    ],
)
def test_entity_classification_pipelines_in_bf16_match_fp32_scores(pipeline_folder, architecture, task, arguments):
    folder = pipeline_folder(architecture)
    full = pipeline(task, model=str(folder))(TEXTS[0], **arguments)
    half_pipeline = pipeline(task, model=str(folder), dtype=torch.bfloat16)
    assert half_pipeline.model.dtype == torch.bfloat16
    half = half_pipeline(TEXTS[0], **arguments)
    assert {item["label"] for item in half} == {item["label"] for item in full}
    by_label = {item["label"]: item["score"] for item in full}
    for item in half:
        assert item["score"] == pytest.approx(by_label[item["label"]], abs=0.02)


def test_cli_dtype_option_loads_the_model_in_bf16(span_folder, tmp_path, monkeypatch):
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    loaded = []
    original = cli.pipeline_dtype

    def recording(args, device):
        loaded.append(original(args, device))
        return loaded[-1]

    monkeypatch.setattr(cli, "pipeline_dtype", recording)
    target = tmp_path / "out.jsonl"
    arguments = ["ner", "--model", str(span_folder), "--input", str(source), "--output", str(target)]
    assert cli.main([*arguments, "--dtype", "bf16"]) == 0
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [record["text"] for record in records] == TEXTS
    assert all(isinstance(record["entities"], list) for record in records)
    assert cli.main(arguments) == 0
    assert loaded == [torch.bfloat16, torch.float32]
    with pytest.raises(SystemExit):
        cli.main([*arguments, "--dtype", "fp8"])


def test_cli_prepack_weights_gives_the_same_entities(span_folder, tmp_path, monkeypatch):
    from mluke_hf import linear_kernels, modeling_mluke

    monkeypatch.setattr(linear_kernels, "_use_onednn_fp32", lambda: True)  # as on an AMD AVX-512 CPU
    prepacked = []
    original = modeling_mluke.prepack_linear_weights

    def recording(model):
        prepacked.append(original(model))
        return prepacked[-1]

    monkeypatch.setattr(modeling_mluke, "prepack_linear_weights", recording)
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    outputs = []
    for extra in ([], ["--prepack-weights"]):
        target = tmp_path / f"out{len(outputs)}.jsonl"
        arguments = ["ner", "--model", str(span_folder), "--input", str(source), "--output", str(target), *extra]
        assert cli.main(arguments) == 0
        outputs.append(target.read_text(encoding="utf-8"))
    assert len(prepacked) == 1 and prepacked[0] > 0
    assert outputs[0] == outputs[1]


# -- spans per model input -------------------------------------------------------------------------------------------


def test_spans_per_input_come_from_the_checkpoint(pipeline_folder, tmp_path):
    default = pipeline("entity-span-classification", model=str(pipeline_folder(SPAN_ARCHITECTURE)))
    assert spans_per_input(default.model.config) == DEFAULT_SPANS_PER_INPUT == 128
    text = TEXTS[2]
    candidates = len(enumerate_spans(len(split_words(text)), 16))
    prepared = default.preprocess({"text": text})
    assert len(prepared["features"]) == math.ceil(candidates / 128)

    default.model.config.ner_spans_per_input = 5
    default.model.save_pretrained(tmp_path / "trained")
    default.tokenizer.save_pretrained(tmp_path / "trained")
    trained = pipeline("entity-span-classification", model=str(tmp_path / "trained"))
    assert trained.model.config.ner_spans_per_input == 5
    prepared = trained.preprocess({"text": text})
    assert [len(spans) for spans in prepared["spans"]] == [5] * (candidates // 5) + (
        [candidates % 5] if candidates % 5 else []
    )
    # An explicit argument still wins; either way every candidate is decided once.
    assert len(trained.preprocess({"text": text}, max_entity_length=7)["spans"][0]) == 7
    decided = [span[:2] for spans in prepared["spans"] for span in spans]
    assert decided == enumerate_spans(len(split_words(text)), 16)


def test_entity_aware_attention_under_autocast_runs_in_bf16():
    # Trainer's bf16 mode: fp32 weights under autocast. The doubled-width queries must take the projections' bf16,
    # not the fp32 of the states they come from (which would add two casts per layer).
    model = mluke_hf.MLukeForEntitySpanClassification(tiny_config(use_entity_aware_attention=True)).train()
    attention = model.luke.encoder.layer[0].attention.self
    built = attention._entity_aware_inputs
    dtypes = []

    def recording(*args, **kwargs):
        tensors = built(*args, **kwargs)
        dtypes.append(tuple(tensor.dtype for tensor in tensors))
        return tensors

    attention._entity_aware_inputs = recording
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(**word_entity_batch()).logits
    assert dtypes == [(torch.bfloat16,) * 3] and logits.dtype == torch.bfloat16

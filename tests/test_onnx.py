"""ONNX export and ONNX Runtime inference: every entity head and the masked LM, plain and entity-aware attention.

Each tiny released-layout checkpoint is exported once per session (a few seconds each). ONNX Runtime must equal
PyTorch within 1e-4 on padded multilingual batches of two shapes other than the export's own samples, and the
entity pipelines must give the same results over the ORT model as over the PyTorch one.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import onnx
import onnxruntime  # noqa: F401  (a test dependency: installed by the `test` extra)
import pytest
import torch
from transformers import AutoTokenizer, pipeline

import mluke_hf  # noqa: F401
from mluke_hf import cli
from mluke_hf.auto import model_class_for_config
from mluke_hf.data_collator import MLukeDataCollator
from mluke_hf.onnx import (
    EXPORT_INFO_FILE,
    HEADS,
    ONNX_FILE,
    OnnxExportError,
    ORTModelForEntityClassification,
    ORTModelForEntityPairClassification,
    ORTModelForEntitySpanClassification,
    ORTModelForMaskedLM,
    export_onnx,
    is_onnx_folder,
    ort_model_class_for_folder,
)
from mluke_hf.onnx import export as export_module
from mluke_hf.onnx._dependencies import require

from fixtures_pipelines import PIPELINE_ENTITIES

ARCHITECTURES = {
    "LukeForEntitySpanClassification": ORTModelForEntitySpanClassification,
    "LukeForEntityClassification": ORTModelForEntityClassification,
    "LukeForEntityPairClassification": ORTModelForEntityPairClassification,
    "LukeForMaskedLM": ORTModelForMaskedLM,
}
ATOL = 1e-4

# (text, entity words): Latin, Japanese, Thai, Spanish; none of them is an export sample.
CHECK_TEXTS = (
    ("Paris est la capitale de la France et Lyon une grande ville.", ("Paris", "France", "Lyon")),
    ("ソウルは韓国の首都です。", ("ソウル", "韓国")),
    ("กรุงเทพ เป็นเมืองหลวงของ ประเทศไทย", ("กรุงเทพ", "ประเทศไทย")),
    ("Madrid está en España y Lisboa en Portugal, cerca del mar.", ("Madrid", "España", "Lisboa", "Portugal")),
)


@pytest.fixture(scope="session")
def exported(tiny_checkpoint_factory, tmp_path_factory):
    """`exported(architecture, entity_aware, quantize=None)`: (source folder, export report) built once per session."""
    built = {}

    def make(architecture: str, entity_aware: bool, quantize: str | None = None):
        key = (architecture, entity_aware, quantize)
        if key not in built:
            source = tiny_checkpoint_factory(
                architecture=architecture,
                entities=PIPELINE_ENTITIES,
                config_overrides={"use_entity_aware_attention": entity_aware},
            )
            output = tmp_path_factory.mktemp("onnx_export") / "exported"
            built[key] = (source, export_onnx(source, output, quantize=quantize))
        return built[key]

    return make


def check_batches(tokenizer, architecture: str) -> list[dict[str, torch.Tensor]]:
    """Padded batches of 3 and 1 texts, with different word and entity counts per row and per batch."""
    head = HEADS[model_class_for_config_name(architecture)]
    features = []
    for row, (text, words) in enumerate(CHECK_TEXTS):
        spans = [(text.index(word), text.index(word) + len(word)) for word in words]
        if head.tokenizer_task == "entity_classification":
            spans = spans[:1]
        elif head.tokenizer_task == "entity_pair_classification":
            spans = spans[:2]
        elif head.tokenizer_task is None:
            mask = tokenizer.mask_token
            text = text[: spans[0][0]] + mask + text[spans[0][1] :]
            spans = [(spans[0][0], spans[0][0] + len(mask))] + [
                (start - len(words[0]) + len(mask), end - len(words[0]) + len(mask))
                for start, end in spans[1 : row + 1]
            ]
        encoding = tokenizer(text, entity_spans=spans, max_entity_length=len(spans), task=head.tokenizer_task)
        features.append({key: list(value) for key, value in encoding.items()})
    collator = MLukeDataCollator(tokenizer)
    return [collator(features[:3]), collator(features[3:])]


def model_class_for_config_name(architecture: str) -> str:
    return "M" + architecture


def load_pytorch(source):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source)
    return model_class_for_config(config).from_pretrained(source).eval()


@pytest.mark.slow
@pytest.mark.parametrize("entity_aware", [False, True], ids=["plain", "entity_aware"])
@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_ort_equals_pytorch_on_padded_batches_of_two_shapes(exported, architecture, entity_aware):
    source, report = exported(architecture, entity_aware)
    output = report.output_dir
    assert report.max_abs_diff <= ATOL and report.quantization is None
    model = load_pytorch(source)
    assert model.config.use_entity_aware_attention is entity_aware
    ort_model = ARCHITECTURES[architecture].from_pretrained(output)
    assert ort_model_class_for_folder(output) is ARCHITECTURES[architecture]
    tokenizer = AutoTokenizer.from_pretrained(output)
    batches = check_batches(tokenizer, architecture)
    # Two shapes: batch 3 and batch 1, with different word and entity lengths.
    assert batches[0]["input_ids"].shape[0] == 3 and batches[1]["input_ids"].shape[0] == 1
    assert batches[0]["input_ids"].shape[1] != batches[1]["input_ids"].shape[1]
    assert batches[0]["entity_ids"].shape[1] != batches[1]["entity_ids"].shape[1] or architecture in (
        "LukeForEntityClassification",
        "LukeForEntityPairClassification",
    )
    assert (batches[0]["attention_mask"] == 0).any(), "the batch of 3 must hold padding"
    head = HEADS[model_class_for_config_name(architecture)]
    for batch in batches:
        assert set(ort_model.input_names) == set(batch), "graph inputs are the tokenizer's keys"
        with torch.no_grad():
            expected = model(**batch, keep_padding_rows=True)  # the graph computes padding rows too
        actual = ort_model(**batch)
        assert type(actual) is type(expected)
        for name in head.outputs:
            assert actual[name].shape == expected[name].shape
            assert actual[name].dtype == torch.float32
            torch.testing.assert_close(actual[name], expected[name], atol=ATOL, rtol=0)


@pytest.mark.slow
def test_exported_folder_is_complete_with_dynamic_axes(exported):
    source, report = exported("LukeForEntitySpanClassification", True)
    output = report.output_dir
    assert is_onnx_folder(output) and not is_onnx_folder(source)
    graph = onnx.load(f"{output}/{ONNX_FILE}")
    onnx.checker.check_model(graph)
    dims = {
        graph_input.name: [dim.dim_param or dim.dim_value for dim in graph_input.type.tensor_type.shape.dim]
        for graph_input in graph.graph.input
    }
    assert dims["input_ids"] == ["batch", "sequence"]
    assert dims["entity_ids"] == ["batch", "entities"]
    assert dims["entity_position_ids"] == ["batch", "entities", "mention"]
    assert [output_value.name for output_value in graph.graph.output] == ["logits"]
    info = json.loads((Path(output) / EXPORT_INFO_FILE).read_text())
    assert info["architecture"] == "MLukeForEntitySpanClassification" and info["max_abs_diff"] <= ATOL
    assert len(info["sample_shapes"]) == 2 and (Path(output) / "config.json").is_file()
    # The tokenizer files travel along: the exported folder's tokenizer encodes exactly like the source's.
    text, spans = "東京と大阪 and Berlin", [(0, 2), (3, 5), (10, 16)]
    source_tokenizer, exported_tokenizer = AutoTokenizer.from_pretrained(source), AutoTokenizer.from_pretrained(output)
    assert exported_tokenizer.entity_vocab == source_tokenizer.entity_vocab
    assert dict(exported_tokenizer(text, entity_spans=spans)) == dict(source_tokenizer(text, entity_spans=spans))
    summary = report.summary()
    assert "max |diff|" in summary and "MLukeForEntitySpanClassification" in summary


PIPELINE_CALLS = {
    "LukeForEntitySpanClassification": ("entity-span-classification", [
        "Tokyo and Berlin are capitals.", "東京は日本の首都です。", "กรุงเทพ เป็นเมืองหลวง"], {}),
    "LukeForEntityClassification": ("entity-classification", [
        {"text": "Beyoncé lives in Los Angeles.", "span": (0, 7)}, {"text": "東京は日本の首都です。", "span": (0, 2)}], {}),
    "LukeForEntityPairClassification": ("entity-pair-classification", [
        {"text": "Beyoncé lives in Los Angeles.", "head": (0, 7), "tail": (17, 28)},
        {"text": "東京は日本の首都です。", "head": (0, 2), "tail": (3, 5)}], {}),
    "LukeForMaskedLM": ("entity-fill-mask", [
        "The capital of Japan is <mask>.", "<mask> は日本の首都です。"], {"top_k": 3}),
}  # fmt: skip


def same_results(actual, expected) -> None:
    """Equal but for the scores, which may differ in their last float bits."""
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            if key == "score":
                assert actual[key] == pytest.approx(expected[key], abs=1e-5)
            else:
                same_results(actual[key], expected[key])
    elif isinstance(expected, list):
        assert len(actual) == len(expected)
        for actual_item, expected_item in zip(actual, expected):
            same_results(actual_item, expected_item)
    else:
        assert actual == expected


@pytest.mark.slow
@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_entity_pipelines_accept_ort_models(exported, architecture):
    source, report = exported(architecture, True)
    task, inputs, options = PIPELINE_CALLS[architecture]
    ort_model = ARCHITECTURES[architecture].from_pretrained(report.output_dir)
    tokenizer = AutoTokenizer.from_pretrained(report.output_dir)
    on_ort = pipeline(task, model=ort_model, tokenizer=tokenizer, batch_size=2)
    on_torch = pipeline(task, model=str(source), batch_size=2)
    expected = on_torch(inputs, **options)
    assert expected and all(expected)
    same_results(on_ort(inputs, **options), expected)


@pytest.mark.slow
def test_cli_export_then_ner_on_ort_gives_the_pytorch_entities(exported, tmp_path, capsys):
    source, _ = exported("LukeForEntitySpanClassification", True)
    output = tmp_path / "exported"
    assert cli.main(["export", "onnx", "--model", str(source), "--output", str(output), "--opset", "17"]) == 0
    printed = capsys.readouterr().out
    assert "max |diff|" in printed and (output / ONNX_FILE).is_file()
    texts = tmp_path / "texts.txt"
    texts.write_text("Tokyo and Berlin are capitals.\n東京は日本の首都です。\nกรุงเทพ เป็นเมืองหลวง\n", encoding="utf-8")
    results = {}
    for name, folder in (("torch", source), ("ort", output)):
        target = tmp_path / f"{name}.jsonl"
        assert cli.main(["ner", "--model", str(folder), "--input", str(texts), "--output", str(target)]) == 0
        results[name] = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(results["ort"]) == 3
    same_results(results["ort"], results["torch"])


def test_cli_export_refuses_a_non_empty_output_and_bad_options(tiny_checkpoint_factory, tmp_path, capsys):
    source = tiny_checkpoint_factory(architecture="LukeForEntitySpanClassification")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    assert cli.main(["export", "onnx", "--model", str(source), "--output", str(occupied)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (occupied / "notes.txt").read_text() == "mine" and not (occupied / ONNX_FILE).exists()
    assert cli.main(["export", "onnx", "--model", str(source), "--output", str(tmp_path / "x"), "--opset", "9"]) == 2
    assert "opset must be an int from 14 to 20" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["export", "onnx", "--model", str(source), "--output", str(tmp_path / "y"), "--quantize", "int4"])


def test_export_refuses_unsupported_heads_and_its_own_folder(tiny_checkpoint_factory, tmp_path):
    sequence = tiny_checkpoint_factory(architecture="LukeForSequenceClassification")
    with pytest.raises(ValueError, match="entity heads and the masked LM"):
        export_onnx(sequence, tmp_path / "out")
    span = tiny_checkpoint_factory(architecture="LukeForEntitySpanClassification")
    with pytest.raises(OnnxExportError, match="checkpoint folder itself"):
        export_onnx(span, span, overwrite=True)
    with pytest.raises(ValueError, match="quantize must be None or one of"):
        export_onnx(span, tmp_path / "out", quantize="int4")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_export_writes_nothing_when_ort_disagrees(tiny_checkpoint_factory, tmp_path, monkeypatch):
    source = tiny_checkpoint_factory(architecture="LukeForEntityClassification")
    # A graph that disagrees with PyTorch: the check is what must stop the writing.
    monkeypatch.setattr(export_module, "_max_abs_diff", lambda *args: 3e-3)
    with pytest.raises(OnnxExportError, match=r"max \|diff\| = 3.000e-03 > 1e-04; nothing was written"):
        export_onnx(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".out.export-")], "scratch left behind"


@pytest.mark.slow
def test_int8_export_quantizes_matmuls_and_stays_close(exported):
    source, report = exported("LukeForEntitySpanClassification", True, "int8")
    _, fp32_report = exported("LukeForEntitySpanClassification", True)
    assert report.quantization == "int8" and report.max_abs_diff <= ATOL
    assert report.quantized_max_abs_diff is not None and report.quantized_max_abs_diff < 0.1
    operators = {node.op_type for node in onnx.load(f"{report.output_dir}/{ONNX_FILE}").graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= operators
    fp32_operators = {node.op_type for node in onnx.load(f"{fp32_report.output_dir}/{ONNX_FILE}").graph.node}
    assert "MatMulInteger" not in fp32_operators
    ort_model = ORTModelForEntitySpanClassification.from_pretrained(report.output_dir)
    model = load_pytorch(source)
    for batch in check_batches(AutoTokenizer.from_pretrained(source), "LukeForEntitySpanClassification"):
        with torch.no_grad():
            expected = model(**batch, keep_padding_rows=True).logits
        assert (ort_model(**batch).logits - expected).abs().max() < 0.1


@pytest.mark.slow
def test_ort_model_checks_inputs_and_serves_threads(exported):
    _, report = exported("LukeForEntitySpanClassification", False)
    ort_model = ORTModelForEntitySpanClassification.from_pretrained(report.output_dir)
    tokenizer = AutoTokenizer.from_pretrained(report.output_dir)
    batch = check_batches(tokenizer, "LukeForEntitySpanClassification")[0]
    with pytest.raises(ValueError, match=r"needs \['entity_start_positions'\]"):
        ort_model(**{key: value for key, value in batch.items() if key != "entity_start_positions"})
    with pytest.raises(ValueError, match="not inputs of the exported graph"):
        ort_model(**batch, entity_token_type_ids=torch.ones_like(batch["entity_ids"]))
    with pytest.raises(ValueError, match="input_ids must lie in"):
        ort_model(**{**batch, "input_ids": batch["input_ids"] + 10_000})
    with pytest.raises(ValueError, match="entity_position_ids must have shape"):
        ort_model(**{**batch, "entity_position_ids": batch["entity_position_ids"][:, :1]})
    with pytest.raises(ValueError, match="compute no loss"):
        ort_model(**batch, labels=torch.zeros_like(batch["entity_ids"]))
    with pytest.raises(ValueError, match="CPU provider"):
        ort_model.to("cuda")
    # Lists and numpy arrays are accepted as the tokenizer gives them.
    numpy_batch = {key: value.numpy() for key, value in batch.items()}
    expected = ort_model(**batch).logits
    torch.testing.assert_close(ort_model(**numpy_batch).logits, expected, atol=0, rtol=0)
    # One model, several threads: each gets its own result.
    results = [None] * 4

    def run(index: int) -> None:
        results[index] = ort_model(**batch).logits

    threads = [threading.Thread(target=run, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        torch.testing.assert_close(result, expected, atol=0, rtol=0)


def test_ort_model_loading_errors(tmp_path, tiny_checkpoint_factory):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        ORTModelForEntitySpanClassification.from_pretrained(tmp_path / "missing")
    source = tiny_checkpoint_factory(architecture="LukeForEntitySpanClassification")
    with pytest.raises(FileNotFoundError, match="mluke-hf export onnx"):
        ORTModelForEntitySpanClassification.from_pretrained(source)


def test_missing_packages_name_the_extra(monkeypatch):
    import importlib

    real_import = importlib.import_module

    def fail_onnxruntime(name, *args):
        if name.startswith("onnxruntime"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", fail_onnxruntime)
    with pytest.raises(ImportError, match=r"pip install 'mluke_hf\[onnx\]'"):
        require("onnxruntime")


def test_sample_batches_hold_padding_and_several_scripts(tiny_checkpoint_factory):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint_factory(architecture="LukeForEntitySpanClassification"))
    for architecture, head in HEADS.items():
        first, second = export_module.sample_batches(tokenizer, head)
        assert first["input_ids"].shape[0] == 3 and second["input_ids"].shape[0] == 1
        assert (first["attention_mask"] == 0).any() and first["input_ids"].shape[1] != second["input_ids"].shape[1]
        assert (first["entity_attention_mask"].sum(dim=1) >= 1).all()
        assert np.unique(first["entity_attention_mask"].sum(dim=1).numpy()).size >= (
            2 if head.tokenizer_task in (None, "entity_span_classification") else 1
        ), architecture


@pytest.mark.slow
def test_benchmark_quick_mode_produces_rows(capsys):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_onnx

    results = bench_onnx.main(["--quick", "--threads", "1"])
    assert set(results["runners"]) == {"torch_fp32", "ort_fp32", "ort_int8"}
    assert results["sentences"] == 8 and results["export_max_abs_diff"]["ort_fp32"] <= ATOL
    for row in results["runners"].values():
        assert row["sentences_per_s"] > 0 and row["weights_mb"] > 0 and 0.0 <= row["f1"] <= 1.0
    # Same weights, fp32 on both sides: the same entities on every sentence.
    assert results["runners"]["ort_fp32"]["same_entities_as_torch"] == 8
    assert "| ort_int8 |" in capsys.readouterr().out


def test_help_lists_the_export_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0 and "export" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["export", "onnx", "--help"])
    help_text = capsys.readouterr().out
    assert all(option in help_text for option in ("--quantize", "--opset", "--overwrite", "--atol"))

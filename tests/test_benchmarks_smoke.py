"""The benchmark scripts run end to end in their quick mode (tiny model) and produce their result rows.

No timing is asserted: timings belong to the scripts (`benchmarks/check.py`), not to tests.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_collator  # noqa: E402
import bench_model  # noqa: E402
import bench_ner_pipeline  # noqa: E402
import bench_precision  # noqa: E402
from _common import full_grid, memory_supported  # noqa: E402


def _positive(value) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_benchmark_scripts_quick_mode_produce_rows(tmp_path, capsys):
    model_json = tmp_path / "model.json"
    results = bench_model.main(["--quick", "--threads", "1", "--json", str(model_json)])
    assert json.loads(model_json.read_text()) == json.loads(json.dumps(results))
    rows = results["time"]
    assert {(row["entity_aware"], row["mode"]) for row in rows} == {
        (aware, mode) for aware in (False, True) for mode in ("inference", "training")
    }
    for row in rows:
        assert _positive(row["plugin_s"]) and _positive(row["intree_s"])
        assert row["ratio"] == pytest.approx(row["intree_s"] / row["plugin_s"])
    if memory_supported():
        (memory_row,) = results["memory"]
        assert memory_row["mode"] == "inference" and memory_row["entity_aware"]
        assert memory_row["plugin_peak_mib"] >= 0 and memory_row["intree_peak_mib"] >= 0
    table = capsys.readouterr().out
    assert "| B | L | E | attention | mode |" in table and table.count("| inference |") >= 3

    ner = bench_ner_pipeline.main(["--quick", "--threads", "1", "--prepack"])
    assert ner["sentences"] == 8
    assert set(ner["sentences_per_s"]) == {
        "baseline",
        "pipeline fp32",
        "pipeline bf16",
        "pipeline fp32 prepacked",
        "pipeline bf16 prepacked",
    }
    # Prepacked weights change where the weights lie, not the arithmetic.
    assert ner["same_entities"]["pipeline fp32 prepacked vs pipeline fp32"] == 8
    assert all(_positive(value) for value in ner["sentences_per_s"].values())
    assert ner["ratio"] == ner["ratios"]["pipeline fp32"] and _positive(ner["ratios"]["pipeline bf16"])
    # Same weights, same recipe (the loop's 32 spans per input): both sides find the same entities.
    assert ner["same_entities"]["pipeline fp32 at 32 spans per input vs loop"] == 8

    precision = bench_precision.main(["--quick", "--threads", "1"])
    for mode in ("inference", "training"):
        assert set(precision[f"{mode}_s"]) == {"plugin fp32", "plugin bf16", "in-tree fp32", "in-tree bf16"}
        assert all(_positive(value) for value in precision[f"{mode}_s"].values())
        assert precision[f"{mode}_ratios"]["plugin bf16 vs plugin fp32"] == pytest.approx(
            precision[f"{mode}_s"]["plugin fp32"] / precision[f"{mode}_s"]["plugin bf16"]
        )
    assert precision["attention_dropout"] == 0.1  # the config default, as released
    no_dropout = bench_precision.main(["--quick", "--threads", "1", "--modes", "training", "--attention-dropout", "0"])
    assert no_dropout["attention_dropout"] == 0.0 and set(no_dropout) >= {"training_s", "training_ratios"}
    assert "inference_s" not in no_dropout


def test_full_grid_covers_the_issue_grid():
    grid = full_grid()
    assert {(row["batch_size"], row["words"], row["entities"]) for row in grid} == {
        (b, length, e) for b in (1, 8) for length in (128, 512) for e in (0, 32, 128)
    }
    assert all(not row["entity_aware"] for row in grid if row["entities"] == 0)
    assert sum(row["entity_aware"] for row in grid) == 8


def test_check_compares_each_target_with_its_ratio():
    import check
    from _common import MEMORY_TARGETS, TIME_TARGETS

    time_rows = [
        {**target_shape, "mode": mode, "ratio": minimum + 0.01} for _, target_shape, mode, minimum in TIME_TARGETS
    ]
    time_rows[0]["ratio"] = TIME_TARGETS[0][3] - 0.01  # the first one misses its target
    memory_rows = [{**target_shape, "mode": mode, "ratio": 1.0} for _, target_shape, mode, _ in MEMORY_TARGETS]
    ner_ratios = {"pipeline fp32": 2.5, "pipeline bf16": 6.5}
    results = check.evaluate(time_rows, memory_rows, ner_ratios, f1_difference=0.02)
    assert len(results) == len(TIME_TARGETS) + len(MEMORY_TARGETS) + 3
    missed = [name for name, ratio, minimum in results if ratio < minimum]
    assert missed == [
        TIME_TARGETS[0][0],
        "NER pipeline fp32 vs per-sentence in-tree loop",
        "demo F1: 1 - |bf16 - fp32|",
    ]
    results = check.evaluate([], [], {"pipeline fp32": 3.1, "pipeline bf16": 5.9}, f1_difference=0.004)
    assert [name for name, ratio, minimum in results if ratio < minimum] == [
        "NER pipeline bf16 vs per-sentence in-tree loop"
    ]
    # With --prepack the prepacked pipelines are held to the same targets.
    prepacked = {
        "pipeline fp32": 3.1,
        "pipeline bf16": 5.9,
        "pipeline fp32 prepacked": 2.9,
        "pipeline bf16 prepacked": 6.2,
    }
    results = check.evaluate([], [], prepacked)
    assert [name for name, ratio, minimum in results if ratio < minimum] == [
        "NER pipeline fp32 prepacked vs per-sentence in-tree loop",
        "NER pipeline bf16 vs per-sentence in-tree loop",
    ]


@pytest.mark.slow
def test_tokenizer_fast_benchmark_checks_outputs_and_prints_every_row():
    """One repeat: the script's fast == slow check passes on every task (exit 0, or 1 for a missed speed target,
    never the 'outputs differ' exit) and each row is printed."""
    import subprocess

    script = BENCHMARKS / "bench_tokenizer_fast.py"
    done = subprocess.run(
        [sys.executable, str(script), "--repeats", "1"], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "differ" not in done.stdout + done.stderr
    for row in ("plain ", "entity-span ", "span -> pt ", "return_offsets_mapping", "batch_encoding"):
        assert row in done.stdout, row


def test_collator_benchmark_compares_equal_batches():
    """The script checks both conversions give equal batches (else it exits) and reports both times."""
    result = bench_collator.main(["--repeats", "1", "--batch-size", "4"])
    assert result["batch_size"] == 4
    assert _positive(result["int64_tensor"]) and _positive(result["torch.tensor"])
    assert result["ratio"] == pytest.approx(result["torch.tensor"] / result["int64_tensor"])


def test_cpu_kernels_benchmark_reports_both_sides_and_equal_logits():
    """Quick mode: each linear shape timed on both kernels, and the packed forward gives the padded one's logits."""
    import bench_cpu_kernels

    result = bench_cpu_kernels.main(["--quick", "--threads", "1"])
    assert isinstance(result["onednn_fp32_chosen"], bool)
    assert len(result["linear"]) == 3
    for row in result["linear"]:
        assert all(_positive(value) for value in row["gflops"].values()) and _positive(row["ratio"])
    assert [row["dtype"] for row in result["packing"]] == ["float32", "bfloat16"]
    for row in result["packing"]:
        assert row["real_rows"] < row["padded_rows"]
        assert row["max_logit_difference"] < (1e-5 if row["dtype"] == "float32" else 0.1)


def test_bf16_accuracy_benchmark_runs_on_a_tiny_checkpoint(tmp_path):
    """The script's three readings (fp32 and bf16 pipelines, the training recipe) run and are compared; its F1
    figures are only meaningful on a trained model (the demo), so only their range is checked here."""
    import bench_bf16_accuracy
    from _common import TINY_WIDTH

    folder = bench_ner_pipeline.build_folder(tmp_path / "ner", TINY_WIDTH)
    lines = bench_bf16_accuracy.HELDOUT.read_text(encoding="utf-8").splitlines()
    data = tmp_path / "heldout.jsonl"
    data.write_text("\n".join(lines[:3] + lines[-3:]) + "\n", encoding="utf-8")  # Latin and Arabic/Korean lines
    result = bench_bf16_accuracy.evaluate(folder, data, max_mention_length=4, batch_size=4)
    assert result["sentences"] == 6
    assert set(result["f1"]) == {"fp32", "bf16", "reference recipe"}
    assert all(0.0 <= value <= 1.0 for value in result["f1"].values())
    # The pipeline in fp32 and the training recipe decode the same logits of the same candidates.
    assert result["same_entities_fp32_vs_reference"] == 6

"""Regression check of the performance targets (issue 6): exits 1 when a ratio drops below its target.

    .venv/bin/python benchmarks/check.py                 # model targets (time and peak memory) and the NER pipeline
    .venv/bin/python benchmarks/check.py --skip-ner      # model targets only
    .venv/bin/python benchmarks/check.py --rounds 9      # more rounds on a noisy machine

For developers before they stop, not for CI (timings are noisy there). Targets, CPU fp32, 2 threads, 4 layers of base
width, ratio in-tree / plugin: forward at B=4 L=256 E=32 >= 1.05x entity-aware and >= 1.0x plain; forward at L=512
E=128 entity-aware >= 1.1x; training step >= 1.05x (both attention kinds); peak memory no higher than in-tree
(inference and training); NER pipeline >= 3x the per-sentence in-tree loop. Timings on a shared machine wander:
when one ratio misses by a hair, run again before you believe it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_model  # noqa: E402
import bench_ner_pipeline  # noqa: E402
from _common import BASE_WIDTH, MEMORY_TARGETS, TIME_TARGETS, memory_supported, set_threads, shape_label  # noqa: E402

NER_TARGET = 3.0


def _find(rows: list[dict], target_shape: dict, mode: str) -> dict:
    for row in rows:
        if row["mode"] == mode and all(row[key] == value for key, value in target_shape.items()):
            return row
    raise KeyError(f"no result for {shape_label(target_shape)} {mode}")


def evaluate(time_rows: list[dict], memory_rows: list[dict], ner_ratio: float | None) -> list[tuple[str, float, float]]:
    """(name, measured ratio, target) for every target that was measured."""
    results = []
    for name, target_shape, mode, minimum in TIME_TARGETS:
        results.append((name, _find(time_rows, target_shape, mode)["ratio"], minimum))
    for name, target_shape, mode, minimum in MEMORY_TARGETS:
        if memory_rows:
            results.append((name, _find(memory_rows, target_shape, mode)["ratio"], minimum))
    if ner_ratio is not None:
        results.append(("NER pipeline vs per-sentence in-tree loop", ner_ratio, NER_TARGET))
    return results


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per inference shape")
    parser.add_argument("--training-rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-ner", action="store_true")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_threads(args.threads)
    shapes = []
    for _, target_shape, _, _ in TIME_TARGETS:
        if target_shape not in shapes:
            shapes.append(target_shape)
    def targeted_modes(current: dict) -> list[str]:
        return [mode for _, target_shape, mode, _ in TIME_TARGETS if target_shape == current]

    time_rows = bench_model.time_rows(shapes, targeted_modes, BASE_WIDTH, args.rounds, args.training_rounds)
    memory_rows = []
    if not args.skip_memory and memory_supported():
        memory_shapes = []
        for _, target_shape, _, _ in MEMORY_TARGETS:
            if target_shape not in memory_shapes:
                memory_shapes.append(target_shape)
        memory_rows = bench_model.memory_rows(memory_shapes, ["inference", "training"], BASE_WIDTH, args.threads)
    ner_ratio = None
    if not args.skip_ner:
        ner_ratio = bench_ner_pipeline.main(["--threads", str(args.threads)])["ratio"]

    failures = 0
    print()
    for name, ratio, minimum in evaluate(time_rows, memory_rows, ner_ratio):
        ok = ratio >= minimum
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name:<45} {ratio:6.2f}x (target >= {minimum:.2f}x)")
    print(f"\n{failures} target(s) missed" if failures else "\nall targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

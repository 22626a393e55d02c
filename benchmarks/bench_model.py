"""mluke_hf's MLukeModel (sdpa) against transformers' in-tree LukeModel (eager) on the same weights, CPU fp32.

    .venv/bin/python benchmarks/bench_model.py                      # the target shapes (issue 6), time and memory
    .venv/bin/python benchmarks/bench_model.py --grid full          # B {1,8} x L {128,512} x E {0,32,128} x attention
    .venv/bin/python benchmarks/bench_model.py --grid full --modes inference --memory none
    .venv/bin/python benchmarks/bench_model.py --quick              # tiny config, seconds (smoke test)

Both models are built in this one process from one state dict (4 layers of base width: hidden 768, 12 heads,
intermediate 3072; a small vocabulary, since table size does not change lookup time). For each shape the plugin and
in-tree steps run interleaved (A B B A ...), after two warm-up calls each; the figures are medians, the ratio is
in-tree time / plugin time (> 1: the plugin is faster). "inference" is one forward under torch.inference_mode();
"training" is forward + backward of a loss on all word and entity states, dropout on, no optimizer step. Peak
memory is measured per (implementation, mode, shape) in a fresh interpreter (see `_common.measure_peak`): the growth
of the peak resident set during one step, over what model and inputs already hold.

`--json PATH` writes the rows; the markdown table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BASE_WIDTH,
    TIME_TARGETS,
    TINY_WIDTH,
    full_grid,
    inference_step,
    interleaved_medians,
    make_batch,
    measure_peak,
    memory_supported,
    model_pair,
    set_threads,
    shape,
    shape_label,
    target_shapes,
    training_step,
)

MODES = ("inference", "training")


def quick_shapes() -> list[dict]:
    return [shape(1, 8, 0, False), shape(2, 16, 4, False), shape(2, 16, 4, True)]


def time_rows(shapes, modes, width, rounds: int, training_rounds: int, log=print) -> list[dict]:
    """One row per (shape, mode): plugin and in-tree median seconds and their ratio.

    `modes` is a list of modes for every shape, or a function shape -> modes.
    """
    pairs: dict[bool, tuple] = {}
    rows = []
    for current in shapes:
        entity_aware = current["entity_aware"]
        if entity_aware not in pairs:
            pairs[entity_aware] = model_pair(width, entity_aware)
        plugin, intree = pairs[entity_aware]
        batch = make_batch(current["batch_size"], current["words"], current["entities"], width)
        for mode in modes(current) if callable(modes) else modes:
            make_step = inference_step if mode == "inference" else training_step
            medians = interleaved_medians(
                {"plugin": make_step(plugin, batch), "intree": make_step(intree, batch)},
                rounds=rounds if mode == "inference" else training_rounds,
            )
            row = {
                **current,
                "mode": mode,
                "plugin_s": medians["plugin"],
                "intree_s": medians["intree"],
                "ratio": medians["intree"] / medians["plugin"],
            }
            rows.append(row)
            log(
                f"{shape_label(row):<36} {mode:<9} plugin {row['plugin_s']:.4f}s  in-tree {row['intree_s']:.4f}s  "
                f"ratio {row['ratio']:.2f}x"
            )
    return rows


def memory_rows(shapes, modes, width, threads: int, log=print) -> list[dict]:
    """One row per (shape, mode): peak resident growth (MiB) of one step for each implementation."""
    rows = []
    for current in shapes:
        for mode in modes:
            peaks = {name: measure_peak(name, mode, current, width, threads) for name in ("plugin", "intree")}
            row = {
                **current,
                "mode": mode,
                "plugin_peak_mib": peaks["plugin"],
                "intree_peak_mib": peaks["intree"],
                "ratio": peaks["intree"] / max(peaks["plugin"], 1e-9),
            }
            rows.append(row)
            log(
                f"{shape_label(row):<36} {mode:<9} peak plugin {row['plugin_peak_mib']:.1f} MiB  in-tree "
                f"{row['intree_peak_mib']:.1f} MiB  ratio {row['ratio']:.2f}x"
            )
    return rows


def markdown(time_results: list[dict], memory_results: list[dict]) -> str:
    lines = [
        "| B | L | E | attention | mode | plugin (s) | in-tree (s) | in-tree / plugin |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in time_results:
        attention = "entity-aware" if row["entity_aware"] else "plain"
        lines.append(
            f"| {row['batch_size']} | {row['words']} | {row['entities']} | {attention} | {row['mode']} | "
            f"{row['plugin_s']:.3f} | {row['intree_s']:.3f} | {row['ratio']:.2f}x |"
        )
    if memory_results:
        lines += [
            "",
            "| B | L | E | attention | mode | plugin peak (MiB) | in-tree peak (MiB) | in-tree / plugin |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in memory_results:
            attention = "entity-aware" if row["entity_aware"] else "plain"
            lines.append(
                f"| {row['batch_size']} | {row['words']} | {row['entities']} | {attention} | {row['mode']} | "
                f"{row['plugin_peak_mib']:.1f} | {row['intree_peak_mib']:.1f} | {row['ratio']:.2f}x |"
            )
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", choices=("targets", "full"), default="targets")
    parser.add_argument("--modes", default="inference,training", help="comma-separated: inference, training")
    parser.add_argument("--no-time", action="store_true", help="measure peak memory only")
    parser.add_argument("--batch-sizes", type=int, nargs="+", help="with --grid full: only these batch sizes")
    parser.add_argument(
        "--memory",
        choices=("targets", "grid", "none"),
        default="targets",
        help="shapes whose peak memory is measured (one subprocess per implementation and mode)",
    )
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per inference shape")
    parser.add_argument("--training-rounds", type=int, default=5, help="timed rounds per training shape")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny config and shapes, one round: a smoke test")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    modes = [mode for mode in args.modes.split(",") if mode]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"--modes: unknown mode(s) {sorted(unknown)}; use {', '.join(MODES)}")
    set_threads(args.threads)
    if args.quick:
        width, shapes, rounds, training_rounds = TINY_WIDTH, quick_shapes(), 1, 1
        memory_shapes, memory_modes = shapes[-1:], ["inference"]
    else:
        width, rounds, training_rounds = BASE_WIDTH, args.rounds, args.training_rounds
        shapes = target_shapes() if args.grid == "targets" else full_grid()
        memory_shapes = {"targets": target_shapes(), "grid": shapes, "none": []}[args.memory]
        memory_modes = modes
    if args.memory == "none" or not memory_supported():
        memory_shapes = []

    if args.grid == "targets" and not args.quick:
        # Only the (shape, mode) pairs that have a target: the L=512 E=128 shape is a forward-only target.
        def shape_modes(current):
            return [mode for mode in modes if any(t[1] == current and t[2] == mode for t in TIME_TARGETS)]
    else:
        shape_modes = modes
    if args.grid == "full" and args.batch_sizes:
        shapes = [current for current in shapes if current["batch_size"] in args.batch_sizes]
    load_before = os.getloadavg()
    time_results = [] if args.no_time else time_rows(shapes, shape_modes, width, rounds, training_rounds)
    memory_results = memory_rows(memory_shapes, memory_modes, width, args.threads)
    results = {
        "width": dict(width),
        "threads": args.threads,
        "rounds": rounds,
        "training_rounds": training_rounds,
        # The machine is shared: 1-minute load averages before and after, for the reader to judge the noise.
        "load_average_1min": [load_before[0], os.getloadavg()[0]],
        "time": time_results,
        "memory": memory_results,
    }
    print()
    print(markdown(time_results, memory_results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()

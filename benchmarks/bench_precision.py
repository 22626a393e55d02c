"""float32 against bfloat16: forward and training step of mluke_hf's model and of transformers' in-tree LUKE.

    .venv/bin/python benchmarks/bench_precision.py                 # CPU, B=4 L=256 E=32 entity-aware, 4 base layers
    .venv/bin/python benchmarks/bench_precision.py --quick         # tiny config, one round (smoke test)
    .venv/bin/python benchmarks/bench_precision.py --modes training --attention-dropout 0   # what attention dropout costs
    .venv/bin/python benchmarks/bench_precision.py --device cuda --batch-size 8 --words 512 --entities 128

Both models hold the same weights (`_common.model_pair`: plugin with sdpa attention, in-tree with eager). Steps run
interleaved (A B C ... then reversed), medians over rounds:

- forward: under `torch.inference_mode()`, with float32 weights ("fp32") and with the weights cast to bfloat16
  ("bf16", what `pipeline(..., dtype=torch.bfloat16)` and `--dtype bf16` do);
- training: forward + backward + AdamW step, dropout on, as `Trainer` runs it: "fp32", and "bf16" = float32 master
  weights under `torch.autocast(dtype=torch.bfloat16)` (what `TrainingArguments(bf16=True)` does on CPU and GPU).

Ratios: plugin bf16 against plugin fp32 (what bf16 buys), and plugin against in-tree in the same mode (> 1: the plugin
is faster). The CPU flags and load average are printed with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BASE_WIDTH,
    TINY_WIDTH,
    add_run_options,
    interleaved_medians,
    make_batch,
    model_pair,
    run_and_save,
    set_threads,
)

from mluke_hf import precision


def synchronizer(device: torch.device):
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def forward_step(model, batch, device):
    model.eval()
    sync = synchronizer(device)

    def step():
        with torch.inference_mode():
            model(**batch)
        sync()

    return step


def training_step(model, batch, device, autocast_bf16: bool):
    """Forward + backward of a loss on every word and entity state + AdamW step; bf16 = autocast, fp32 masters."""
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    sync = synchronizer(device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        context = torch.autocast(device.type, dtype=torch.bfloat16) if autocast_bf16 else contextlib.nullcontext()
        with context:
            output = model(**batch)
            loss = output.last_hidden_state.float().pow(2).mean()
            if output.entity_last_hidden_state is not None:
                loss = loss + output.entity_last_hidden_state.float().pow(2).mean()
        loss.backward()
        optimizer.step()
        sync()

    return step


def cast_copy(model, dtype):
    import copy

    return copy.deepcopy(model).to(dtype)


def run(args: argparse.Namespace) -> dict:
    set_threads(args.threads)
    device = torch.device(args.device)
    width = TINY_WIDTH if args.quick else BASE_WIDTH
    sizes = (2, 16, 4) if args.quick else (args.batch_size, args.words, args.entities)
    rounds = 1 if args.quick else args.rounds
    if args.attention_dropout is not None:
        width = {**width, "attention_probs_dropout_prob": args.attention_dropout}
    plugin, intree = model_pair(width, entity_aware=not args.plain_attention)
    plugin, intree = plugin.to(device), intree.to(device)
    batch = {key: value.to(device) for key, value in make_batch(*sizes, width).items()}
    load_before = [round(value, 2) for value in os.getloadavg()]
    result = {
        "device": str(device),
        "cpu_flags": sorted(flag for flag in precision.cpu_flags() if flag.startswith(("avx512_bf16", "amx"))),
        "shape": dict(zip(("batch_size", "words", "entities"), sizes), entity_aware=not args.plain_attention),
        "width": {key: width[key] for key in ("hidden_size", "num_hidden_layers", "intermediate_size")},
        "threads": args.threads,
        "rounds": rounds,
        "attention_dropout": plugin.config.attention_probs_dropout_prob,
    }
    if "inference" in args.modes:
        steps = {
            "plugin fp32": forward_step(plugin, batch, device),
            "plugin bf16": forward_step(cast_copy(plugin, torch.bfloat16), batch, device),
            "in-tree fp32": forward_step(intree, batch, device),
            "in-tree bf16": forward_step(cast_copy(intree, torch.bfloat16), batch, device),
        }
        result["inference_s"] = interleaved_medians(steps, rounds=rounds)
    if "training" in args.modes:
        steps = {
            "plugin fp32": training_step(cast_copy(plugin, torch.float32), batch, device, autocast_bf16=False),
            "plugin bf16": training_step(cast_copy(plugin, torch.float32), batch, device, autocast_bf16=True),
            "in-tree fp32": training_step(cast_copy(intree, torch.float32), batch, device, autocast_bf16=False),
            "in-tree bf16": training_step(cast_copy(intree, torch.float32), batch, device, autocast_bf16=True),
        }
        result["training_s"] = interleaved_medians(steps, rounds=max(1, rounds - 2) if not args.quick else 1)
    result["load_average"] = [load_before, [round(value, 2) for value in os.getloadavg()]]
    for mode in ("inference", "training"):
        times = result.get(f"{mode}_s")
        if not times:
            continue
        ratios = {
            "plugin bf16 vs plugin fp32": times["plugin fp32"] / times["plugin bf16"],
            "plugin vs in-tree, fp32": times["in-tree fp32"] / times["plugin fp32"],
            "plugin vs in-tree, bf16": times["in-tree bf16"] / times["plugin bf16"],
        }
        result[f"{mode}_ratios"] = ratios
        print(f"{mode}: " + ", ".join(f"{name} {seconds:.4f}s" for name, seconds in times.items()))
        print(f"{mode} ratios: " + ", ".join(f"{name} {value:.2f}x" for name, value in ratios.items()))
    print(f"device {device}, shape {result['shape']}, CPU bf16 flags {result['cpu_flags'] or 'none'}, "
          f"load average {result['load_average'][0]} -> {result['load_average'][1]}")  # fmt: skip
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--words", type=int, default=256)
    parser.add_argument("--entities", type=int, default=32)
    parser.add_argument("--plain-attention", action="store_true", help="entity-aware attention off")
    parser.add_argument(
        "--attention-dropout",
        type=float,
        help="attention_probs_dropout_prob of both models (default: the config default, 0.1 as in every released one)",
    )
    parser.add_argument("--modes", default="inference,training", help="comma-separated: inference, training")
    parser.add_argument("--rounds", type=int, default=5)
    add_run_options(parser, quick="tiny config and shape, one round")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.modes = [mode for mode in args.modes.split(",") if mode]
    return run_and_save(run, args)


if __name__ == "__main__":
    main()

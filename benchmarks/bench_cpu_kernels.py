"""What the CPU inference changes of issue 15 buy, each side by side with what it replaced, interleaved.

    .venv/bin/python benchmarks/bench_cpu_kernels.py              # linear kernels and packed rows, base width
    .venv/bin/python benchmarks/bench_cpu_kernels.py --quick      # tiny sizes, one round (smoke test)

1. Float32 linear layers at the encoder's shapes (hidden 768 and 1024, intermediate 4x, rows 128 to 1,024): PyTorch's
   own `nn.Linear` (MKL's sgemm) against `mluke_hf.linear_kernels.linear` on oneDNN with the weights as they are
   (nothing prepacked or cached). Reported in GFLOP/s; the CPU vendor and flags say which one the package picks.
2. Packed rows (`mluke_hf.packing`): one forward of `MLukeForEntitySpanClassification` (4 layers of base width) on a
   NER-like padded batch (8 inputs of 20 to 60 word tokens and 30 to 128 span entities, sorted as the pipeline sorts
   them), default (packed) against `keep_padding_rows=True` (the padded computation), fp32 and bf16.

Medians over `--rounds` rounds, sides alternating within each round (`_common.interleaved_medians`); the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BASE_WIDTH, TINY_WIDTH, add_run_options, interleaved_medians, run_and_save, set_threads

import mluke_hf
from mluke_hf import linear_kernels
from mluke_hf.precision import cpu_flags, cpu_vendor


def _repeated(function, repeats: int):
    def step() -> None:
        for _ in range(repeats):
            function()

    return step


def _medians(sides: dict, rounds: int, repeats: int) -> dict[str, float]:
    """Median seconds per call of each side, interleaved (`_common.interleaved_medians`)."""
    steps = {name: _repeated(function, repeats) for name, function in sides.items()}
    return {name: value / repeats for name, value in interleaved_medians(steps, rounds, warmup=1).items()}


def linear_rows(widths: list[int], row_counts: list[int], rounds: int, repeats: int) -> list[dict]:
    rows = []
    for hidden in widths:
        for in_features, out_features in ((hidden, hidden), (hidden, 4 * hidden), (4 * hidden, hidden)):
            layer = nn.Linear(in_features, out_features)
            for count in row_counts:
                states = torch.randn(count, in_features)
                sides = {
                    "nn.Linear (PyTorch default)": lambda: layer(states),
                    "oneDNN (mluke_hf.linear_kernels)": lambda: torch.ops.mkldnn._linear_pointwise(
                        states, layer.weight, layer.bias, "none", [], ""
                    ),
                }
                with torch.inference_mode():
                    medians = _medians(sides, rounds, repeats)
                flops = 2 * count * in_features * out_features
                row = {
                    "shape": f"{count}x{in_features} @ {in_features}x{out_features}",
                    "gflops": {name: flops / value / 1e9 for name, value in medians.items()},
                }
                row["ratio"] = medians["nn.Linear (PyTorch default)"] / medians["oneDNN (mluke_hf.linear_kernels)"]
                rows.append(row)
                print(
                    f"{row['shape']:>24}: "
                    + ", ".join(f"{name} {value:.0f} GFLOP/s" for name, value in row["gflops"].items())
                    + f"; oneDNN {row['ratio']:.2f}x",
                    flush=True,
                )
    return rows


def ner_like_batch(width: dict, batch_size: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """A padded batch shaped like the NER pipeline's: word tokens and span entities of varied counts."""
    generator = torch.Generator().manual_seed(seed)
    words = sorted(int(value) for value in torch.randint(20, 61, (batch_size,), generator=generator))
    entities = sorted(int(value) for value in torch.randint(30, 129, (batch_size,), generator=generator))
    word_length, entity_length = max(words), max(entities)
    input_ids = torch.randint(5, width["vocab_size"], (batch_size, word_length), generator=generator)
    attention_mask = torch.zeros(batch_size, word_length, dtype=torch.long)
    entity_attention_mask = torch.zeros(batch_size, entity_length, dtype=torch.long)
    entity_position_ids = torch.full((batch_size, entity_length, 16), -1, dtype=torch.long)
    starts = torch.zeros(batch_size, entity_length, dtype=torch.long)
    ends = torch.zeros(batch_size, entity_length, dtype=torch.long)
    for row, (word_count, entity_count) in enumerate(zip(words, entities)):
        attention_mask[row, :word_count] = 1
        input_ids[row, word_count:] = width["pad_token_id"]
        entity_attention_mask[row, :entity_count] = 1
        for entity in range(entity_count):
            start = 1 + entity % (word_count - 2)
            end = min(start + entity % 4, word_count - 2)
            entity_position_ids[row, entity, : end - start + 1] = torch.arange(start, end + 1)
            starts[row, entity], ends[row, entity] = start, end
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "entity_ids": torch.full((batch_size, entity_length), 2, dtype=torch.long) * entity_attention_mask,
        "entity_attention_mask": entity_attention_mask,
        "entity_position_ids": entity_position_ids,
        "entity_start_positions": starts,
        "entity_end_positions": ends,
    }


def packing_rows(width: dict, rounds: int, repeats: int) -> list[dict]:
    config = mluke_hf.MLukeConfig(**width, num_labels=5)
    torch.manual_seed(0)
    batch = ner_like_batch(width)
    real = int(batch["attention_mask"].sum() + batch["entity_attention_mask"].sum())
    padded_rows = batch["attention_mask"].numel() + batch["entity_attention_mask"].numel()
    rows = []
    for dtype in (torch.float32, torch.bfloat16):
        model = mluke_hf.MLukeForEntitySpanClassification(config).eval().to(dtype)
        sides = {
            "padded": lambda: model(**batch, keep_padding_rows=True),
            "packed": lambda: model(**batch),
        }
        with torch.inference_mode():
            packed_logits, padded_logits = sides["packed"]().logits, sides["padded"]().logits
            medians = _medians(sides, rounds, repeats)
        mask = batch["entity_attention_mask"].bool()
        difference = (packed_logits[mask].float() - padded_logits[mask].float()).abs().max().item()
        row = {
            "dtype": str(dtype).removeprefix("torch."),
            "real_rows": real,
            "padded_rows": padded_rows,
            "seconds": medians,
            "ratio": medians["padded"] / medians["packed"],
            "max_logit_difference": difference,
        }
        rows.append(row)
        print(
            f"forward {row['dtype']}: {real} real rows of {padded_rows}; padded {medians['padded'] * 1e3:.1f} ms, "
            f"packed {medians['packed'] * 1e3:.1f} ms: {row['ratio']:.2f}x; max |logit difference| {difference:.1e}",
            flush=True,
        )
    return rows


def run(args: argparse.Namespace) -> dict:
    set_threads(args.threads)
    load_before = [round(value, 2) for value in os.getloadavg()]
    flags = cpu_flags()
    result = {
        "cpu_vendor": cpu_vendor(),
        "cpu_flags": sorted(flag for flag in flags if flag.startswith(("avx512", "amx")) or flag == "avx2"),
        "onednn_fp32_chosen": linear_kernels.onednn_fp32_preferred(cpu_vendor(), flags),
        "threads": args.threads,
        "load_average_before": load_before,
    }
    print(
        f"CPU vendor {result['cpu_vendor'] or 'unknown'}, flags {' '.join(result['cpu_flags'])}; float32 linear "
        f"layers on {'oneDNN' if result['onednn_fp32_chosen'] else 'PyTorch default'}; load average {load_before}",
        flush=True,
    )
    if args.quick:
        result["linear"] = linear_rows([32], [16], 1, 2)
        result["packing"] = packing_rows(TINY_WIDTH, 1, 1)
    else:
        result["linear"] = linear_rows([768, 1024], [128, 512, 1024], args.rounds, 5)
        result["packing"] = packing_rows(BASE_WIDTH, args.rounds, 3)
    result["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    print(f"load average after: {result['load_average_after']}")
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    add_run_options(parser, quick="tiny sizes, one round")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    return run_and_save(run, args)


if __name__ == "__main__":
    main()

"""The GPU checks, prepared to run in one go on a machine with a CUDA device (a few minutes on one GPU).

    python benchmarks/bench_gpu.py --output-dir "$OUT"

1. No host syncs: one forward of every entity head (sdpa, entity-aware on and off) under
   `torch.cuda.set_sync_debug_mode("error")`, which raises on any host-device sync.
2. Forward and training step (Trainer-style: forward + backward + AdamW; bf16 = autocast) in fp32 and bf16 at
   B=8 L=512 E=128, entity-aware, 4 layers of base width, plugin against in-tree LUKE (`bench_precision.py`);
   target: plugin >= 1.5x in-tree.
3. The NER pipeline against the per-sentence in-tree loop on the GPU, fp32 and bf16 (`bench_ner_pipeline.py`).

Each part's figures go to `<output-dir>/gpu_<part>.json` and the summary to stdout; a part that fails is reported and
the next one still runs. Exit status 1 when a part failed or a target was missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_ner_pipeline
import bench_precision
from _common import TINY_WIDTH, make_batch

import mluke_hf

TARGET = 1.5
HEADS = (
    mluke_hf.MLukeModel,
    mluke_hf.MLukeForEntityClassification,
    mluke_hf.MLukeForEntityPairClassification,
    mluke_hf.MLukeForEntitySpanClassification,
    mluke_hf.MLukeForMaskedLM,
)


def check_no_syncs(device: str) -> dict:
    """A forward of each entity head with sync debug mode "error": any host-device sync raises."""
    from mluke_hf.configuration_mluke import MLukeConfig

    results = {}
    for entity_aware in (True, False):
        config = MLukeConfig(**TINY_WIDTH, use_entity_aware_attention=entity_aware, attn_implementation="sdpa")
        for head in HEADS:
            model = head(config).to(device).eval()
            entities = 2 if head is mluke_hf.MLukeForEntityPairClassification else 4
            batch = make_batch(2, 16, entities, TINY_WIDTH)
            if head is mluke_hf.MLukeForEntityClassification:
                batch = make_batch(2, 16, 1, TINY_WIDTH)
            if head is mluke_hf.MLukeForEntitySpanClassification:
                batch["entity_start_positions"] = batch["entity_position_ids"][:, :, 0].clamp(min=0)
                batch["entity_end_positions"] = batch["entity_start_positions"]
            batch = {key: value.to(device) for key, value in batch.items()}
            name = f"{head.__name__} entity_aware={entity_aware}"
            torch.cuda.synchronize()
            torch.cuda.set_sync_debug_mode("error")
            try:
                with torch.inference_mode():
                    model(**batch)
                results[name] = "no sync"
            except RuntimeError as error:
                results[name] = f"SYNC: {error}"
            finally:
                torch.cuda.set_sync_debug_mode("default")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=Path("."))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sentences", type=int, default=100)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device: these checks need a GPU", file=sys.stderr)
        return 2
    args.output_dir.mkdir(parents=True, exist_ok=True)
    print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    failures = 0

    def part(name: str, function):
        nonlocal failures
        started = time.perf_counter()
        try:
            result = function()
        except Exception:  # noqa: BLE001  (report and go on: the other parts' figures are still worth having)
            failures += 1
            traceback.print_exc()
            result = {"error": traceback.format_exc()}
        (args.output_dir / f"gpu_{name}.json").write_text(json.dumps(result, indent=1, default=str))
        print(f"[{name}] {time.perf_counter() - started:.0f} s", flush=True)
        return result

    syncs = part("syncs", lambda: check_no_syncs(args.device))
    for name, verdict in syncs.items():
        print(f"  {name}: {verdict}")
        failures += verdict != "no sync"
    model = part(
        "model",
        lambda: bench_precision.main(
            ["--device", args.device, "--batch-size", "8", "--words", "512", "--entities", "128"]
            + ["--rounds", str(args.rounds)]
        ),
    )
    for mode in ("inference", "training"):
        for name, ratio in model.get(f"{mode}_ratios", {}).items():
            if name.startswith("plugin vs in-tree"):
                ok = ratio >= TARGET
                failures += not ok
                print(f"  {'ok  ' if ok else 'MISS'} {mode} {name}: {ratio:.2f}x (target >= {TARGET}x)")
    part(
        "ner",
        lambda: bench_ner_pipeline.main(
            ["--device", args.device, "--sentences", str(args.sentences), "--rounds", "3", "--batch-size", "32"]
        ),
    )
    print(f"\n{failures} failure(s) or missed target(s)" if failures else "\nall GPU checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

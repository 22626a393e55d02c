"""Shared helpers of the model benchmarks: same-weight model pairs, synthetic batches, interleaved timing, peak memory.

The in-tree `transformers.models.luke` classes appear here as the baseline being measured; the package itself never
imports them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
import transformers

import mluke_hf
from mluke_hf.configuration_mluke import MLukeConfig

REPO = Path(__file__).resolve().parents[1]

# 4 layers of base width (XLM-R base: 768 hidden, 12 heads, 3072 intermediate). Embedding tables are small: their
# size does not change the time of a lookup, only the memory of the weights, which both models share.
BASE_WIDTH = {
    "vocab_size": 1000,
    "entity_vocab_size": 100,
    "hidden_size": 768,
    "entity_emb_size": 256,
    "num_hidden_layers": 4,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 514,
    "type_vocab_size": 1,
    "layer_norm_eps": 1e-5,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
}

# For smoke tests: every dimension tiny, so a run takes milliseconds.
TINY_WIDTH = {
    **BASE_WIDTH,
    "vocab_size": 67,
    "entity_vocab_size": 11,
    "hidden_size": 32,
    "entity_emb_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
}

MENTION_LENGTH = 30  # max_mention_length of the released tokenizers


def set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def model_pair(width: Mapping, entity_aware: bool, seed: int = 0, plugin_class=None, intree_name: str = "LukeModel"):
    """(plugin model with its default sdpa attention, in-tree model with eager attention) holding the same weights."""
    plugin_class = plugin_class or mluke_hf.MLukeModel
    config = MLukeConfig(**width, use_entity_aware_attention=entity_aware)
    torch.manual_seed(seed)
    plugin = plugin_class(config)
    intree_config = transformers.LukeConfig(
        **{key: value for key, value in width.items()}, use_entity_aware_attention=entity_aware
    )
    intree_config.num_labels = config.num_labels
    intree_config._attn_implementation = "eager"
    intree = getattr(transformers, intree_name)(intree_config)
    result = intree.load_state_dict(plugin.state_dict(), strict=False)
    if result.missing_keys or any("_query." not in key for key in result.unexpected_keys):
        raise RuntimeError(f"state dicts disagree: {result}")
    return plugin, intree


def make_batch(batch_size: int, words: int, entities: int, width: Mapping, seed: int = 0) -> dict[str, torch.Tensor]:
    """A batch of full-length rows; each entity covers 1 to 3 consecutive word tokens, as NER spans do."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(3, width["vocab_size"], (batch_size, words), generator=generator)
    input_ids[:, 0], input_ids[:, -1] = 0, 2
    batch = {"input_ids": input_ids, "attention_mask": torch.ones(batch_size, words, dtype=torch.long)}
    if entities:
        mention = min(MENTION_LENGTH, words)
        positions = torch.full((batch_size, entities, mention), -1, dtype=torch.long)
        starts = torch.randint(1, max(2, words - 4), (batch_size, entities), generator=generator)
        lengths = torch.randint(1, 4, (batch_size, entities), generator=generator)
        for offset in range(3):
            column = (starts + offset).clamp(max=words - 1)
            positions[:, :, offset] = torch.where(offset < lengths, column, torch.full_like(column, -1))
        batch.update(
            entity_ids=torch.randint(1, width["entity_vocab_size"], (batch_size, entities), generator=generator),
            entity_attention_mask=torch.ones(batch_size, entities, dtype=torch.long),
            entity_position_ids=positions,
        )
    return batch


def inference_step(model: torch.nn.Module, batch: Mapping) -> Callable[[], None]:
    model.eval()

    def step() -> None:
        with torch.inference_mode():
            model(**batch)

    return step


def training_step(model: torch.nn.Module, batch: Mapping) -> Callable[[], None]:
    """Forward + backward of a loss on every word and entity state (dropout on, as in training); no optimizer."""
    model.train()

    def step() -> None:
        model.zero_grad(set_to_none=True)
        output = model(**batch)
        loss = output.last_hidden_state.float().pow(2).mean()
        if output.entity_last_hidden_state is not None:
            loss = loss + output.entity_last_hidden_state.float().pow(2).mean()
        loss.backward()

    return step


def add_run_options(parser, quick: str) -> None:
    """The options every benchmark script takes: `--threads`, `--quick` (what it shrinks to: `quick`), `--json`."""
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help=f"{quick}: a smoke test")
    parser.add_argument("--json", type=Path, help="write the result here")


def run_and_save(run: Callable, args) -> dict:
    """A benchmark script's `main`: `run(args)`, its result also written to `args.json` when given."""
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


def interleaved_medians(steps: Mapping[str, Callable[[], None]], rounds: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each step, run in turn (A B A B ...) so load changes hit every step alike."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(rounds):
        # Alternate who goes first, so neither always runs right after the other.
        order = list(steps.items()) if round_index % 2 == 0 else list(reversed(steps.items()))
        for name, step in order:
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


# ---------------------------------------------------------------------------------------------------------------------
# Peak memory: one fresh subprocess per (implementation, mode, shape). torch's CPU allocations are invisible to
# tracemalloc, so the child reads the kernel's peak resident set (VmHWM), reset through /proc/self/clear_refs right
# before the measured step: the figure is the step's peak over what the model and inputs already hold. The same
# step is run once before the reset, so one-time allocations (thread pools, kernels' scratch) are not counted.


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure_peak_here(implementation: str, mode: str, shape: Mapping, width: Mapping, threads: int) -> dict:
    """Run in the child: build the model and batch, reset the peak, run one step, report the peak growth in MiB."""
    set_threads(threads)
    plugin, intree = model_pair(width, shape["entity_aware"])
    model = plugin if implementation == "plugin" else intree
    del plugin, intree
    batch = make_batch(shape["batch_size"], shape["words"], shape["entities"], width)
    step = inference_step(model, batch) if mode == "inference" else training_step(model, batch)
    step()
    model.zero_grad(set_to_none=True)
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    baseline = _status_kib("VmRSS")
    step()
    peak = _status_kib("VmHWM")
    return {"peak_mib": (peak - baseline) / 1024}


def measure_peak(implementation: str, mode: str, shape: Mapping, width: Mapping, threads: int) -> float:
    """Peak resident growth (MiB) of one step, measured in a fresh interpreter."""
    request = json.dumps(
        {
            "implementation": implementation,
            "mode": mode,
            "shape": dict(shape),
            "width": dict(width),
            "threads": threads,
        }
    )
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from _common import measure_peak_here; "
        "r = json.loads(sys.argv[2]); print(json.dumps(measure_peak_here(r['implementation'], r['mode'], "
        "r['shape'], r['width'], r['threads'])))"
    )
    # A fixed mmap threshold: glibc then maps every large tensor on its own and unmaps it when freed, so the resident
    # set follows live tensor memory. With its default adaptive threshold, freed blocks stay in the heap and the peak
    # wanders by +-60 MiB from run to run on the same step.
    environment = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "MALLOC_MMAP_THRESHOLD_": "65536"}
    completed = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).resolve().parent), request],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])["peak_mib"]


def memory_supported() -> bool:
    return Path("/proc/self/clear_refs").exists()


# ---------------------------------------------------------------------------------------------------------------------
# Shapes, grids and targets (issue 6). A shape is (batch_size, words, entities, entity_aware).


def shape(batch_size: int, words: int, entities: int, entity_aware: bool) -> dict:
    return {"batch_size": batch_size, "words": words, "entities": entities, "entity_aware": entity_aware}


def full_grid() -> list[dict]:
    """B in {1, 8}, L in {128, 512}, E in {0, 32, 128}, entity-aware attention on and off.

    Without entities both attention kinds compute the same thing, so E=0 appears once (entity-aware off).
    """
    return [
        shape(batch_size, words, entities, entity_aware)
        for batch_size in (1, 8)
        for words in (128, 512)
        for entities in (0, 32, 128)
        for entity_aware in ((False,) if entities == 0 else (False, True))
    ]


# (name, shape, mode, minimum ratio in-tree time / plugin time)
TIME_TARGETS = [
    ("forward, entity-aware", shape(4, 256, 32, True), "inference", 1.05),
    ("forward, plain attention", shape(4, 256, 32, False), "inference", 1.0),
    ("forward, entity-aware, L=512 E=128", shape(4, 512, 128, True), "inference", 1.1),
    ("training step, entity-aware", shape(4, 256, 32, True), "training", 1.05),
    ("training step, plain attention", shape(4, 256, 32, False), "training", 1.05),
]
# Peak memory of the plugin no higher than in-tree (ratio in-tree peak / plugin peak >= 1) on these shapes and modes.
MEMORY_TARGETS = [
    ("peak memory, forward, entity-aware", shape(4, 256, 32, True), "inference", 1.0),
    ("peak memory, forward, plain attention", shape(4, 256, 32, False), "inference", 1.0),
    ("peak memory, training, entity-aware", shape(4, 256, 32, True), "training", 1.0),
    ("peak memory, training, plain attention", shape(4, 256, 32, False), "training", 1.0),
]


def target_shapes() -> list[dict]:
    shapes: list[dict] = []
    for _, target_shape, _, _ in TIME_TARGETS:
        if target_shape not in shapes:
            shapes.append(target_shape)
    return shapes


def shape_label(row: Mapping) -> str:
    attention = "entity-aware" if row["entity_aware"] else "plain"
    return f"B={row['batch_size']} L={row['words']} E={row['entities']} {attention}"

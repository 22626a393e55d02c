"""MLukeDataCollator on an entity-span training batch: its int64 conversion against plain `torch.tensor`.

    .venv/bin/python benchmarks/bench_collator.py [--repeats 30] [--batch-size 32]

Features: the tokenizer's entity_span_classification encodings of the first `--batch-size` texts of the tokenizer
benchmark's inputs (benchmarks/bench_tokenizer.py: ~30 words, 80 spans each), with one label per span. The collator
runs as shipped (`tensor_conversion.int64_tensor`) and, alternately in the same process, with that conversion
replaced by `torch.tensor(rows, dtype=torch.long)` (what it did before); outputs are checked equal first. The figure
is the best of `--repeats` calls of each; the ratio is torch.tensor time / shipped time. No target: informational.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench_tokenizer import make_inputs
from bench_tokenizer_fast import best_time

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "tokenizer"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    options = parser.parse_args(argv)

    import torch
    from transformers.utils import logging

    from mluke_hf import MLukeDataCollator, MLukeTokenizer, building, data_collator

    logging.set_verbosity_error()
    texts, spans = make_inputs(count=options.batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = building.build_entity_vocab([{"en": "Japan", "ja": "日本"}], shape="full")
        folder = building.write_released_tokenizer_files(
            Path(tmp) / "tok", DATA / "sentencepiece_unigram.model", vocab, variant="base"
        )
        tokenizer = MLukeTokenizer.from_pretrained(
            folder, task="entity_span_classification", max_entity_length=max(map(len, spans))
        )
        features = []
        for text, text_spans in zip(texts, spans):
            feature = dict(tokenizer(text, entity_spans=text_spans))
            feature["labels"] = [index % 5 for index in range(len(text_spans))]
            features.append(feature)
    collator = MLukeDataCollator(tokenizer)
    shipped = data_collator.int64_tensor

    def with_torch_tensor():
        data_collator.int64_tensor = lambda rows: torch.tensor(rows, dtype=torch.long)
        try:
            return collator(features)
        finally:
            data_collator.int64_tensor = shipped

    ours, before = collator(features), with_torch_tensor()
    if set(ours) != set(before) or any(not torch.equal(ours[key], before[key]) for key in ours):
        raise SystemExit("the two conversions give different batches")
    times = {"int64_tensor": float("inf"), "torch.tensor": float("inf")}
    for _ in range(options.repeats):
        times["int64_tensor"] = min(times["int64_tensor"], best_time(lambda: collator(features), 1))
        times["torch.tensor"] = min(times["torch.tensor"], best_time(with_torch_tensor, 1))
    entities = ours["entity_position_ids"].shape
    ratio = times["torch.tensor"] / times["int64_tensor"]
    print(f"batch of {options.batch_size}: entity_position_ids {tuple(entities)}, best of {options.repeats}")
    print(f"collator with torch.tensor {times['torch.tensor'] * 1e3:.1f} ms, "
          f"as shipped (int64_tensor) {times['int64_tensor'] * 1e3:.1f} ms: {ratio:.2f}x")  # fmt: skip
    return {"batch_size": options.batch_size, **times, "ratio": ratio}


if __name__ == "__main__":
    main()

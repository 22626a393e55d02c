"""Side-environment half of bench_tokenizer.py: time transformers 4.57.6's MLukeTokenizer on the same inputs.

Run by bench_tokenizer.py as `/work/venv-ref/bin/python benchmarks/bench_tokenizer_reference.py INPUTS.json`;
prints one JSON line {"plain": seconds, "span": seconds, "plain_ids": ..., "span_ids": ...}.
"""

from __future__ import annotations

import json
import sys
import time


def best_time(function, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    from transformers import MLukeTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    inputs = json.loads(open(sys.argv[1], encoding="utf-8").read())
    texts = inputs["texts"]
    spans = [[tuple(span) for span in row] for row in inputs["spans"]]
    plain = MLukeTokenizer.from_pretrained(inputs["folder"])
    span = MLukeTokenizer.from_pretrained(inputs["folder"], task="entity_span_classification",
                                          max_entity_length=inputs["max_entity_length"])  # fmt: skip
    repeats = inputs["repeats"]
    result = {
        "plain": best_time(lambda: plain(texts), repeats),
        "span": best_time(lambda: span(texts, entity_spans=spans), repeats),
        "plain_ids": plain(texts)["input_ids"],
        "span_ids": span(texts, entity_spans=spans)["entity_position_ids"][:2],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

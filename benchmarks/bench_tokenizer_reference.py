"""Side-environment half of bench_tokenizer.py: time transformers 4.57.6's MLukeTokenizer on the same inputs.

Run by bench_tokenizer.py as `/work/venv-ref/bin/python benchmarks/bench_tokenizer_reference.py INPUTS.json`.
It then answers one command per stdin line with one JSON line on stdout, so the main script can interleave its own
timing rounds with these (load on a shared machine then hits both sides alike):

- `plain` / `span`: [wall seconds, CPU seconds of this process] of one run over the whole batch;
- `ids`: {"plain_ids": ..., "span_ids": ...} to check that both sides compute the same thing.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from transformers import MLukeTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    with open(sys.argv[1], encoding="utf-8") as handle:
        inputs = json.load(handle)
    texts = inputs["texts"]
    spans = [[tuple(span) for span in row] for row in inputs["spans"]]
    plain = MLukeTokenizer.from_pretrained(inputs["folder"])
    span = MLukeTokenizer.from_pretrained(inputs["folder"], task="entity_span_classification",
                                          max_entity_length=inputs["max_entity_length"])  # fmt: skip
    runs = {"plain": lambda: plain(texts), "span": lambda: span(texts, entity_spans=spans)}
    for line in sys.stdin:
        command = line.strip()
        if command in runs:
            start, cpu_start = time.perf_counter(), time.process_time()
            runs[command]()
            result = [time.perf_counter() - start, time.process_time() - cpu_start]
        elif command == "ids":
            result = {
                "plain_ids": plain(texts)["input_ids"],
                "span_ids": span(texts, entity_spans=spans)["entity_position_ids"],
            }
        else:
            result = {"error": f"unknown command {command!r}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

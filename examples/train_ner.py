"""Fine-tune mLUKE for named-entity recognition the LUKE way: span classification with greedy decoding.

Every span of up to --max_mention_length words becomes a `[MASK]` entity; the model classifies it from its
[start word; end word; entity] states; predictions are decoded greedily (best spans first, no overlaps) and scored
with seqeval-style entity F1. Data: CoNLL files (`word ... tag` per line, BIO tags) or JSONL (see
`mluke_hf.tasks.training`).

    python examples/train_ner.py --model studio-ousia/mluke-base-lite \\
        --train_file train.conll --validation_file dev.conll --output_dir ner-model

Runs under `torchrun --nproc_per_node N` as well (add --use_cpu for gloo on CPU). Writes the fine-tuned model,
its tokenizer and results.json to --output_dir; reload it with
`pipeline("entity-span-classification", model=output_dir)`.
"""

from __future__ import annotations

import argparse
import json
import os

import mluke_hf  # noqa: F401  (registers mLUKE with transformers)
from mluke_hf.tasks.training import add_training_arguments, run_ner


def parse_args(argv=None) -> argparse.Namespace:
    parser = add_training_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--max_mention_length", type=int, default=16, help="longest candidate span, in words")
    parser.add_argument("--max_entity_length", type=int, default=32, help="candidate spans per model input")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    results = run_ner(parse_args(argv))
    if os.environ.get("RANK", "0") == "0":  # one report under torchrun
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

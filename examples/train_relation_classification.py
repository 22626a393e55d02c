"""Fine-tune mLUKE for relation classification: `<ent>` around the head, `<ent2>` around the tail.

The classifier reads the `[MASK]` and `[MASK2]` entity states (LukeForEntityPairClassification). Data: JSONL lines
`{"text", "head": [start, end], "tail": [start, end], "label"}` with character spans. Metrics: accuracy and micro
precision/recall/F1 over every label except --negative_label (TACRED style).

    python examples/train_relation_classification.py --model studio-ousia/mluke-base-lite \\
        --train_file train.jsonl --validation_file dev.jsonl --output_dir relation-model

Reload with `pipeline("entity-pair-classification", model=output_dir)`.
"""

from __future__ import annotations

import argparse
import json
import os

import mluke_hf  # noqa: F401  (registers mLUKE with transformers)
from mluke_hf.tasks.training import add_training_arguments, run_relation_classification


def parse_args(argv=None) -> argparse.Namespace:
    parser = add_training_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--negative_label", default="no_relation", help="label left out of precision/recall/F1")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    results = run_relation_classification(parse_args(argv))
    if os.environ.get("RANK", "0") == "0":  # one report under torchrun
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

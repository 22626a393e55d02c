"""Fine-tune mLUKE for entity typing: `<ent>` around the mention, one `[MASK]` entity, a classifier on its state.

Data: JSONL lines `{"text", "span": [start, end], "labels": [...]}` for multi-label typing (Open Entity style:
sigmoid, a label is predicted when its logit is above 0; micro precision/recall/F1) or `"label": "..."` for single
label (softmax; accuracy and F1). The saved config records the problem type, so
`pipeline("entity-classification", model=output_dir)` scores labels the same way.

    python examples/train_entity_typing.py --model studio-ousia/mluke-base-lite \\
        --train_file train.jsonl --validation_file dev.jsonl --output_dir typing-model
"""

from __future__ import annotations

import argparse
import json
import os

import mluke_hf  # noqa: F401  (registers mLUKE with transformers)
from mluke_hf.tasks.training import add_training_arguments, run_entity_typing


def parse_args(argv=None) -> argparse.Namespace:
    return add_training_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0])).parse_args(argv)


def main(argv=None) -> dict:
    results = run_entity_typing(parse_args(argv))
    if os.environ.get("RANK", "0") == "0":  # one report under torchrun
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

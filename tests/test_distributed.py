"""examples/train_ner.py under `torchrun --nproc_per_node 2` on CPU (gloo): same results.json format as one
process, predictions gathered in order (the reported F1 is the saved checkpoint's F1), the checkpoint reloads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from mluke_hf import AutoModelForEntitySpanClassification
from mluke_hf.tasks.ner import entity_scores, read_ner_file
from mluke_hf.tasks.training import RESULTS_FILE, decode_ner_predictions, ner_features

from fixtures_training import logits_of

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_ner.py"
SINGLE_PROCESS_KEYS = {"task", "train_examples", "eval_examples", "train_features", "world_size", "train_loss",
                       "eval_loss_before", "eval_loss", "precision", "recall", "f1"}  # fmt: skip


def run_in_own_process_group(command: list[str], environment: dict, timeout: float) -> tuple[int | None, str, str]:
    """Run torchrun; on timeout kill it *and its ranks* (they would keep the output pipes open), exit code None."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return None, stdout, stderr + f"\n(timed out after {timeout} s)"
    return process.returncode, stdout, stderr


@pytest.mark.slow
def test_ner_example_under_torchrun_with_two_cpu_processes(pretrained_checkpoint, ner_files, tmp_path):
    train_file, dev_file = ner_files
    # One thread per process: two processes on two cores. Gloo on the loopback interface.
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "GLOO_SOCKET_IFNAME": "lo"}
    failures = []
    # On a small VM, about one launch in ten hangs while the two ranks connect (inside init_process_group, before any
    # of our code runs): such a launch is retried once, with a fresh output folder; everything below is then checked.
    for attempt in range(2):
        output_dir = tmp_path / f"ner-ddp-{attempt}"
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(EXAMPLE),
            "--model", str(pretrained_checkpoint), "--train_file", str(train_file), "--validation_file", str(dev_file),
            "--output_dir", str(output_dir), "--use_cpu", "--num_train_epochs", "20", "--learning_rate", "3e-3",
            "--max_mention_length", "4", "--per_device_train_batch_size", "4", "--per_device_eval_batch_size", "4",
            "--logging_steps", "10", "--seed", "0",
        ]  # fmt: skip
        returncode, stdout, stderr = run_in_own_process_group(command, environment, timeout=120)
        if returncode == 0:
            break
        failures.append(f"attempt {attempt}: exit {returncode}\n{stdout[-3000:]}{stderr[-5000:]}")
    else:
        pytest.fail("torchrun failed twice:\n" + "\n".join(failures))

    results = json.loads((output_dir / RESULTS_FILE).read_text())
    assert SINGLE_PROCESS_KEYS <= set(results)
    assert results["world_size"] == 2
    assert results["eval_loss"] < results["eval_loss_before"]
    # rank 0 alone prints the report.
    assert stdout.count('"task": "ner"') == 1

    # Eval features (20) do not fill whole batches on both ranks: the gathered predictions must still line up with
    # the features, so the saved model's own F1 equals the reported one.
    model = AutoModelForEntitySpanClassification.from_pretrained(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(output_dir)
    examples = read_ner_file(dev_file)
    features = ner_features(tokenizer, examples, model.config.label2id, max_mention_length=4)
    predicted = decode_ner_predictions(logits_of(model, features.dataset, tokenizer), features, len(examples),
                                       model.config.id2label)  # fmt: skip
    scores = entity_scores([example.entities for example in examples], predicted)
    assert scores["f1"] == pytest.approx(results["f1"])
    assert scores["precision"] == pytest.approx(results["precision"])

"""Tokenizer fixtures: hub-layout mLUKE tokenizer folders built from the committed SentencePiece models.

The folders are the ones `scripts/make_tokenizer_golden.py` recorded transformers 4.57.6 on (same models, same entity
vocabularies, same released tokenizer_config.json variants), built once per session.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

TOKENIZER_DATA = Path(__file__).resolve().parent / "data" / "tokenizer"
GOLDEN_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_tokenizer_golden.py"


def golden_case_tokenizer(tokenizer_class, cache: dict, folders: dict, tmp_path_factory, case: dict):
    """The tokenizer a golden case names, built once per (folder, init) and class.

    "saved:<folder>" cases load what `tokenizer_class.save_pretrained` wrote for that folder (4.57.6 loaded the same
    files, or the slow class's, for the golden values).
    """
    key = (tokenizer_class.__name__, case["tokenizer"], json.dumps(case["init"], sort_keys=True))
    if key not in cache:
        name = case["tokenizer"]
        if name.startswith("saved:"):
            saved = tmp_path_factory.mktemp("saved")
            tokenizer_class.from_pretrained(folders[name.split(":", 1)[1]]).save_pretrained(saved)
            cache[key] = tokenizer_class.from_pretrained(saved, **case["init"])
        else:
            cache[key] = tokenizer_class.from_pretrained(folders[name], **case["init"])
    return cache[key]


def check_golden_case_with_task_per_call(tokenizer_class, cache, folders, tmp_path_factory, case, script, caplog):
    """Replay a golden case recorded with `task` set at load time on a tokenizer loaded without it, passing the task
    with each call: the output (or the exception type, and the warnings) must be the recorded ones."""
    import logging

    init = dict(case["init"])
    task_per_call = {"task": init.pop("task")}
    decoded = {**case, "init": init, "args": script.decode_value(case["args"])}
    tokenizer = golden_case_tokenizer(tokenizer_class, cache, folders, tmp_path_factory, decoded)
    assert tokenizer.task is None
    if "error" in case:
        with pytest.raises(Exception) as raised:
            script.run_case(tokenizer, decoded, task_per_call)
        ours = [klass.__name__ for klass in type(raised.value).__mro__]
        assert case["error"] in ours, f"reference raised {case['error']}, we raised {type(raised.value).__name__}"
        return
    with caplog.at_level(logging.WARNING):
        output = script.describe_output(script.run_case(tokenizer, decoded, task_per_call))
    assert output == case["ok"]
    for message in case["warnings"]:
        assert message in caplog.text
    assert tokenizer.task is None  # nothing changed the tokenizer


def golden_cases_with_task(cases: dict) -> list[str]:
    """Names of the golden cases recorded with a task set at load time."""
    return [name for name, case in cases.items() if "task" in case["init"]]


def load_golden_script():
    """The golden script as a module (it imports nothing outside the standard library at import time)."""
    spec = importlib.util.spec_from_file_location("make_tokenizer_golden", GOLDEN_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tokenizer_golden() -> dict:
    return json.loads((TOKENIZER_DATA / "golden.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def tokenizer_golden_script():
    return load_golden_script()


@pytest.fixture(scope="session")
def tokenizer_folders(tmp_path_factory, tokenizer_golden_script) -> dict[str, Path]:
    """name -> hub-layout folder, for every variant of the golden suite (e.g. "unigram-full-base")."""
    from mluke_hf import building

    script = tokenizer_golden_script
    root = tmp_path_factory.mktemp("mluke_tokenizers")
    models = {kind: TOKENIZER_DATA / f"sentencepiece_{kind}.model" for kind in ("unigram", "bpe")}
    folders = {}
    for name, model_type, shape, variant in script.VARIANTS:
        vocab = building.build_entity_vocab(script.FULL_ENTITIES if shape == "full" else (), shape=shape)
        folders[name] = building.write_released_tokenizer_files(
            root / name, models[model_type], vocab, variant=variant
        )
    return folders


@pytest.fixture
def mluke_tokenizer_folder(tokenizer_folders, tmp_path) -> Path:
    """A private copy of the unigram / full-vocabulary / mluke-base-layout folder (safe to modify)."""
    target = tmp_path / "mluke-tokenizer"
    shutil.copytree(tokenizer_folders["unigram-full-base"], target)
    return target


@pytest.fixture(scope="session")
def mluke_slow_tokenizer(tokenizer_folders):
    """MLukeTokenizer on the unigram / full-vocabulary folder (shared: do not change its settings)."""
    from mluke_hf import MLukeTokenizer

    return MLukeTokenizer.from_pretrained(tokenizer_folders["unigram-full-base"])

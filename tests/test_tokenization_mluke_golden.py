"""MLukeTokenizer against transformers 4.57.6, case by case (tests/data/tokenizer/golden.json).

The golden file is written by `scripts/make_tokenizer_golden.py` in a side environment with transformers==4.57.6:
every public path (single/pair, entity spans and names, task modes, truncation, padding, pad() on lists, return_*
flags, overflow, batches, tensors, decode, convert_*, len) on unigram and BPE SentencePiece models with both entity
vocabulary shapes, plus the reference's exception type for invalid input and the same cases on folders that
mluke_hf saved and 4.57.6 loaded back.
"""

from __future__ import annotations

import json
import logging

import pytest

from fixtures_tokenizer import (
    TOKENIZER_DATA,
    check_golden_case_with_task_per_call,
    golden_case_tokenizer,
    golden_cases_with_task,
    load_golden_script,
)

GOLDEN = json.loads((TOKENIZER_DATA / "golden.json").read_text(encoding="utf-8"))
CASES = {case["name"]: case for case in GOLDEN["cases"]}
SCRIPT = load_golden_script()

# Invalid input the reference accepts silently (garbage positions); we raise a ValueError naming the argument.
STRICTER_THAN_REFERENCE = {
    "bad/span_reversed": "is reversed",
    "bad/span_empty": "is empty",
    "bad/span_negative": "must not be negative",
}


# Input the reference refuses that transformers 5 tokenizers (and pipelines such as zero-shot classification) use:
# a batch of (text, text_pair) pairs. We encode it as the batch `text=[...], text_pair=[...]`.
ACCEPTED_BEYOND_REFERENCE = {"bad/text_pretokenized"}


@pytest.fixture(scope="module")
def tokenizer_cache():
    return {}


def _tokenizer(cache, folders, tmp_path_factory, case):
    from mluke_hf import MLukeTokenizer

    return golden_case_tokenizer(MLukeTokenizer, cache, folders, tmp_path_factory, case)


def test_golden_suite_size():
    assert GOLDEN["transformers_version"] == "4.57.6"
    assert len(CASES) == len(GOLDEN["cases"]) >= 300
    assert sum("error" in case for case in GOLDEN["cases"]) >= 15
    # Replayed with the task per call too: every task mode, batches, padding budgets and pad() of task features.
    per_call = golden_cases_with_task(CASES)
    assert len(per_call) >= 400
    assert sum(name.startswith("per_call_task/") for name in per_call) >= 60


@pytest.mark.parametrize("name", list(CASES))
def test_matches_transformers_4_57_6(name, tokenizer_cache, tokenizer_folders, tmp_path_factory, caplog):
    case = CASES[name]
    decoded = {**case, "args": SCRIPT.decode_value(case["args"])}
    if name in STRICTER_THAN_REFERENCE:
        tokenizer = _tokenizer(tokenizer_cache, tokenizer_folders, tmp_path_factory, case)
        with pytest.raises(ValueError, match=STRICTER_THAN_REFERENCE[name]):
            SCRIPT.run_case(tokenizer, decoded)
        return
    if name in ACCEPTED_BEYOND_REFERENCE:
        tokenizer = _tokenizer(tokenizer_cache, tokenizer_folders, tmp_path_factory, case)
        pairs = decoded["args"]["text"]
        expected = tokenizer([first for first, _ in pairs], [second for _, second in pairs])
        assert dict(SCRIPT.run_case(tokenizer, decoded)) == dict(expected)
        return
    if "error" in case:
        with pytest.raises(Exception) as raised:
            # Construction is part of the case: an unknown task fails there, as in the reference.
            tokenizer = _tokenizer(tokenizer_cache, tokenizer_folders, tmp_path_factory, case)
            SCRIPT.run_case(tokenizer, decoded)
        ours = [klass.__name__ for klass in type(raised.value).__mro__]
        assert case["error"] in ours, f"reference raised {case['error']}, we raised {type(raised.value).__name__}"
        return
    tokenizer = _tokenizer(tokenizer_cache, tokenizer_folders, tmp_path_factory, case)
    with caplog.at_level(logging.WARNING):
        output = SCRIPT.describe_output(SCRIPT.run_case(tokenizer, decoded))
    assert output == case["ok"]
    for message in case["warnings"]:
        assert message in caplog.text


@pytest.mark.parametrize("name", golden_cases_with_task(CASES))
def test_task_per_call_matches_transformers_4_57_6_task_at_load(
    name, tokenizer_cache, tokenizer_folders, tmp_path_factory, caplog
):
    from mluke_hf import MLukeTokenizer

    check_golden_case_with_task_per_call(
        MLukeTokenizer, tokenizer_cache, tokenizer_folders, tmp_path_factory, CASES[name], SCRIPT, caplog
    )

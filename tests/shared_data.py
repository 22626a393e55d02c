"""Paths into `../shared` (beside the checkout; CI always has it): a missing one fails the test with a clear message.

The released checkpoints' small files (`../shared/reference/`) and transformers' own tiny test SentencePiece model
(`../shared/fixtures/`) are read from there, never copied into the repository; a test that needs them must not pass
by skipping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(*parts: str) -> Path:
    """`../shared/<parts>`, or the test fails naming the missing path and how to provide it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"{path} is missing: these tests read the project's shared files from ../shared beside the checkout "
            "(CI provides it). Clone the repository next to shared/ to run them.",
            pytrace=False,
        )
    return path

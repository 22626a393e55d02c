"""argparse types of the command line (`mluke-hf` and its demo): numbers checked against their range, one message
shape for every option ("expected ..., got ...", "must be ..., got ...")."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _checked(parse: Callable[[str], float], kind: str, ok: Callable[[float], bool], rule: str):
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must {rule}, got {text}")
        return value

    convert.__name__ = kind.replace(" ", "_")
    return convert


positive_int = _checked(int, "a positive integer", lambda value: value >= 1, "be at least 1")
non_negative_int = _checked(int, "a whole number", lambda value: value >= 0, "be 0 or more")
positive_float = _checked(
    float, "a positive number", lambda value: value > 0 and math.isfinite(value), "be a positive number"
)
probability = _checked(float, "a number between 0 and 1", lambda value: 0.0 <= value <= 1.0, "lie between 0 and 1")

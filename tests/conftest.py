"""Shared pytest fixtures. Each area keeps its fixtures in its own `fixtures_*.py` module, star-imported here."""
# ruff: noqa: I001  (the fixture modules are star-imported in this order on purpose: later names win)

from __future__ import annotations

import os

# Tests never reach the hub: fail fast instead of waiting on the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Conversion caches of the test run go to a folder of their own, never into the user's ~/.cache.
if "MLUKE_HF_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["MLUKE_HF_CACHE"] = tempfile.mkdtemp(prefix="mluke_hf_test_cache_")
    atexit.register(shutil.rmtree, os.environ["MLUKE_HF_CACHE"], True)

from fixtures_tokenizer import *  # noqa: E402,F401,F403
from fixtures_model import *  # noqa: E402,F401,F403
from fixtures_training import *  # noqa: E402,F401,F403
from fixtures_pipelines import *  # noqa: E402,F401,F403

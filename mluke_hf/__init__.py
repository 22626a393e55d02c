"""mluke_hf: mLUKE (multilingual LUKE) for Hugging Face transformers 5.x.

Importing this package registers the configuration, models, tokenizers and entity pipelines with transformers'
Auto classes and pipeline registry (see `mluke_hf.registration`), so released checkpoints load with exact results.
"""

from __future__ import annotations

__version__ = "0.1.0"

# -- configuration and models (core issue) ------------------------------------------------------------------------
# -- tokenizers -------------------------------------------------------------------------------------------------------
from .tokenization_mluke import MLukeTokenizer  # noqa: E402
# -- pipelines, data collator ---------------------------------------------------------------------------------------

from .registration import register  # noqa: E402

register()

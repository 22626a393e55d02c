"""Every registration of mluke_hf with transformers, in one place, run once on `import mluke_hf`.

See docs/architecture.md ("How registration works") for what each step changes in transformers' Auto mappings.
"""

from __future__ import annotations

_REGISTERED = False


def register() -> None:
    """Register mluke_hf's config, models, tokenizers and pipelines with transformers. Idempotent."""
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True
    _register_tokenizers()


# -- tokenizers (issue 3 / issue 4) -----------------------------------------------------------------------------------


def _register_tokenizers() -> None:
    """Make `tokenizer_class: "MLukeTokenizer"` and AutoTokenizer resolve to mluke_hf's tokenizer.

    transformers 5's `tokenizer_class_from_name` looks in `REGISTERED_FAST_ALIASES` and `REGISTERED_TOKENIZER_CLASSES`
    before its own (broken for mLUKE) MLukeTokenizer, so registering our class under that name is enough for released
    folders; `AutoTokenizer.register` also maps the config classes (model_type "mluke" and "luke") to it.
    """
    from transformers import AutoTokenizer
    from transformers.models.auto import tokenization_auto

    from .tokenization_mluke import MLukeTokenizer

    # When MLukeTokenizerFast lands: pass fast_tokenizer_class=MLukeTokenizerFast below as well.
    tokenizer_classes = {"slow_tokenizer_class": MLukeTokenizer}
    tokenization_auto.REGISTERED_TOKENIZER_CLASSES[MLukeTokenizer.__name__] = MLukeTokenizer
    try:
        from .configuration_mluke import LukeFormatConfig, MLukeConfig
    except ImportError:  # the configuration module is optional for tokenizer-only use
        return
    for config_class in (MLukeConfig, LukeFormatConfig):
        AutoTokenizer.register(config_class, **tokenizer_classes, exist_ok=True)

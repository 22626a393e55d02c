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

"""Tokenizer helpers shared by the task recipes and every entity pipeline: the model window, entity-span encoding,
and token counts from the tokenizer's batched primitive."""

from __future__ import annotations

from collections.abc import Sequence


def encode_entity_spans(
    tokenizer, text: str, entity_spans: Sequence[tuple[int, int]], task: str, max_length: int | None = None
) -> dict:
    """Tokenizer features (plain lists) of one text with character `entity_spans`, in the tokenizer mode `task`.

    Every span is kept (the tokenizer's default `max_entity_length` does not cut them); callers chunk spans first.
    With `max_length`, the tokens are cut to it (`<s>`/`</s>` included) and entities past the cut are dropped: the
    caller compares `len(features["entity_ids"])` with its spans.
    """
    options = {"truncation": True, "max_length": max_length} if max_length is not None else {}
    encoding = tokenizer(
        text, entity_spans=list(entity_spans), max_entity_length=max(1, len(entity_spans)), task=task, **options
    )
    return {key: list(value) for key, value in encoding.items()}


def token_counts(tokenizer, texts: Sequence[str]) -> list[int]:
    """Word tokens of each text encoded on its own (as the entity tokenizers encode the text between two span
    boundaries), at least 1 each; one batched call over the distinct texts."""
    distinct = list(dict.fromkeys(texts))
    encode_pieces = getattr(tokenizer, "_encode_text_pieces", None)
    if encode_pieces is not None:
        ids = encode_pieces(distinct)
    else:
        ids = tokenizer(distinct, add_special_tokens=False)["input_ids"] if distinct else []
    counts = {text: max(1, len(piece_ids)) for text, piece_ids in zip(distinct, ids)}
    return [counts[text] for text in texts]


def word_token_counts(tokenizer, words: Sequence[str], cache: dict[str, int] | None = None) -> list[int]:
    """`token_counts` of `words`, remembered in `cache` (a dict kept by the caller across texts) when given."""
    if cache is None:
        return token_counts(tokenizer, words)
    missing = [word for word in dict.fromkeys(words) if word not in cache]
    cache.update(zip(missing, token_counts(tokenizer, missing)))
    return [cache[word] for word in words]


def model_max_tokens(tokenizer, model_config=None) -> int:
    """Word tokens a single model input may hold (without `<s>`/`</s>`), from the config's position table."""
    limit = 512
    positions = getattr(model_config, "max_position_embeddings", None)
    if positions:
        # RoBERTa-style positions start after the padding index.
        limit = min(limit, positions - getattr(model_config, "pad_token_id", 1) - 1)
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if tokenizer_limit and tokenizer_limit < 100_000:
        limit = min(limit, tokenizer_limit)
    return max(1, limit - 2)

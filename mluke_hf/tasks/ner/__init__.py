"""LUKE's named-entity recipe, in every script: candidate boundaries, spans, windows, features and the one decoder.

mLUKE does NER as span classification (Yamada et al., 2020): every span of whole units up to a maximum mention
length becomes a `[MASK]` entity, the model classifies each one from [start token; end token; entity] states, and
the predictions are decoded greedily by descending score, keeping spans that do not overlap a better one. This
package holds the model-free parts of that recipe, shared by the `entity-span-classification` pipeline, the NER
training example and the demo:

- `boundaries`: the units spans are made of, in any script (`candidate_units`, `split_words`, `words_from_tokens`);
- `windows`: candidate spans (`enumerate_spans`), their chunks (`chunk_spans`), model windows (`plan_windows`) and
  over-long units cut to fit (`fit_units`);
- `features`: a text's units with token counts (`text_units`) and its model inputs (`encode_span_features`);
- `decoding`: the one decoder (`decode_span_logits`, on `decode_greedy`).

Data readers live in `mluke_hf.tasks.readers`, metrics in `mluke_hf.tasks.metrics`, tokenizer helpers in
`mluke_hf.tasks.encoding`; their names stay importable from here.
"""

from __future__ import annotations

import importlib

from ..encoding import encode_entity_spans, model_max_tokens, token_counts, word_token_counts
from ..metrics import OUTSIDE_LABEL, bio_to_spans, entity_scores, spans_to_bio
from .boundaries import (
    PIECE_SCRIPTS,
    candidate_units,
    candidate_units_batch,
    grapheme_starts,
    piece_lengths,
    split_words,
    words_from_tokens,
)
from .decoding import DecodedEntity, decode_greedy, decode_span_logits
from .features import SpanFeature, align_entities, encode_span_features, text_units, text_units_batch
from .windows import Window, chunk_spans, enumerate_spans, fit_units, plan_windows, unit_token_limit

# Loaded on first use: the readers import this package's boundaries themselves.
_READER_NAMES = ("NerExample", "label_list", "read_conll", "read_jsonl", "read_ner_file")


def __getattr__(name: str):
    if name in _READER_NAMES:
        return getattr(importlib.import_module("..readers", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "OUTSIDE_LABEL",
    "PIECE_SCRIPTS",
    "DecodedEntity",
    "NerExample",
    "SpanFeature",
    "Window",
    "align_entities",
    "bio_to_spans",
    "candidate_units",
    "candidate_units_batch",
    "chunk_spans",
    "decode_greedy",
    "decode_span_logits",
    "encode_entity_spans",
    "encode_span_features",
    "entity_scores",
    "enumerate_spans",
    "fit_units",
    "grapheme_starts",
    "label_list",
    "model_max_tokens",
    "piece_lengths",
    "plan_windows",
    "read_conll",
    "read_jsonl",
    "read_ner_file",
    "spans_to_bio",
    "split_words",
    "text_units",
    "text_units_batch",
    "token_counts",
    "unit_token_limit",
    "word_token_counts",
    "words_from_tokens",
]

"""`entity-span-classification`: named-entity recognition the LUKE way (span classification + greedy decoding).

```python
import mluke_hf
from transformers import pipeline

ner = pipeline("entity-span-classification", model="studio-ousia/mluke-large-lite-finetuned-conll-2003")
ner("Barack Obama visited Tokyo.")
# [{"entity_group": "PER", "score": 0.99, "word": "Barack Obama", "start": 0, "end": 12}, ...]
```

How a text is decoded (see `mluke_hf.tasks.ner`): the text is cut into units (`text_units`: words in scripts written
with spaces; SentencePiece pieces, never splitting a grapheme, in spaceless scripts such as Chinese, Japanese and Thai
and in scripts with attached particles or clitics such as Korean and Arabic); every span of up to
`max_mention_length` units is a candidate, given to the model as a `[MASK]` entity; candidates are grouped in chunks
of `max_entity_length` over the same tokens, and texts longer than the model's window are cut into sliding windows
with context on both sides (each candidate is decided in the window whose core holds its first unit; a unit too long
for a window is cut to fit). `decode_span_logits`, the decoder training and evaluation use too, then gives each
candidate its best label; those that are not `O` compete by logit, best first, and a candidate is kept only if it
overlaps no kept one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tasks.ner import OUTSIDE_LABEL, decode_span_logits, encode_span_features, model_max_tokens, text_units
from .base import EntityPipeline, check_at_most

# The recipe of the released NER model and of `mluke_hf.tasks.training.ner_features`.
DEFAULT_MAX_MENTION_LENGTH = 16
# Candidate spans per model input of the original LUKE NER recipe, used when the checkpoint's config does not say
# (`ner_spans_per_input`, written by NER fine-tuning). More spans per input: fewer forward rows per text.
DEFAULT_SPANS_PER_INPUT = 128


def spans_per_input(config) -> int:
    """Candidate spans per model input the checkpoint was fine-tuned with (`config.ner_spans_per_input`), or 128."""
    value = getattr(config, "ner_spans_per_input", None)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return DEFAULT_SPANS_PER_INPUT
    return value


class EntitySpanClassificationPipeline(EntityPipeline):
    """Named entities of texts, as character spans with labels, from an entity span classification model.

    Call: `ner(text)`, `ner({"text": text})`, `ner([text, ...])` (batched). Each result is a list, in text order, of
    `{"entity_group", "score", "word", "start", "end"}` like token-classification's aggregated output: `start`/`end`
    are character offsets into the text, `word` is `text[start:end]`, `score` is the softmax probability of the label.

    Parameters (at construction or per call):
        max_mention_length: longest candidate span, in units: words, or pieces in spaceless and clitic scripts
            (default 16).
        max_entity_length: candidate spans per model input (default: the checkpoint's `ner_spans_per_input`, else
            128 as in the original LUKE recipe).
        max_tokens: word tokens per model window (default: what the model's position table holds, 510).
        ignore_labels: labels never reported (default `["O"]`).
        batch_size: model inputs per forward pass (default 8).
    """

    def _sanitize_parameters(
        self,
        max_mention_length: int | None = None,
        max_entity_length: int | None = None,
        max_tokens: int | None = None,
        ignore_labels: list[str] | None = None,
        **unknown,
    ):
        if unknown:
            raise TypeError(f"entity-span-classification got unexpected arguments {sorted(unknown)}")
        preprocess = {}
        for name, value in (
            ("max_mention_length", max_mention_length),
            ("max_entity_length", max_entity_length),
            ("max_tokens", max_tokens),
        ):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"{name} must be a positive int, got {value!r}")
                preprocess[name] = value
        if max_tokens is not None:
            limit = model_max_tokens(self.tokenizer, self.model.config)
            check_at_most(max_tokens, limit, "max_tokens", "word tokens per window that the model's positions hold")
        postprocess = {}
        if ignore_labels is not None:
            if isinstance(ignore_labels, str) or not all(isinstance(label, str) for label in ignore_labels):
                raise TypeError(f"ignore_labels must be a list of label names, got {ignore_labels!r}")
            postprocess["ignore_labels"] = list(ignore_labels)
        return preprocess, {}, postprocess

    def preprocess(
        self,
        inputs: dict,
        max_mention_length: int = DEFAULT_MAX_MENTION_LENGTH,
        max_entity_length: int | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        text = inputs["text"]
        if max_entity_length is None:
            max_entity_length = spans_per_input(self.model.config)
        if max_tokens is None:
            max_tokens = model_max_tokens(self.tokenizer, self.model.config)
        units, counts = text_units(self.tokenizer, text, max_tokens)
        features = encode_span_features(
            self.tokenizer, text, units, max_mention_length, max_entity_length, max_tokens, token_counts=counts
        )
        return {
            "text": text,
            "features": [feature.encoding for feature in features],
            "spans": [feature.spans for feature in features],
        }

    def postprocess(self, prepared: dict, ignore_labels: list[str] | None = None) -> list[dict[str, Any]]:
        spans = [span for feature_spans in prepared["spans"] for span in feature_spans]
        if not spans:
            return []
        logits = np.concatenate(
            [output["logits"][: len(feature_spans)].float().numpy()
             for output, feature_spans in zip(prepared["outputs"], prepared["spans"])]
        )  # fmt: skip
        ignored = [OUTSIDE_LABEL] if ignore_labels is None else ignore_labels
        text = prepared["text"]
        return [
            {"entity_group": entity.label, "score": entity.score, "word": text[entity.start : entity.end],
             "start": entity.start, "end": entity.end}
            for entity in decode_span_logits(logits, spans, self.model.config.id2label, ignored)
        ]  # fmt: skip

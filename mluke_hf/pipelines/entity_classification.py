"""`entity-classification`: entity typing, labels of one marked mention.

```python
import mluke_hf
from transformers import pipeline

typing = pipeline("entity-classification", model="path/to/an/entity-typing/checkpoint")
typing("Beyoncé lives in Los Angeles.", span=(0, 7))
# [{"label": "person", "score": 0.98}, ...]
```

The mention is wrapped in `<ent>` markers and given to the model as one `[MASK]` entity (the tokenizer's
`entity_classification` mode); the head classifies the entity's final state.
"""

from __future__ import annotations

from typing import Any

from .base import EntityPipeline, check_threshold, check_top_k, label_scores


class EntityClassificationPipeline(EntityPipeline):
    """Labels of a mention given as a character span.

    Call: `clf(text, span=(start, end))`, `clf({"text": text, "span": (start, end)})`, or a list of either (batched;
    with a list of texts, `span` is one span for all or a list of spans, one per text).

    Result per input: a list of `{"label", "score"}`, best first. Single-label heads (the default problem type): the
    softmax over all labels, or the `top_k` best. Multi-label heads (`config.problem_type ==
    "multi_label_classification"`): every label whose sigmoid score is at least `threshold` (default 0.5, i.e. a
    logit of 0 as in LUKE's entity typing), possibly none.
    """

    span_arguments = ("span",)
    task_mode = "entity_classification"

    def _sanitize_parameters(self, top_k: int | None = None, threshold: float | None = None, **unknown):
        if unknown:
            raise TypeError(f"{self.task or type(self).__name__} got unexpected arguments {sorted(unknown)}")
        postprocess: dict[str, Any] = {}
        if top_k is not None:
            postprocess["top_k"] = check_top_k(top_k)
        if threshold is not None:
            postprocess["threshold"] = check_threshold(threshold)
        return {}, {}, postprocess

    def preprocess(self, inputs: dict) -> dict[str, Any]:
        spans = [inputs[name] for name in self.span_arguments]
        features = self.encode(inputs["text"], spans, self.task_mode, argument="/".join(self.span_arguments))
        return {"features": [features]}

    def postprocess(self, prepared: dict, top_k: int | None = None, threshold: float = 0.5) -> list[dict[str, Any]]:
        return label_scores(prepared["outputs"][0]["logits"], self.model.config, top_k=top_k, threshold=threshold)

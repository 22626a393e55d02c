"""`entity-pair-classification`: relation classification between a head and a tail mention.

```python
import mluke_hf
from transformers import pipeline

relations = pipeline("entity-pair-classification", model="path/to/a/relation/checkpoint")
relations("Beyoncé lives in Los Angeles.", head=(0, 7), tail=(17, 28))
# [{"label": "per:cities_of_residence", "score": 0.93}, ...]
```

The head is wrapped in `<ent>` markers and the tail in `<ent2>` markers, and they enter the model as `[MASK]` and
`[MASK2]` entities (the tokenizer's `entity_pair_classification` mode); the head classifies the pair of entity
states.
"""

from __future__ import annotations

from .entity_classification import EntityClassificationPipeline


class EntityPairClassificationPipeline(EntityClassificationPipeline):
    """Relation labels of a (head, tail) pair of mentions, each a character span.

    Call: `rel(text, head=(s, e), tail=(s, e))`, `rel({"text", "head", "tail"})`, or a list of either (batched).
    Results, `top_k` and `threshold` as in `EntityClassificationPipeline` (single-label softmax, or multi-label
    sigmoid scores at or above `threshold`).
    """

    span_arguments = ("head", "tail")
    task_mode = "entity_pair_classification"

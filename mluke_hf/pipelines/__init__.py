"""Entity pipelines of mluke_hf, registered with transformers' pipeline registry on `import mluke_hf`.

| task                          | class                                | model Auto class                        |
|-------------------------------|--------------------------------------|-----------------------------------------|
| `entity-span-classification`  | `EntitySpanClassificationPipeline`   | `AutoModelForEntitySpanClassification`  |

See docs/pipelines.md for call forms and outputs.
"""

from __future__ import annotations

from .base import EntityPipeline
from .entity_span_classification import EntitySpanClassificationPipeline

__all__ = ["EntityPipeline", "EntitySpanClassificationPipeline"]

"""Entity pipelines of mluke_hf, registered with transformers' pipeline registry on `import mluke_hf`.

| task                          | class                                | model Auto class                        |
|-------------------------------|--------------------------------------|-----------------------------------------|
| `entity-span-classification`  | `EntitySpanClassificationPipeline`   | `AutoModelForEntitySpanClassification`  |
| `entity-classification`       | `EntityClassificationPipeline`       | `AutoModelForEntityClassification`      |
| `entity-pair-classification`  | `EntityPairClassificationPipeline`   | `AutoModelForEntityPairClassification`  |
| `entity-fill-mask`            | `EntityFillMaskPipeline`             | `transformers.AutoModelForMaskedLM`     |
| `question-answering`          | `MLukeQuestionAnsweringPipeline`     | `transformers.AutoModelForQuestionAnswering` |

transformers 5 removed its question-answering pipeline; `question_answering.py` brings an offsets-based one back for
mLUKE/LUKE models with a QA head and a fast tokenizer (other models are refused).

See docs/pipelines.md for call forms and outputs.
"""

from __future__ import annotations

from .base import EntityPipeline
from .entity_classification import EntityClassificationPipeline
from .entity_fill_mask import EntityFillMaskPipeline
from .entity_pair_classification import EntityPairClassificationPipeline
from .entity_span_classification import EntitySpanClassificationPipeline
from .question_answering import MLukeQuestionAnsweringPipeline

__all__ = [
    "EntityPipeline",
    "EntityClassificationPipeline",
    "EntityPairClassificationPipeline",
    "EntitySpanClassificationPipeline",
    "EntityFillMaskPipeline",
    "MLukeQuestionAnsweringPipeline",
]

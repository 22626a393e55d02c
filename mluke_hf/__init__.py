"""mluke_hf: mLUKE (multilingual LUKE) for Hugging Face transformers 5.x.

Importing this package registers the configuration, models, tokenizers and entity pipelines with transformers'
Auto classes and pipeline registry (see `mluke_hf.registration`), so released checkpoints load with exact results.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "AutoModelForEntityClassification",
    "AutoModelForEntityPairClassification",
    "AutoModelForEntitySpanClassification",
    "EntityClassificationOutput",
    "EntityClassificationPipeline",
    "EntityFillMaskPipeline",
    "EntityPairClassificationOutput",
    "EntityPairClassificationPipeline",
    "EntitySpanClassificationOutput",
    "EntitySpanClassificationPipeline",
    "LukeFormatConfig",
    "MLukeConfig",
    "MLukeDataCollator",
    "MLukeForEntityClassification",
    "MLukeForEntityPairClassification",
    "MLukeForEntitySpanClassification",
    "MLukeForMaskedLM",
    "MLukeForMultipleChoice",
    "MLukeForQuestionAnswering",
    "MLukeForSequenceClassification",
    "MLukeForTokenClassification",
    "MLukeMaskedLMOutput",
    "MLukeModel",
    "MLukeModelOutput",
    "MLukeMultipleChoiceModelOutput",
    "MLukePreTrainedModel",
    "MLukeQuestionAnsweringModelOutput",
    "MLukeQuestionAnsweringPipeline",
    "MLukeSequenceClassifierOutput",
    "MLukeTokenClassifierOutput",
    "MLukeTokenizer",
    "MLukeTokenizerFast",
    "luke_checkpoints_routed",
    "model_class_for_config",
    "prepack_linear_weights",
    "register",
    "route_luke_checkpoints",
    "unprepack_linear_weights",
]

# -- configuration and models ------------------------------------------------------------------------
from .auto import (  # noqa: E402
    AutoModelForEntityClassification,
    AutoModelForEntityPairClassification,
    AutoModelForEntitySpanClassification,
    model_class_for_config,
)
from .configuration_mluke import LukeFormatConfig, MLukeConfig  # noqa: E402

# -- pipelines, data collator ---------------------------------------------------------------------------------------
from .data_collator import MLukeDataCollator  # noqa: E402  (data collator, training)
from .modeling_mluke import (  # noqa: E402
    MLukeForEntityClassification,
    MLukeForEntityPairClassification,
    MLukeForEntitySpanClassification,
    MLukeForMaskedLM,
    MLukeForMultipleChoice,
    MLukeForQuestionAnswering,
    MLukeForSequenceClassification,
    MLukeForTokenClassification,
    MLukeModel,
    MLukePreTrainedModel,
    prepack_linear_weights,
    unprepack_linear_weights,
)
from .modeling_outputs import (  # noqa: E402
    EntityClassificationOutput,
    EntityPairClassificationOutput,
    EntitySpanClassificationOutput,
    MLukeMaskedLMOutput,
    MLukeModelOutput,
    MLukeMultipleChoiceModelOutput,
    MLukeQuestionAnsweringModelOutput,
    MLukeSequenceClassifierOutput,
    MLukeTokenClassifierOutput,
)
from .pipelines import (  # noqa: E402  (pipelines)
    EntityClassificationPipeline,
    EntityFillMaskPipeline,
    EntityPairClassificationPipeline,
    EntitySpanClassificationPipeline,
    MLukeQuestionAnsweringPipeline,
)
from .registration import (  # noqa: E402
    luke_checkpoints_routed,
    register,  # noqa: E402
    route_luke_checkpoints,
)

# -- tokenizers -------------------------------------------------------------------------------------------------------
from .tokenization_mluke import MLukeTokenizer  # noqa: E402
from .tokenization_mluke_fast import MLukeTokenizerFast  # noqa: E402

register()

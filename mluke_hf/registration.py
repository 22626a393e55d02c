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
    _register_configs()
    _register_models()
    _register_tokenizers()
    _register_pipelines()
    _register_question_answering()


# -- configuration and models (core, issue 2) -------------------------------------------------------------------------

# Set to 0 (or false/no/off) before `import mluke_hf` to leave `model_type: "luke"` folders to transformers' own classes.
ROUTE_LUKE_ENV = "MLUKE_HF_ROUTE_LUKE"
_OFF_VALUES = ("0", "false", "no", "off")


def _register_configs() -> None:
    """AutoConfig: "mluke" -> MLukeConfig; "luke" -> LukeFormatConfig unless MLUKE_HF_ROUTE_LUKE=0."""
    import os

    from transformers import AutoConfig

    from .configuration_mluke import MLukeConfig

    AutoConfig.register(MLukeConfig.model_type, MLukeConfig, exist_ok=True)
    route_luke_checkpoints(os.environ.get(ROUTE_LUKE_ENV, "1").strip().lower() not in _OFF_VALUES)


def _model_auto_classes() -> list[tuple[type, type]]:
    """(Auto class, mluke_hf model class) pairs, transformers' own Auto classes and mluke_hf's entity ones."""
    import transformers

    from . import auto, modeling_mluke

    return [
        (transformers.AutoModel, modeling_mluke.MLukeModel),
        (transformers.AutoModelForMaskedLM, modeling_mluke.MLukeForMaskedLM),
        (transformers.AutoModelForPreTraining, modeling_mluke.MLukeForMaskedLM),
        (transformers.AutoModelForSequenceClassification, modeling_mluke.MLukeForSequenceClassification),
        (transformers.AutoModelForTokenClassification, modeling_mluke.MLukeForTokenClassification),
        (transformers.AutoModelForQuestionAnswering, modeling_mluke.MLukeForQuestionAnswering),
        (transformers.AutoModelForMultipleChoice, modeling_mluke.MLukeForMultipleChoice),
        (auto.AutoModelForEntityClassification, modeling_mluke.MLukeForEntityClassification),
        (auto.AutoModelForEntityPairClassification, modeling_mluke.MLukeForEntityPairClassification),
        (auto.AutoModelForEntitySpanClassification, modeling_mluke.MLukeForEntitySpanClassification),
    ]


def _register_models() -> None:
    """Map both config classes to the plugin's models in every Auto class.

    LukeFormatConfig goes into the mappings directly: `AutoModel.register` insists that the model's `config_class`
    (MLukeConfig) has the same name. Its entries only matter while AutoConfig returns LukeFormatConfig for "luke".
    """
    from .configuration_mluke import LukeFormatConfig, MLukeConfig

    for auto_class, model_class in _model_auto_classes():
        auto_class.register(MLukeConfig, model_class, exist_ok=True)
        auto_class._model_mapping.register(LukeFormatConfig, model_class, exist_ok=True)


def route_luke_checkpoints(enabled: bool = True) -> None:
    """Route `model_type: "luke"` folders (released mLUKE and LUKE checkpoints) to mluke_hf, or stop doing so.

    On (the default on import): AutoConfig gives a LukeFormatConfig, so every Auto class and `pipeline(...)` builds
    mluke_hf's models, which save the folder back as `model_type: "luke"`. Off: transformers' own LUKE classes
    handle such folders again (configs already loaded keep their class). Works at any time; the environment
    variable MLUKE_HF_ROUTE_LUKE=0 turns it off at import.
    """
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from .configuration_mluke import LukeFormatConfig

    if enabled:
        CONFIG_MAPPING.register(LukeFormatConfig.model_type, LukeFormatConfig, exist_ok=True)
    elif CONFIG_MAPPING._extra_content.get(LukeFormatConfig.model_type) is LukeFormatConfig:
        del CONFIG_MAPPING._extra_content[LukeFormatConfig.model_type]


def luke_checkpoints_routed() -> bool:
    """Whether `model_type: "luke"` folders currently load into mluke_hf's classes."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from .configuration_mluke import LukeFormatConfig

    return CONFIG_MAPPING._extra_content.get(LukeFormatConfig.model_type) is LukeFormatConfig


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
    from .tokenization_mluke_fast import MLukeTokenizerFast

    # transformers 5 always prefers the fast class: REGISTERED_FAST_ALIASES makes `tokenizer_class: "MLukeTokenizer"`
    # give MLukeTokenizerFast (offsets, pipelines); MLukeTokenizer.from_pretrained(...) still gives the slow one.
    tokenizer_classes = {"slow_tokenizer_class": MLukeTokenizer, "fast_tokenizer_class": MLukeTokenizerFast}
    tokenization_auto.REGISTERED_TOKENIZER_CLASSES[MLukeTokenizer.__name__] = MLukeTokenizer
    tokenization_auto.REGISTERED_TOKENIZER_CLASSES[MLukeTokenizerFast.__name__] = MLukeTokenizerFast
    tokenization_auto.REGISTERED_FAST_ALIASES[MLukeTokenizer.__name__] = MLukeTokenizerFast
    try:
        from .configuration_mluke import LukeFormatConfig, MLukeConfig
    except ImportError:  # the configuration module is optional for tokenizer-only use
        return
    for config_class in (MLukeConfig, LukeFormatConfig):
        AutoTokenizer.register(config_class, **tokenizer_classes, exist_ok=True)


def _register_question_answering() -> None:
    """`pipeline("question-answering", model=folder)`: transformers 5 removed the task; mluke_hf's offsets-based
    pipeline (mluke_hf.pipelines.question_answering, tokenizer-fast issue) takes the name back."""
    from .pipelines.question_answering import register_question_answering

    register_question_answering()


# -- pipelines (issue 5) ------------------------------------------------------------------------------------------------


def _pipeline_tasks() -> list[tuple[str, type, type]]:
    """(task name, pipeline class, model Auto class) of every entity pipeline."""
    from transformers import AutoModelForMaskedLM

    from . import auto, pipelines

    return [
        ("entity-classification", pipelines.EntityClassificationPipeline, auto.AutoModelForEntityClassification),
        ("entity-pair-classification", pipelines.EntityPairClassificationPipeline,
         auto.AutoModelForEntityPairClassification),
        ("entity-span-classification", pipelines.EntitySpanClassificationPipeline,
         auto.AutoModelForEntitySpanClassification),
        ("entity-fill-mask", pipelines.EntityFillMaskPipeline, AutoModelForMaskedLM),
    ]


def _register_pipelines() -> None:
    """Make `pipeline("<entity task>", model=folder)` build mluke_hf's entity pipelines (no tokenizer argument needed).

    Registering sets the pipeline's model Auto class; registering again (a second `register()` in tests) is silent.
    """
    from transformers.pipelines import PIPELINE_REGISTRY

    for task, pipeline_class, auto_class in _pipeline_tasks():
        if PIPELINE_REGISTRY.supported_tasks.get(task, {}).get("impl") is pipeline_class:
            continue
        PIPELINE_REGISTRY.register_pipeline(task, pipeline_class=pipeline_class, pt_model=auto_class, type="text")

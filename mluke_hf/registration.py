"""Every registration of mluke_hf with transformers, in one place, run once on `import mluke_hf`.

See docs/architecture.md ("How registration works") for what each step changes in transformers' Auto mappings.

Each step runs on its own: if one fails (a transformers release moved an internal it needs, see `mluke_hf.compat`),
`import mluke_hf` still succeeds, the other steps still run, and a `RegistrationWarning` names the transformers version,
what is missing and what no longer works. `registration_problems()` lists those messages and `check_registration()`
raises them, for programs and CI jobs that want a hard failure.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from .compat import TRANSFORMERS_VERSION, MissingTransformersInternal, support_note

_REGISTERED = False
_PROBLEMS: list[str] = []


class RegistrationWarning(RuntimeWarning):
    """A registration step of mluke_hf failed with the installed transformers; the message says what is affected."""


def register() -> None:
    """Register mluke_hf's config, models, tokenizers and pipelines with transformers. Idempotent.

    Never raises: a failed step is reported by a RegistrationWarning and in `registration_problems()`.
    """
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True
    for step, consequence in _STEPS:
        _run_step(step, consequence)


def _run_step(step: Callable[[], None], consequence: str) -> None:
    try:
        step()
    except Exception as error:  # noqa: BLE001  (any failure of one step must leave the package importable)
        if isinstance(error, MissingTransformersInternal):
            detail = str(error)
        else:
            detail = f"{type(error).__name__}: {error}. {support_note()}"
        message = (
            f"mluke_hf could not complete `{step.__name__.lstrip('_')}` with transformers {TRANSFORMERS_VERSION}: "
            f"{detail} Until this is fixed, {consequence}"
        )
        _PROBLEMS.append(message)
        warnings.warn(message, RegistrationWarning, stacklevel=2)


def registration_problems() -> list[str]:
    """The messages of the registration steps that failed on `import mluke_hf` (empty when all went well)."""
    return list(_PROBLEMS)


def check_registration() -> None:
    """Raise RuntimeError listing every failed registration step; return quietly when all went well."""
    if _PROBLEMS:
        raise RuntimeError("mluke_hf is only partly registered with transformers:\n- " + "\n- ".join(_PROBLEMS))


# -- configuration and models -----------------------------------------------------------------------------------------

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


def _model_auto_classes() -> list[tuple[str, type]]:
    """(Auto class name, mluke_hf model class): transformers' own Auto classes, then mluke_hf's entity ones."""
    from . import modeling_mluke

    return [
        ("AutoModel", modeling_mluke.MLukeModel),
        ("AutoModelForMaskedLM", modeling_mluke.MLukeForMaskedLM),
        ("AutoModelForPreTraining", modeling_mluke.MLukeForMaskedLM),
        ("AutoModelForSequenceClassification", modeling_mluke.MLukeForSequenceClassification),
        ("AutoModelForTokenClassification", modeling_mluke.MLukeForTokenClassification),
        ("AutoModelForQuestionAnswering", modeling_mluke.MLukeForQuestionAnswering),
        ("AutoModelForMultipleChoice", modeling_mluke.MLukeForMultipleChoice),
        ("AutoModelForEntityClassification", modeling_mluke.MLukeForEntityClassification),
        ("AutoModelForEntityPairClassification", modeling_mluke.MLukeForEntityPairClassification),
        ("AutoModelForEntitySpanClassification", modeling_mluke.MLukeForEntitySpanClassification),
    ]


def _auto_class(name: str) -> type:
    from . import auto
    from .compat import transformers_internal

    if hasattr(auto, name):
        return getattr(auto, name)
    return transformers_internal("transformers", name, f"load mLUKE checkpoints through `{name}`")


def _register_models() -> None:
    """Map both config classes to the plugin's models in every Auto class; one Auto class failing spares the others.

    MLukeConfig goes through the public `AutoModel*.register`. LukeFormatConfig goes into the mappings directly:
    `AutoModel*.register` insists that the model's `config_class` (MLukeConfig) has the same name. Its entries only
    matter while AutoConfig returns LukeFormatConfig for "luke".
    """
    from .compat import model_mapping
    from .configuration_mluke import LukeFormatConfig, MLukeConfig

    failures: dict[str, list[str]] = {}  # error message -> the Auto classes that failed with it
    for auto_class_name, model_class in _model_auto_classes():
        try:
            auto_class = _auto_class(auto_class_name)
            auto_class.register(MLukeConfig, model_class, exist_ok=True)
            model_mapping(auto_class).register(LukeFormatConfig, model_class, exist_ok=True)
        except MissingTransformersInternal as error:  # reported below, with the others
            failures.setdefault(str(error), []).append(auto_class_name)
        except Exception as error:  # noqa: BLE001
            failures.setdefault(f"{type(error).__name__}: {error}. {support_note()}", []).append(auto_class_name)
    if failures:
        raise MissingTransformersInternal(
            " ".join(f"{', '.join(names)}: {error}" for error, names in failures.items())
        )


def route_luke_checkpoints(enabled: bool = True) -> None:
    """Route `model_type: "luke"` folders (released mLUKE and LUKE checkpoints) to mluke_hf, or stop doing so.

    On (the default on import): AutoConfig gives a LukeFormatConfig, so every Auto class and `pipeline(...)` builds
    mluke_hf's models, which save the folder back as `model_type: "luke"`. Off: transformers' own LUKE classes
    handle such folders again (configs already loaded keep their class). Works at any time; the environment
    variable MLUKE_HF_ROUTE_LUKE=0 turns it off at import.
    """
    from transformers import AutoConfig

    from .compat import config_mapping_extra_content
    from .configuration_mluke import LukeFormatConfig

    if enabled:
        AutoConfig.register(LukeFormatConfig.model_type, LukeFormatConfig, exist_ok=True)
        if not luke_checkpoints_routed():
            raise MissingTransformersInternal(
                f'AutoConfig.register("luke", LukeFormatConfig) did not take effect in transformers '
                f"{TRANSFORMERS_VERSION}"
            )
        return
    # transformers has no public way to unregister a model type.
    extra_content = config_mapping_extra_content()
    if extra_content.get(LukeFormatConfig.model_type) is LukeFormatConfig:
        del extra_content[LukeFormatConfig.model_type]


def luke_checkpoints_routed() -> bool:
    """Whether `model_type: "luke"` folders currently load into mluke_hf's classes."""
    from .compat import config_mapping_extra_content
    from .configuration_mluke import LukeFormatConfig

    return config_mapping_extra_content().get(LukeFormatConfig.model_type) is LukeFormatConfig


# -- tokenizers -------------------------------------------------------------------------------------------------------


def _register_tokenizers() -> None:
    """Make `tokenizer_class: "MLukeTokenizer"` and AutoTokenizer resolve to mluke_hf's tokenizer.

    `AutoTokenizer.register(config, slow_tokenizer_class=..., fast_tokenizer_class=...)` records both classes by name
    and the slow name as an alias of the fast class (transformers 5 always prefers the fast class), which
    `tokenizer_class_from_name` consults before its own (broken for mLUKE) MLukeTokenizer. So released folders get
    MLukeTokenizerFast (offsets, pipelines); MLukeTokenizer.from_pretrained(...) still gives the slow one.
    """
    from transformers import AutoTokenizer

    from .compat import tokenizer_class_from_name
    from .configuration_mluke import LukeFormatConfig, MLukeConfig
    from .tokenization_mluke import MLukeTokenizer
    from .tokenization_mluke_fast import MLukeTokenizerFast

    for config_class in (MLukeConfig, LukeFormatConfig):
        AutoTokenizer.register(
            config_class, slow_tokenizer_class=MLukeTokenizer, fast_tokenizer_class=MLukeTokenizerFast, exist_ok=True
        )
    for name in (MLukeTokenizer.__name__, MLukeTokenizerFast.__name__):
        resolved = tokenizer_class_from_name(name)
        if resolved is not MLukeTokenizerFast:
            raise MissingTransformersInternal(
                f"after AutoTokenizer.register, transformers {TRANSFORMERS_VERSION} resolves tokenizer_class "
                f"{name!r} to {resolved!r}, not mluke_hf's MLukeTokenizerFast"
            )


# -- pipelines --------------------------------------------------------------------------------------------------------


def _pipeline_tasks() -> list[tuple[str, type, type]]:
    """(task name, pipeline class, model Auto class) of every entity pipeline."""
    from transformers import AutoModelForMaskedLM

    from . import auto, pipelines

    return [
        ("entity-classification", pipelines.EntityClassificationPipeline, auto.AutoModelForEntityClassification),
        (
            "entity-pair-classification",
            pipelines.EntityPairClassificationPipeline,
            auto.AutoModelForEntityPairClassification,
        ),
        (
            "entity-span-classification",
            pipelines.EntitySpanClassificationPipeline,
            auto.AutoModelForEntitySpanClassification,
        ),
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


def _register_question_answering() -> None:
    """`pipeline("question-answering", model=folder)` for mLUKE/LUKE models: mluke_hf's offsets-based pipeline
    (mluke_hf.pipelines.question_answering) takes the name transformers 5 dropped; other models are refused."""
    from .pipelines.question_answering import register_question_answering

    register_question_answering()


# (step, what stops working while it fails), in the order they run.
_STEPS: list[tuple[Callable[[], None], str]] = [
    (
        _register_configs,
        (
            'AutoConfig does not know "mluke", and released `model_type: "luke"` mLUKE folders may load into '
            "transformers' in-tree LUKE classes, which give wrong results for them under transformers 5."
        ),
    ),
    (_register_models, "the Auto classes named above do not build mluke_hf's models."),
    (
        _register_tokenizers,
        (
            "AutoTokenizer may give transformers' own MLukeTokenizer for released mLUKE folders, which shifts every id by "
            "one; load mluke_hf.MLukeTokenizerFast.from_pretrained(folder) directly."
        ),
    ),
    (
        _register_pipelines,
        'pipeline("entity-...") may not know mluke_hf\'s entity tasks; build the classes of mluke_hf.pipelines directly.',
    ),
    (
        _register_question_answering,
        (
            'pipeline("question-answering") may be unavailable; build '
            "mluke_hf.MLukeQuestionAnsweringPipeline(model=..., tokenizer=...) directly."
        ),
    ),
]

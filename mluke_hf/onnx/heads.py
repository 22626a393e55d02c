"""What an ONNX export holds for each exportable head: tokenizer mode, graph outputs, output class, pipeline task."""

from __future__ import annotations

from dataclasses import dataclass

from ..modeling_outputs import (
    EntityClassificationOutput,
    EntityPairClassificationOutput,
    EntitySpanClassificationOutput,
    MLukeMaskedLMOutput,
)

ONNX_FILE = "model.onnx"
EXPORT_INFO_FILE = "onnx_export.json"


@dataclass(frozen=True)
class ExportedHead:
    """One exportable head.

    `tokenizer_task` is the mLUKE tokenizer mode whose output keys are the graph's inputs; `outputs` are the graph's
    outputs, in order (fields of `output_class`); `pipeline_task` is the entity pipeline that runs it.
    """

    architecture: str
    tokenizer_task: str | None
    outputs: tuple[str, ...]
    output_class: type
    pipeline_task: str


HEADS = {
    head.architecture: head
    for head in (
        ExportedHead(
            "MLukeForEntitySpanClassification",
            "entity_span_classification",
            ("logits",),
            EntitySpanClassificationOutput,
            "entity-span-classification",
        ),
        ExportedHead(
            "MLukeForEntityClassification",
            "entity_classification",
            ("logits",),
            EntityClassificationOutput,
            "entity-classification",
        ),
        ExportedHead(
            "MLukeForEntityPairClassification",
            "entity_pair_classification",
            ("logits",),
            EntityPairClassificationOutput,
            "entity-pair-classification",
        ),
        ExportedHead("MLukeForMaskedLM", None, ("logits", "entity_logits"), MLukeMaskedLMOutput, "entity-fill-mask"),
    )
}


def head_for_config(config) -> ExportedHead:
    """The exported head of a config, from `config.architectures` (released `LukeFor...` names included)."""
    from ..auto import model_class_for_config

    name = model_class_for_config(config).__name__
    if name not in HEADS:
        raise ValueError(
            f"config.architectures names {config.architectures[0]!r}: ONNX export covers the entity heads and the "
            f"masked LM ({', '.join(sorted(HEADS))}), not {name}"
        )
    return HEADS[name]

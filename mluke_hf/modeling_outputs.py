"""Output types of the mLUKE models.

Every output carries the entity states beside the word states. Field order is the tuple order with
`return_dict=False` (None fields are skipped), and matches transformers' LUKE outputs field for field.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers.utils import ModelOutput

__all__ = [
    "MLukeEncoderOutput",
    "MLukeModelOutput",
    "MLukeMaskedLMOutput",
    "EntityClassificationOutput",
    "EntityPairClassificationOutput",
    "EntitySpanClassificationOutput",
    "MLukeSequenceClassifierOutput",
    "MLukeTokenClassifierOutput",
    "MLukeQuestionAnsweringModelOutput",
    "MLukeMultipleChoiceModelOutput",
]


@dataclass
class MLukeEncoderOutput(ModelOutput):
    """Output of the encoder stack.

    Args:
        last_hidden_state: `(batch_size, sequence_length, hidden_size)` word states of the last layer.
        hidden_states: with `output_hidden_states=True`, the word states after the embeddings and after each layer.
        attentions: with `output_attentions=True`, each layer's attention probabilities over the joint
            word + entity sequence, `(batch_size, num_heads, words + entities, words + entities)`.
        entity_last_hidden_state: `(batch_size, entity_length, hidden_size)` entity states of the last layer, or
            `None` without entity inputs.
        entity_hidden_states: with `output_hidden_states=True` and entity inputs, the entity states after the
            embeddings and after each layer.
    """

    last_hidden_state: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    entity_last_hidden_state: torch.FloatTensor | None = None
    entity_hidden_states: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class MLukeModelOutput(ModelOutput):
    """Output of `MLukeModel`: `MLukeEncoderOutput` plus the pooled first-token state.

    Args:
        last_hidden_state: `(batch_size, sequence_length, hidden_size)` word states of the last layer.
        pooler_output: `(batch_size, hidden_size)` the `<s>` state through a Linear and tanh, or `None` for a model
            built with `add_pooling_layer=False`.
        hidden_states, attentions, entity_last_hidden_state, entity_hidden_states: as in `MLukeEncoderOutput`.
    """

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    entity_last_hidden_state: torch.FloatTensor | None = None
    entity_hidden_states: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class MLukeMaskedLMOutput(ModelOutput):
    """Output of `MLukeForMaskedLM`.

    Args:
        loss: `mlm_loss + mep_loss` (either alone when only one kind of label is given).
        mlm_loss: masked language modelling loss, with `labels`.
        mep_loss: masked entity prediction loss, with `entity_labels`.
        logits: `(batch_size, sequence_length, vocab_size)` word prediction scores.
        entity_logits: `(batch_size, entity_length, entity_vocab_size)` entity prediction scores, or `None`
            without entity inputs.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`.
    """

    loss: torch.FloatTensor | None = None
    mlm_loss: torch.FloatTensor | None = None
    mep_loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    entity_logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    entity_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class _ClassificationOutput(ModelOutput):
    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    entity_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class EntityClassificationOutput(_ClassificationOutput):
    """Output of `MLukeForEntityClassification`.

    Args:
        loss: cross-entropy for index labels `(batch_size,)`, binary cross-entropy for multi-hot labels
            `(batch_size, num_labels)`.
        logits: `(batch_size, num_labels)` scores of the first entity.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`.
    """


@dataclass
class EntityPairClassificationOutput(_ClassificationOutput):
    """Output of `MLukeForEntityPairClassification`.

    Args:
        loss: cross-entropy for index labels `(batch_size,)`, binary cross-entropy for multi-hot labels
            `(batch_size, num_labels)`.
        logits: `(batch_size, num_labels)` scores of the (first entity, second entity) pair.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`.
    """


@dataclass
class EntitySpanClassificationOutput(_ClassificationOutput):
    """Output of `MLukeForEntitySpanClassification`.

    Args:
        loss: cross-entropy for index labels `(batch_size, entity_length)` (-100 ignored), binary cross-entropy
            for multi-hot labels `(batch_size, entity_length, num_labels)`.
        logits: `(batch_size, entity_length, num_labels)` scores of each span.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`.
    """


@dataclass
class MLukeSequenceClassifierOutput(_ClassificationOutput):
    """Output of `MLukeForSequenceClassification`.

    Args:
        loss: by `config.problem_type`: MSE (regression), cross-entropy (single label), BCE (multi label).
        logits: `(batch_size, num_labels)` scores of the pooled `<s>` state.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`.
    """


@dataclass
class MLukeTokenClassifierOutput(_ClassificationOutput):
    """Output of `MLukeForTokenClassification`.

    Args:
        loss: cross-entropy over tokens (-100 ignored).
        logits: `(batch_size, sequence_length, num_labels)` scores of each word token.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`.
    """


@dataclass
class MLukeMultipleChoiceModelOutput(_ClassificationOutput):
    """Output of `MLukeForMultipleChoice`.

    Args:
        loss: cross-entropy over the choices.
        logits: `(batch_size, num_choices)` scores of each choice.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`, batch and choices flattened.
    """


@dataclass
class MLukeQuestionAnsweringModelOutput(ModelOutput):
    """Output of `MLukeForQuestionAnswering`.

    Args:
        loss: mean of the start and end cross-entropies (positions outside the sequence are ignored).
        start_logits, end_logits: `(batch_size, sequence_length)` span start and end scores.
        hidden_states, entity_hidden_states, attentions: as in `MLukeEncoderOutput`.
    """

    loss: torch.FloatTensor | None = None
    start_logits: torch.FloatTensor | None = None
    end_logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    entity_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None

"""Configuration of mLUKE models: `MLukeConfig` ("mluke") and `LukeFormatConfig` ("luke").

Released mLUKE checkpoints are LUKE-architecture models whose config.json says `model_type: "luke"`. Both classes
carry every field of transformers' LukeConfig with the same defaults; they differ only in the `model_type` they
write back, so that a folder loaded from the hub is saved in the format it came in and stays loadable elsewhere:

- `MLukeConfig` (`model_type = "mluke"`) is the plugin's native configuration.
- `LukeFormatConfig` (`model_type = "luke"`) is what `AutoConfig` returns for a `model_type: "luke"` folder once
  `mluke_hf` is imported (see `mluke_hf.registration`). It also writes `LukeFor...` architecture names, the names
  4.x and the original code know, instead of the plugin's `MLukeFor...` class names.

Keys of released configs that no field describes (`bert_model_name`, `cls_entity_prediction`, ...) are kept as
attributes and written back unchanged.
"""

from __future__ import annotations

import os
from typing import Any

from huggingface_hub.dataclasses import strict
from transformers.configuration_utils import PreTrainedConfig

from . import compat  # noqa: F401  (warns first when the installed transformers is outside the supported range)

__all__ = ["LukeFormatConfig", "MLukeConfig"]

# The architecture names of released checkpoints, by the plugin class that implements each.
PLUGIN_TO_LUKE_ARCHITECTURE = {
    "MLukeModel": "LukeModel",
    "MLukeForMaskedLM": "LukeForMaskedLM",
    "MLukeForEntityClassification": "LukeForEntityClassification",
    "MLukeForEntityPairClassification": "LukeForEntityPairClassification",
    "MLukeForEntitySpanClassification": "LukeForEntitySpanClassification",
    "MLukeForSequenceClassification": "LukeForSequenceClassification",
    "MLukeForTokenClassification": "LukeForTokenClassification",
    "MLukeForQuestionAnswering": "LukeForQuestionAnswering",
    "MLukeForMultipleChoice": "LukeForMultipleChoice",
}

LUKE_TO_PLUGIN_ARCHITECTURE = {luke: plugin for plugin, luke in PLUGIN_TO_LUKE_ARCHITECTURE.items()}


@strict
class MLukeConfig(PreTrainedConfig):
    r"""
    Configuration of an mLUKE model (XLM-RoBERTa word encoder + entity embeddings + optional entity-aware attention).

    Every field and default is LukeConfig's, so a config built with no argument equals `LukeConfig()`.

    Args:
        vocab_size (`int`, defaults to 50267): word vocabulary size (250004 for the released mLUKE checkpoints).
        entity_vocab_size (`int`, defaults to 500000): entity vocabulary size (1200001 full, 4 lite).
        hidden_size (`int`, defaults to 768): size of word and entity hidden states.
        entity_emb_size (`int`, defaults to 256): size of the entity embedding table; projected to `hidden_size`
            by a bias-free Linear when the two differ.
        num_hidden_layers, num_attention_heads, intermediate_size, hidden_act, hidden_dropout_prob,
        attention_probs_dropout_prob, max_position_embeddings, type_vocab_size, initializer_range, layer_norm_eps:
            as in BERT/RoBERTa.
        use_entity_aware_attention (`bool`, defaults to `True`): use the four query projections (word-to-word,
            word-to-entity, entity-to-word, entity-to-entity) of LUKE's entity-aware self-attention. The released
            mLUKE configs say `false` although their weights carry the extra queries; pass
            `use_entity_aware_attention=True` to `from_pretrained` to use them.
        classifier_dropout (`float`, *optional*): dropout of the sequence/token/multiple-choice classifier heads;
            `hidden_dropout_prob` when `None`.
        pad_token_id, bos_token_id, eos_token_id: special word ids (1, 0, 2: the fairseq layout of XLM-R).
        tie_word_embeddings (`bool`, defaults to `True`): tie the word decoder of `MLukeForMaskedLM` to the word
            embeddings and the entity decoder to the entity embeddings, as transformers 4.x did.

    Example:

    ```python
    >>> from mluke_hf import MLukeConfig, MLukeModel
    >>> config = MLukeConfig(vocab_size=250004, entity_vocab_size=4, use_entity_aware_attention=True)
    >>> model = MLukeModel(config)
    ```
    """

    model_type = "mluke"

    vocab_size: int = 50267
    entity_vocab_size: int = 500000
    hidden_size: int = 768
    entity_emb_size: int = 256
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float | int = 0.1
    attention_probs_dropout_prob: float | int = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    use_entity_aware_attention: bool = True
    classifier_dropout: float | int | None = None
    pad_token_id: int | None = 1
    bos_token_id: int | None = 0
    eos_token_id: int | list[int] | None = 2
    tie_word_embeddings: bool = True

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> PreTrainedConfig:
        """Load a config; a `model_type: "luke"` folder gives a `LukeFormatConfig`, so it is saved back as "luke"."""
        if cls is MLukeConfig:
            config_dict, _ = cls.get_config_dict(pretrained_model_name_or_path, **dict(kwargs))
            if config_dict.get("model_type") == LukeFormatConfig.model_type:
                return LukeFormatConfig.from_pretrained(pretrained_model_name_or_path, **kwargs)
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)


@strict
class LukeFormatConfig(MLukeConfig):
    """`MLukeConfig` of a checkpoint in the released LUKE format: saved with `model_type: "luke"` and `LukeFor...`
    architecture names, so the folder stays loadable by transformers 4.x and by the original LUKE code."""

    model_type = "luke"

    def __post_init__(self, **kwargs: Any) -> None:
        # In memory the architectures name the plugin's classes (saved back as `LukeFor...` by `to_dict`):
        # transformers' pipeline() tries `getattr(transformers, name)` for each of them, which for `LukeFor...` names
        # imports the in-tree LUKE module (and prints its import-time errors) for a class it never uses.
        if self.architectures:
            self.architectures = [LUKE_TO_PLUGIN_ARCHITECTURE.get(name, name) for name in self.architectures]
        super().__post_init__(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        if output.get("architectures"):
            output["architectures"] = [PLUGIN_TO_LUKE_ARCHITECTURE.get(name, name) for name in output["architectures"]]
        return output

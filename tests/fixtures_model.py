"""Fixtures of the model tests: tiny configs, padded word+entity batches, tiny hub-layout checkpoint folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from mluke_hf.building import build_tiny_checkpoint
from mluke_hf.configuration_mluke import MLukeConfig

LUKE457_DIR = Path(__file__).resolve().parent / "data" / "luke457_tiny"

# Tiny sizes with every dimension distinct, dropout off so train-mode passes are deterministic.
TINY_CONFIG = {
    "vocab_size": 67,
    "entity_vocab_size": 11,
    "hidden_size": 32,
    "entity_emb_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 40,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-5,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "num_labels": 3,
}

BATCH_SIZE, WORD_LENGTH, ENTITY_LENGTH, MENTION_LENGTH, NUM_CHOICES = 3, 9, 4, 3, 2


def tiny_config(**overrides) -> MLukeConfig:
    return MLukeConfig(**{**TINY_CONFIG, **overrides})


def randomize_parameters(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every parameter random (biases, LayerNorms and entity-aware queries too), so no weight can hide."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, parameter in model.named_parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)
    return model


def word_entity_batch(
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
    vocab_size: int = TINY_CONFIG["vocab_size"],
    entity_vocab_size: int = TINY_CONFIG["entity_vocab_size"],
    with_entities: bool = True,
) -> dict[str, torch.Tensor]:
    """A padded batch: rows have 9, 6 and 4 real words and 4, 2 and 1 real entities (padding entities use id 0)."""
    generator = torch.Generator().manual_seed(seed)
    word_lengths = [WORD_LENGTH, 6, 4][:batch_size] + [WORD_LENGTH] * max(0, batch_size - 3)
    entity_lengths = [ENTITY_LENGTH, 2, 1][:batch_size] + [ENTITY_LENGTH] * max(0, batch_size - 3)
    input_ids = torch.randint(3, vocab_size, (batch_size, WORD_LENGTH), generator=generator)
    attention_mask = torch.zeros(batch_size, WORD_LENGTH, dtype=torch.long)
    token_type_ids = torch.zeros(batch_size, WORD_LENGTH, dtype=torch.long)
    entity_ids = torch.randint(1, entity_vocab_size, (batch_size, ENTITY_LENGTH), generator=generator)
    entity_attention_mask = torch.zeros(batch_size, ENTITY_LENGTH, dtype=torch.long)
    entity_position_ids = torch.full((batch_size, ENTITY_LENGTH, MENTION_LENGTH), -1, dtype=torch.long)
    entity_start_positions = torch.zeros(batch_size, ENTITY_LENGTH, dtype=torch.long)
    entity_end_positions = torch.zeros(batch_size, ENTITY_LENGTH, dtype=torch.long)
    for row, (words, entities) in enumerate(zip(word_lengths, entity_lengths)):
        input_ids[row, 0], input_ids[row, words - 1], input_ids[row, words:] = 0, 2, 1
        attention_mask[row, :words] = 1
        token_type_ids[row, words // 2 : words] = 1
        entity_ids[row, entities:] = 0
        entity_attention_mask[row, :entities] = 1
        for entity in range(entities):
            start = 1 + (entity % max(1, words - 2))
            length = 1 + (entity + row) % MENTION_LENGTH
            end = min(start + length, words - 1)
            entity_position_ids[row, entity, : end - start] = torch.arange(start, end)
            entity_start_positions[row, entity], entity_end_positions[row, entity] = start, end - 1
    batch = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
    if with_entities:
        batch.update(
            entity_ids=entity_ids,
            entity_attention_mask=entity_attention_mask,
            entity_token_type_ids=(entity_ids % 2),
            entity_position_ids=entity_position_ids,
            entity_start_positions=entity_start_positions,
            entity_end_positions=entity_end_positions,
        )
    return batch


@pytest.fixture(scope="session")
def tiny_checkpoint_factory(tmp_path_factory):
    """Build (once per session and arguments) a tiny hub-layout checkpoint; returns a fresh copy's path per call."""
    built: dict[tuple, Path] = {}
    shared_sentencepiece: list[Path] = []

    def make(copy_to: Path | None = None, **kwargs) -> Path:
        key = tuple(sorted((name, repr(value)) for name, value in kwargs.items()))
        if key not in built:
            folder = tmp_path_factory.mktemp("tiny_checkpoint")
            if shared_sentencepiece and "sentencepiece_model" not in kwargs:
                kwargs = {**kwargs, "sentencepiece_model": shared_sentencepiece[0]}
            built[key] = build_tiny_checkpoint(folder, **kwargs)
            if not shared_sentencepiece:
                shared_sentencepiece.append(built[key] / "sentencepiece.bpe.model")
        if copy_to is None:
            return built[key]
        shutil.copytree(built[key], copy_to)
        return copy_to

    return make


__all__ = [
    "LUKE457_DIR",
    "TINY_CONFIG",
    "tiny_config",
    "randomize_parameters",
    "word_entity_batch",
    "tiny_checkpoint_factory",
]

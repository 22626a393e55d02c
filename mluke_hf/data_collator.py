"""Batching of mLUKE features with entity inputs, for `Trainer` and plain DataLoaders.

transformers' `DataCollatorWithPadding` pads word fields only; mLUKE features also carry an entity sequence
(`entity_ids`, masks, `entity_position_ids` rows, span start/end positions) and, for span classification, one label
per entity. `MLukeDataCollator` pads each group, on the right, to the longest in the batch (or a multiple of
`pad_to_multiple_of`), word and entity fields with the values of `tokenizer.pad()` (both through
`mluke_hf.text.entity_padding`):

| field                                              | padded with                                 |
|----------------------------------------------------|---------------------------------------------|
| input_ids, position_ids                            | the tokenizer's `<pad>` id                   |
| attention_mask, token_type_ids                     | 0                                           |
| entity_ids                                         | the tokenizer's `[PAD]` entity id            |
| entity_attention_mask, entity_token_type_ids       | 0                                           |
| entity_position_ids                                | rows of -1 (each row to the longest, with -1) |
| entity_start_positions, entity_end_positions       | 0 (masked out by entity_attention_mask)     |
| labels, per entity (span classification)           | -100 (ignored by the loss)                  |
| labels, per entity, multi-hot                      | rows of `multi_hot_pad_value` (0.0)          |
| labels, per example (index or multi-hot)           | not padded: stacked                         |

Labels are per entity when the features carry `entity_start_positions` (span classification), per example otherwise.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .text.entity_padding import WORD_FIELDS, entity_fill, pad_position_rows, pad_row, round_up, word_fill
from .text.tensor_conversion import ENTITY_FIELDS, int64_tensor

LABEL_FIELDS = ("labels", "label")


def _as_python(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple, str)):
        return value.tolist()  # numpy arrays and scalars
    return value


@dataclass
class MLukeDataCollator:
    """Pad a list of mLUKE features (dicts of lists, e.g. tokenizer outputs with labels) into a batch of tensors.

    Args:
        tokenizer: an mLUKE tokenizer; gives `pad_token_id` and `entity_pad_token_id` unless those are passed.
        pad_to_multiple_of: pad word and entity lengths up to a multiple of this (tensor-core friendly shapes).
        label_pad_token_id: padding of per-entity index labels (-100: ignored by cross-entropy).
        multi_hot_pad_value: padding of per-entity multi-hot label rows. Binary cross-entropy has no ignore index, so
            padded entities count as "no label" examples; keep batches of similar entity counts if that matters.
        pad_token_id, entity_pad_token_id: explicit padding ids (needed when no tokenizer is given).
    """

    tokenizer: Any = None
    pad_to_multiple_of: int | None = None
    label_pad_token_id: int = -100
    multi_hot_pad_value: float = 0.0
    pad_token_id: int | None = None
    entity_pad_token_id: int | None = None

    def __post_init__(self) -> None:
        if self.pad_token_id is None:
            self.pad_token_id = getattr(self.tokenizer, "pad_token_id", None)
        if self.entity_pad_token_id is None:
            self.entity_pad_token_id = getattr(self.tokenizer, "entity_pad_token_id", None)
        if self.pad_token_id is None:
            raise ValueError(
                "MLukeDataCollator needs the word padding id: pass tokenizer=<an mLUKE tokenizer> or pad_token_id=..."
            )
        if getattr(self.tokenizer, "padding_side", "right") != "right":
            # Entity position embeddings are looked up by absolute token index, so left padding would change them.
            raise ValueError(
                f"MLukeDataCollator pads on the right only (tokenizer.padding_side is "
                f"{self.tokenizer.padding_side!r}): mLUKE's entity_position_ids are absolute token indices, and "
                "shifting them changes the entity position embeddings. Set tokenizer.padding_side = 'right'"
            )
        if self.pad_to_multiple_of is not None and (
            not isinstance(self.pad_to_multiple_of, int) or self.pad_to_multiple_of < 1
        ):
            raise ValueError(f"pad_to_multiple_of must be a positive int or None, got {self.pad_to_multiple_of!r}")

    # -- entry point -------------------------------------------------------------------------------------------------

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        features = self._check_features(features)
        batch: dict[str, torch.Tensor] = {}
        word_length = round_up(max(len(feature["input_ids"]) for feature in features), self.pad_to_multiple_of)
        for name in WORD_FIELDS:
            if name in features[0]:
                rows = [feature[name] for feature in features]
                batch[name] = self._pad_rows(rows, word_length, self._word_fill(name))

        per_entity_labels = "entity_start_positions" in features[0]
        if "entity_ids" in features[0]:
            batch.update(self._entity_fields(features))
        label_name = next((name for name in LABEL_FIELDS if name in features[0]), None)
        if label_name is not None:
            labels = [feature[label_name] for feature in features]
            if per_entity_labels:
                batch["labels"] = self._per_entity_labels(labels, batch["entity_ids"].shape[1])
            else:
                batch["labels"] = self._per_example_labels(labels)
        return batch

    # -- checks ------------------------------------------------------------------------------------------------------

    def _check_features(self, features: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if isinstance(features, Mapping) or not isinstance(features, Sequence) or len(features) == 0:
            raise ValueError(
                "MLukeDataCollator takes a non-empty list of features (dicts such as the tokenizer returns for one "
                f"example), got {type(features).__name__}"
            )
        known = set(WORD_FIELDS) | set(ENTITY_FIELDS) | set(LABEL_FIELDS)
        checked = []
        for index, feature in enumerate(features):
            if not isinstance(feature, Mapping):
                raise TypeError(f"features[{index}] must be a dict of lists, got {type(feature).__name__}")
            if "input_ids" not in feature:
                raise ValueError(f"features[{index}] has no input_ids (keys: {sorted(feature)})")
            unknown = sorted(set(feature) - known)
            if unknown:
                raise ValueError(
                    f"features[{index}] has keys MLukeDataCollator does not know how to pad: {unknown}. Drop them "
                    "before collating (Trainer does so for keys the model's forward does not take)"
                )
            if set(feature) != set(features[0]):
                raise ValueError(
                    f"features[{index}] has keys {sorted(feature)} but features[0] has {sorted(features[0])}: every "
                    "feature of a batch must carry the same fields"
                )
            feature = {key: _as_python(value) for key, value in feature.items()}
            self._check_entity_lengths(feature, index)
            checked.append(feature)
        if "entity_ids" in checked[0] and self.entity_pad_token_id is None:
            raise ValueError(
                "features carry entity_ids, so MLukeDataCollator needs the [PAD] entity id: pass tokenizer=<an mLUKE "
                "tokenizer> or entity_pad_token_id=..."
            )
        return checked

    @staticmethod
    def _check_entity_lengths(feature: dict[str, Any], index: int) -> None:
        for name in WORD_FIELDS:
            if name in feature and len(feature[name]) != len(feature["input_ids"]):
                raise ValueError(
                    f"features[{index}][{name!r}] has length {len(feature[name])} but input_ids has "
                    f"{len(feature['input_ids'])}"
                )
        entity_fields = [name for name in ENTITY_FIELDS if name in feature]
        if not entity_fields:
            return
        if "entity_ids" not in feature or "entity_position_ids" not in feature:
            raise ValueError(
                f"features[{index}] has {entity_fields} but entity inputs need both entity_ids and "
                "entity_position_ids (the mLUKE tokenizer returns them when given entity_spans)"
            )
        entity_length = len(feature["entity_ids"])
        for name in entity_fields:
            if len(feature[name]) != entity_length:
                raise ValueError(
                    f"features[{index}][{name!r}] has {len(feature[name])} entries but entity_ids has {entity_length}"
                )
        for row in feature["entity_position_ids"]:
            if not isinstance(row, (list, tuple)):
                raise ValueError(
                    f"features[{index}]['entity_position_ids'] must hold one list of token positions per entity "
                    f"(padded with -1), got an item of type {type(row).__name__}"
                )
        if "entity_start_positions" in feature:
            label = feature.get("labels", feature.get("label"))
            if label is not None and (not isinstance(label, (list, tuple)) or len(label) != entity_length):
                raise ValueError(
                    f"features[{index}] is a span-classification feature (it has entity_start_positions), so its "
                    f"labels need one entry per entity ({entity_length}), got {label!r}"
                )

    # -- padding -----------------------------------------------------------------------------------------------------

    def _word_fill(self, name: str) -> int:
        return word_fill(name, self.pad_token_id)

    def _pad_rows(self, rows: list[list], length: int, fill, dtype=torch.long) -> torch.Tensor:
        padded = [pad_row(row, length, fill) for row in rows]
        return int64_tensor(padded) if dtype == torch.long else torch.tensor(padded, dtype=dtype)

    def _entity_fields(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """The entity fields padded as `tokenizer.pad()` pads them (mluke_hf.text.entity_padding), as tensors."""
        longest = max(1, max(len(feature["entity_ids"]) for feature in features))
        entity_length = round_up(longest, self.pad_to_multiple_of)
        fields = {}
        for name in ENTITY_FIELDS:
            if name not in features[0] or name == "entity_position_ids":
                continue
            rows = [feature[name] for feature in features]
            fields[name] = self._pad_rows(rows, entity_length, entity_fill(name, self.entity_pad_token_id))
        mention_length = max([1] + [len(row) for feature in features for row in feature["entity_position_ids"]])
        position_rows = [
            pad_position_rows(feature["entity_position_ids"], entity_length, mention_length, widen=True)
            for feature in features
        ]
        fields["entity_position_ids"] = int64_tensor(position_rows)  # torch.tensor walks 3-deep lists slowly
        return fields

    def _per_entity_labels(self, labels: list, entity_length: int) -> torch.Tensor:
        multi_hot = any(len(row) and isinstance(row[0], (list, tuple)) for row in labels)
        if not multi_hot:
            return self._pad_rows(labels, entity_length, self.label_pad_token_id)
        widths = {len(label) for row in labels for label in row}
        if len(widths) != 1:
            raise ValueError(f"multi-hot labels must all have num_labels entries, got lengths {sorted(widths)}")
        (width,) = widths
        return torch.tensor(
            [
                [list(label) for label in row] + [[self.multi_hot_pad_value] * width] * (entity_length - len(row))
                for row in labels
            ],
            dtype=torch.float,
        )

    @staticmethod
    def _per_example_labels(labels: list) -> torch.Tensor:
        if all(isinstance(label, numbers.Integral) for label in labels):
            return torch.tensor(labels, dtype=torch.long)
        if all(isinstance(label, numbers.Real) for label in labels):
            return torch.tensor(labels, dtype=torch.float)  # regression targets
        if all(isinstance(label, (list, tuple)) for label in labels):
            widths = {len(label) for label in labels}
            if len(widths) != 1:
                raise ValueError(
                    f"multi-hot labels must all have num_labels entries, got lengths {sorted(widths)}; per-entity "
                    "labels need entity_start_positions in the features (span classification)"
                )
            return torch.tensor(labels, dtype=torch.float)
        raise TypeError(
            "labels must be all ints (class indices), all floats, or all lists (multi-hot vectors), got types "
            f"{sorted({type(label).__name__ for label in labels})}"
        )

"""Padding of mLUKE features: what each word and entity field is padded with, for `tokenizer.pad()` and
`MLukeDataCollator` alike.

A field is padded when it is present, whatever task produced the features:

| field                                                        | padded with                         |
|--------------------------------------------------------------|-------------------------------------|
| input_ids, position_ids                                      | the tokenizer's `<pad>` id           |
| attention_mask, token_type_ids                               | 0                                   |
| special_tokens_mask                                          | 1                                   |
| entity_ids                                                   | the tokenizer's `[PAD]` entity id    |
| entity_attention_mask, entity_token_type_ids                 | 0                                   |
| entity_start_positions, entity_end_positions                 | 0 (masked out by entity_attention_mask) |
| entity_position_ids                                          | rows of -1 (each row widened with -1) |
"""

from __future__ import annotations

from .tensor_conversion import ENTITY_FIELDS

WORD_FIELDS = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "special_tokens_mask")
_WORD_FILLS = {"attention_mask": 0, "token_type_ids": 0, "special_tokens_mask": 1}
_ENTITY_FILLS = {
    "entity_attention_mask": 0,
    "entity_token_type_ids": 0,
    "entity_start_positions": 0,
    "entity_end_positions": 0,
}
POSITION_FILL = -1


def round_up(length: int | None, multiple: int | None) -> int | None:
    """`length` rounded up to a multiple of `multiple` (either may be None: then `length` as it is)."""
    if length is not None and multiple and length % multiple != 0:
        return (length // multiple + 1) * multiple
    return length


def word_fill(name: str, pad_token_id: int) -> int:
    """The padding value of word field `name`."""
    return _WORD_FILLS.get(name, pad_token_id)


def entity_fill(name: str, entity_pad_token_id: int) -> int:
    """The padding value of entity field `name` (not `entity_position_ids`, which pads with rows)."""
    return _ENTITY_FILLS.get(name, entity_pad_token_id)


def pad_row(row: list, length: int, fill, side: str = "right") -> list:
    """A new list: `row` padded with `fill` to `length` on `side` (a row already that long is copied)."""
    missing = length - len(row)
    if missing <= 0:
        return list(row)
    return list(row) + [fill] * missing if side == "right" else [fill] * missing + list(row)


def pad_position_rows(
    rows: list, entity_length: int, mention_length: int, side: str = "right", widen: bool = False
) -> list[list[int]]:
    """`entity_position_ids` of one example padded to `entity_length` rows of -1 (each a list of its own).

    `widen` also pads each given row with -1 to `mention_length` (features from tokenizers with different
    `max_mention_length`); without it the given rows are kept as they are.
    """
    if widen:
        rows = [list(row) + [POSITION_FILL] * (mention_length - len(row)) for row in rows]
    missing = entity_length - len(rows)
    if missing <= 0:
        return list(rows)
    padding = [[POSITION_FILL] * mention_length for _ in range(missing)]
    return list(rows) + padding if side == "right" else padding + list(rows)


def pad_entity_fields(
    example: dict, entity_length: int, entity_pad_token_id: int, mention_length: int, side: str = "right"
) -> None:
    """Pad every entity field present in one example (a dict of lists) to `entity_length`, in place."""
    for name in ENTITY_FIELDS:
        if name not in example:
            continue
        if name == "entity_position_ids":
            example[name] = pad_position_rows(example[name], entity_length, mention_length, side)
        else:
            example[name] = pad_row(example[name], entity_length, entity_fill(name, entity_pad_token_id), side)

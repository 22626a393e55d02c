"""Truncation of word and entity id sequences with the transformers 4.57.6 rules."""

from __future__ import annotations

from transformers.tokenization_utils_base import TruncationStrategy
from transformers.utils import logging

logger = logging.get_logger(__name__)


def truncate_id_sequences(
    ids: list,
    pair_ids: list | None,
    num_tokens_to_remove: int,
    truncation_strategy: TruncationStrategy,
    stride: int,
    truncation_side: str,
) -> tuple[list, list | None, list]:
    """Truncate one sequence or a pair as transformers 4.57.6 did (used for word ids and for entity ids).

    Differs from 5.x on purpose: a sequence too short to lose `num_tokens_to_remove` items is left whole (with an
    error logged), not emptied.
    """
    if num_tokens_to_remove <= 0:
        return ids, pair_ids, []
    if not isinstance(truncation_strategy, TruncationStrategy):
        truncation_strategy = TruncationStrategy(truncation_strategy)
    if truncation_side not in ("left", "right"):
        raise ValueError(f"truncation_side must be 'left' or 'right', got {truncation_side!r}")
    overflowing: list = []
    if truncation_strategy == TruncationStrategy.ONLY_FIRST or (
        truncation_strategy == TruncationStrategy.LONGEST_FIRST and pair_ids is None
    ):
        if len(ids) > num_tokens_to_remove:
            window = min(len(ids), stride + num_tokens_to_remove)
            if truncation_side == "left":
                overflowing, ids = ids[:window], ids[num_tokens_to_remove:]
            else:
                overflowing, ids = ids[-window:], ids[:-num_tokens_to_remove]
        else:
            message = (
                f"We need to remove {num_tokens_to_remove} to truncate the input "
                f"but the first sequence has a length {len(ids)}. "
            )
            if truncation_strategy == TruncationStrategy.ONLY_FIRST:
                message += (
                    f"Please select another truncation strategy than {truncation_strategy}, "
                    "for instance 'longest_first' or 'only_second'."
                )
            logger.error(message)
    elif truncation_strategy == TruncationStrategy.LONGEST_FIRST:
        logger.warning(
            "Be aware, overflowing tokens are not returned for the setting you have chosen,"
            f" i.e. sequence pairs with the '{TruncationStrategy.LONGEST_FIRST.value}' "
            "truncation strategy. So the returned list will always be empty even if some "
            "tokens have been removed."
        )
        len_ids, len_pair = len(ids), len(pair_ids)
        first_remove = min(abs(len_pair - len_ids), num_tokens_to_remove)
        second_remove = num_tokens_to_remove - first_remove
        if len_ids > len_pair:
            ids_to_remove = first_remove + second_remove // 2
            pair_to_remove = second_remove - second_remove // 2
        else:
            ids_to_remove = second_remove // 2
            pair_to_remove = first_remove + second_remove - second_remove // 2
        if truncation_side == "right":
            ids = ids[:-ids_to_remove] if ids_to_remove > 0 else ids
            pair_ids = pair_ids[:-pair_to_remove] if pair_to_remove > 0 else pair_ids
        else:
            ids = ids[ids_to_remove:]
            pair_ids = pair_ids[pair_to_remove:]
    elif truncation_strategy == TruncationStrategy.ONLY_SECOND and pair_ids is not None:
        if len(pair_ids) > num_tokens_to_remove:
            window = min(len(pair_ids), stride + num_tokens_to_remove)
            if truncation_side == "right":
                overflowing, pair_ids = pair_ids[-window:], pair_ids[:-num_tokens_to_remove]
            else:
                overflowing, pair_ids = pair_ids[:window], pair_ids[num_tokens_to_remove:]
        else:
            logger.error(
                f"We need to remove {num_tokens_to_remove} to truncate the input "
                f"but the second sequence has a length {len(pair_ids)}. "
                f"Please select another truncation strategy than {truncation_strategy}, "
                "for instance 'longest_first' or 'only_first'."
            )
    return ids, pair_ids, overflowing

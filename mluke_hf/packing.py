"""Unpadded ("packed") rows: the encoder's per-row work runs on real words and entities only.

A batch of inputs of different sizes is padded to one `(batch, length)` shape, and every linear layer, layer norm and
activation would then run on the padding too (NER batches mix texts of different lengths and last chunks with fewer
spans: 10-20 % of the rows are padding). With packing, the encoder keeps its states as `(rows, hidden)`, the real rows
of the batch only, words first then entities (so entity-aware attention splits them with one slice); only the
attention call sees the padded `(batch, length)` layout, rebuilt from the packed rows, with padding rows set to zero
and masked out as before.

The result on every real row is that of the padded computation (the same arithmetic on the same rows); padding rows
of the returned states are zero instead of whatever the layers made of padding. Packing is used only where it is
free of side effects: in forwards that record no gradient and compute no loss (inference; training keeps the padded
computation, so its dropout draws stay as they were, and so does every loss, which may read padding rows: the
question-answering loss normalises over every position), on CPU (finding the real
rows reads the mask, a host sync on an accelerator), outside tracing, `torch.compile` and ONNX export (the row count
is data-dependent), and when neither per-layer hidden states nor attention probabilities are asked for (those are
returned in the padded layout).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PackedRows:
    """Where the real rows of a padded `(batch, length)` joint sequence are.

    `index` holds, for each packed row, its position `b * length + t` in the flattened padded layout: first every
    real word row (batch-major), then every real entity row. `word_rows` is the number of word rows.
    """

    index: torch.Tensor
    word_rows: int
    batch_size: int
    length: int

    @classmethod
    def of_mask(cls, joint_mask: torch.Tensor | None, word_length: int) -> PackedRows | None:
        """The packing of a `(batch, length)` joint mask (1 = real row), or None when there is nothing to gain (no
        padding) or packing does not apply (see the module docstring)."""
        if joint_mask is None or not can_pack(joint_mask):
            return None
        real = joint_mask.bool()
        if bool(real.all()):
            return None
        batch_size, length = real.shape
        positions = torch.arange(batch_size * length, device=real.device).view(batch_size, length)
        word_index = positions[:, :word_length][real[:, :word_length]]
        entity_index = positions[:, word_length:][real[:, word_length:]]
        return cls(torch.cat([word_index, entity_index]), word_index.numel(), batch_size, length)

    def pack(self, padded: torch.Tensor) -> torch.Tensor:
        """`(batch, length, ...)` -> `(rows, ...)`."""
        return padded.reshape(self.batch_size * self.length, *padded.shape[2:]).index_select(0, self.index)

    def unpack(self, rows: torch.Tensor) -> torch.Tensor:
        """`(rows, ...)` -> `(batch, length, ...)`, zeros at padding rows."""
        padded = rows.new_zeros(self.batch_size * self.length, *rows.shape[1:])
        padded.index_copy_(0, self.index, rows)
        return padded.view(self.batch_size, self.length, *rows.shape[1:])


def can_pack(tensor: torch.Tensor) -> bool:
    """Whether packing may run on `tensor`'s device in the current context (no gradient, CPU, eager PyTorch)."""
    return (
        not torch.is_grad_enabled()
        and tensor.device.type == "cpu"
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
        and not torch.onnx.is_in_onnx_export()
    )

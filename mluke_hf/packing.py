"""Unpadded ("packed") rows: the encoder works on real words and entities only.

A batch of inputs of different sizes is padded to one `(batch, length)` shape, and every linear layer, layer norm,
activation and attention would then run on the padding too (NER batches mix texts of different lengths and last
chunks with fewer spans: 10-20 % of the rows are padding, more of the attention). With packing, the encoder keeps its
states as `(rows, hidden)`: the real rows of the batch, input after input, each input's words then its entities.
Each input's rows are contiguous, so attention runs per input on exactly its rows, with no mask and no padding
(the attention of an input never looks past its own rows, as the padding mask made it do before).

The result on every real row is that of the padded computation (the same arithmetic on the same rows); padding rows
of the returned states are zero instead of whatever the layers made of padding. Packing is used only where it is
free of side effects: in forwards that record no gradient and compute no loss (inference; training keeps the padded
computation, so its dropout draws stay as they were, and so does every loss, which may read padding rows: the
question-answering loss normalises over every position), on CPU (finding the real rows reads the mask, a host sync on
an accelerator), outside tracing, `torch.compile` and ONNX export (the row count is data-dependent), with eager or
sdpa attention, and when neither per-layer hidden states nor attention probabilities are asked for (those are
returned in the padded layout).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PACKED_ATTENTION_IMPLEMENTATIONS = ("eager", "sdpa")


@dataclass(frozen=True)
class PackedRows:
    """Where the real rows of a padded `(batch, length)` joint sequence `[words | entities]` are.

    `index[i]` is packed row i's position `b * length + t` in the flattened padded layout; rows run input by input,
    each input's real words then its real entities. `spans` holds each input's `(first row, row count)`;
    `word_index` / `entity_index` are the packed rows that are words / entities.
    """

    index: torch.Tensor
    word_index: torch.Tensor
    entity_index: torch.Tensor
    spans: tuple[tuple[int, int], ...]
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
        # Row-major order of the real positions is input by input, words (t < word_length) before entities.
        index = real.reshape(-1).nonzero().squeeze(1)
        counts = real.sum(dim=1).tolist()
        starts = [0]
        for count in counts[:-1]:
            starts.append(starts[-1] + count)
        is_word = (index % length) < word_length
        return cls(
            index=index,
            word_index=is_word.nonzero().squeeze(1),
            entity_index=(~is_word).nonzero().squeeze(1),
            spans=tuple(zip(starts, counts)),
            batch_size=batch_size,
            length=length,
        )

    def pack(self, padded: torch.Tensor) -> torch.Tensor:
        """`(batch, length, ...)` -> `(rows, ...)`."""
        return padded.reshape(self.batch_size * self.length, *padded.shape[2:]).index_select(0, self.index)

    def unpack(self, rows: torch.Tensor) -> torch.Tensor:
        """`(rows, ...)` -> `(batch, length, ...)`, zeros at padding rows."""
        padded = rows.new_zeros(self.batch_size * self.length, *rows.shape[1:])
        padded.index_copy_(0, self.index, rows)
        return padded.view(self.batch_size, self.length, *rows.shape[1:])

    def attend(self, attention_interface, module, query, key, value, scaling: float) -> torch.Tensor:
        """Attention of each input over its own rows: `(rows, heads, width)` query/key/value -> `(rows, heads,
        value width)`, through `attention_interface` (transformers' signature) without a mask."""
        outputs = []
        for start, count in self.spans:
            if count == 0:  # an input with no real row (all padding) has nothing to attend
                continue
            rows = slice(start, start + count)
            output, _ = attention_interface(
                module,
                query[rows].transpose(0, 1).unsqueeze(0),
                key[rows].transpose(0, 1).unsqueeze(0),
                value[rows].transpose(0, 1).unsqueeze(0),
                None,
                dropout=0.0,
                scaling=scaling,
            )
            outputs.append(output[0])  # (count, heads, width)
        return torch.cat(outputs)


def can_pack(tensor: torch.Tensor) -> bool:
    """Whether packing may run on `tensor`'s device in the current context (no gradient, CPU, eager PyTorch)."""
    return (
        not torch.is_grad_enabled()
        and tensor.device.type == "cpu"
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
        and not torch.onnx.is_in_onnx_export()
    )

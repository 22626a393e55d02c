"""PyTorch mLUKE: an XLM-RoBERTa encoder over words and entities, with optional entity-aware self-attention.

Parameter names are those of the released checkpoints (`luke.`-prefixed backbone, `lm_head`, `entity_predictions`,
`classifier`, `qa_outputs`), so `from_pretrained` reads them with nothing missing or unexpected.

Words and entities travel through the encoder as one joint sequence `[words | entities]` of shape
`(batch, words + entities, hidden)`; every layer runs one attention call over it through transformers' attention
interface (eager, sdpa). Entity-aware attention (four query projections) is written as one standard attention with
a doubled head dimension (see `MLukeSelfAttention`), so it runs on the same kernels as plain attention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.nn import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from transformers import initialization as init
from transformers.activations import ACT2FN, gelu
from transformers.masking_utils import create_bidirectional_mask
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS, PreTrainedModel
from transformers.pytorch_utils import apply_chunking_to_forward
from transformers.utils import logging
from transformers.utils.generic import can_return_tuple

from .configuration_mluke import MLukeConfig
from .linear_kernels import is_exact_gelu, linear, linear_gelu, prepack_layers, unprepack_layers
from .modeling_outputs import (
    EntityClassificationOutput,
    EntityPairClassificationOutput,
    EntitySpanClassificationOutput,
    MLukeEncoderOutput,
    MLukeMaskedLMOutput,
    MLukeModelOutput,
    MLukeMultipleChoiceModelOutput,
    MLukeQuestionAnsweringModelOutput,
    MLukeSequenceClassifierOutput,
    MLukeTokenClassifierOutput,
)
from .packing import PACKED_ATTENTION_IMPLEMENTATIONS, PackedRows

logger = logging.get_logger(__name__)

__all__ = [
    "MLukePreTrainedModel",
    "MLukeModel",
    "MLukeForMaskedLM",
    "MLukeForEntityClassification",
    "MLukeForEntityPairClassification",
    "MLukeForEntitySpanClassification",
    "MLukeForSequenceClassification",
    "MLukeForTokenClassification",
    "MLukeForQuestionAnswering",
    "MLukeForMultipleChoice",
    "prepack_linear_weights",
    "unprepack_linear_weights",
]

ENTITY_AWARE_QUERY_NAMES = ("w2e_query", "e2w_query", "e2e_query")


def word_position_ids(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """RoBERTa position ids: non-padding tokens count from `padding_idx + 1`, padding tokens get `padding_idx`."""
    not_padding = input_ids.ne(padding_idx).int()
    return (torch.cumsum(not_padding, dim=1).type_as(not_padding) * not_padding).long() + padding_idx


def mean_position_embeddings(position_ids: torch.Tensor, table: nn.Embedding) -> torch.Tensor:
    """Average of `table` rows over each mention's positions, ignoring -1 entries (zero for an all -1 row).

    `position_ids` is `(batch, entities, max_mention_length)`; the result `(batch, entities, hidden)`. One
    `embedding_bag` call weights each row by 1/count, without materialising the
    `(batch, entities, max_mention_length, hidden)` tensor of the gathered rows.
    """
    batch_size, entity_length, mention_length = position_ids.shape
    flat_positions = position_ids.reshape(-1, mention_length)
    is_position = flat_positions.ne(-1)
    counts = is_position.sum(dim=-1, keepdim=True).clamp(min=1)
    weights = is_position.to(table.weight.dtype) / counts.to(table.weight.dtype)
    averaged = nn.functional.embedding_bag(
        flat_positions.clamp(min=0), table.weight, per_sample_weights=weights, mode="sum"
    )
    return averaged.view(batch_size, entity_length, -1)


class MLukeEmbeddings(nn.Module):
    """Word embeddings: token + RoBERTa-style position + token type, then LayerNorm and dropout."""

    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.padding_idx = config.pad_token_id
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(
            config.max_position_embeddings, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        if position_ids is None:
            if input_ids is not None:
                position_ids = word_position_ids(input_ids, self.padding_idx)
            else:
                # Without ids, padding cannot be told apart: number every position.
                sequence_length = inputs_embeds.shape[1]
                position_ids = torch.arange(
                    self.padding_idx + 1, sequence_length + self.padding_idx + 1, device=inputs_embeds.device
                ).expand(inputs_embeds.shape[:2])
        if token_type_ids is None:
            token_type_ids = torch.zeros(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device)
        embeddings = (
            inputs_embeds + self.position_embeddings(position_ids) + self.token_type_embeddings(token_type_ids)
        )
        return self.dropout(self.LayerNorm(embeddings))


class MLukeEntityEmbeddings(nn.Module):
    """Entity embeddings: entity table (projected to hidden size) + mean position of the mention + token type."""

    def __init__(self, config: MLukeConfig):
        super().__init__()
        # padding_idx=0 as in the released code (in lite vocabularies id 0 is [MASK], whose row then gets no gradient).
        self.entity_embeddings = nn.Embedding(config.entity_vocab_size, config.entity_emb_size, padding_idx=0)
        if config.entity_emb_size != config.hidden_size:
            self.entity_embedding_dense = nn.Linear(config.entity_emb_size, config.hidden_size, bias=False)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        entity_ids: torch.LongTensor,
        entity_position_ids: torch.LongTensor,
        entity_token_type_ids: torch.LongTensor | None = None,
    ) -> torch.Tensor:
        embeddings = self.entity_embeddings(entity_ids)
        if hasattr(self, "entity_embedding_dense"):
            embeddings = self.entity_embedding_dense(embeddings)
        if entity_token_type_ids is None:
            entity_token_type_ids = torch.zeros_like(entity_ids)
        embeddings = (
            embeddings
            + mean_position_embeddings(entity_position_ids, self.position_embeddings)
            + self.token_type_embeddings(entity_token_type_ids)
        )
        return self.dropout(self.LayerNorm(embeddings))


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Plain softmax attention; returns `(output (batch, length, heads, head_dim), probabilities)`."""
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            # A mask prepared for sdpa (True = attend), met when attentions are requested from an sdpa model.
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probabilities = nn.functional.softmax(scores, dim=-1)
    probabilities = nn.functional.dropout(probabilities, p=dropout, training=module.training)
    output = torch.matmul(probabilities, value).transpose(1, 2).contiguous()
    return output, probabilities


class MLukeSelfAttention(nn.Module):
    """Self-attention over the joint `[words | entities]` sequence, with LUKE's entity-aware queries on request.

    The w2e/e2w/e2e query projections always exist, so checkpoints that carry them (every released mLUKE one, whose
    config nevertheless turns the feature off) load with nothing unexpected and keep them on a round trip; they are
    used only while `config.use_entity_aware_attention` is true and entities are given.

    Entity-aware attention as one standard attention: with head dimension d, word queries are `[q_w2w | q_w2e]`,
    entity queries `[q_e2w | q_e2e]`, word keys `[k | 0]` and entity keys `[0 | k]` (all 2d wide), so each query-key
    dot product is exactly the one of the matching query projection; values stay d wide and the scale stays
    1/sqrt(d), passed explicitly.
    """

    def __init__(self, config: MLukeConfig):
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({config.hidden_size}) must be a multiple of num_attention_heads "
                f"({config.num_attention_heads}); change one of them in the config"
            )
        self.config = config
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.scaling = self.attention_head_size**-0.5
        self.is_causal = False
        self.dropout_prob = config.attention_probs_dropout_prob
        all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, all_head_size)
        self.key = nn.Linear(config.hidden_size, all_head_size)
        self.value = nn.Linear(config.hidden_size, all_head_size)
        self.w2e_query = nn.Linear(config.hidden_size, all_head_size)
        self.e2w_query = nn.Linear(config.hidden_size, all_head_size)
        self.e2e_query = nn.Linear(config.hidden_size, all_head_size)

    def _entity_aware_inputs(
        self,
        hidden_states: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        word_rows: tuple,
        entity_rows: tuple,
        wide_values: bool,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Query and key 2d wide (see the class docstring), in the rows' layout `(..., heads, width)`.

        `word_rows` and `entity_rows` index the rows of each kind: slices of the padded `(batch, length)` layout, or
        row indices of the packed `(rows,)` one (see `mluke_hf.packing`). Each piece is written once into its slot of
        a preallocated tensor (no chained concatenations). With `wide_values`, values are zero-padded to 2d too:
        sdpa's fused CPU/GPU kernels need equal widths, and the zero half of the output is cut off afterwards.
        """
        head_size = self.attention_head_size
        # The projections' dtype, not the states': under autocast they differ (bf16 projections of fp32 states).
        query = key.new_empty(*key.shape[:-1], 2 * head_size)
        wide_key = key.new_empty(*key.shape[:-1], 2 * head_size)
        first, second = slice(None, head_size), slice(head_size, None)
        for rows, (left, right), (key_slot, zero_slot) in (
            (word_rows, (self.query, self.w2e_query), (first, second)),
            (entity_rows, (self.e2w_query, self.e2e_query), (second, first)),
        ):
            # Writes index the full tensors (not views of them): the ONNX exporter keeps only those.
            # One contiguous copy of each side, shared by its two query projections.
            states = hidden_states[rows].contiguous()
            heads_shape = (*states.shape[:-1], self.num_attention_heads, head_size)
            query[(*rows, Ellipsis, first)] = linear(left, states).view(heads_shape)
            query[(*rows, Ellipsis, second)] = linear(right, states).view(heads_shape)
            wide_key[(*rows, Ellipsis, key_slot)] = key[rows]
            wide_key[(*rows, Ellipsis, zero_slot)] = 0
        if wide_values:
            value = nn.functional.pad(value, (0, head_size))
        return query, wide_key, value

    def _attention_interface(self, output_attentions: bool, projections: torch.Tensor) -> Callable:
        """The configured attention function, except where eager attention is needed or computes the same faster.

        Only eager attention returns probabilities. On CPU, sdpa has no fused kernel with attention dropout (its math
        path computes what eager does, slower: 2-5x under bf16 autocast), and its flash kernel runs bf16/fp16 slower
        than eager attention's matrix products on oneDNN (`docs/benchmarks.md`).
        """
        if output_attentions:
            return eager_attention_forward
        if self.config._attn_implementation == "sdpa" and projections.device.type == "cpu":
            if (self.training and self.dropout_prob > 0) or projections.dtype in (torch.bfloat16, torch.float16):
                return eager_attention_forward
        return ALL_ATTENTION_FUNCTIONS.get_interface(self.config._attn_implementation, eager_attention_forward)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        word_length: int,
        output_attentions: bool = False,
        packing: PackedRows | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`hidden_states` are `(batch, length, hidden)`, or `(rows, hidden)` with `packing` (attention then runs
        per input on its own rows, without a mask)."""
        if packing is None:
            word_rows, entity_rows = (slice(None), slice(None, word_length)), (slice(None), slice(word_length, None))
            has_entities = hidden_states.shape[1] > word_length
        else:
            word_rows, entity_rows = (packing.word_index,), (packing.entity_index,)
            has_entities = packing.entity_index.numel() > 0
        heads_shape = (*hidden_states.shape[:-1], self.num_attention_heads, self.attention_head_size)
        key = linear(self.key, hidden_states).view(heads_shape)
        value = linear(self.value, hidden_states).view(heads_shape)
        attention_interface = self._attention_interface(output_attentions, key)
        if self.config.use_entity_aware_attention and has_entities:
            # Pad values only where sdpa can then take a fused kernel (eager attention would only do more work).
            wide_values = attention_interface is not eager_attention_forward and (
                self.config._attn_implementation == "sdpa"
            )
            query, key, value = self._entity_aware_inputs(
                hidden_states, key, value, word_rows, entity_rows, wide_values
            )
        else:
            query = linear(self.query, hidden_states).view(heads_shape)

        if packing is None:
            output, probabilities = attention_interface(
                self,
                query.transpose(1, 2),
                key.transpose(1, 2),
                value.transpose(1, 2),
                attention_mask,
                dropout=self.dropout_prob if self.training else 0.0,
                scaling=self.scaling,
            )
        else:
            output = packing.attend(attention_interface, self, query, key, value, self.scaling)
            probabilities = None
        if output.shape[-1] != self.attention_head_size:
            output = output[..., : self.attention_head_size]
        return output.reshape(*hidden_states.shape[:-1], -1), probabilities


class MLukeSelfOutput(nn.Module):
    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(linear(self.dense, hidden_states)) + input_tensor)


class MLukeAttention(nn.Module):
    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.self = MLukeSelfAttention(config)
        self.output = MLukeSelfOutput(config)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        word_length: int,
        output_attentions: bool = False,
        packing: PackedRows | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attention_output, probabilities = self.self(
            hidden_states, attention_mask, word_length, output_attentions, packing
        )
        return self.output(attention_output, hidden_states), probabilities


class MLukeIntermediate(nn.Module):
    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = (
            ACT2FN[config.hidden_act] if isinstance(config.hidden_act, str) else config.hidden_act
        )

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        # The released checkpoints' activation: its exact (erf) form can run inside the matrix product.
        if is_exact_gelu(self.intermediate_act_fn):
            return linear_gelu(self.dense, hidden_states)
        return self.intermediate_act_fn(linear(self.dense, hidden_states))


class MLukeOutput(nn.Module):
    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(linear(self.dense, hidden_states)) + input_tensor)


class MLukeLayer(GradientCheckpointingLayer):
    """One transformer layer over the joint `[words | entities]` sequence."""

    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.chunk_size_feed_forward = config.chunk_size_feed_forward
        self.seq_len_dim = 1
        self.attention = MLukeAttention(config)
        self.intermediate = MLukeIntermediate(config)
        self.output = MLukeOutput(config)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        word_length: int,
        output_attentions: bool = False,
        packing: PackedRows | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attention_output, probabilities = self.attention(
            hidden_states, attention_mask, word_length, output_attentions, packing
        )
        # Packed states are (rows, hidden): their rows run along dimension 0.
        layer_output = apply_chunking_to_forward(
            self.feed_forward_chunk,
            self.chunk_size_feed_forward,
            self.seq_len_dim if packing is None else 0,
            attention_output,
        )
        return layer_output, probabilities

    def feed_forward_chunk(self, attention_output: torch.Tensor) -> torch.Tensor:
        return self.output(self.intermediate(attention_output), attention_output)


class MLukeEncoder(nn.Module):
    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList([MLukeLayer(config) for _ in range(config.num_hidden_layers)])
        self.gradient_checkpointing = False

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        word_length: int,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        packing: PackedRows | None = None,
    ) -> MLukeEncoderOutput:
        """With `packing` (never together with per-layer outputs), the layers run on the real rows only."""
        has_entities = hidden_states.shape[1] > word_length
        all_words = all_entities = all_attentions = None
        if packing is not None:
            if output_attentions or output_hidden_states:
                raise ValueError("packed rows give the last states only; pass packing=None for per-layer outputs")
            rows = packing.pack(hidden_states)
            for layer in self.layer:
                rows, _ = layer(rows, None, word_length, False, packing)
            hidden_states = packing.unpack(rows)
        else:
            if output_hidden_states:
                words, entities, hidden_states = self._split_states(hidden_states, word_length, rejoin=True)
                all_words, all_entities = (words,), (entities,)
            all_attentions = () if output_attentions else None
            for index, layer in enumerate(self.layer):
                hidden_states, probabilities = layer(hidden_states, attention_mask, word_length, output_attentions)
                if output_hidden_states:
                    rejoin = index + 1 < len(self.layer)
                    words, entities, hidden_states = self._split_states(hidden_states, word_length, rejoin)
                    all_words += (words,)
                    all_entities += (entities,)
                if output_attentions:
                    all_attentions += (probabilities,)
        if output_hidden_states:
            last_words, last_entities = all_words[-1], all_entities[-1]
        else:
            last_words = hidden_states[:, :word_length] if has_entities else hidden_states
            last_entities = hidden_states[:, word_length:] if has_entities else None
        return MLukeEncoderOutput(
            last_hidden_state=last_words,
            hidden_states=all_words,
            attentions=all_attentions,
            entity_last_hidden_state=last_entities,
            entity_hidden_states=all_entities if output_hidden_states and has_entities else None,
        )

    @staticmethod
    def _split_states(
        hidden_states: torch.Tensor, word_length: int, rejoin: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """(word states, entity states, the next layer's input) of a joint `[words | entities]` tensor.

        With `rejoin` the next layer reads `cat(words, entities)`, so the returned states lie on the path to the
        outputs: `retain_grad()` on them (as on LukeModel's separate word and entity states) gets a gradient.
        """
        if hidden_states.shape[1] == word_length:
            return hidden_states, None, hidden_states
        words, entities = hidden_states[:, :word_length], hidden_states[:, word_length:]
        return words, entities, torch.cat([words, entities], dim=1) if rejoin else hidden_states

    def kernel_linear_layers(self) -> Iterator[nn.Linear]:
        """The linear layers the encoder runs through `linear_kernels` (the entity-aware queries only when the config
        uses them: every released checkpoint holds their weights with the feature off)."""
        idle = () if self.config.use_entity_aware_attention else ENTITY_AWARE_QUERY_NAMES
        for name, module in self.named_modules():
            if type(module) is nn.Linear and name.rpartition(".")[2] not in idle:
                yield module


def prepack_linear_weights(model: nn.Module) -> int:
    """Keep a oneDNN-layout copy of every encoder linear weight of `model` (an mLUKE model, or any module holding
    one) where oneDNN runs it: faster CPU inference, same outputs, a second copy of those weights in memory (see
    `mluke_hf.linear_kernels`). Returns how many layers were prepacked: 0 where oneDNN does not run them (GPUs, fp16,
    float32 on Intel CPUs, where MKL is faster). Call it after loading and moving the model, before it serves calls,
    and again after changing weights through `.data`; training, `load_state_dict` and `.to()` need nothing (a copy is
    read only while its weight is unchanged)."""
    encoders = (module for module in model.modules() if isinstance(module, MLukeEncoder))
    return sum(prepack_layers(encoder.kernel_linear_layers()) for encoder in encoders)


def unprepack_linear_weights(model: nn.Module) -> int:
    """Drop the copies `prepack_linear_weights` stored in `model`; returns how many there were."""
    return unprepack_layers(model.modules())


class MLukePooler(nn.Module):
    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


class MLukeLMHead(nn.Module):
    """RoBERTa's MLM head; `decoder.weight` is tied to the word embeddings and `decoder.bias` to `bias`."""

    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.layer_norm(gelu(self.dense(features))))


class EntityPredictionHeadTransform(nn.Module):
    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.entity_emb_size)
        self.transform_act_fn = ACT2FN[config.hidden_act] if isinstance(config.hidden_act, str) else config.hidden_act
        self.LayerNorm = nn.LayerNorm(config.entity_emb_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class EntityPredictionHead(nn.Module):
    """Masked entity prediction; `decoder.weight` is tied to the entity embeddings."""

    def __init__(self, config: MLukeConfig):
        super().__init__()
        self.transform = EntityPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.entity_emb_size, config.entity_vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.entity_vocab_size))

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(hidden_states)) + self.bias


class MLukePreTrainedModel(PreTrainedModel):
    """Base of every mLUKE model: config class, weight init, checkpoint-loading rules."""

    config: MLukeConfig
    config_class = MLukeConfig
    base_model_prefix = "luke"
    supports_gradient_checkpointing = True
    _no_split_modules = ["MLukeEmbeddings", "MLukeEntityEmbeddings", "MLukeLayer"]
    _supports_sdpa = True
    # Flex attention accepts values narrower than queries/keys (entity-aware attention) and is tested on CPU
    # inference. Flash kernels need equal head sizes and no GPU was available to test them, so flash is not declared.
    _supports_flash_attn = False
    _supports_flex_attn = True
    # Checkpoints saved without the entity-aware queries (feature off) load quietly; see `_init_weights`.
    _keys_to_ignore_on_load_missing = [r"attention\.self\.(w2e|e2w|e2e)_query\."]
    # Old checkpoints stored the position_ids buffer.
    _keys_to_ignore_on_load_unexpected = [r"embeddings\.position_ids$"]
    # The losses are computed here without `num_items_in_batch`; let Trainer scale them for accumulation.
    accepts_loss_kwargs = False

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, (MLukeLMHead, EntityPredictionHead)):
            init.zeros_(module.bias)

    def initialize_weights(self) -> None:
        super().initialize_weights()
        # transformers only visits modules holding parameters of their own, so the attention-level step runs here.
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, MLukeSelfAttention):
                    self._init_entity_aware_queries(module)

    def _init_entity_aware_queries(self, attention: MLukeSelfAttention) -> None:
        """Start w2e/e2w/e2e queries as copies of the word query (as LUKE did when it started from RoBERTa).

        `init.copy_` leaves tensors loaded from a checkpoint alone, so from a checkpoint only absent queries are
        copied, and the user is told once per load when the feature is on.
        """
        loading = getattr(attention.query.weight, "_is_hf_initialized", False)
        copied = False
        for name in ENTITY_AWARE_QUERY_NAMES:
            projection = getattr(attention, name)
            if getattr(projection.weight, "_is_hf_initialized", False):
                continue
            init.copy_(projection.weight, attention.query.weight)
            init.copy_(projection.bias, attention.query.bias)
            copied = True
        if copied and loading and self.config.use_entity_aware_attention:
            if not getattr(self, "_told_entity_aware_queries_copied", False):
                self._told_entity_aware_queries_copied = True
                logger.warning(
                    "The checkpoint has no entity-aware query weights (w2e_query, e2w_query, e2e_query) while "
                    "use_entity_aware_attention=True: they were initialised from each layer's `query` weights. "
                    "Fine-tune the model, or load it with use_entity_aware_attention=False."
                )


SPAN_POSITION_NAMES = ("entity_start_positions", "entity_end_positions")


def _check_index_range(values: torch.Tensor | None, name: str, lower: int, upper: int, fix: str) -> None:
    """ValueError naming `name` when an index falls outside [lower, upper), instead of an indexing error deep in torch.

    Runs on CPU tensors only: reading the values of a tensor on an accelerator would stall the forward on a host-device
    sync (the tokenizer and collator produce in-range indices; an out-of-range one there fails in the device's
    indexing kernel). Skipped under torch.compile too, where reading the values would break the graph.
    """
    if values is None or values.device.type != "cpu" or values.numel() == 0 or torch.compiler.is_compiling():
        return
    low, high = (int(value) for value in torch.aminmax(values.detach()))
    if low < lower or high >= upper:
        raise ValueError(f"{name} must lie in [{lower}, {upper - 1}], got values from {low} to {high}: {fix}")


def _check_entity_inputs(
    entity_ids: torch.Tensor | None,
    entity_position_ids: torch.Tensor | None,
    batch_size: int,
) -> None:
    if entity_ids is None:
        return
    if entity_ids.dim() != 2 or entity_ids.shape[0] != batch_size:
        raise ValueError(
            f"entity_ids must have shape (batch_size, entity_length) = ({batch_size}, ...), got "
            f"{tuple(entity_ids.shape)}"
        )
    if entity_position_ids is None:
        raise ValueError(
            "entity_position_ids is required with entity_ids: pass the (batch_size, entity_length, "
            "max_mention_length) token positions of each entity mention, padded with -1 (the tokenizer returns them)"
        )
    if entity_position_ids.dim() != 3 or entity_position_ids.shape[:2] != entity_ids.shape:
        raise ValueError(
            f"entity_position_ids must have shape (batch_size, entity_length, max_mention_length) matching "
            f"entity_ids {tuple(entity_ids.shape)}, got {tuple(entity_position_ids.shape)}"
        )


class MLukeModel(MLukePreTrainedModel):
    """The bare mLUKE encoder, returning word and entity hidden states (and the pooled `<s>` state)."""

    # Loading the encoder alone from a pretraining checkpoint (every released one) leaves its heads out, quietly.
    _keys_to_ignore_on_load_unexpected = [r"embeddings\.position_ids$", r"^lm_head\.", r"^entity_predictions\."]

    def __init__(self, config: MLukeConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.config = config
        self.embeddings = MLukeEmbeddings(config)
        self.entity_embeddings = MLukeEntityEmbeddings(config)
        self.encoder = MLukeEncoder(config)
        self.pooler = MLukePooler(config) if add_pooling_layer else None
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def get_entity_embeddings(self) -> nn.Embedding:
        return self.entity_embeddings.entity_embeddings

    def set_entity_embeddings(self, value: nn.Embedding) -> None:
        self.entity_embeddings.entity_embeddings = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.Tensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> MLukeModelOutput:
        r"""
        Args:
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds: word inputs, as in RoBERTa
                (position ids are computed from `input_ids` when not given).
            entity_ids (`(batch_size, entity_length)`): entity vocabulary ids; without them only words are encoded.
            entity_attention_mask (`(batch_size, entity_length)`): 1 for real entities, 0 for padding.
            entity_token_type_ids (`(batch_size, entity_length)`): segment ids of the entities (0 by default).
            entity_position_ids (`(batch_size, entity_length, max_mention_length)`): word-token positions of each
                mention, padded with -1; required with `entity_ids`.
            output_attentions: return each layer's attention probabilities (computed with eager attention).
            output_hidden_states: return word and entity states of every layer.
            keep_padding_rows: run the layers on padding rows too. By default a forward that records no gradient
                runs them on real rows only (`mluke_hf.packing`: same states on every real row, zeros at padding);
                the heads ask for padding rows whenever they compute a loss, whose value may read them (the
                question-answering loss normalises over every position, padding included).
        """
        output_attentions = output_attentions if output_attentions is not None else self.config.output_attentions
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds")
        batch_size, word_length = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        _check_entity_inputs(entity_ids, entity_position_ids, batch_size)
        config = self.config
        _check_index_range(
            input_ids, "input_ids", 0, config.vocab_size, "the tokenizer and config.vocab_size disagree"
        )
        _check_index_range(token_type_ids, "token_type_ids", 0, config.type_vocab_size, "see config.type_vocab_size")
        _check_index_range(
            entity_ids,
            "entity_ids",
            0,
            config.entity_vocab_size,
            "the entity vocab and config.entity_vocab_size disagree",
        )
        _check_index_range(
            entity_token_type_ids, "entity_token_type_ids", 0, config.type_vocab_size, "see config.type_vocab_size"
        )
        _check_index_range(
            entity_position_ids,
            "entity_position_ids",
            -1,
            config.max_position_embeddings,
            "use token positions inside the sequence and -1 for padding",
        )

        word_embeddings = self.embeddings(
            input_ids=input_ids, token_type_ids=token_type_ids, position_ids=position_ids, inputs_embeds=inputs_embeds
        )
        if entity_ids is None:
            joint_embeddings, joint_mask = word_embeddings, attention_mask
        else:
            entity_embeddings = self.entity_embeddings(entity_ids, entity_position_ids, entity_token_type_ids)
            joint_embeddings = torch.cat([word_embeddings, entity_embeddings], dim=1)
            joint_mask = self._joint_attention_mask(attention_mask, entity_attention_mask, word_embeddings, entity_ids)

        # Per-layer outputs are returned in the padded layout, so they keep the padded computation.
        packed = not (keep_padding_rows or output_attentions or output_hidden_states) and (
            config._attn_implementation in PACKED_ATTENTION_IMPLEMENTATIONS
        )
        packing = PackedRows.of_mask(joint_mask, word_length) if packed else None
        # Packed rows attend per input with no mask, so the padded layout's mask is only built without them.
        mask = None
        if packing is None:
            mask = create_bidirectional_mask(
                config=self.config,
                inputs_embeds=joint_embeddings,
                attention_mask=joint_mask,
                # Dropping an all-ones mask means reading it: a host sync when it lives on an accelerator.
                allow_is_bidirectional_skip=joint_mask is None or joint_mask.device.type == "cpu",
            )
        encoder_outputs = self.encoder(
            joint_embeddings,
            mask,
            word_length,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            packing=packing,
        )
        pooled_output = self.pooler(encoder_outputs.last_hidden_state) if self.pooler is not None else None
        return MLukeModelOutput(
            last_hidden_state=encoder_outputs.last_hidden_state,
            pooler_output=pooled_output,
            hidden_states=encoder_outputs.hidden_states,
            attentions=encoder_outputs.attentions,
            entity_last_hidden_state=encoder_outputs.entity_last_hidden_state,
            entity_hidden_states=encoder_outputs.entity_hidden_states,
        )

    @staticmethod
    def _joint_attention_mask(
        attention_mask: torch.Tensor | None,
        entity_attention_mask: torch.Tensor | None,
        word_embeddings: torch.Tensor,
        entity_ids: torch.Tensor,
    ) -> torch.Tensor:
        device = word_embeddings.device
        if attention_mask is None:
            attention_mask = torch.ones(word_embeddings.shape[:2], dtype=torch.long, device=device)
        if entity_attention_mask is None:
            entity_attention_mask = torch.ones(entity_ids.shape, dtype=attention_mask.dtype, device=device)
        return torch.cat([attention_mask, entity_attention_mask.to(attention_mask.dtype)], dim=-1)


def _entity_head_loss(logits: torch.Tensor, labels: torch.Tensor, index_label_dims: int) -> torch.Tensor:
    """Cross-entropy for index labels (`index_label_dims` dims), binary cross-entropy for multi-hot labels."""
    labels = labels.to(logits.device)
    if labels.ndim == index_label_dims:
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1))
    return nn.functional.binary_cross_entropy_with_logits(logits.view(-1), labels.view(-1).type_as(logits))


class MLukeForMaskedLM(MLukePreTrainedModel):
    """mLUKE with its pretraining heads: masked word prediction (`lm_head`) and masked entity prediction
    (`entity_predictions`). The word decoder is tied to the word embeddings and the entity decoder to the entity
    embeddings (as transformers 4.x did), so a checkpoint that stores each tied weight once loads completely."""

    _tied_weights_keys = {
        "lm_head.decoder.weight": "luke.embeddings.word_embeddings.weight",
        "lm_head.decoder.bias": "lm_head.bias",
        "entity_predictions.decoder.weight": "luke.entity_embeddings.entity_embeddings.weight",
    }

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.luke = MLukeModel(config)
        self.lm_head = MLukeLMHead(config)
        self.entity_predictions = EntityPredictionHead(config)
        self.loss_fn = nn.CrossEntropyLoss()
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.lm_head.decoder = new_embeddings

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.LongTensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        labels: torch.LongTensor | None = None,
        entity_labels: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> MLukeMaskedLMOutput:
        r"""
        labels (`(batch_size, sequence_length)`): word ids to predict, -100 where nothing is predicted.
        entity_labels (`(batch_size, entity_length)`): entity ids to predict, -100 where nothing is predicted.
        Other arguments: see `MLukeModel.forward`.
        """
        outputs = self.luke(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            entity_ids=entity_ids,
            entity_attention_mask=entity_attention_mask,
            entity_token_type_ids=entity_token_type_ids,
            entity_position_ids=entity_position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            keep_padding_rows=keep_padding_rows or labels is not None or entity_labels is not None,
            return_dict=True,
        )
        logits = self.lm_head(outputs.last_hidden_state)
        mlm_loss = None
        if labels is not None:
            mlm_loss = self.loss_fn(logits.view(-1, logits.shape[-1]), labels.to(logits.device).view(-1))

        entity_logits = mep_loss = None
        if outputs.entity_last_hidden_state is not None:
            entity_logits = self.entity_predictions(outputs.entity_last_hidden_state)
            if entity_labels is not None:
                mep_loss = self.loss_fn(
                    entity_logits.view(-1, entity_logits.shape[-1]), entity_labels.to(entity_logits.device).view(-1)
                )
        if mlm_loss is not None and mep_loss is not None:
            loss = mlm_loss + mep_loss
        else:
            loss = mlm_loss if mlm_loss is not None else mep_loss
        return MLukeMaskedLMOutput(
            loss=loss,
            mlm_loss=mlm_loss,
            mep_loss=mep_loss,
            logits=logits,
            entity_logits=entity_logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )


class MLukeForEntityClassification(MLukePreTrainedModel):
    """mLUKE with a linear classifier on the first entity's state (entity typing, e.g. Open Entity)."""

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.luke = MLukeModel(config)
        self.num_labels = config.num_labels
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.Tensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> EntityClassificationOutput:
        r"""
        labels: `(batch_size,)` class indices (cross-entropy) or `(batch_size, num_labels)` multi-hot
            (binary cross-entropy). Other arguments: see `MLukeModel.forward`; entity inputs are required.
        """
        outputs = _run_backbone_with_entities(
            self,
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            entity_ids,
            entity_attention_mask,
            entity_token_type_ids,
            entity_position_ids,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
            keep_padding_rows or labels is not None,
        )
        logits = self.classifier(self.dropout(outputs.entity_last_hidden_state[:, 0]))
        loss = _entity_head_loss(logits, labels, index_label_dims=1) if labels is not None else None
        return EntityClassificationOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )


class MLukeForEntityPairClassification(MLukePreTrainedModel):
    """mLUKE with a bias-free linear classifier on the first two entities' states (relation classification)."""

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.luke = MLukeModel(config)
        self.num_labels = config.num_labels
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size * 2, config.num_labels, bias=False)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.Tensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> EntityPairClassificationOutput:
        r"""
        labels: `(batch_size,)` class indices (cross-entropy) or `(batch_size, num_labels)` multi-hot
            (binary cross-entropy). Other arguments: see `MLukeModel.forward`; at least two entities are required.
        """
        outputs = _run_backbone_with_entities(
            self,
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            entity_ids,
            entity_attention_mask,
            entity_token_type_ids,
            entity_position_ids,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
            keep_padding_rows or labels is not None,
        )
        if outputs.entity_last_hidden_state.shape[1] < 2:
            raise ValueError(
                "MLukeForEntityPairClassification needs two entities per example (head and tail); entity_ids has "
                f"entity_length {outputs.entity_last_hidden_state.shape[1]}"
            )
        feature_vector = outputs.entity_last_hidden_state[:, :2].flatten(1)
        logits = self.classifier(self.dropout(feature_vector))
        loss = _entity_head_loss(logits, labels, index_label_dims=1) if labels is not None else None
        return EntityPairClassificationOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )


class MLukeForEntitySpanClassification(MLukePreTrainedModel):
    """mLUKE with a linear classifier on `[start word state; end word state; entity state]` of each span (NER)."""

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.luke = MLukeModel(config)
        self.num_labels = config.num_labels
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size * 3, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.LongTensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        entity_start_positions: torch.LongTensor | None = None,
        entity_end_positions: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> EntitySpanClassificationOutput:
        r"""
        entity_start_positions, entity_end_positions (`(batch_size, entity_length)`): word-token index of the first
            and last token of each span (inclusive), as the tokenizer returns them in entity_span_classification mode.
        labels: `(batch_size, entity_length)` class indices (cross-entropy, -100 ignored) or
            `(batch_size, entity_length, num_labels)` multi-hot (binary cross-entropy).
        Other arguments: see `MLukeModel.forward`; entity inputs are required.
        """
        if entity_start_positions is None or entity_end_positions is None:
            raise ValueError(
                "MLukeForEntitySpanClassification needs entity_start_positions and entity_end_positions "
                "(the tokenizer returns them with task='entity_span_classification')"
            )
        outputs = _run_backbone_with_entities(
            self,
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            entity_ids,
            entity_attention_mask,
            entity_token_type_ids,
            entity_position_ids,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
            keep_padding_rows or labels is not None,
        )
        word_states = outputs.last_hidden_state
        if entity_start_positions.shape != outputs.entity_last_hidden_state.shape[:2]:
            raise ValueError(
                f"entity_start_positions and entity_end_positions must have the shape of entity_ids "
                f"{tuple(outputs.entity_last_hidden_state.shape[:2])}, got {tuple(entity_start_positions.shape)}"
            )
        for name, positions in zip(SPAN_POSITION_NAMES, (entity_start_positions, entity_end_positions)):
            _check_index_range(positions, name, 0, word_states.shape[1], "use token positions inside the sequence")
        start_states = _gather_word_states(word_states, entity_start_positions)
        end_states = _gather_word_states(word_states, entity_end_positions)
        feature_vector = torch.cat([start_states, end_states, outputs.entity_last_hidden_state], dim=2)
        logits = self.classifier(self.dropout(feature_vector))
        loss = _entity_head_loss(logits, labels, index_label_dims=2) if labels is not None else None
        return EntitySpanClassificationOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )


def _gather_word_states(word_states: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Word states at `positions` `(batch, entities)` -> `(batch, entities, hidden)`."""
    index = positions.to(word_states.device).unsqueeze(-1).expand(-1, -1, word_states.shape[-1])
    return torch.gather(word_states, 1, index)


def _run_backbone_with_entities(
    model: MLukePreTrainedModel,
    input_ids,
    attention_mask,
    token_type_ids,
    position_ids,
    entity_ids,
    entity_attention_mask,
    entity_token_type_ids,
    entity_position_ids,
    inputs_embeds,
    output_attentions,
    output_hidden_states,
    keep_padding_rows,
) -> MLukeModelOutput:
    """The backbone pass of the entity heads, which classify entity states and so need entity inputs."""
    if entity_ids is None:
        raise ValueError(
            f"{type(model).__name__} classifies entity states: pass entity_ids, entity_position_ids and "
            "entity_attention_mask (the mLUKE tokenizer returns them when given entity_spans)"
        )
    return model.luke(
        input_ids=input_ids,
        attention_mask=attention_mask,
        token_type_ids=token_type_ids,
        position_ids=position_ids,
        entity_ids=entity_ids,
        entity_attention_mask=entity_attention_mask,
        entity_token_type_ids=entity_token_type_ids,
        entity_position_ids=entity_position_ids,
        inputs_embeds=inputs_embeds,
        output_attentions=output_attentions,
        output_hidden_states=output_hidden_states,
        keep_padding_rows=keep_padding_rows,
        return_dict=True,
    )


def _classifier_dropout(config: MLukeConfig) -> float:
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


class MLukeForSequenceClassification(MLukePreTrainedModel):
    """mLUKE with a classification/regression head on the pooled `<s>` state."""

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.luke = MLukeModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.Tensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> MLukeSequenceClassifierOutput:
        r"""
        labels: regression targets (`num_labels == 1`), class indices (cross-entropy) or multi-hot floats (BCE);
            `config.problem_type` is inferred from them when unset. Other arguments: see `MLukeModel.forward`.
        """
        outputs = self.luke(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            entity_ids=entity_ids,
            entity_attention_mask=entity_attention_mask,
            entity_token_type_ids=entity_token_type_ids,
            entity_position_ids=entity_position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            keep_padding_rows=keep_padding_rows or labels is not None,
            return_dict=True,
        )
        logits = self.classifier(self.dropout(outputs.pooler_output))
        loss = self._loss(logits, labels) if labels is not None else None
        return MLukeSequenceClassifierOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = labels.to(logits.device)
        if self.config.problem_type is None:
            if self.num_labels == 1:
                self.config.problem_type = "regression"
            elif labels.dtype in (torch.long, torch.int):
                self.config.problem_type = "single_label_classification"
            else:
                self.config.problem_type = "multi_label_classification"
        if self.config.problem_type == "regression":
            if self.num_labels == 1:
                return MSELoss()(logits.squeeze(), labels.squeeze())
            return MSELoss()(logits, labels)
        if self.config.problem_type == "single_label_classification":
            return CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))
        if self.config.problem_type == "multi_label_classification":
            return BCEWithLogitsLoss()(logits, labels)
        raise ValueError(
            f"config.problem_type must be 'regression', 'single_label_classification' or "
            f"'multi_label_classification', got {self.config.problem_type!r}"
        )


class MLukeForTokenClassification(MLukePreTrainedModel):
    """mLUKE with a linear classifier on each word state (for NER prefer `MLukeForEntitySpanClassification`)."""

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.luke = MLukeModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.Tensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> MLukeTokenClassifierOutput:
        r"""
        labels: `(batch_size, sequence_length)` class indices, -100 ignored. Other arguments: see
            `MLukeModel.forward`.
        """
        outputs = self.luke(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            entity_ids=entity_ids,
            entity_attention_mask=entity_attention_mask,
            entity_token_type_ids=entity_token_type_ids,
            entity_position_ids=entity_position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            keep_padding_rows=keep_padding_rows or labels is not None,
            return_dict=True,
        )
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        loss = None
        if labels is not None:
            loss = CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.to(logits.device).view(-1))
        return MLukeTokenClassifierOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )


class MLukeForQuestionAnswering(MLukePreTrainedModel):
    """mLUKE with a span-extraction head (start and end scores per word token)."""

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.luke = MLukeModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.Tensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        start_positions: torch.LongTensor | None = None,
        end_positions: torch.LongTensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> MLukeQuestionAnsweringModelOutput:
        r"""
        start_positions, end_positions (`(batch_size,)`): answer span token indices; positions outside the
            sequence are ignored by the loss. Other arguments: see `MLukeModel.forward`.
        """
        outputs = self.luke(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            entity_ids=entity_ids,
            entity_attention_mask=entity_attention_mask,
            entity_token_type_ids=entity_token_type_ids,
            entity_position_ids=entity_position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            keep_padding_rows=keep_padding_rows or start_positions is not None or end_positions is not None,
            return_dict=True,
        )
        logits = self.qa_outputs(outputs.last_hidden_state)
        if logits.shape[-1] != 2:
            raise ValueError(
                f"MLukeForQuestionAnswering scores span starts and ends: config.num_labels must be 2, got "
                f"{logits.shape[-1]}"
            )
        start_logits, end_logits = (part.squeeze(-1).contiguous() for part in logits.split(1, dim=-1))
        total_loss = None
        if start_positions is not None and end_positions is not None:
            ignored_index = start_logits.shape[1]
            # Out-of-sequence answers (truncated away) map to `ignored_index` and do not count.
            start_positions = start_positions.reshape(-1).to(start_logits.device).clamp(0, ignored_index)
            end_positions = end_positions.reshape(-1).to(end_logits.device).clamp(0, ignored_index)
            loss_fct = CrossEntropyLoss(ignore_index=ignored_index)
            total_loss = (loss_fct(start_logits, start_positions) + loss_fct(end_logits, end_positions)) / 2
        return MLukeQuestionAnsweringModelOutput(
            loss=total_loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )


def _flatten_choices(tensor: torch.Tensor | None, trailing_dims: int) -> torch.Tensor | None:
    """(batch, choices, *rest) -> (batch * choices, *rest), `rest` being the last `trailing_dims` dims."""
    if tensor is None:
        return None
    return tensor.reshape(-1, *tensor.shape[tensor.dim() - trailing_dims :])


class MLukeForMultipleChoice(MLukePreTrainedModel):
    """mLUKE with a scoring head on the pooled `<s>` state of each choice."""

    def __init__(self, config: MLukeConfig):
        super().__init__(config)
        self.luke = MLukeModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        entity_ids: torch.LongTensor | None = None,
        entity_attention_mask: torch.Tensor | None = None,
        entity_token_type_ids: torch.LongTensor | None = None,
        entity_position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        keep_padding_rows: bool = False,
        **kwargs,
    ) -> MLukeMultipleChoiceModelOutput:
        r"""
        Every input has a `num_choices` dimension after the batch one, e.g. input_ids `(batch_size, num_choices,
        sequence_length)`, entity_position_ids `(batch_size, num_choices, entity_length, max_mention_length)`.
        labels (`(batch_size,)`): index of the right choice.
        """
        if input_ids is None and inputs_embeds is None:
            raise ValueError("Pass exactly one of input_ids or inputs_embeds")
        num_choices = input_ids.shape[1] if input_ids is not None else inputs_embeds.shape[1]
        outputs = self.luke(
            input_ids=_flatten_choices(input_ids, 1),
            attention_mask=_flatten_choices(attention_mask, 1),
            token_type_ids=_flatten_choices(token_type_ids, 1),
            position_ids=_flatten_choices(position_ids, 1),
            entity_ids=_flatten_choices(entity_ids, 1),
            entity_attention_mask=_flatten_choices(entity_attention_mask, 1),
            entity_token_type_ids=_flatten_choices(entity_token_type_ids, 1),
            entity_position_ids=_flatten_choices(entity_position_ids, 2),
            inputs_embeds=_flatten_choices(inputs_embeds, 2),
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            keep_padding_rows=keep_padding_rows or labels is not None,
            return_dict=True,
        )
        logits = self.classifier(self.dropout(outputs.pooler_output)).view(-1, num_choices)
        loss = CrossEntropyLoss()(logits, labels.to(logits.device)) if labels is not None else None
        return MLukeMultipleChoiceModelOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            entity_hidden_states=outputs.entity_hidden_states,
            attentions=outputs.attentions,
        )

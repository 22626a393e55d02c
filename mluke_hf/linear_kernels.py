"""Which kernel runs the encoder's linear layers on CPU.

PyTorch sends float32 `nn.Linear` on CPU to MKL's sgemm. MKL takes its fast code paths on Intel CPUs only; on other
x86 CPUs with AVX-512 (AMD Zen 4 and later) it runs a generic path, and oneDNN's float32 matrix product, which
PyTorch ships too (it already runs every bfloat16 linear layer), is 1.3x to 1.8x faster there at the encoder's shapes
(`benchmarks/bench_cpu_kernels.py`). `linear` runs a layer on oneDNN in exactly that case. `linear_gelu` also runs
the feed-forward layer's GELU inside oneDNN's matrix product (a fused post-op: no second pass over the 4x wide
activations), in float32 where oneDNN is chosen and in bfloat16 on every CPU.

Only for inference: no gradient recorded, a plain `nn.Linear` without hooks (a LoRA wrapper or a quantized layer runs
as itself), on CPU outside `torch.autocast`, eager PyTorch (not tracing, compiling or exporting). The arithmetic is that of the dtype either
way; results differ from PyTorch's kernels in the last bits, as between any two BLAS libraries. Nothing is cached:
the weights are read as they are on every call.

`prepack_layers` (behind `mluke_hf.prepack_linear_weights(model)`) is the one exception, and only on request: it stores a copy of each encoder linear
layer's weight in oneDNN's blocked layout next to the layer (oneDNN otherwise reorders the weight on every call):
NER inference about 10 % faster on the benchmark's model (6-16 % in the runs measured), identical outputs, at the
cost of a second copy of the weights that run (85 M parameters for mluke-base, 14 % of its size, whose embedding
tables are most of it; 302 M for mluke-large-lite, 48 %). It is a preparation step, taken before the model serves
calls; a forward only reads the copy, and only while the weight is the one it was made from (same storage, in-place
version, dtype and device), so training, `load_state_dict`, an optimizer step or `.to()` fall back to the plain
kernels by themselves. A change made through `weight.data` is invisible to that check: prepack again after one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from transformers.activations import GELUActivation

from .precision import cpu_flags, cpu_vendor


def onednn_fp32_preferred(vendor: str, flags: set[str]) -> bool:
    """Whether float32 linear layers run faster on oneDNN than on MKL: x86 CPUs with AVX-512 not made by Intel."""
    return bool(vendor) and vendor != "GenuineIntel" and "avx512f" in flags


def _onednn_linear_available() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


@functools.cache
def _use_onednn_fp32() -> bool:
    return _onednn_linear_available() and onednn_fp32_preferred(cpu_vendor(), cpu_flags())


@functools.cache
def _onednn_bf16() -> bool:
    return _onednn_linear_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def _plain_layer(layer: nn.Module) -> bool:
    return (
        type(layer) is nn.Linear
        and not layer._forward_hooks
        and not layer._forward_pre_hooks
        and not getattr(nn.modules.module, "_global_forward_hooks", None)
        and not getattr(nn.modules.module, "_global_forward_pre_hooks", None)
    )


def _eager_inference_on_cpu(layer: nn.Module, states: torch.Tensor) -> bool:
    # Context first: under torch.compile the checks after it must not be traced.
    return (
        not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
        and not torch.onnx.is_in_onnx_export()
        and not torch.is_grad_enabled()
        and states.device.type == "cpu"
        # Under autocast nn.Linear runs in the autocast dtype; a direct oneDNN call would not.
        and not torch.is_autocast_enabled("cpu")
        and _plain_layer(layer)
        and layer.weight.device.type == "cpu"
        and layer.weight.dtype == states.dtype
    )


def onednn_applies(layer: nn.Module, states: torch.Tensor) -> bool:
    """Whether `linear(layer, states)` takes oneDNN's float32 kernel (see the module docstring)."""
    return _eager_inference_on_cpu(layer, states) and states.dtype == torch.float32 and _use_onednn_fp32()


def fused_gelu_applies(layer: nn.Module, states: torch.Tensor) -> bool:
    """Whether `linear_gelu(layer, states)` runs the GELU inside oneDNN's matrix product."""
    if not _eager_inference_on_cpu(layer, states):
        return False
    if states.dtype == torch.float32:
        return _use_onednn_fp32()
    return states.dtype == torch.bfloat16 and _onednn_bf16()


def is_exact_gelu(activation) -> bool:
    """Whether `activation` is the exact (erf) GELU: transformers' `ACT2FN["gelu"]`, `nn.GELU()` or the function."""
    if isinstance(activation, nn.GELU):
        return activation.approximate == "none"
    if type(activation) is GELUActivation:
        return activation.act is nn.functional.gelu
    return activation is nn.functional.gelu


def linear(layer: nn.Module, states: torch.Tensor) -> torch.Tensor:
    """`layer(states)`, on oneDNN's float32 kernel where that is the faster one (see the module docstring)."""
    packed = _prepacked_weight(layer, states)
    if packed is not None:
        return torch.ops.mkldnn._linear_pointwise(states, packed, layer.bias, "none", [], "")
    if onednn_applies(layer, states):
        return torch.ops.mkldnn._linear_pointwise(states, layer.weight, layer.bias, "none", [], "")
    return layer(states)


def linear_gelu(layer: nn.Module, states: torch.Tensor) -> torch.Tensor:
    """`gelu(layer(states))` (the exact, erf GELU), fused into oneDNN's matrix product where it applies."""
    if fused_gelu_applies(layer, states):
        weight = _prepacked_weight(layer, states)
        weight = layer.weight if weight is None else weight
        return torch.ops.mkldnn._linear_pointwise(states, weight, layer.bias, "gelu", [], "none")
    return nn.functional.gelu(linear(layer, states))


# -- prepacked weights (opt-in) --------------------------------------------------------------------------------------

_PREPACKED = "_mluke_prepacked_weight"


@dataclass(frozen=True)
class PrepackedWeight:
    """A layer's weight in oneDNN's blocked layout, and which weight it was made from."""

    packed: torch.Tensor | None
    data_ptr: int
    version: int
    dtype: torch.dtype
    device: torch.device

    @classmethod
    def dropped(cls) -> PrepackedWeight:
        """What a copy or a pickle of a prepacked layer holds: no copy (oneDNN's opaque tensors cannot be copied or
        saved, and the copied weight lives elsewhere anyway); the layer runs the plain kernels until prepacked."""
        return cls(None, -1, -1, torch.float32, torch.device("cpu"))

    def __reduce__(self):
        return (PrepackedWeight.dropped, ())

    def matches(self, weight: torch.Tensor) -> bool:
        return (
            self.packed is not None
            and weight.data_ptr() == self.data_ptr
            and weight._version == self.version
            and weight.dtype == self.dtype
            and weight.device == self.device
        )


def prepack_applies(weight: torch.Tensor) -> bool:
    """Whether a weight of this dtype/device runs on oneDNN here (bf16 on CPUs with bfloat16 support, fp32 where
    oneDNN is the faster float32 kernel), so that a prepacked copy would be used."""
    if weight.device.type != "cpu" or not _onednn_linear_available():
        return False
    if not hasattr(torch.ops.mkldnn, "_reorder_linear_weight"):
        return False
    if weight.dtype == torch.bfloat16:
        return _onednn_bf16()
    return weight.dtype == torch.float32 and _use_onednn_fp32()


def prepack_layers(layers: Iterable[nn.Linear]) -> int:
    """Store a oneDNN-layout copy of each layer's weight where oneDNN runs it (see the module docstring); a layer it
    does not apply to keeps no copy (an older one is dropped). Returns how many layers were prepacked."""
    count = 0
    with torch.no_grad():
        for layer in layers:
            layer.__dict__.pop(_PREPACKED, None)  # a stale copy never stays
            if not _plain_layer(layer) or not prepack_applies(layer.weight):
                continue
            weight = layer.weight
            packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach())
            # One assignment: a concurrent reader sees no entry (plain kernels) or the complete new one.
            layer.__dict__[_PREPACKED] = PrepackedWeight(
                packed, weight.data_ptr(), weight._version, weight.dtype, weight.device
            )
            count += 1
    return count


def unprepack_layers(modules: Iterable[nn.Module]) -> int:
    """Drop the copies `prepack_layers` stored; returns how many there were."""
    dropped = (module.__dict__.pop(_PREPACKED, None) for module in modules)
    return sum(entry is not None and entry.packed is not None for entry in dropped)


def _prepacked_weight(layer: nn.Module, states: torch.Tensor) -> torch.Tensor | None:
    entry = layer.__dict__.get(_PREPACKED)
    if entry is None or not _eager_inference_on_cpu(layer, states) or not entry.matches(layer.weight):
        return None
    return entry.packed

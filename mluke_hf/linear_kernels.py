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
"""

from __future__ import annotations

import functools

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
    if onednn_applies(layer, states):
        return torch.ops.mkldnn._linear_pointwise(states, layer.weight, layer.bias, "none", [], "")
    return layer(states)


def linear_gelu(layer: nn.Module, states: torch.Tensor) -> torch.Tensor:
    """`gelu(layer(states))` (the exact, erf GELU), fused into oneDNN's matrix product where it applies."""
    if fused_gelu_applies(layer, states):
        return torch.ops.mkldnn._linear_pointwise(states, layer.weight, layer.bias, "gelu", [], "none")
    return nn.functional.gelu(linear(layer, states))

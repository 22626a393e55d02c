"""Which floating-point type to run a model in: the `--dtype` choices of the CLI, and what the hardware offers.

bfloat16 weights halve the memory of a model and, on CPUs with bfloat16 matrix instructions (AVX512-BF16, AMX-BF16)
or on recent GPUs, run the linear layers two to three times faster than float32. Logits are then rounded to 8 bits
of mantissa, so near-tie decisions (which of two labels wins, which of two overlapping spans NER keeps) can flip;
the pipelines decode from float32 copies of the logits, so nothing else changes. See docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path

import torch

DTYPE_CHOICES = ("fp32", "bf16", "auto")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# CPU flags (Linux /proc/cpuinfo) of bfloat16 matrix arithmetic that oneDNN uses for bf16 linear layers.
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_field(name: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The first `name : value` line of the CPU description (Linux /proc/cpuinfo), or "" when there is none."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        key, separator, value = line.partition(":")
        if separator and key.strip() == name:
            return value.strip()
    return ""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (empty when the system does not list them, e.g. off Linux)."""
    return set(cpu_field("flags", cpuinfo).split())


def cpu_vendor(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's vendor id (`GenuineIntel`, `AuthenticAMD`, ...), or "" when the system does not say."""
    return cpu_field("vendor_id", cpuinfo)


def fast_bf16(device: str | torch.device, flags: set[str] | None = None) -> bool:
    """True when `device` runs bfloat16 matrix products natively: a CUDA device that supports bf16, or a CPU with
    AMX-BF16 or AVX512-BF16 (`flags` overrides the CPU's own, for tests)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        flags = cpu_flags() if flags is None else flags
        return any(flag in flags for flag in CPU_BF16_FLAGS)
    return False


def resolve_dtype(choice: str, device: str | torch.device, flags: set[str] | None = None) -> torch.dtype:
    """The torch dtype of a `--dtype` choice: fp32, bf16, or auto (bf16 where `fast_bf16(device)`, else fp32)."""
    if choice not in DTYPE_CHOICES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_CHOICES)}, got {choice!r}")
    if choice == "auto":
        return torch.bfloat16 if fast_bf16(device, flags) else torch.float32
    return DTYPES[choice]

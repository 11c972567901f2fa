"""What machine a benchmark ran on, for its JSON: the CPU's model name and vector units.

The same 2-core virtual machine kind has come with different CPUs (an AVX-512 one, an
AMD EPYC with AVX2 only, an AMD EPYC of family 26 with AVX-512), all but the first named
just "AMD EPYC", and the convolutions' speed differs several-fold between them, so every
result records the CPU's name, family and model and its widest vector extensions.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

# the extensions that decide oneDNN's convolution kernels, widest last
_VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx_vnni", "amx_tile")


@functools.cache  # read once per process: cpu_name() and cpu_flags() both ask
def _cpuinfo() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.split("\n\n", 1)[0].splitlines():  # the first processor
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_name() -> str:
    """The CPU's model name, family and model from ``/proc/cpuinfo``, else what
    :mod:`platform` knows; e.g. ``AMD EPYC (family 26, model 2)``."""
    info = _cpuinfo()
    name = info.get("model name")
    if not name:
        return platform.processor() or platform.machine()
    if "cpu family" in info and "model" in info:
        name += f" (family {info['cpu family']}, model {info['model']})"
    return name


def cpu_flags() -> list[str]:
    """Which of AVX2, FMA, AVX-512 (F, BF16), AVX-VNNI and AMX the CPU reports."""
    flags = set(_cpuinfo().get("flags", "").split())
    return [f for f in _VECTOR_FLAGS if f in flags]

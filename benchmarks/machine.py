"""What machine a benchmark ran on, for its JSON: the CPU's model name.

The same 2-core virtual machine kind has come with different CPUs (an AVX-512 one and an
AMD EPYC with AVX2 only), and the convolutions' speed differs several-fold between them,
so every result records the CPU it was measured on.
"""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()

"""The package's version, the single source that ``pyproject.toml`` reads.

A leaf module: ``neuroseg`` and its subpackages import ``__version__`` from here, never
from the package root, so no subpackage imports upward.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"

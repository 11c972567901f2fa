from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "NEUROSEG_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data beside the checkout; required in CI, skipped elsewhere when absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real data not found at {SHARED_DATA}")
        pytest.skip(f"real data not found at {SHARED_DATA} (set NEUROSEG_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def figshare_root(shared_data: Path) -> Path:
    return shared_data / "figshare-cheng"

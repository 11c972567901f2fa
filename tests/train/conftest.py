"""Fixtures shared by the training tests: a valid experiment config and a writer for it."""

import pytest

GOOD_TOML = """
[data]
format = "figshare"
path = "data/figshare"
image_size = 64
batch_size = 4
val_groups = ["fold-4"]

[model]
name = "resunet-small"

[train]
epochs = 2
"""


@pytest.fixture
def good_toml():
    """A valid experiment config as TOML text."""
    return GOOD_TOML


@pytest.fixture
def write_toml(tmp_path):
    """``write_toml(text)`` writes ``tmp_path / "exp.toml"`` and returns its path."""

    def write(text):
        path = tmp_path / "exp.toml"
        path.write_text(text)
        return path

    return write

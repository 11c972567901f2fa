"""neuroseg.models.blocks, the former home of the layers, still resolves the old names."""

import importlib

import pytest

import neuroseg.models
from neuroseg.models import blocks


@pytest.mark.parametrize("name", blocks.__all__)
def test_old_names_resolve_with_a_deprecation_warning(name):
    with pytest.warns(DeprecationWarning, match=f"moved to {blocks.MOVED[name]}.{name}"):
        obj = getattr(blocks, name)
    assert obj is getattr(neuroseg.models, name)
    assert obj is getattr(importlib.import_module(blocks.MOVED[name]), name)


def test_unknown_names_and_dir():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        blocks.Nope  # noqa: B018
    assert set(blocks.__all__) <= set(dir(blocks))

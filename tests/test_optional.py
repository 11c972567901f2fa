import json

import pytest

from neuroseg._optional import require
from neuroseg.errors import MissingDependencyError


def test_an_installed_module_is_returned():
    assert require("json", extra="none") is json


def test_a_missing_module_names_the_extra_and_the_purpose():
    name = "neuroseg_test_no_such_module"
    with pytest.raises(MissingDependencyError) as info:
        require(name, extra="nifti", purpose="reading NIfTI volumes")
    assert str(info.value) == (
        f"The optional dependency '{name}' is needed for reading NIfTI volumes but is not "
        "installed. Install it with: pip install 'neuroseg[nifti]'"
    )
    assert isinstance(info.value, ImportError)  # `except ImportError` still works
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    with pytest.raises(MissingDependencyError, match=f"'{name}' is needed but is not installed"):
        require(name, extra="nifti")


def test_a_module_that_fails_to_import_is_reported_too(tmp_path, monkeypatch):
    # an installed package whose own import fails (a missing shared library, say)
    (tmp_path / "neuroseg_test_broken.py").write_text("raise ImportError('libfoo.so.1')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingDependencyError, match=r"pip install 'neuroseg\[export\]'") as info:
        require("neuroseg_test_broken", extra="export")
    assert str(info.value.__cause__) == "libfoo.so.1"

import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import neuroseg

SUBPACKAGES = [
    "neuroseg.data",
    "neuroseg.models",
    "neuroseg.metrics",
    "neuroseg.train",
    "neuroseg.inference",
    "neuroseg.export",
]


def test_import_is_lazy():
    code = "import sys, neuroseg; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_py_typed_shipped():
    assert (Path(neuroseg.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_all_matches_public_names(name):
    mod = importlib.import_module(name)
    exported = set(mod.__all__)
    assert len(exported) == len(mod.__all__), "duplicates in __all__"
    for n in exported:
        assert hasattr(mod, n), f"{name}.__all__ lists missing name {n}"
    public = {
        n
        for n, v in vars(mod).items()
        if not n.startswith("_")
        and not isinstance(v, types.ModuleType)
        and n not in {"annotations"}
    }
    assert public == exported, f"public but not exported: {public - exported}"
    for n in exported:
        obj = getattr(mod, n)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"{name}.{n} has no docstring"


def test_lazy_subpackage_access():
    assert neuroseg.models.create_model is not None
    with pytest.raises(AttributeError):
        neuroseg.nope  # noqa: B018


def test_cli_version():
    out = subprocess.run(
        [sys.executable, "-m", "neuroseg", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"neuroseg {neuroseg.__version__}"

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


#: Modules tested under another file's name, and where.
NOT_MIRRORED = {
    "__main__.py": "tests/cli/test_startup.py (python -m neuroseg)",
    "train/_multi_worker.py": "tests/train/test_distributed.py (real worker processes)",
}


def test_every_module_has_a_mirrored_test_file():
    # src/neuroseg/<pkg>/<mod>.py -> tests/<pkg>/test_<mod>.py (a leading _ dropped)
    tests = Path(__file__).parent
    src = tests.parent / "src" / "neuroseg"  # the checkout, also when installed non-editable
    assert (src / "__init__.py").is_file()
    missing = []
    for module in sorted(src.rglob("*.py")):
        rel = module.relative_to(src)
        if rel.name == "__init__.py" or rel.as_posix() in NOT_MIRRORED:
            continue
        expected = tests / rel.parent / f"test_{rel.name.removeprefix('_')}"
        if not expected.is_file():
            missing.append(f"{rel.as_posix()} -> {expected.relative_to(tests.parent)}")
    assert not missing, "modules without their test file:\n" + "\n".join(missing)
    for rel, where in NOT_MIRRORED.items():
        assert (src / rel).is_file() and (tests.parent / where.split()[0]).is_file(), rel

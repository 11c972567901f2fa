"""Every docstring example in the installed package runs as a doctest.

The modules are found with :mod:`pkgutil` in the ``neuroseg`` that is imported (the
installed package in CI), so the examples are checked against the code users get.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import neuroseg

#: Modules whose import has an effect beyond defining things (the command-line entry).
SKIP = {"neuroseg.__main__"}


def _modules() -> list[str]:
    names = [neuroseg.__name__]
    for info in pkgutil.walk_packages(neuroseg.__path__, prefix="neuroseg."):
        if info.name not in SKIP:
            names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_every_module_is_found():
    assert "neuroseg.data.preprocessor" in MODULES and "neuroseg.models.layers.aspp" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):  # each test gets a copy of the module namespace
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"

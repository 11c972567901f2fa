"""The import graph of ``src/neuroseg`` has no cycles.

Module-level imports are read with :mod:`ast` (no module is imported). ``from a.b import
c`` counts as an import of ``a.b.c`` when ``c`` is a submodule, else of ``a.b``; imports
under ``if TYPE_CHECKING:`` are ignored. Imports inside functions are collected apart:
they run later, but a cycle through them still ties the modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Function-level imports that go up a layer on purpose: a convenience method delegating
#: to a module built on top of its own (importing it at module level would be a cycle).
ALLOWED_LAZY = {
    # SliceDataset.to_tf_dataset -> neuroseg.data.pipeline.to_tf_dataset
    ("neuroseg.data.records", "neuroseg.data.pipeline"),
}


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted((SRC / "neuroseg").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if package else parts)
        found[name] = (path, package)
    return found


MODULES = _modules()


def _absolute(module: str | None, level: int, current: str, package: bool) -> str:
    if not level:
        return module or ""
    base = current.split(".") if package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _known(name: str) -> str | None:
    """The innermost neuroseg module that ``name`` is or lies in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(module: str) -> tuple[set[str], set[str]]:
    """``(module-level, function-level)`` neuroseg imports of ``module``."""
    path, package = MODULES[module]
    top: set[str] = set()
    inner: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            deferred = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child.module, child.level, module, package)
                names = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                    for alias in child.names
                ]
            for name in names:
                target = _known(name)
                if target is not None and target != module:
                    (inner if deferred else top).add(target)
            visit(child, deferred)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return top, inner


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def _with_lazy(prefix: str = "neuroseg") -> dict[str, set[str]]:
    return {
        m: top | {t for t in inner if (m, t) not in ALLOWED_LAZY}
        for m, (top, inner) in GRAPH.items()
        if m.startswith(prefix)
    }


def test_the_graph_sees_imports():
    top, inner = GRAPH["neuroseg.data.records"]
    assert "neuroseg.data.readers" in top and "neuroseg.errors" in top
    assert "neuroseg.data.pipeline" in inner and "neuroseg.data.pipeline" not in top
    # ``from neuroseg.data import records`` names the submodule, not the package
    assert _known("neuroseg.data.records") == "neuroseg.data.records"
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_cycles_in_module_level_imports():
    assert cycles({m: top for m, (top, _) in GRAPH.items()}) == []


def test_records_imports_no_format_module():
    top, inner = GRAPH["neuroseg.data.records"]
    formats = {"brats", "figshare_mat", "folders", "pairs", "nifti", "figshare", "formats"}
    assert not {f"neuroseg.data.{f}" for f in formats} & (top | inner)


def test_no_cycles_in_the_data_package_even_through_function_level_imports():
    assert cycles(_with_lazy("neuroseg.data")) == []


def test_no_cycles_through_function_level_imports():
    assert cycles(_with_lazy()) == []


def test_no_private_names_are_imported_across_modules():
    """``from neuroseg.x import _name`` ties a module to another's internals: make it public."""
    found = []
    for name, (path, _package) in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if not node.module.startswith("neuroseg"):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{name}: from {node.module} import {alias.name}")
    assert found == []


def test_no_module_imports_the_package_root():
    """``neuroseg/__init__`` sits above every module; importing it from below goes upward.

    ``neuroseg.__version__`` comes from the leaf :mod:`neuroseg.version` instead.
    """
    found = sorted(
        name
        for name, (top, inner) in GRAPH.items()
        if name != "neuroseg" and "neuroseg" in top | inner
    )
    assert found == []

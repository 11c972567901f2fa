"""The notebooks in examples/notebooks run end to end and carry their saved figures.

Each notebook is executed with nbclient in a fresh kernel of the running interpreter,
with ``CI=true`` (the notebooks' small settings) and a time limit per cell; any error
fails the test. The committed files must hold the outputs of a full run: every code cell
executed, no error output, and at least one PNG figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "examples" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Notebooks that run on the bundled sample alone; the others read ../shared/data.
SAMPLE_ONLY = {"01_quickstart.ipynb"}
CELL_TIMEOUT_S = 300
MAX_BYTES = 1_500_000

pytestmark = [
    pytest.mark.notebooks,
    # jupyter_core/jupyter_client raise DeprecationWarnings about their own paths/APIs.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def test_the_five_notebooks_are_there():
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_quickstart.ipynb",
        "02_classify_four_classes.ipynb",
        "03_segment_and_localise.ipynb",
        "04_cross_validation_and_tuning.ipynb",
        "05_export_and_deploy.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_saved_with_its_outputs(path):
    assert path.stat().st_size <= MAX_BYTES, f"{path.name}: keep saved figures small"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), "run every cell"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], f"{path.name}: saved an error"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no saved figure (run it and save with outputs)"
    first = next(c for c in code)
    assert 'os.environ.get("CI"' in first.source, "small settings under CI=true, first cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_end_to_end(path, request, monkeypatch):
    if path.name not in SAMPLE_ONLY:
        shared = request.getfixturevalue("shared_data")
        monkeypatch.setenv("NEUROSEG_SHARED_DATA", str(shared))
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",  # jupyter_client starts it with this interpreter
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError on any error
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors

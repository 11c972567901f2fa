"""The parameters and GFLOPs recorded in the registry match freshly built presets."""

import pytest

from neuroseg.models import count_flops, create_model, get_spec, list_models

# Quick to build and count on a CPU: checked in the default suite.
SMALL = [
    "resunet-small",
    "resunet-fast",
    "resunet-fast-half",
    "resunet-fast-deep",
    "classifier-mobilenetv3small",
]


def _check(name):
    spec = get_spec(name)
    model = create_model(name)
    assert spec.params == model.count_params(), name
    measured = count_flops(model) / 1e9
    assert spec.gflops == pytest.approx(measured, rel=0.01), (name, measured)


def test_every_builtin_preset_has_recorded_figures():
    for name in list_models():
        spec = get_spec(name)
        assert isinstance(spec.params, int) and spec.params > 0, name
        assert isinstance(spec.gflops, float) and spec.gflops > 0, name


@pytest.mark.parametrize("name", SMALL)
def test_recorded_figures_of_small_presets(name):
    _check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in list_models() if n not in SMALL])
def test_recorded_figures_of_every_preset(name):
    _check(name)


def test_the_models_page_table_matches_the_registry():
    """docs/models.md prints the recorded figures; a new or changed preset must update it."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "models.md").read_text()
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \| [0-9×]+ \| ([0-9,]+) \| ([0-9.]+) \|$",
                      page, flags=re.M)  # fmt: skip
    table = {name: (task, int(params.replace(",", "")), float(gflops))
             for name, task, params, gflops in rows}  # fmt: skip
    assert set(table) == set(list_models())
    for name, (task, params, gflops) in table.items():
        spec = get_spec(name)
        assert (task, params) == (spec.task, spec.params), name
        assert gflops == round(spec.gflops, 2), name

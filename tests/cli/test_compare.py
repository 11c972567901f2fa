"""`neuroseg compare` on real evaluations: the shipped Figshare model at two thresholds."""

import csv
import json

import numpy as np
import pytest

from neuroseg.cli import main
from tests.inference.conftest import make_figshare_subset

pytestmark = pytest.mark.data

#: Real Figshare slices: meningiomas (1-3), gliomas (1000-1002), pituitary tumours (2000-2002).
INDICES = [1, 2, 3, 1000, 1001, 1002, 2000, 2001, 2002]


@pytest.fixture(scope="module")
def two_evaluations(figshare_root, tmp_path_factory):
    """Per-item CSVs of resunet-figshare on nine real slices at thresholds 0.5 and 0.3."""
    tmp = tmp_path_factory.mktemp("compare")
    fig = make_figshare_subset(figshare_root, tmp / "fig", INDICES)
    paths = []
    for t in ("0.5", "0.3"):
        out = tmp / f"t{t}.csv"
        args = ["evaluate", "--model", "resunet-figshare", "--data", f"figshare:{fig}"]
        assert main([*args, "--threshold", t, "--bootstrap", "10", "--csv", str(out), "-q"]) == 0
        paths.append(out)
    return paths


def _read(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_prints_the_paired_difference_of_real_evaluations(two_evaluations, tmp_path, capsys):
    a, b = two_evaluations
    capsys.readouterr()
    out_json = tmp_path / "out" / "diff.json"
    assert main(["compare", str(a), str(b), "--bootstrap", "200", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    rows_a = {r["source"]: r for r in _read(a)}
    rows_b = {r["source"]: r for r in _read(b)}
    diff = [float(rows_b[k]["dice"]) - float(rows_a[k]["dice"]) for k in rows_a]
    higher = sum(d > 0 for d in diff)
    # the printed row: metric, A, B, B - A, [lo, hi], higher, lower, equal, left out
    line = next(ln for ln in out.splitlines() if ln.startswith("dice "))
    cells = line.split()
    assert float(cells[3]) == pytest.approx(np.mean(diff), abs=5e-5)
    assert int(cells[6]) == higher and int(cells[9]) == 0
    assert "9 paired items (matched by source)" in out
    assert "hd95 (lower is better)" in out
    assert "dice by true_class" in out
    for cls in ("glioma", "meningioma", "pituitary"):
        assert any(ln.startswith(cls + " ") for ln in out.splitlines())
    # a lower threshold marks at least as many pixels: recall cannot fall on any slice
    (rec,) = [ln for ln in out.splitlines() if ln.startswith("recall ")]
    assert int(rec.split()[7]) == 0  # 'B lower' column of recall
    summary = json.loads(out_json.read_text())
    assert summary["overall"]["dice"]["difference"] == pytest.approx(np.mean(diff))
    assert summary["by_class"]["glioma"]["dice"]["n"] == 3
    assert summary["unit"] == "item" and summary["n_items"] == 9


def test_json_to_stdout_and_one_metric(two_evaluations, capsys):
    a, b = two_evaluations
    capsys.readouterr()
    args = ["compare", str(a), str(b), "--metric", "dice", "--by", "none", "--json", "-"]
    assert main([*args, "--bootstrap", "50"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary["overall"]) == ["dice"] and "by_class" not in summary
    same = main(["compare", str(a), str(a), "--metric", "dice", "--json", "-"])
    assert same == 0
    d = json.loads(capsys.readouterr().out)["overall"]["dice"]
    assert (d["difference"], d["ci_low"], d["ci_high"], d["equal"]) == (0.0, 0.0, 0.0, 9)


def test_bad_tables_exit_2_naming_the_file(two_evaluations, tmp_path, capsys):
    a, _ = two_evaluations
    rows = _read(a)
    fewer = tmp_path / "fewer.csv"
    with fewer.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows[:-1])
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(rows[0]) + "\n")
    missing = tmp_path / "missing.csv"
    cases = [
        ([str(a), str(fewer)], f"1 only in {a}"),
        ([str(a), str(empty)], f"{empty}: the table has no rows"),
        ([str(a), str(missing)], f"{missing}: cannot read the table"),
        ([str(a), str(a), "--metric", "nope"], "['nope'] are not numeric columns"),
        ([str(a), str(a), "--bootstrap", "0"], "--bootstrap must be at least 1"),
    ]
    for args, message in cases:
        capsys.readouterr()
        assert main(["compare", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("neuroseg: error: ") and message in err, err

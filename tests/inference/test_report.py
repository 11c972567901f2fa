import base64
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuroseg.data import load_sample
from neuroseg.errors import ConfigError, ModelError, ReadError
from neuroseg.inference import write_report
from neuroseg.inference.report import pick_cases


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []
        self.svgs = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])
        if tag == "svg":
            self.svgs += 1


def check_report_images(path: Path) -> _Images:
    parser = _Images()
    parser.feed(path.read_text(encoding="utf-8"))
    for src in parser.srcs:
        if src.startswith("data:image/png;base64,"):
            raw = np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8)
            assert cv2.imdecode(raw, cv2.IMREAD_COLOR) is not None
        else:
            assert (path.parent / src).is_file(), src
    return parser


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from neuroseg.models import create_model
    from neuroseg.train import TrainConfig, fit

    run = tmp_path_factory.mktemp("run")
    train = load_sample()[:8].to_tf_dataset("segmentation", image_size=64, batch_size=4)
    model = create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8)
    fit(model, train, train, config=TrainConfig(epochs=2), out=run, verbose=0)
    return run


def test_report_with_data(run_dir, tmp_path):
    out = write_report(
        run_dir,
        data=load_sample()[:6],
        data_description="sample",
        out=tmp_path / "r.html",
        n_cases=2,
    )
    text = out.read_text(encoding="utf-8")
    assert "research only, not a medical device" in text.lower()
    for word in ("Model card", "Limits", "Training curves", "Best cases", "Worst cases"):
        assert word in text
    parser = check_report_images(out)
    assert len(parser.srcs) == 4 and parser.svgs >= 2
    # the per-pixel reliability of the segmenter: a table (6 slices of 256 x 256 pixels)
    found = re.search(r"Segmentation, per pixel \((\d+) pixels.*?ECE ([0-9.]+), MCE", text)
    assert found is not None and int(found.group(1)) == sum(
        r.load_image().shape[0] * r.load_image().shape[1] for r in load_sample()[:6]
    )
    assert 0.0 <= float(found.group(2)) <= 1.0


def test_report_without_data(run_dir):
    out = write_report(run_dir)
    assert out == run_dir / "report.html"
    assert check_report_images(out).srcs == []


def test_report_errors(tmp_path):
    with pytest.raises(ReadError):
        write_report(tmp_path / "nope")
    with pytest.raises(ModelError, match="best.keras"):
        write_report(tmp_path)


def test_report_for_a_classifier(tmp_path):
    from .conftest import make_classifier

    run = tmp_path / "clf-run"
    run.mkdir()
    make_classifier().save(run / "best.keras")
    (run / "history.csv").write_text("epoch,accuracy,loss\n0,0.3,1.2\n1,0.4,1.1\n")
    out = write_report(run, data=load_sample()[:5], n_cases=1)
    text = out.read_text(encoding="utf-8")
    assert "Confusion matrix" in text and "Grad-CAM" in text
    assert "Most confident errors" in text and "Most confident correct calls" in text
    captions = re.findall(r"<figcaption>[^<]+: truth (\w+), predicted (\w+) with probability", text)
    right = sum(t == p for t, p in captions)
    # one picture per non-empty section (an empty one says so), then the reliability diagram
    srcs = check_report_images(out).srcs
    assert len(srcs) == len(captions) + 1 and len(captions) >= 1
    assert "Reliability diagram of 5 cases: ECE " in text and "MCE " in text
    last = cv2.imdecode(np.frombuffer(base64.b64decode(srcs[-1].split(",", 1)[1]), np.uint8), 1)
    assert last.shape[0] > 360 and last.shape[1] > 360  # the diagram, not a case
    assert right <= 1 and len(captions) - right <= 1
    assert ("none among 5 cases" in text) == (len(captions) < 2)


def test_pick_cases_never_shows_empty_slices_and_orders_by_dice():
    rows = [dict(dice=1.0, truth_px=0, pred_px=0) for _ in range(5)]
    rows += [dict(dice=d, truth_px=10, pred_px=p) for d, p in ((0.9, 9), (0.5, 4), (0.0, 0))]
    rows.append(dict(dice=0.0, truth_px=0, pred_px=7))  # a false alarm on an empty slice
    cases = pick_cases(rows, 3)
    best, worst = cases["Best cases"], cases["Worst cases"]
    assert not set(best) & set(worst) and set(best) | set(worst) == {5, 6, 7, 8}
    assert all(rows[i]["truth_px"] or rows[i]["pred_px"] for i in best + worst)
    assert [rows[i]["dice"] for i in best] == [0.9, 0.5]
    assert [rows[i]["dice"] for i in worst] == [0.0, 0.0]
    assert pick_cases(rows[:5], 3) == {"Best cases": [], "Worst cases": []}


def test_pick_cases_of_a_classifier_by_confidence():
    conf = [0.55, 0.97, 0.80, 0.99, 0.60, 0.91]
    correct = [1, 0, 1, 1, 0, 0]
    rows = [dict(correct=c, confidence=p) for c, p in zip(correct, conf)]
    cases = pick_cases(rows, 2)
    assert cases["Most confident errors"] == [1, 5]  # 0.97, 0.91
    assert cases["Most confident correct calls"] == [3, 2]  # 0.99, 0.80


def test_report_for_a_model_file(run_dir, tmp_path):
    out = write_report(
        model=run_dir / "best.keras", data=load_sample()[:4], out=tmp_path / "m", n_cases=1
    )
    assert out == tmp_path / "m" / "report.html"
    text = out.read_text(encoding="utf-8")
    assert "a .keras file does not record it" in text  # no training data claimed
    assert "Training curves</h2><p>None" in text and "<svg" not in text
    assert "Evaluation dice" in text
    assert len(check_report_images(out).srcs) == 2


def test_report_for_a_pretrained_model_without_data(tmp_path):
    from neuroseg.models import pretrained_info

    info = pretrained_info("resunet-figshare")
    out = write_report(model="resunet-figshare", out=tmp_path / "card.html")
    assert out == tmp_path / "card.html"
    text = out.read_text(encoding="utf-8")
    assert f"Model card: {info.name}" in text and info.sha256[:12] in text
    assert all(html.escape(limit) in text for limit in info.limitations)
    assert "metrics / dice / per_image" in text  # the card's own recorded figures
    assert "no evaluation data was given" in text and check_report_images(out).srcs == []


@pytest.mark.parametrize(
    ("name", "key", "spread"),
    [
        ("resunet-lgg", ("dice_over_folds", "per_patient"),
         "dice_over_folds / per_patient"),
        ("classifier-4class", ("cross_validation", "over_folds", "accuracy"),
         "cross_validation / over_folds / accuracy"),
    ],
)  # fmt: skip
def test_report_shows_a_spread_over_folds_with_its_mean(tmp_path, name, key, spread):
    """A card's {mean, std} over folds is one row, 'mean ± std' (the std was dropped)."""
    from neuroseg.models import pretrained_info

    block = pretrained_info(name).metrics
    for k in key:
        block = block[k]
    text = write_report(model=name, out=tmp_path / "card.html").read_text(encoding="utf-8")
    row = f"<td>{spread}</td><td>{block['mean']:.4f} ± {block['std']:.4f}</td>"
    assert row in text


def test_report_shows_per_patient_records_as_one_table(tmp_path):
    """resunet-lgg's card has 26 patients of 8 fields: one table, a row per patient."""
    from neuroseg.models import pretrained_info

    patients = pretrained_info("resunet-lgg").metrics["patients"]
    fields = list(next(iter(patients.values())))
    text = write_report(model="resunet-lgg", out=tmp_path / "card.html").read_text("utf-8")
    table = text.split("<h4>patients</h4>")[1].split("</table>")[0]
    header = "<tr><th></th>" + "".join(f"<th>{f}</th>" for f in fields) + "</tr>"
    assert header in table and table.count("<tr>") == len(patients) + 1
    name, first = next(iter(patients.items()))
    assert f"<tr><td>{name}</td><td>{first['dice']:.4f}</td>" in table
    assert f"patients / {name}" not in text  # no longer one row per field


def test_report_run_dir_or_model(run_dir, tmp_path):
    with pytest.raises(ConfigError, match="not both or neither"):
        write_report()
    with pytest.raises(ConfigError, match="not both or neither"):
        write_report(run_dir, model="resunet-lgg")
    with pytest.raises(ConfigError, match="needs out="):
        write_report(model="resunet-lgg")
    assert write_report(run_dir, out=tmp_path / "sub") == tmp_path / "sub" / "report.html"

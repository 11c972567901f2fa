import base64
import re
import shutil

import cv2
import numpy as np
import pytest

from neuroseg.cli import build_parser, main
from neuroseg.data import FORMATS
from tests.inference.test_report import check_report_images


@pytest.fixture(scope="module")
def lgg_two_patients(shared_data, tmp_path_factory):
    """A temporary copy of two real LGG patient folders (kaggle_3m layout)."""
    root = tmp_path_factory.mktemp("lgg2")
    patients = sorted(p for p in (shared_data / "lgg-kaggle3m").iterdir() if p.is_dir())[:2]
    for folder in patients:
        shutil.copytree(folder, root / folder.name)
    return root


@pytest.mark.slow
@pytest.mark.data
def test_report_for_a_pretrained_model(lgg_two_patients, tmp_path, capsys):
    assert "lgg" in FORMATS
    out = tmp_path / "reports"
    argv = ["report", "--model", "resunet-lgg", "--data", f"lgg:{lgg_two_patients}"]
    assert main([*argv, "--out", str(out), "--cases", "2"]) == 0
    path = out / "report.html"
    assert f"report written to {path}" in capsys.readouterr().out
    text = path.read_text(encoding="utf-8")
    assert "Model card: resunet-lgg" in text and "preliminary" in text  # the card's own
    assert "Trained on 26 patients" in text  # one of the card's limitations
    dice = re.search(r"<td>Evaluation dice_per_patient</td><td>([0-9.]+)</td>", text)
    assert dice is not None and 0.0 <= float(dice.group(1)) <= 1.0
    assert "Training curves</h2><p>None" in text and "<svg" not in text
    srcs = check_report_images(path).srcs
    assert len(srcs) == 4 and all(s.startswith("data:image/png;base64,") for s in srcs)
    first = cv2.imdecode(
        np.frombuffer(base64.b64decode(srcs[0].split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR
    )
    # image | truth | prediction | TTA uncertainty, under strips with their titles
    assert first.shape[1:] == (4 * 256, 3) and 256 < first.shape[0] < 320
    assert first[-256:].std() > 10
    # --groups keeps one patient; an .html --out is the file itself
    one = sorted(p.name for p in lgg_two_patients.iterdir())[0]
    target = tmp_path / "one.html"
    assert main([*argv, "--groups", one, "--out", str(target), "--cases", "1"]) == 0
    assert f"groups {one}" in target.read_text(encoding="utf-8")
    assert main([*argv, "--groups", "nobody", "--out", str(target)]) == 2
    assert "not in lgg:" in capsys.readouterr().err


def test_report_needs_exactly_one_of_run_dir_and_model(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path)]) == 2
    assert "either RUN_DIR" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--model", "resunet-lgg", "--out", str(tmp_path)]) == 2
    assert "not both or neither" in capsys.readouterr().err
    assert main(["report", "--model", "resunet-lgg"]) == 2
    assert "--model needs --out" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_report_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # the same with or without reflowing
    assert "neuroseg report --model resunet-lgg" in text and "RUN_DIR" in text


@pytest.mark.data
def test_report_gradcam_of_a_brain_cropped_classifier_stays_in_the_brain_box(shared_data, tmp_path):
    from neuroseg.data import brain_bbox, read_image
    from neuroseg.inference import to_rgb8

    data = tmp_path / "k4"
    for cls in ("glioma", "notumor"):
        (data / cls).mkdir(parents=True)
        for src in sorted((shared_data / "kaggle4-training" / cls).iterdir())[:1]:
            shutil.copy(src, data / cls / src.name)
    out = tmp_path / "cls.html"
    argv = ["report", "--model", "classifier-4class", "--data", f"class-folders:{data}"]
    assert main([*argv, "--out", str(out), "--cases", "1", "-q"]) == 0
    text = out.read_text(encoding="utf-8")
    caption = re.search(r"<figcaption>([^<]+): truth (\w+), predicted (\w+)", text)
    assert caption is not None and caption.group(2) in ("glioma", "no_tumor")  # names
    image = read_image(caption.group(1))
    src = check_report_images(out).srcs[0]
    pic = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8), 1),
        cv2.COLOR_BGR2RGB,
    )
    h, w = image.shape[:2]
    # the panels are the last h rows (the titles stand in a strip above them)
    cam, plain = pic[-h:, w:].astype(int), to_rgb8(image).astype(int)
    top, left, bottom, right = brain_bbox(image)
    outside = np.ones(image.shape[:2], bool)
    outside[top:bottom, left:right] = False
    assert outside.any() and np.abs(cam - plain)[outside].max() == 0  # no heat off the brain
    assert np.abs(cam - plain)[~outside].max() > 20  # and some on it

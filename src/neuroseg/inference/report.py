"""A self-contained HTML report of a training run or a model: card, metrics, curves, cases."""

from __future__ import annotations

import base64
import csv
import html
import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError, ModelError, ReadError

__all__ = ["INTENDED_USE", "pick_cases", "write_report"]

#: The intended-use statement every report carries.
INTENDED_USE = "Research only, not a medical device."

_LIMITS = (
    "Trained and evaluated only on the data named in this card; performance on other scanners, "
    "sequences, populations or resolutions is unknown.",
    "2-D slice model: it sees no 3-D context, and volumes are predicted slice by slice.",
    "Dice of an image whose truth and prediction are both empty counts as 1.0; tumour-free "
    "slices can therefore raise the mean.",
    "Figshare records carry the authors' patient-grouped fold, not a patient ID: "
    "'per patient' figures there are per fold.",
    "Grad-CAM shows where the score is sensitive, not why; it is no proof of correct reasoning.",
)


def _png_uri(rgb: np.ndarray) -> str:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ReadError("could not encode a report picture as PNG")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _table(rows: list[list[Any]], header: list[str] | None = None) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        return html.escape(str(v))

    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _read_history(path: Path) -> dict[str, list[float]]:
    if not path.is_file():
        return {}
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols: dict[str, list[float]] = {}
    for row in rows:
        for k, v in row.items():
            if k == "epoch" or v in (None, ""):
                continue
            try:
                cols.setdefault(k, []).append(float(v))
            except ValueError:
                continue
    return cols


def _svg_curves(title: str, series: dict[str, list[float]]) -> str:
    """A small inline SVG line chart of one or two series."""
    w, h, m = 360, 200, 36
    values = [v for s in series.values() for v in s if np.isfinite(v)]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    hi = hi if hi > lo else lo + 1.0
    n = max(len(s) for s in series.values())
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="white" stroke="#ccc"/>',
        f'<text x="{w / 2}" y="16" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
        f'<text x="4" y="{m}" font-size="10">{hi:.3g}</text>',
        f'<text x="4" y="{h - m + 10}" font-size="10">{lo:.3g}</text>',
        f'<text x="{w - m}" y="{h - 8}" font-size="10">epoch {n}</text>',
    ]
    for i, (name, s) in enumerate(series.items()):
        pts = " ".join(
            f"{m + (w - 2 * m) * (j / max(n - 1, 1)):.1f},"
            f"{h - m - (h - 2 * m) * ((v - lo) / (hi - lo)):.1f}"
            for j, v in enumerate(s)
            if np.isfinite(v)
        )
        c = colours[i % len(colours)]
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.5" points="{pts}"/>')
        parts.append(
            f'<text x="{m + 4 + 110 * i}" y="{h - 8}" font-size="10" fill="{c}">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _pick_model(run: Path) -> Path:
    for name in ("best.keras", "last.keras", "model.keras"):
        if (run / name).is_file():
            return run / name
    raise ModelError(
        f"{run}: no best.keras, last.keras or model.keras in the run directory; pass a run "
        "directory written by neuroseg.train.fit."
    )


def _target(out: str | os.PathLike[str] | None, default_dir: Path | None) -> Path:
    """``out`` itself when it names an HTML file, else ``out/report.html``."""
    if out is None:
        if default_dir is None:
            raise ConfigError(
                "write_report(model=...) needs out=: a folder (report.html is written in it) "
                "or a file ending in .html."
            )
        return default_dir / "report.html"
    path = Path(out)
    return path if path.suffix.lower() in (".html", ".htm") else path / "report.html"


def _evaluate(predictor: Any, data: SliceDataset, progress: bool | None) -> Any:
    """:func:`~neuroseg.inference.evaluate` keeping the predictions (for the pictures)."""
    from neuroseg.inference.evaluate import evaluate

    return evaluate(predictor, data, keep_predictions=True, progress=progress)


def _cell(value: Any) -> str:
    """A model-card metric as text: a mean with its interval or spread, or the value."""
    if isinstance(value, dict) and "mean" in value:
        text = f"{float(value['mean']):.4f}"
        if value.get("std") is not None:  # a spread over folds
            text += f" ± {float(value['std']):.4f}"
        if value.get("ci_low") is not None and value.get("ci_high") is not None:
            text += f" (CI {float(value['ci_low']):.4f}-{float(value['ci_high']):.4f})"
        if value.get("n") is not None:
            text += f", n={value['n']}"
        return text
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


def _records(value: Any) -> list[str] | None:
    """The fields of a block of like records (per patient, per fold, per class), or None.

    A block maps two or more names to records with the same plain (not nested) fields.
    """
    if not isinstance(value, dict) or len(value) < 2:
        return None
    records = list(value.values())
    if not all(isinstance(r, dict) and r and "mean" not in r for r in records):
        return None
    fields = list(records[0])
    if any(list(r) != fields or any(isinstance(v, (dict, list)) for v in r.values())
           for r in records):  # fmt: skip
        return None
    return fields


def _flatten(
    value: Any, prefix: str = "", tables: list[tuple[str, list[str], list[list[Any]]]] | None = None
) -> list[list[Any]]:
    """``[key path, text]`` rows of a nested card dict; a mean stays one row with its spread.

    With ``tables``, a block of records (e.g. one per patient) is appended there as
    ``(key path, fields, rows)`` instead of one row per field of each record.
    """
    if tables is not None and (fields := _records(value)) is not None:
        rows = [[name, *(_cell(r[f]) for f in fields)] for name, r in value.items()]
        tables.append((prefix, fields, rows))
        return []
    if isinstance(value, dict) and value and not (isinstance(value.get("mean"), (int, float))):
        out: list[list[Any]] = []
        for k, v in value.items():
            out += _flatten(v, f"{prefix} / {k}" if prefix else str(k), tables)
        return out
    return [[prefix, _cell(value)]]


def _pretrained_card(info: Any) -> list[str]:
    """The sections of a pretrained model's own card (:class:`PretrainedInfo`)."""
    rows: list[list[Any]] = [
        ["Name", info.name],
        ["Status", info.status],
        ["Architecture", info.architecture],
        ["Task", info.task],
        ["Input", " x ".join(str(v) for v in info.input_shape)],
        ["Threshold", info.threshold],
        ["Class names", ", ".join(info.class_names) if info.class_names else "-"],
        ["Crop", info.crop or "none"],
        ["Intended use", info.intended_use or INTENDED_USE],
    ]
    rows += [[f"Preprocessing: {k}", v] for k, v in info.preprocessing.items()]
    rows += [[f"Training: {k}", _cell(v)] for k, v in info.training.items()]
    if info.evaluate:
        command = " ".join(["neuroseg evaluate --model", info.name, *info.evaluate])
        what = "Check the file (its training data)" if info.check else "Reproduce its metrics"
        rows.append([what, command])
    sections = [f"<h2>Model card: {html.escape(info.name)}</h2>" + _table(rows)]
    if info.notes:
        sections.append(f"<p><b>Notes:</b> {html.escape(info.notes)}</p>")
    if info.metrics:
        tables: list[tuple[str, list[str], list[list[Any]]]] = []
        flat = _flatten(info.metrics, tables=tables)
        sections.append(
            "<h3>Metrics recorded in the card</h3>"
            + _table(flat, ["metric", "value"])
            + "".join(
                f"<h4>{html.escape(path)}</h4>" + _table(rows, ["", *fields])
                for path, fields, rows in tables
            )
        )
    return sections


def _figure(pic: np.ndarray, caption: str) -> str:
    return (
        f'<figure><img src="{_png_uri(pic)}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def pick_cases(rows: list[dict[str, Any]], n_cases: int) -> dict[str, list[int]]:
    """The cases a report shows: row indices per section title, best first.

    Segmentation (rows with ``dice``): only slices with tumour in the truth or the
    prediction take part (an empty slice predicted empty scores Dice 1.0 and shows
    nothing); ``"Best cases"`` are the highest Dice, ``"Worst cases"`` the lowest, and no
    slice is in both. Classification (rows with ``correct`` and ``confidence``):
    ``"Most confident errors"`` and ``"Most confident correct calls"``, each by the
    predicted class's probability, highest first.

    Example:
        >>> rows = [dict(dice=1.0, truth_px=0, pred_px=0), dict(dice=0.9, truth_px=5, pred_px=4),
        ...         dict(dice=0.2, truth_px=5, pred_px=9), dict(dice=0.0, truth_px=0, pred_px=3)]
        >>> pick_cases(rows, 1)
        {'Best cases': [1], 'Worst cases': [3]}
        >>> rows = [dict(correct=1, confidence=0.6), dict(correct=0, confidence=0.9),
        ...         dict(correct=1, confidence=0.99), dict(correct=0, confidence=0.7)]
        >>> pick_cases(rows, 1)
        {'Most confident errors': [1], 'Most confident correct calls': [2]}
    """
    if rows and "dice" in rows[0]:
        shown = [i for i, r in enumerate(rows) if r["truth_px"] or r["pred_px"]]
        order = sorted(shown, key=lambda i: (-float(rows[i]["dice"]), i))
        n_best = min(n_cases, (len(order) + 1) // 2)
        best = order[:n_best]
        worst = [i for i in reversed(order[n_best:])][:n_cases]
        return {"Best cases": best, "Worst cases": worst}

    def by_confidence(correct: bool) -> list[int]:
        idx = [i for i, r in enumerate(rows) if bool(r["correct"]) == correct]
        return sorted(idx, key=lambda i: (-float(rows[i].get("confidence", 0.0)), i))[:n_cases]

    return {
        "Most confident errors": by_confidence(False),
        "Most confident correct calls": by_confidence(True),
    }


def _with_uncertainty(pic: np.ndarray, image: np.ndarray, predictor: Any) -> tuple[Any, float]:
    """``pic`` with a fourth panel: the slice's TTA uncertainty map (and its score)."""
    from neuroseg.inference.pictures import uncertainty_panel
    from neuroseg.inference.uncertainty import segmentation_uncertainty

    prepared = predictor.prepare(image)
    u = segmentation_uncertainty(predictor, prepared.array[None], method="tta")
    umap = predictor.invert(u.entropy[0], prepared)
    score = float(u.score[0])
    panel = uncertainty_panel(image, umap, method="tta", score=score)
    height = max(pic.shape[0], panel.shape[0])

    def pad(a: np.ndarray) -> np.ndarray:  # title strips of different heights: top-align
        return np.concatenate([np.zeros((height - a.shape[0], *a.shape[1:]), np.uint8), a])

    return np.concatenate([pad(pic), pad(panel)], axis=1), score


def _case_pictures(evaluation: Any, predictor: Any, n_cases: int) -> list[str]:
    """The cases of :func:`pick_cases` with labelled contour or Grad-CAM pictures."""
    from neuroseg.inference.pictures import gradcam_panels, side_by_side

    rows = evaluation.rows
    seg = bool(rows) and "dice" in rows[0]
    sections = []
    for title, idx in pick_cases(rows, n_cases).items():
        figs = []
        for i in idx:
            pred, row = evaluation.predictions[i], rows[i]
            image = pred.image
            if seg:
                pic, score = _with_uncertainty(
                    side_by_side(image, pred.truth, pred.mask), image, predictor
                )
                caption = (
                    f"{row['source']}: Dice {float(row['dice']):.3f} (truth "
                    f"{int(row['truth_px'])} px, predicted {int(row['pred_px'])} px; "
                    f"TTA uncertainty score {score:.3f})"
                )
            else:
                # In the slice's own frame (inside the brain box for a brain-cropped model).
                heat = predictor.grad_cam(image, source=pred.source or "image")
                probability = float(row.get("confidence", pred.confidence or 0.0))
                pic = gradcam_panels(
                    image,
                    heat,
                    predicted=str(row["pred_class"]),
                    probability=probability,
                    truth=str(row["true_class"]),
                )
                caption = (
                    f"{row['source']}: truth {row['true_class']}, predicted "
                    f"{row['pred_class']} with probability {probability:.3f} (Grad-CAM of the "
                    "predicted class)"
                )
            figs.append(_figure(pic, caption))
        if not figs:
            empty = (
                "none: no slice with tumour in the truth or the prediction"
                if seg
                else f"none among {len(rows)} cases"
            )
            figs.append(f"<p>{html.escape(empty)}.</p>")
        sections.append(f"<h3>{html.escape(title)}</h3>" + "\n".join(figs))
    if seg:
        sections.append(
            "<p>Cases: slices with tumour in the truth or the prediction (a slice empty in "
            "both scores Dice 1.0 and shows nothing). Panels: image, truth (green contour), "
            "prediction (red contour), and the per-pixel uncertainty (binary entropy of the "
            "mean probability over flips and 90° rotations; its score ranks failed slices "
            "only a little better than chance, see docs/calibration.md).</p>"
        )
    else:
        sections.append(
            "<p>Panels: image (with its true class), Grad-CAM of the predicted class (with "
            "its probability). Grad-CAM shows where the score is sensitive, not why.</p>"
        )
    return sections


def _evaluation_sections(evaluation: Any, predictor: Any, n_cases: int) -> list[str]:
    s = evaluation.summary
    flat = [[k, v] for k, v in s.items() if isinstance(v, (int, float))]
    if isinstance(s.get("pooled"), dict):
        flat += [[f"pooled {k}", v] for k, v in s["pooled"].items()]
    sections = [
        f"<h2>Evaluation ({len(evaluation.rows)} items)</h2>" + _table(flat, ["metric", "value"])
    ]
    for part in ("segmentation", "classification"):  # every figure, with bootstrap intervals
        if isinstance(s.get(part), dict):
            sections.append(
                f"<details><summary>All {part} figures, with bootstrap intervals"
                "</summary>" + _table(_flatten(s[part]), ["metric", "value"]) + "</details>"
            )
    if "confusion_matrix" in s:
        names = s["class_names"]
        cm_rows = [[names[i], *row] for i, row in enumerate(s["confusion_matrix"])]
        sections.append(
            "<h3>Confusion matrix (rows: truth, columns: prediction)</h3>"
            + _table(cm_rows, ["truth \\ pred", *names])
        )
    cases = _case_pictures(evaluation, predictor, n_cases)
    return sections + cases + _reliability_section(evaluation)


def _pixel_reliability(evaluation: Any) -> Any:
    """The pixel-level reliability curve of a segmenter's kept predictions (or ``None``)."""
    from neuroseg.metrics.calibration import ReliabilityCurve, reliability_curve

    curves = []
    for pred in evaluation.predictions:
        prob, truth = getattr(pred, "probability", None), getattr(pred, "truth", None)
        if prob is None or truth is None or np.shape(prob) != np.shape(truth):
            continue
        flat = np.asarray(prob, np.float64).ravel()
        curves.append(reliability_curve((np.asarray(truth) > 0).ravel().astype(np.int64), flat))
    return ReliabilityCurve.merge(curves) if curves else None


def _reliability_section(evaluation: Any) -> list[str]:
    """Calibration: a classifier's reliability diagram, a segmenter's per-pixel curve.

    A segmenter's curve (over every pixel of the kept predictions) is a table, so that
    the report's pictures stay the cases.
    """
    from neuroseg.inference.pictures import reliability_picture

    intro = (
        "<h3>Calibration</h3><p>Reliability: accuracy in each bin of the top-class "
        "probability against the bin's mean probability; a calibrated model's accuracy "
        "equals its confidence (the diagonal). <code>neuroseg calibrate</code> fits a "
        "temperature that moves it there.</p>"
    )
    out = []
    cls = (evaluation.summary.get("classification") or {}).get("reliability")
    if cls is not None:
        pic = reliability_picture([cls], names=["model"], title="classification, per case")
        caption = (
            f"Reliability diagram of {sum(cls['counts'])} cases: ECE {cls['ece']:.4f}, "
            f"MCE {cls['mce']:.4f}"
        )
        out.append(_figure(pic, caption))
    rows = evaluation.rows or [{}]
    pixels = _pixel_reliability(evaluation) if "dice" in rows[0] else None
    if pixels is not None:
        table = [
            [f"{pixels.edges[b]:.2f}-{pixels.edges[b + 1]:.2f}", int(n), acc, conf]
            for b, (n, acc, conf) in enumerate(
                zip(pixels.counts, pixels.accuracy, pixels.confidence)
            )
            if n
        ]
        out.append(
            f"<p>Segmentation, per pixel ({pixels.n} pixels; confidence max(p, 1 - p), "
            f"right when the call at 0.5 matches the truth): ECE {pixels.ece:.4f}, "
            f"MCE {pixels.mce:.4f}.</p>"
            + _table(table, ["confidence", "pixels", "accuracy", "mean confidence"])
        )
    return [intro, *out] if out else []


def write_report(
    run_dir: str | os.PathLike[str] | None = None,
    *,
    model: str | os.PathLike[str] | None = None,
    data: SliceDataset | None = None,
    data_description: str | None = None,
    out: str | os.PathLike[str] | None = None,
    n_cases: int = 3,
    tta: bool | None = None,
    training_data: str | None = None,
    split: str | None = None,
    progress: bool | None = None,
) -> Path:
    """Write a self-contained HTML report of a run directory or of a model.

    Give exactly one of ``run_dir`` and ``model``. The report holds a model card (model,
    data, split, metrics, intended use :data:`INTENDED_USE`, limits) and, when ``data`` is
    given, the evaluation summary, the confusion matrix (classifiers) and the best and worst
    cases with contour overlays (segmentation) or Grad-CAM overlays (classifiers). For a
    run directory it also holds the final metrics (``metrics.json``), the training
    configuration (``config.json``) and training curves (``history.csv``, as inline SVG).
    For a pretrained ``model`` the card is its own (:func:`neuroseg.models.pretrained_info`:
    intended use, limits, training data and split, recorded metrics); a model file has no
    training history, so that report has no curves and says so. Pictures are embedded as
    ``data:`` URIs, so the file is self-contained.

    Args:
        run_dir: A directory written by :func:`neuroseg.train.fit`.
        model: A pretrained model name or a ``.keras`` file (instead of ``run_dir``).
        data: Records to evaluate the model on.
        data_description: How ``data`` was chosen (e.g. ``"figshare:PATH, fold 4"``).
        out: A file ending in ``.html``, or a folder to write ``report.html`` in; default
            ``run_dir/report.html`` (required with ``model``).
        n_cases: Number of best and of worst cases shown.
        tta: Use test-time augmentation for the evaluation; ``None``: a pretrained
            model's own (its card's ``tta``), else none.
        training_data: What the model was trained on, for the model card.
        split: How training and validation data were split, for the model card.
        progress: Progress bar while evaluating: ``None`` draws one on a terminal only.

    Returns:
        The path of the HTML file.

    Raises:
        ConfigError: Both or neither of ``run_dir`` and ``model``; ``model`` without ``out``.
        ReadError: ``run_dir`` is not a directory.
        ModelError: No model file in the run directory, or an unloadable ``model``.
    """
    from neuroseg.inference.predictor import Predictor

    if (run_dir is None) == (model is None):
        raise ConfigError(
            "Give either a run directory or model= (a pretrained name or a .keras file), "
            "not both or neither."
        )
    run = Path(run_dir) if run_dir is not None else None
    if run is not None and not run.is_dir():
        raise ReadError(f"{run}: no such run directory.")
    target = _target(out, run)  # fails before anything is loaded
    if run is not None:
        model_file = _pick_model(run)
        predictor = Predictor(model_file, tta=tta)
        title, model_label = str(run), model_file.name
    else:
        predictor = Predictor(model, tta=tta)
        title = str(model)
        card_of = predictor.info
        model_label = (
            f"pretrained '{card_of.name}' ({card_of.file}, SHA-256 {card_of.sha256[:12]}...)"
            if card_of is not None
            else Path(str(model)).name
        )
    info = predictor.info if run is None else None
    net = predictor.model
    evaluation = _evaluate(predictor, data, progress) if data is not None else None
    recorded = "not recorded in the run directory" if run is not None else "unknown"
    if info is not None:
        training_data = training_data or str(info.training.get("data", "")) or None
        split = split or str(info.training.get("split", "")) or None
    elif run is None:
        recorded = "unknown: a .keras file does not record it"
    # ---- model card
    card: list[list[Any]] = [
        ["Model", model_label],
        ["Architecture", f"{type(net).__name__} '{net.name}'"],
        ["Parameters", f"{net.count_params():,}"],
        ["Task", predictor.task],
        ["Input", f"{predictor.input_size or 'any size'} x {predictor.channels} channel(s)"],
        [
            "Preprocessing",
            "resize (bilinear, antialiased), per-slice min-max to [0, 1]"
            + ("; cropped to the brain first" if predictor.crop == "brain" else ""),
        ],
        ["Training data", training_data or recorded],
        ["Split", split or recorded],
        ["Evaluation data", data_description or ("given" if data is not None else "none")],
        ["Intended use", INTENDED_USE],
    ]
    if evaluation is not None:
        for key in ("dice", "dice_per_patient", "accuracy", "balanced_accuracy"):
            if key in evaluation.summary:
                card.append([f"Evaluation {key}", float(evaluation.summary[key])])
    sections = ["<h2>Model card</h2>" + _table(card)]
    limits = [*(info.limitations if info is not None else ()), *_LIMITS]
    sections.append(
        "<h3>Limits</h3><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in limits) + "</ul>"
    )
    if info is not None:
        sections += _pretrained_card(info)
    if run is not None:
        sections += _run_sections(run)
    else:
        sections.append(
            "<h2>Training curves</h2><p>None: a model file carries no training history. The "
            "report of a run directory (<code>neuroseg report RUN_DIR</code>) shows them.</p>"
        )
    if evaluation is not None:
        sections += _evaluation_sections(evaluation, predictor, n_cases)
    else:
        sections.append(
            "<h2>Evaluation</h2><p>None: no evaluation data was given "
            "(<code>--data FORMAT:PATH</code>).</p>"
        )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;}"
        "table{border-collapse:collapse;margin:.5em 0;}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:left;}figure{display:inline-block;margin:6px;}"
        "img{max-width:100%;}svg{margin:4px;}.warn{background:#fff3cd;padding:8px;}"
    )
    name = run.name if run is not None else (info.name if info is not None else Path(title).name)
    doc = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>neuroseg report: {html.escape(name)}</title><style>{style}</style></head>"
        f"<body><h1>neuroseg report: {html.escape(title)}</h1>"
        f'<p class="warn"><b>Intended use:</b> {html.escape(INTENDED_USE)}</p>'
        + "\n".join(sections)
        + "</body></html>\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(doc, encoding="utf-8")
    return target


def _run_sections(run: Path) -> list[str]:
    """The final metrics, configuration and training curves of a run directory."""
    config = (
        json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else {}
    )
    metrics = (
        json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").is_file() else {}
    )
    history = _read_history(run / "history.csv")
    sections = []
    if metrics:
        rows = [[k, v] for k, v in sorted(metrics.items()) if isinstance(v, (int, float))]
        sections.append("<h2>Final training metrics (metrics.json)</h2>" + _table(rows))
    if config:
        sections.append(
            "<h2>Training configuration (config.json)</h2>"
            + _table([[k, json.dumps(v)] for k, v in sorted(config.items())])
        )
    if history:
        charts = []
        for key in sorted(k for k in history if not k.startswith("val_")):
            series = {key: history[key]}
            if f"val_{key}" in history:
                series[f"val_{key}"] = history[f"val_{key}"]
            charts.append(_svg_curves(key, series))
        sections.append("<h2>Training curves (history.csv)</h2>" + "\n".join(charts))
    else:
        sections.append("<h2>Training curves</h2><p>None: the run has no history.csv.</p>")
    return sections

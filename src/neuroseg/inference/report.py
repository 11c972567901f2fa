"""A self-contained HTML report of a training run: metrics, curves, cases and a model card."""

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
from neuroseg.errors import ModelError, ReadError

__all__ = ["INTENDED_USE", "write_report"]

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


def write_report(
    run_dir: str | os.PathLike[str],
    *,
    data: SliceDataset | None = None,
    data_description: str | None = None,
    out: str | os.PathLike[str] | None = None,
    n_cases: int = 3,
    tta: bool = False,
    training_data: str | None = None,
    split: str | None = None,
) -> Path:
    """Write ``report.html`` for a run directory, with every picture embedded.

    The report holds a model card (model, data, split, metrics, intended use
    :data:`INTENDED_USE`, limits), the final metrics (``metrics.json``), the training
    configuration (``config.json``), training curves (``history.csv``, as inline SVG),
    and, when ``data`` is given, the evaluation summary, the confusion matrix (classifiers)
    and the best and worst cases with contour overlays (segmentation) or Grad-CAM overlays
    (classifiers). Pictures are embedded as ``data:`` URIs, so the file is self-contained.

    Args:
        run_dir: A directory written by :func:`neuroseg.train.fit`.
        data: Validation records to evaluate the run's model on.
        data_description: How ``data`` was chosen (e.g. ``"figshare:PATH, fold 4"``).
        out: Output file; default ``run_dir/report.html``.
        n_cases: Number of best and of worst cases shown.
        tta: Use test-time augmentation for the evaluation.
        training_data: What the model was trained on, for the model card.
        split: How training and validation data were split, for the model card.

    Returns:
        The path of the HTML file.

    Raises:
        ReadError: ``run_dir`` is not a directory.
        ModelError: No model file in the run directory.
    """
    from neuroseg.inference.evaluate import evaluate
    from neuroseg.inference.gradcam import grad_cam
    from neuroseg.inference.pictures import heatmap_overlay, side_by_side
    from neuroseg.inference.predictor import Predictor

    run = Path(run_dir)
    if not run.is_dir():
        raise ReadError(f"{run}: no such run directory.")
    model_path = _pick_model(run)
    config = (
        json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else {}
    )
    metrics = (
        json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").is_file() else {}
    )
    history = _read_history(run / "history.csv")
    predictor = Predictor(model_path, tta=tta)
    model = predictor.model
    sections: list[str] = []

    evaluation = None
    if data is not None:
        evaluation = evaluate(predictor, data, keep_predictions=True)
    # ---- model card
    card: list[list[Any]] = [
        ["Model file", model_path.name],
        ["Architecture", f"{type(model).__name__} '{model.name}'"],
        ["Parameters", f"{model.count_params():,}"],
        ["Task", predictor.task],
        ["Input", f"{predictor.input_size or 'any size'} x {predictor.channels} channel(s)"],
        ["Preprocessing", "resize (bilinear, antialiased), per-slice min-max to [0, 1]"],
        ["Training data", training_data or "not recorded in the run directory"],
        ["Split", split or "not recorded in the run directory"],
        ["Evaluation data", data_description or ("given" if data is not None else "none")],
        ["Intended use", INTENDED_USE],
    ]
    if evaluation is not None:
        for key in ("dice", "dice_per_patient", "accuracy", "balanced_accuracy"):
            if key in evaluation.summary:
                card.append([f"Evaluation {key}", float(evaluation.summary[key])])
    sections.append("<h2>Model card</h2>" + _table(card))
    sections.append(
        "<h3>Limits</h3><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in _LIMITS) + "</ul>"
    )
    if metrics:
        rows = [[k, v] for k, v in sorted(metrics.items()) if isinstance(v, (int, float))]
        sections.append("<h2>Final training metrics (metrics.json)</h2>" + _table(rows))
    if config:
        sections.append(
            "<h2>Training configuration (config.json)</h2>"
            + _table([[k, json.dumps(v)] for k, v in sorted(config.items())])
        )
    # ---- curves
    if history:
        charts = []
        for key in sorted(k for k in history if not k.startswith("val_")):
            series = {key: history[key]}
            if f"val_{key}" in history:
                series[f"val_{key}"] = history[f"val_{key}"]
            charts.append(_svg_curves(key, series))
        sections.append("<h2>Training curves (history.csv)</h2>" + "\n".join(charts))
    # ---- evaluation
    if evaluation is not None:
        s = evaluation.summary
        flat = [[k, v] for k, v in s.items() if isinstance(v, (int, float))]
        if isinstance(s.get("pooled"), dict):
            flat += [[f"pooled {k}", v] for k, v in s["pooled"].items()]
        sections.append(
            f"<h2>Evaluation ({len(evaluation.rows)} items)</h2>"
            + _table(flat, ["metric", "value"])
        )
        if "confusion_matrix" in s:
            names = s["class_names"]
            cm_rows = [[names[i], *row] for i, row in enumerate(s["confusion_matrix"])]
            sections.append(
                "<h3>Confusion matrix (rows: truth, columns: prediction)</h3>"
                + _table(cm_rows, ["truth \\ pred", *names])
            )
        key = "dice" if "dice" in evaluation.rows[0] else "correct"
        order = np.argsort([float(r[key]) for r in evaluation.rows], kind="stable")
        picks = [("Best", list(order[::-1][:n_cases])), ("Worst", list(order[:n_cases]))]
        for title, idx in picks:
            figs = []
            for i in idx:
                pred = evaluation.predictions[int(i)]
                row = evaluation.rows[int(i)]
                image = pred.image
                if pred.mask is not None:
                    pic = side_by_side(image, pred.truth, pred.mask)
                    caption = f"{row['source']}: Dice {float(row['dice']):.3f}"
                else:
                    x = predictor.preprocess(image, source=pred.source)[None]
                    heat = grad_cam(model, x)[0]
                    pic = np.concatenate(
                        [
                            side_by_side(image, None, None)[:, : image.shape[1]],
                            heatmap_overlay(image, heat),
                        ],
                        axis=1,
                    )
                    caption = (
                        f"{row['source']}: truth {row['true_label']}, predicted "
                        f"{row['pred_label']} (Grad-CAM)"
                    )
                figs.append(
                    f'<figure><img src="{_png_uri(pic)}" alt="{html.escape(caption)}">'
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
            sections.append(f"<h3>{title} cases</h3>" + "\n".join(figs))
        sections.append(
            "<p>Contours: green = truth, red = prediction. Empty-mask rule: both empty "
            "counts as Dice 1.0.</p>"
        )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;}"
        "table{border-collapse:collapse;margin:.5em 0;}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:left;}figure{display:inline-block;margin:6px;}"
        "img{max-width:100%;}svg{margin:4px;}.warn{background:#fff3cd;padding:8px;}"
    )
    doc = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>neuroseg report: {html.escape(run.name)}</title><style>{style}</style></head>"
        f"<body><h1>neuroseg report: {html.escape(str(run))}</h1>"
        f'<p class="warn"><b>Intended use:</b> {html.escape(INTENDED_USE)}</p>'
        + "\n".join(sections)
        + "</body></html>\n"
    )
    target = Path(out) if out is not None else run / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(doc, encoding="utf-8")
    return target

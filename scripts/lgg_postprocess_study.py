"""Post-processing and TTA levers on the LGG cross-validation folds (`neuroseg cv`).

For every finished fold of a ``neuroseg cv`` run directory (``fold_K/best.keras`` and
``fold_K/eval.json``), predicts the fold's validation patients once with
:class:`~neuroseg.inference.Predictor` (plain, and with its 8-fold flip/rotation TTA),
then scores variants of turning the probabilities into masks, each at the slices' own
resolution:

- ``threshold`` 0.4 / 0.5 / 0.6 / 0.7;
- ``min2d N``: per slice, components under N pixels removed;
- ``lcc3d``: per patient, the slices stacked in order (slice number) and only the largest
  3-D component kept;
- ``min3d N``: per patient, 3-D components under N voxels removed.

Per-patient Dice (each patient's slices as one volume, then the mean over patients), and
per-image Dice (an empty truth with an empty prediction counts as 1); also each validation
patient's Dice, recall and precision at threshold 0.5 without TTA. Selection must use
the mean over folds, not one fold.

    python scripts/lgg_postprocess_study.py --run runs/resunet-lgg-cv5 \\
        --json scripts/results/lgg_postprocess.json
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data import load_lgg
from neuroseg.inference import Predictor, postprocess_mask
from neuroseg.metrics import dice, precision, recall

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def slice_number(source: str) -> int:
    """The slice number of a kaggle_3m file name (``..._12.tif`` -> 12)."""
    m = re.search(r"_(\d+)(?:_mask)?\.tif$", source)
    if m is None:
        raise ValueError(f"{source}: not a kaggle_3m slice name (PATIENT_N.tif)")
    return int(m.group(1))


def by_patient(groups: list[str], sources: list[str]) -> dict[str, list[int]]:
    """Each patient's slice indices, in slice order."""
    out: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        out.setdefault(g, []).append(i)
    return {
        g: sorted(idx, key=lambda i: slice_number(sources[i])) for g, idx in sorted(out.items())
    }


def variants(
    probs: list[np.ndarray], patients: dict[str, list[int]]
) -> Iterator[tuple[str, list[np.ndarray]]]:
    """``(name, masks)`` for each way of turning the probability maps into masks."""
    for t in (0.4, 0.5, 0.6, 0.7):
        yield f"threshold {t}", [p >= t for p in probs]
    for n in (20, 50, 100, 200):
        yield f"min2d {n}", [postprocess_mask(p, min_size=n).astype(bool) for p in probs]
    for name, kw in (
        ("lcc3d", {"largest_component": True}),
        ("min3d 200", {"min_size": 200}),
        ("min3d 500", {"min_size": 500}),
        ("min3d 1000", {"min_size": 1000}),
    ):
        masks: list[np.ndarray] = [np.zeros(0, bool)] * len(probs)
        for pid, idx in patients.items():
            shapes = {probs[i].shape for i in idx}
            if len(shapes) != 1:
                raise ValueError(f"{pid}: slices of different sizes {sorted(shapes)}")
            volume = postprocess_mask(np.stack([probs[i] for i in idx]), **kw).astype(bool)
            for k, i in enumerate(idx):
                masks[i] = volume[k]
        yield name, masks


def score_fold(
    run: Path, fold: int, data: Any, tta: bool | str
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The variants' scores, and each patient's volume figures at threshold 0.5."""
    ev = json.loads((run / f"fold_{fold}" / "eval.json").read_text())
    wanted = set(ev["val_groups"])
    subset = data.filter(lambda r: r.group in wanted)
    predictor = Predictor(str(run / f"fold_{fold}" / "best.keras"), tta=tta)
    out = predictor.predict(subset)
    probs = [np.asarray(o.probability, np.float32) for o in out]
    truths = [np.asarray(o.truth) > 0 for o in out]
    groups = [str(o.group) for o in out]
    patients = by_patient(groups, [str(o.source) for o in out])
    volumes: dict[str, dict[str, float]] = {}
    for pid, idx in patients.items():  # each patient's slices pooled: its volume
        t, m = [truths[i] for i in idx], [probs[i] >= 0.5 for i in idx]
        volumes[pid] = {
            "slices": len(idx),
            "tumour_slices": int(sum(x.any() for x in t)),
            "truth_pixels": int(sum(x.sum() for x in t)),
            "predicted_pixels": int(sum(x.sum() for x in m)),
            **{f.__name__: float(f(t, m, reduction="pooled")) for f in (dice, recall, precision)},
        }
    scores = {}
    for name, masks in variants(probs, patients):
        scores[name] = {
            "per_patient": float(
                np.mean(dice(truths, masks, reduction="per_patient", groups=groups))
            ),
            "per_image": float(np.mean(dice(truths, masks, reduction="per_image"))),
        }
    return scores, volumes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="a `neuroseg cv` run directory")
    ap.add_argument("--data", type=Path, default=SHARED / "lgg-kaggle3m")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    folds = sorted(
        int(d.name.split("_")[1])
        for d in args.run.glob("fold_*")
        if (d / "eval.json").is_file() and (d / "best.keras").is_file()
    )
    if not folds:
        raise SystemExit(f"{args.run}: no finished fold (fold_K/eval.json and best.keras)")
    data = load_lgg(args.data)
    result: dict[str, Any] = {"run": str(args.run), "folds": folds, "variants": {}}
    result["patients at threshold 0.5"] = {}
    for fold in folds:
        for tta in (False, "all"):  # the 8 flips and quarter turns
            scores, volumes = score_fold(args.run, fold, data, tta)
            for name, s in scores.items():
                key = name + (" + TTA" if tta else "")
                result["variants"].setdefault(key, {})[str(fold)] = s
            if not tta:
                result["patients at threshold 0.5"][str(fold)] = volumes
                for pid, v in volumes.items():
                    print(f"fold {fold} {pid}: " + ", ".join(
                        f"{k} {x:.3f}" if isinstance(x, float) else f"{k} {x}"
                        for k, x in v.items()))  # fmt: skip
    print(f"{'variant':22s} " + " ".join(f"fold {f:<3d}" for f in folds) + "  mean per-patient"
          "  mean per-image")  # fmt: skip
    for key, per_fold in result["variants"].items():
        pp = [per_fold[str(f)]["per_patient"] for f in folds]
        pi = [per_fold[str(f)]["per_image"] for f in folds]
        per_fold["mean"] = {"per_patient": float(np.mean(pp)), "per_image": float(np.mean(pi))}
        print(f"{key:22s} " + " ".join(f"{v:8.3f}" for v in pp)
              + f"  {np.mean(pp):16.3f}  {np.mean(pi):14.3f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

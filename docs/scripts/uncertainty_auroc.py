"""Does the uncertainty rank errors? AUROC figures of docs/calibration.md.

Run from the project root (takes ~10 min on 2 CPU cores):

    python docs/scripts/uncertainty_auroc.py --out docs/images --temperature 1.30

Every AUROC comes with a 95 % percentile-bootstrap interval over cases (1000 resamples,
seed 0). ``--only classification`` or ``--only segmentation`` runs one part and keeps the
other part of an existing ``uncertainty_auroc.json`` in ``--out``. ``--classifier`` scores
another classifier file (e.g. the same config trained without fold 4, when the shipped one
trained on every fold) on the combined set's fold 4; ``--segmenter`` (with ``--threshold``)
another segmenter on Figshare fold 4 (e.g. ``runs/fig-fold4/last.keras``, resunet-figshare's
config trained without fold 4, with the card's ``--threshold 0.4``).

Segmentation: resunet-figshare on Figshare fold 4 (fold 5 is held back by the data
provider), TTA uncertainty; the per-slice score
(mean entropy inside the predicted mask and a 3-pixel border) ranks "Dice < 0.5".
Classification: classifier-4class on the card's fold-4 data (also its selection fold),
predictive entropy (one pass) and MC-dropout mutual information rank "wrong class".
Writes uncertainty_auroc.json and the reliability diagrams into --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from neuroseg.data import load_dataset
from neuroseg.inference import Predictor
from neuroseg.inference.calibration import apply_temperature
from neuroseg.inference.pictures import reliability_picture, save_png
from neuroseg.inference.uncertainty import (
    classification_uncertainty,
    segmentation_uncertainty,
    uncertainty_auroc,
)
from neuroseg.metrics import dice, reliability_curve

DATA = Path("../shared/data")
N_BOOT = 1000


def auroc_with_ci(score, error, *, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """The AUROC and its 95 % percentile-bootstrap interval over cases."""
    s, e = np.asarray(score, np.float64), np.asarray(error, bool)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(s), len(s))
        if e[idx].any() and not e[idx].all():  # both kinds needed for an AUROC
            boot.append(uncertainty_auroc(s[idx], e[idx]))
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"auroc": uncertainty_auroc(s, e), "ci95": [float(low), float(high)]}


def _batches(predictor: Predictor, records: list, size: int = 16):
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        yield chunk, np.stack([predictor.preprocess(r.load_image()) for r in chunk])


def segmentation(out: Path, passes: str, model: str, threshold: float | None) -> dict:
    """AUROC of the per-slice score for Dice < 0.5 (a Figshare segmenter, fold 4)."""
    ds = load_dataset("figshare", DATA / "figshare-cheng").filter(lambda r: r.fold == 4)
    # tta=False: "plain" is one pass, whatever TTA the card applies by default
    predictor = Predictor(model, tta=False, threshold=threshold)
    scores, dices, plain_dices = [], [], []
    for chunk, x in _batches(predictor, list(ds)):
        u = segmentation_uncertainty(predictor, x, method=passes)
        plain = predictor.predict_batch(x)["mask"]
        for i, r in enumerate(chunk):
            truth = r.load_mask() > 0
            t = predictor.threshold  # as predict --uncertainty applies it
            dices.append(float(dice(truth[None], (u.probability[i] > t)[None], empty="one")))
            plain_dices.append(float(dice(truth[None], (plain[i] > t)[None], empty="one")))
        scores.extend(u.score.tolist())
    s, d, d0 = np.array(scores), np.array(dices), np.array(plain_dices)
    return {
        "model": model,
        "data": "figshare fold 4",
        "method": passes,
        "threshold": predictor.threshold,
        "n_slices": len(s),
        "n_dice_below_0.5": int((d < 0.5).sum()),
        "auroc_dice_below_0.5": auroc_with_ci(s, d < 0.5),
        "auroc_plain_dice_below_0.5": auroc_with_ci(s, d0 < 0.5),
        "n_plain_dice_below_0.5": int((d0 < 0.5).sum()),
        "spearman_score_vs_dice": float(
            np.corrcoef(np.argsort(np.argsort(s)), np.argsort(np.argsort(d)))[0, 1]
        ),
    }


def classification(out: Path, temperature: float, mc_passes: int, model: str) -> dict:
    """AUROC of entropy / mutual information for wrong classes (a 4-class classifier)."""
    ds = load_dataset(
        "four-class-combined",
        DATA / "figshare-cheng",
        kaggle_root=DATA / "kaggle4-training",
        no_tumor_root=DATA / "br35h-no-tumor",
    ).filter(lambda r: r.group == "fold-4")
    predictor = Predictor(model)
    labels = np.array([r.label for r in ds])
    ent, mi, probs = [], [], []
    for _, x in _batches(predictor, list(ds), 32):
        one = classification_uncertainty(predictor, x)
        mc = classification_uncertainty(predictor, x, method="mc-dropout", n_samples=mc_passes)
        ent.extend(one.entropy.tolist())
        mi.extend(mc.mutual_information.tolist())
        probs.append(one.probabilities)
    p = np.concatenate(probs)
    wrong = p.argmax(axis=1) != labels
    before = reliability_curve(labels, p)
    after = reliability_curve(labels, apply_temperature(p, temperature))
    pic = reliability_picture(
        [before, after],
        names=["before", f"after (T = {temperature:.3g})"],
        title="classifier-4class, fold 4",
    )
    save_png(out / "reliability_classifier.png", pic)
    return {
        "model": model,
        "data": "four-class-combined fold 4 (Figshare, Kaggle and Br35H; held out from "
        "training, no epoch chosen on it)",
        "n": len(labels),
        "n_wrong": int(wrong.sum()),
        "accuracy": float(1 - wrong.mean()),
        "auroc_entropy_wrong": auroc_with_ci(ent, wrong),
        "auroc_mc_dropout_mutual_information_wrong": auroc_with_ci(mi, wrong),
        "mc_dropout_passes": mc_passes,
        "reliability_before": before.to_dict(),
        "reliability_after": after.to_dict(),
    }


def main() -> None:
    """Run both measurements and write the JSON and pictures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="docs/images")
    ap.add_argument("--temperature", type=float, required=True, help="classifier-4class T")
    ap.add_argument("--mc-passes", type=int, default=10)
    ap.add_argument(
        "--classifier", default="classifier-4class", help="a pretrained name or .keras file"
    )
    ap.add_argument(
        "--segmenter", default="resunet-figshare", help="a pretrained name or .keras file"
    )
    ap.add_argument(
        "--threshold", type=float, default=None, help="the segmenter's (default: its card's)"
    )
    ap.add_argument("--only", choices=("classification", "segmentation"), default=None)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "uncertainty_auroc.json"
    result = json.loads(path.read_text()) if args.only and path.is_file() else {}
    if args.only in (None, "classification"):
        result["classification"] = classification(
            out, args.temperature, args.mc_passes, args.classifier
        )
    if args.only in (None, "segmentation"):
        result["segmentation"] = segmentation(out, "tta", args.segmenter, args.threshold)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: {a: b for a, b in v.items() if "reliab" not in a} for k, v in result.items()},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

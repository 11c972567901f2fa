"""Does the 4-class classifier tell tumours from "no tumour", or Figshare from Br35H?

Figshare (Cheng) supplies every tumour slice and Br35H every "no tumour" slice, so a
classifier can score well by recognising the source (sequence, framing, intensity
statistics) instead of the anatomy. This script measures that for one or more trained
classifiers (e.g. the same config trained with and without ``crop = "brain"``):

1. **Source-only probe.** A logistic regression on anatomy-free image statistics (a
   32-bin intensity histogram, the fraction of near-black pixels and the mean of the outer
   frame) of the model's own preprocessed input learns Figshare vs Br35H on folds 1-3 and
   is tested on fold 4. High accuracy means the source is recognisable without anatomy.
2. **Other sources.** Slices from datasets the classifier never saw, with a known answer:
   BraTS 2020 (T1-CE channel) and TCIA Brain-Tumor-Progression (T1) slices with and
   without tumour. A source-driven model calls tumour-free slices of these T1 sources
   "tumour" (they look like Figshare) and misses their tumours less than it should.
3. **Grad-CAM.** On fold-4 validation slices, the share of the Grad-CAM heat inside the
   brain (pixels above 5 % of the range) and, for Figshare slices, inside the tumour mask
   relative to the mask's share of the image (1 = no preference).

A model whose run config (``experiment.toml`` beside the file) trained on the
``four-class-combined`` set is scored for accuracy on that set's own fold 4 (its Br35H
images differ from the hash-dealt fold 4 of ``four-class``); the rest is the same.

    python scripts/source_shortcut_study.py --model crop=runs/classifier-4class/best.keras \
        --model nocrop=runs/classifier-4class-nocrop/best.keras --json study.json \
        --figure docs/images/classifier_gradcam.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def features(batch: np.ndarray) -> np.ndarray:
    """Anatomy-free statistics of preprocessed ``(N, H, W, 1)`` images in [0, 1]."""
    x = batch[..., 0]
    n = len(x)
    hist = np.stack([np.histogram(im, bins=32, range=(0.0, 1.0))[0] for im in x]) / x[0].size
    dark = (x < 0.05).reshape(n, -1).mean(1, keepdims=True)
    frame = np.concatenate([x[:, :4], x[:, -4:], x[:, :, :4].transpose(0, 2, 1)], axis=1)
    frame = np.concatenate([frame.reshape(n, -1), x[:, :, -4:].reshape(n, -1)], 1)
    return np.concatenate([hist, dark, frame.mean(1, keepdims=True)], axis=1)


def logistic_probe(xtr, ytr, xte, yte) -> dict:
    """Standardised L2 logistic regression (Newton steps) → balanced test accuracy."""
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    a = np.c_[np.ones(len(xtr)), (xtr - mu) / sd]
    b = np.c_[np.ones(len(xte)), (xte - mu) / sd]
    w = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-a @ w))
        g = a.T @ (p - ytr) + 1e-2 * w
        h = (a * (p * (1 - p))[:, None]).T @ a + 1e-2 * np.eye(len(w))
        w -= np.linalg.solve(h, g)
    pred = (1 / (1 + np.exp(-b @ w))) >= 0.5
    rec = [float(np.mean(pred[yte == k] == k)) for k in (0, 1)]
    return {
        "balanced_accuracy": float(np.mean(rec)),
        "recall_figshare": rec[0],
        "recall_br35h": rec[1],
    }


def probe_variants(images, is_br, train) -> dict:
    """The source-only probe on inputs prepared several ways (no model involved)."""
    import cv2

    from neuroseg.data import (
        clahe,
        convert_channels,
        crop_to_brain,
        normalize_minmax,
        normalize_percentile,
        resize_image,
    )

    def grey(im):
        return convert_channels(np.asarray(im), 1).astype(np.float32)

    def equalise(im):
        u8 = (normalize_minmax(im) * 255).round().astype(np.uint8)
        return cv2.equalizeHist(u8[..., 0])[..., None].astype(np.float32) / 255.0

    variants = {
        "min-max (whole slice)": lambda im: normalize_minmax(resize_image(im, 128)),
        "crop + min-max (the shipped model)": lambda im: normalize_minmax(
            resize_image(crop_to_brain(im)[0], 128)
        ),
        "crop + 1-99 percentile": lambda im: normalize_percentile(
            resize_image(crop_to_brain(im)[0], 128)
        ),
        "crop + CLAHE": lambda im: clahe(resize_image(crop_to_brain(im)[0], 128))[..., :1] / 255.0,
        "crop + histogram equalisation": lambda im: equalise(
            resize_image(crop_to_brain(im)[0], 128)
        ),
    }
    out = {}
    for name, fn in variants.items():
        x = np.stack([fn(grey(im)) for im in images]).astype("float32")
        f = features(x)
        out[name] = logistic_probe(f[train], is_br[train], f[~train], is_br[~train])
        print(f"probe, {name}: {out[name]['balanced_accuracy']:.3f}")
    return out


def preprocess_all(predictor, images) -> np.ndarray:
    return np.stack([predictor.preprocess(im) for im in images]).astype("float32")


def other_sources(predictor, names) -> dict:
    """Predictions on BraTS / TCIA slices with and without tumour."""
    from neuroseg.data import load_brats_slices, load_nifti

    no_tumor = names.index("no_tumor")
    out = {}
    brats = load_brats_slices(DATA / "brats2020-slices")
    tcia = load_nifti(DATA / "tcia-brain-tumor-progression")
    sets = {
        "brats_t1ce": [(r.load_image()[..., 2], r.load_mask()) for r in brats],
        "tcia_t1": [(r.load_image()[..., 0], r.load_mask()) for r in tcia],
    }
    for key, items in sets.items():
        # keep slices that show brain: at least 15 % of pixels above 5 % of the range
        kept = [
            (im, m)
            for im, m in items
            if np.mean(im > im.min() + 0.05 * (im.max() - im.min() + 1e-9)) >= 0.15
        ]
        has = np.array([bool(np.any(m)) for _, m in kept])
        probs = predictor.model.predict(
            preprocess_all(predictor, [im for im, _ in kept]), verbose=0
        )
        pred = probs.argmax(1)
        out[key] = {
            "n_tumour": int(has.sum()),
            "n_tumour_free": int((~has).sum()),
            "tumour_called_tumour": float(np.mean(pred[has] != no_tumor)) if has.any() else None,
            "tumour_called_glioma": float(np.mean(pred[has] == names.index("glioma")))
            if has.any()
            else None,
            "tumour_free_called_no_tumour": float(np.mean(pred[~has] == no_tumor))
            if (~has).any()
            else None,
        }
    return out


def gradcam_shares(predictor, val, names) -> tuple[dict, list]:
    """Grad-CAM heat inside the brain and (Figshare) inside the tumour, fold 4."""
    from neuroseg.data import load_figshare
    from neuroseg.inference import grad_cam

    figs = load_figshare(DATA / "figshare-cheng", folds=[4])
    masks = {r.source: r for r in figs}
    rng = np.random.default_rng(0)
    picks = []
    for k in range(len(names)):
        idx = np.flatnonzero(val.labels == k)
        picks += rng.choice(idx, size=min(40, len(idx)), replace=False).tolist()
    brain, tumour_ratio, examples = [], [], []
    for i in picks:
        r = val[int(i)]
        x = predictor.preprocess(r.load_image())[None]
        cam = grad_cam(predictor.model, x)[0]
        total = cam.sum() + 1e-9
        fg = x[0, ..., 0] > 0.05
        brain.append(float(cam[fg].sum() / total))
        if r.source in masks:
            # the tumour mask through the same crop and resize as the image
            m = masks[r.source].load_mask().astype("float32")
            t, left, b, rr = predictor.prepare(r.load_image()).box  # the crop it made
            m = m[t:b, left:rr]
            import cv2

            m = cv2.resize(m, cam.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
            if m.any():
                tumour_ratio.append(float((cam[m].sum() / total) / m.mean()))
        if len(examples) < 2 * len(names) and sum(e[2] == r.label for e in examples) < 2:
            examples.append((x[0, ..., 0], cam, int(r.label)))
    return {
        "n": len(picks),
        "brain_share_mean": float(np.mean(brain)),
        "tumour_enrichment_median": float(np.median(tumour_ratio)) if tumour_ratio else None,
        "n_tumour": len(tumour_ratio),
    }, examples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--figure", type=Path, default=None)
    ap.add_argument("--probe-variants", action="store_true", help="also probe other preprocessing")
    args = ap.parse_args()

    from neuroseg.data import load_four_class, load_four_class_combined
    from neuroseg.inference import Predictor
    from neuroseg.models import load_model

    data = load_four_class(DATA / "figshare-cheng", DATA / "br35h-no-tumor", no_tumor_folds=4)
    names = list(data.class_names)
    is_br = np.array([r.meta["dataset"] != "figshare" for r in data], float)
    train = np.array([g != "fold-4" for g in data.groups])
    images = [r.load_image() for r in data]
    results, figures = {}, {}
    if args.probe_variants:
        results["_probe_variants"] = probe_variants(images, is_br, train)
    for spec in args.model:
        name, _, path = spec.partition("=")
        run_config = Path(path).parent / "experiment.toml"  # the run's own config
        crop, split, held_out = "none", "four-class", True
        if run_config.is_file():
            from neuroseg.train.experiment import load_experiment

            experiment = load_experiment(run_config)
            crop = experiment.pipeline_kwargs()["crop"] or "none"
            split = experiment.data["format"]
            # a final model trained on every fold (val_groups = []) has no fold 4 left
            held_out = experiment.data_config.has_validation
        predictor = Predictor(load_model(path, compile=False), crop=crop)
        x = preprocess_all(predictor, images)
        f = features(x)
        probe = logistic_probe(f[train], is_br[train], f[~train], is_br[~train])
        acc = None  # a model trained on every fold has no fold 4 to score
        if held_out and split == "four-class-combined":  # its own fold 4: other Br35H images
            own = load_four_class_combined(
                DATA / "figshare-cheng", DATA / "kaggle4-training", DATA / "br35h-no-tumor"
            ).filter(lambda r: r.fold == 4)
            probs = predictor.model.predict(
                preprocess_all(predictor, [r.load_image() for r in own]), batch_size=64, verbose=0
            )
            acc = float(np.mean(probs.argmax(1) == own.labels))
        elif held_out:
            probs = predictor.model.predict(x[~train], batch_size=64, verbose=0)
            acc = float(np.mean(probs.argmax(1) == data.labels[~train]))
        val = data[np.flatnonzero(~train)]
        cam, examples = gradcam_shares(predictor, val, names)
        results[name] = {
            "crop": crop,
            "split": split,
            "fold4_accuracy": acc,  # None: fold 4 is part of its training data
            "source_probe": probe,
            "other_sources": other_sources(predictor, names),
            "gradcam": cam,
        }
        figures[name] = examples
        print(name, json.dumps(results[name], indent=1))
    if args.json:  # merged with an earlier run's models (one model per run is fine)
        old = json.loads(args.json.read_text()) if args.json.is_file() else {}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**old, **results}, indent=2) + "\n")
    if args.figure:  # the figure shows the models of this run
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = list(figures)
        cols = max(len(v) for v in figures.values())
        fig, axes = plt.subplots(len(rows), cols, figsize=(1.6 * cols, 1.8 * len(rows)))
        axes = np.atleast_2d(axes)
        for i, name in enumerate(rows):
            for j in range(cols):
                ax = axes[i, j]
                ax.axis("off")
                if j < len(figures[name]):
                    img, cam, label = figures[name][j]
                    ax.imshow(img, cmap="gray")
                    ax.imshow(cam, cmap="jet", alpha=0.4)
                    ax.set_title(f"{name}: {names[label]}", fontsize=6)
        fig.tight_layout()
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.figure, dpi=110)


if __name__ == "__main__":
    main()

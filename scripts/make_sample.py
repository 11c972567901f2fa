"""Rebuild the bundled sample in src/neuroseg/data/_sample from ../shared/data.

Deterministic: the same inputs give byte-identical PNGs and metadata.

    python scripts/make_sample.py [--data ../shared/data] [--out src/neuroseg/data/_sample]

Needs the ``nifti`` extra (nibabel) for the TCIA volumes.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np

PER_CLASS_PER_FOLD = 3  # 3 slices x 4 folds = 12 per tumour class
FOLDS = (1, 2, 3, 4)
TCIA_PATIENTS = ("01", "02", "03", "04", "05", "06")
TCIA_PER_PATIENT = 2


def pick_figshare(root: Path) -> list[dict[str, str]]:
    with (root / "metadata.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    picked = []
    for name in ("glioma", "meningioma", "pituitary"):
        for fold in FOLDS:
            idx = sorted(
                int(r["index"])
                for r in rows
                if r["label_name"] == name and int(r["cv_fold"]) == fold
            )
            # evenly spaced through the fold: consecutive indices are often one patient
            for j in range(PER_CLASS_PER_FOLD):
                k = idx[round((j + 0.5) * len(idx) / PER_CLASS_PER_FOLD)]
                picked.append({"index": str(k), "class_name": name, "fold": str(fold)})
    return picked


def window_volume(vol: np.ndarray) -> np.ndarray:
    """Window a volume to 8 bits between the 0.5th and 99.5th percentile of its non-zero voxels."""
    nz = vol[vol > 0]
    lo, hi = np.percentile(nz, [0.5, 99.5])
    out = np.clip((vol - lo) / (hi - lo), 0.0, 1.0) * 255.0
    return np.rint(out).astype(np.uint8)


def axial_lps_to_radiological(slice_ij: np.ndarray) -> np.ndarray:
    """LPS volume slice [i, j] -> image rows anterior->posterior, cols patient right->left."""
    return np.ascontiguousarray(slice_ij.T)


def pick_tcia(root: Path) -> list[tuple[dict[str, str], np.ndarray]]:
    out = []
    for pid in TCIA_PATIENTS:
        img = nib.load(root / pid / "Pre_Scan_T1.nii.gz")
        if nib.aff2axcodes(img.affine) != ("L", "P", "S"):
            raise SystemExit(f"{pid}: expected LPS orientation, got {nib.aff2axcodes(img.affine)}")
        vol = np.asarray(img.dataobj, dtype=np.float64)
        mask = np.asarray(nib.load(root / pid / "Pre_Mask.nii.gz").dataobj)
        win = window_volume(vol)
        empty = [k for k in range(vol.shape[2]) if not mask[..., k].any()]
        # nearest the volume's centre first (brain in view, not the skull base); ties by number
        centre = vol.shape[2] // 2
        empty.sort(key=lambda k: (abs(k - centre), k))
        spacing = float(img.header.get_zooms()[0])
        for k in sorted(empty[:TCIA_PER_PATIENT]):
            meta = {
                "patient": pid,
                "slice": str(k),
                "spacing": f"{spacing:g}",
            }
            out.append((meta, axial_lps_to_radiological(win[..., k])))
    return out


def main() -> None:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=here.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=here / "src" / "neuroseg" / "data" / "_sample")
    args = ap.parse_args()
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    (args.out / "masks").mkdir(parents=True, exist_ok=True)
    rows = []
    fig = args.data / "figshare-cheng"
    for n, p in enumerate(pick_figshare(fig)):
        sid = f"fs{n:02d}"
        image = cv2.imread(str(fig / "images" / f"{p['index']}.png"), cv2.IMREAD_UNCHANGED)
        mask = cv2.imread(str(fig / "masks" / f"{p['index']}.png"), cv2.IMREAD_UNCHANGED)
        assert image.shape == (256, 256) and mask.shape == (256, 256)
        cv2.imwrite(
            str(args.out / "images" / f"{sid}.png"), image, [cv2.IMWRITE_PNG_COMPRESSION, 9]
        )
        cv2.imwrite(str(args.out / "masks" / f"{sid}.png"), mask, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        rows.append(
            {
                "id": sid,
                "class_name": p["class_name"],
                "patient_id": "",
                "fold": p["fold"],
                "dataset": "figshare-cheng",
                "source": f"images/{p['index']}.png",
                "spacing_mm": "",
            }
        )
    tcia = args.data / "tcia-brain-tumor-progression"
    for n, (meta, image) in enumerate(pick_tcia(tcia)):
        sid = f"tc{n:02d}"
        cv2.imwrite(
            str(args.out / "images" / f"{sid}.png"), image, [cv2.IMWRITE_PNG_COMPRESSION, 9]
        )
        cv2.imwrite(
            str(args.out / "masks" / f"{sid}.png"),
            np.zeros_like(image),
            [cv2.IMWRITE_PNG_COMPRESSION, 9],
        )
        rows.append(
            {
                "id": sid,
                "class_name": "no_tumor",
                "patient_id": f"tcia-{meta['patient']}",
                "fold": "",
                "dataset": "tcia-brain-tumor-progression",
                "source": f"{meta['patient']}/Pre_Scan_T1.nii.gz#z={meta['slice']}",
                "spacing_mm": meta["spacing"],
            }
        )
    with (args.out / "metadata.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} slices to {args.out}")


if __name__ == "__main__":
    main()

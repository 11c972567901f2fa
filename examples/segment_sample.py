"""Train a ResUNet on the bundled sample with a patient-wise split, and inspect the results.

    python examples/segment_sample.py --epochs 40 --out example-run

Shows the layered API: data -> models -> train -> metrics -> overlays.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from neuroseg.data import (
    Compose,
    RandomFlip,
    RandomRotate90,
    check_leakage,
    load_sample,
    train_test_split,
)
from neuroseg.inference import predict_masks, save_overlay
from neuroseg.metrics import dice, iou, precision, recall
from neuroseg.models import create_model
from neuroseg.train import TrainConfig, fit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--out", type=Path, default=Path("example-run"))
    args = ap.parse_args()

    # 1. data: hold out two groups of patients, and prove nothing leaks
    train, test = train_test_split(load_sample(), test_groups=["fold-3", "tcia-02"])
    assert check_leakage(train, test).clean
    augment = Compose([RandomFlip(), RandomRotate90()])
    train_ds = train.to_tf_dataset(
        image_size=128, batch_size=4, shuffle=True, cache=True, augment=augment
    )
    test_ds = test.to_tf_dataset(image_size=128, batch_size=len(test))

    # 2. model and 3. training (writes args.out / "run")
    model = create_model("resunet-fast-half", input_shape=(128, 128, 1))
    fit(
        model,
        train_ds,
        config=TrainConfig(epochs=args.epochs, schedule="cosine"),
        out=args.out / "run",
        verbose=2,
    )

    # 4. metrics, with the aggregation spelled out: per-image mean, pooled pixels, per patient
    x, y = next(iter(test_ds))
    masks, _ = predict_masks(model, x.numpy())
    truth = y.numpy()[..., 0]
    groups = test.groups
    for name, f in [("Dice", dice), ("IoU", iou), ("Precision", precision), ("Recall", recall)]:
        per_image = f(truth, masks)
        pooled = f(truth, masks, reduction="pooled")
        per_patient = f(truth, masks, reduction="per_patient", groups=groups)
        print(f"{name:<10} image {per_image:.3f}  pooled {pooled:.3f}  patient {per_patient:.3f}")

    # 5. pictures: truth in green, prediction in red
    for record, image, t, p in zip(test, x.numpy(), truth, masks):
        save_overlay(args.out / "overlays" / f"{record.meta['id']}.png", image, t, p, scale=2)
    found = int(np.sum(masks.any(axis=(1, 2))))
    print(f"overlays in {args.out / 'overlays'}; {found} slice(s) with a predicted tumour")


if __name__ == "__main__":
    main()

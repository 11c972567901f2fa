from __future__ import annotations

import csv
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest


@pytest.fixture(scope="session")
def small_seg_model():
    from neuroseg.models import create_model

    keras.utils.set_random_seed(0)
    return create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8)


def make_classifier(num_classes: int = 4, size: int = 64, channels: int = 1) -> keras.Model:
    """A small CNN classifier with named layers (class probabilities out)."""
    inp = keras.Input((size, size, channels), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(num_classes, activation="softmax", name="probs")(x)
    return keras.Model(inp, out, name="tiny_classifier")


def make_multitask(num_classes: int = 4, size: int = 64) -> keras.Model:
    """A small multi-task model with outputs named 'mask' and 'label'."""
    inp = keras.Input((size, size, 1), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    mask = keras.layers.Conv2D(1, 1, activation="sigmoid", name="mask")(x)
    g = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    label = keras.layers.Dense(num_classes, activation="softmax", name="label")(g)
    return keras.Model(inp, {"mask": mask, "label": label}, name="tiny_multitask")


def make_figshare_subset(figshare_root: Path, dest: Path, indices: list[int]) -> Path:
    """Copy a few real Figshare slices into a folder of the Figshare layout."""
    (dest / "images").mkdir(parents=True, exist_ok=True)
    (dest / "masks").mkdir(parents=True, exist_ok=True)
    with (figshare_root / "metadata.csv").open(newline="") as fh:
        rows = {int(r["index"]): r for r in csv.DictReader(fh)}
    with (dest / "metadata.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["index", "label", "label_name", "cv_fold"])
        w.writeheader()
        for i in indices:
            shutil.copy(figshare_root / "images" / f"{i}.png", dest / "images" / f"{i}.png")
            shutil.copy(figshare_root / "masks" / f"{i}.png", dest / "masks" / f"{i}.png")
            r = rows[i]
            w.writerow({k: r[k] for k in ("index", "label", "label_name", "cv_fold")})
    return dest


def write_figshare_mat(path: Path, image: np.ndarray, mask: np.ndarray, label: int, pid: str):
    """Write a MATLAB v7.3 file in Cheng et al.'s layout (column-major -> transposed)."""
    import h5py

    with h5py.File(path, "w") as fh:
        cj = fh.create_group("cjdata")
        cj.create_dataset("image", data=image.astype(np.int16).T)
        cj.create_dataset("tumorMask", data=mask.astype(np.uint8).T)
        cj.create_dataset("tumorBorder", data=np.zeros((1, 4)))
        cj.create_dataset("label", data=np.array([[float(label)]]))
        cj.create_dataset("PID", data=np.array([[ord(c)] for c in pid], dtype=np.uint16))
    return path

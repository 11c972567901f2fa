"""Train the model zoo and its cross-validation folds on the device machine (Keras on JAX).

The device machine has JAX but no TensorFlow, so this uses only ``neuroseg.models`` and
``neuroseg.metrics`` (``keras.ops``) and NumPy/OpenCV data from
``scripts/pack_device_data.py``. One process per job (a fold or the all-data model), all
started at once on the one GPU. Every job of a recipe runs the recipe's fixed number of
epochs (cosine schedule); ``--budget`` is only a safety stop, and a job it stops is
marked ``truncated``. Run one wave (``--waves seg``) per call: see ``WAVES`` for what was
measured. The last epoch's weights are kept (no checkpoint selection on the validation
fold).

Outputs under ``--out``: per job a ``history.json``; per fold job ``val.npz`` (the
validation fold's predictions at the training resolution, plain and left-right flip TTA,
with the item indices); per all-data job ``model.keras``. ``summary.json`` lists every
job. Scoring happens on the workstation (``scripts/score_device_cv.py``): predictions are
pasted back into each slice's frame and scored at its own resolution.

    python scripts/train_zoo_device.py launch --data .device/data --out /tmp/zoo --waves seg
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np


def _recipe(data: str, task: str, model: dict[str, Any], epochs: int, **extra: Any) -> dict:
    folds = [1, 2, 3, 4, 5] if data == "lgg" else [1, 2, 3, 4]
    batch = 32 if task == "cls" else 16
    return {"data": data, "task": task, "model": model, "epochs": epochs, "lr": 1e-3,
            "batch": batch, "folds": folds, **extra}  # fmt: skip


SMALL = {"depth": 3, "base_filters": 16}
MEDIUM = {"depth": 4, "base_filters": 16}
#: the preset resunet-fast-deep: MEDIUM's levels behind a strided stem with the refinement at
#: half resolution, a third of MEDIUM's FLOPs (resunet-figshare's architecture since 12-03)
FAST_DEEP = {"depth": 4, "base_filters": 16, "stem_stride": 2, "refine": "half"}
RECIPES: dict[str, dict[str, Any]] = {
    "fig-small": _recipe("figshare", "seg", SMALL, 45),
    "fig-medium": _recipe("figshare", "seg", MEDIUM, 40),
    "fig-fast-deep": _recipe("figshare", "seg", FAST_DEEP, 60),
    "lgg-small": _recipe("lgg", "seg", SMALL, 120, channel_drop=0.2),
    # more whole-sequence dropout: resunet-lgg (0.2) falls from 0.87 to 0.59 per-patient
    # Dice with FLAIR in every channel (scripts/missing_sequence_study.py)
    "lgg-medium": _recipe("lgg", "seg", MEDIUM, 100, channel_drop=0.4),
    "cls-cnn": _recipe("cls", "cls", {"dropout": 0.1}, 40, augment="light"),
    # stronger from-scratch classifiers for the 4-class target (cls-cnn: 0.85 in CV)
    "cls-wide": _recipe(
        "cls", "cls", {"dropout": 0.2, "filters": (48, 96, 192, 384)}, 60, augment="light"
    ),
    "cls-effb0": _recipe(
        "cls", "cls", {"backbone": "efficientnetb0", "dropout": 0.2}, 40, augment="light"
    ),
    "mt-small": _recipe("figshare", "mt", SMALL, 45),
}
#: Recipes that fit one device call together (<= 11 processes, ~6 min each): measured
#: 2026-11-30 on an H200, 11 processes at once: ~90 s of compilation, then about 400
#: images/s per process at 160x160 (4.5 s per Figshare fold epoch, 1.8 s per LGG one; the
#: all-data jobs a third longer). So 45 Figshare and 120 LGG epochs end near 360 s.
#: 32 processes at once collapsed to ~30 images/s per process: never start more.
#: Second H200 run (2026-11-30): 11 jobs of the seg wave at ~250 images/s each (2,750 in
#: all) against ~1,000-1,300 each with 2 jobs (2,350 in all): adding jobs barely adds
#: throughput. The shared limit (augmentation on the cores, or the GPU time-slicing many
#: small batch-16 steps) was not measured. Next lease: ``--batch-scale 4`` (fewer, larger
#: steps), ``--until-deadline`` (every job anneals by the deadline, whatever the speed),
#: and log ``nvidia-smi`` and the load beside the jobs.
WAVES = {
    "seg": ["fig-small", "lgg-small"],
    "cls": ["cls-cnn", "mt-small"],
    "medium": ["fig-medium", "lgg-medium"],
    # resunet-figshare's architecture, cross-validated (4 folds) with an all-data model
    "fast": ["fig-fast-deep"],
    "cls2": ["cls-wide", "cls-effb0"],
    # every shipped model's recipe; with --parts all (4 jobs) one call trains them all
    "shipped": ["fig-fast-deep", "lgg-small", "cls-cnn", "mt-small"],
}
WARMUP = 2
RESERVE_S = 25.0  # after the deadline: predictions and saving


# ---------------------------------------------------------------- data


def _decode(path: Path) -> dict[str, np.ndarray]:
    z = np.load(path)
    shape = tuple(int(s) for s in z["shape"])
    data, offsets = z["webp"], z["offsets"]
    n, _, w, c = shape
    images = np.empty(shape, np.uint8)
    for i in range(n):
        for ch in range(c):
            k = i * c + ch
            buf = data[offsets[k] : offsets[k + 1]]
            images[i, ..., ch] = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    out = {k: z[k] for k in z.files if k not in ("webp", "offsets", "shape")}
    out["images"] = images
    if "masks" in out:
        out["masks"] = np.unpackbits(out["masks"], axis=-1, count=w).astype(np.uint8)
    return out


def unpack(data_dir: Path, cache: Path, cls_size: int) -> None:
    """Decode the packed sets once into ``.npy`` files the jobs memory-map.

    Only the sets carried are decoded, so a call can carry just what its wave trains on
    (the tree and the whole pack exceed one call's 64 MiB): ``figshare.npz`` (Figshare
    segmentation and multi-task), ``lgg.npz``, and ``cls_extra.npz`` with
    ``cls_figshare.npz`` (the 4-class set; a pack from before 2026-12-02 keeps no Figshare
    images there and takes them from ``figshare.npz``).
    """
    cache.mkdir(parents=True, exist_ok=True)
    for stale in cache.glob("*.npy"):  # a set not carried this time must not linger
        stale.unlink()
    fig = _decode(data_dir / "figshare.npz") if (data_dir / "figshare.npz").exists() else None
    for k, v in (fig or {}).items():
        np.save(cache / f"figshare_{k}.npy", v)
    if (data_dir / "lgg.npz").exists():
        lgg = _decode(data_dir / "lgg.npz")
        for k, v in lgg.items():
            np.save(cache / f"lgg_{k}.npy", v)
    if not (data_dir / "cls_extra.npz").exists():
        return
    extra = _decode(data_dir / "cls_extra.npz")
    if "webp" in np.load(data_dir / "cls_figshare.npz").files:
        cf = _decode(data_dir / "cls_figshare.npz")
        small, fig_labels, fig_index = cf["images"], cf["labels"], cf["index"]
        fig_folds = cf["folds"]
    else:  # an older pack: the 160x160 segmentation images, resized
        if fig is None:
            raise SystemExit("this pack's cls_figshare.npz needs figshare.npz: carry it")
        cf = dict(np.load(data_dir / "cls_figshare.npz"))
        pos = {s: i for i, s in enumerate(fig["index"].tolist())}
        rows = [(pos[s], j) for j, s in enumerate(cf["index"].tolist()) if s in pos]
        fi = np.array([r[0] for r in rows], int)
        cj = np.array([r[1] for r in rows], int)
        small = np.stack(
            [
                cv2.resize(im[..., 0], (cls_size, cls_size), interpolation=cv2.INTER_AREA)
                for im in fig["images"][fi]
            ]
        )[..., None]
        fig_labels, fig_index, fig_folds = fig["labels"][fi], fig["index"][fi], cf["folds"][cj]
    np.save(cache / "cls_images.npy", np.concatenate([small, extra["images"]]))
    np.save(
        cache / "cls_labels.npy",
        np.concatenate([fig_labels, extra["labels"]]).astype(np.int64),
    )
    np.save(cache / "cls_folds.npy", np.concatenate([fig_folds, extra["folds"]]))
    n_fig = len(small)
    np.save(
        cache / "cls_origin.npy", np.concatenate([np.array(["figshare"] * n_fig), extra["origin"]])
    )
    np.save(cache / "cls_index.npy", np.concatenate([fig_index, extra["index"]]))


def load_set(cache: Path, name: str) -> dict[str, np.ndarray]:
    prefix = {"figshare": "figshare_", "lgg": "lgg_", "cls": "cls_"}[name]
    out = {
        p.name[len(prefix) : -4]: np.load(p, mmap_mode="r") for p in cache.glob(f"{prefix}*.npy")
    }
    if not out:
        packed = {"figshare": "figshare.npz", "lgg": "lgg.npz", "cls": "cls_extra.npz"}[name]
        raise SystemExit(f"{name}: no {packed} in the data folder; carry it for this recipe")
    return out


# ---------------------------------------------------------------- augmentation


def augment(
    x: np.ndarray,
    m: np.ndarray | None,
    rng: np.random.Generator,
    *,
    channel_drop: float = 0.0,
    light: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """One float image (and mask).

    Full: flips, quarter turns, affine (p=0.5), gamma and contrast (p=0.3). Light (the
    classifier's config): left-right flip, affine (p=0.3), gamma and contrast (p=0.3).
    """
    if rng.random() < 0.5:
        x = x[:, ::-1]
        m = None if m is None else m[:, ::-1]
    if not light and rng.random() < 0.5:
        x = x[::-1]
        m = None if m is None else m[::-1]
    k = 0 if light else int(rng.integers(4))
    if k:
        x = np.rot90(x, k)
        m = None if m is None else np.rot90(m, k)
    x = np.ascontiguousarray(x)
    m = None if m is None else np.ascontiguousarray(m)
    h, w = x.shape[:2]
    if rng.random() < (0.3 if light else 0.5):
        angle = rng.uniform(-15, 15)
        scale = rng.uniform(0.9, 1.1)
        a = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        a[:, 2] += rng.uniform(-0.06, 0.06, 2) * (w, h)
        x = cv2.warpAffine(x, a, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        if x.ndim == 2:
            x = x[..., None]
        if m is not None:
            m = cv2.warpAffine(
                m, a, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT
            )
    if rng.random() < 0.3:
        x = np.power(np.clip(x, 0, 1), rng.uniform(0.7, 1.5))
    if rng.random() < 0.3:
        mean = x.mean()
        x = np.clip((x - mean) * rng.uniform(0.75, 1.25) + mean, 0, 1)
    if channel_drop and x.shape[-1] == 3 and rng.random() < channel_drop:
        # a missing sequence: LGG kaggle_3m repeats FLAIR (channel 1) in its place
        x = x.copy()
        which = int(rng.integers(3))
        if which in (0, 2):
            x[..., 0] = x[..., 1]
        if which in (1, 2):
            x[..., 2] = x[..., 1]
    return x.astype(np.float32), m


# ---------------------------------------------------------------- job


def _quantize(prob: np.ndarray) -> np.ndarray:
    """Probabilities as uint8 (x255); below 0.03 stored as 0, which compresses well."""
    q = np.round(prob * 255).astype(np.uint8)
    q[q < 8] = 0
    return q


def build_model(recipe_name: str, shape: tuple[int, int, int]) -> Any:
    """The recipe's model, uncompiled."""
    from neuroseg.models import MultiTaskResUNet, ResUNet, build_classifier

    recipe = RECIPES[recipe_name]
    spec, task = recipe["model"], recipe["task"]
    name = recipe_name.replace("-", "_")
    if task == "seg":
        return ResUNet(input_shape=shape, **spec, name=name)
    if task == "cls":
        spec = dict(spec)
        return build_classifier(
            spec.pop("backbone", "cnn"), num_classes=4, input_shape=shape, **spec
        )
    return MultiTaskResUNet(
        input_shape=shape, num_classes=4, consistency_weight=0.1, **spec, name=name
    )


def run_job(args: argparse.Namespace) -> None:
    import keras

    from neuroseg.metrics import DiceBCELoss

    recipe_name, part = args.name.split("/")
    recipe = RECIPES[recipe_name]
    out = args.out / recipe_name / part
    out.mkdir(parents=True, exist_ok=True)
    val_fold = None if part == "all" else int(part.removeprefix("fold"))
    seed = 1000 + (val_fold or 0)
    keras.utils.set_random_seed(seed)
    data = load_set(args.cache, recipe["data"])
    images, folds = data["images"], np.asarray(data["folds"])
    task = recipe["task"]
    train_idx = np.flatnonzero(folds != val_fold) if val_fold else np.arange(len(folds))
    val_idx = np.flatnonzero(folds == val_fold) if val_fold else np.array([], int)
    if args.limit_steps:
        train_idx = train_idx[: args.limit_steps * recipe["batch"]]
    h, w, c = images.shape[1:]
    labels = np.asarray(data["labels"]).astype(np.int64) if "labels" in data else None
    masks = data.get("masks")
    batch = int(recipe["batch"] * args.batch_scale)
    base_lr = recipe["lr"] * math.sqrt(args.batch_scale)  # square-root scaling for Adam
    channel_drop = recipe.get("channel_drop", 0.0)
    light = recipe.get("augment") == "light"

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__(workers=4, use_multiprocessing=False, max_queue_size=16)
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(train_idx)

        def __len__(self) -> int:
            return len(train_idx) // batch

        def on_epoch_end(self) -> None:
            self.order = self.rng.permutation(train_idx)

        def __getitem__(self, i: int) -> Any:
            rng = np.random.default_rng([seed, i, int(self.order[0])])
            idx = np.sort(self.order[i * batch : (i + 1) * batch])
            xs, ms = [], []
            for j in idx:
                x = images[j].astype(np.float32) / 255.0
                m = None if masks is None or task == "cls" else np.asarray(masks[j])
                x, m = augment(x, m, rng, channel_drop=channel_drop, light=light)
                xs.append(x)
                if m is not None:
                    ms.append(m)
            xb = np.stack(xs)
            if task == "seg":
                return xb, np.stack(ms)[..., None].astype(np.float32)
            if task == "cls":
                return xb, labels[idx]
            return xb, {"mask": np.stack(ms)[..., None].astype(np.float32), "label": labels[idx]}

    model = build_model(recipe_name, (h, w, c))
    if task == "seg":
        loss: Any = DiceBCELoss()
        class_weight = None
    elif task == "cls":
        loss = keras.losses.SparseCategoricalCrossentropy()
        counts = np.bincount(labels[train_idx], minlength=4).astype(float)
        class_weight = {k: float(counts.sum() / (4 * counts[k])) for k in range(4) if counts[k]}
    else:
        loss = {"mask": DiceBCELoss(), "label": keras.losses.SparseCategoricalCrossentropy()}
        class_weight = None
    model.compile(optimizer=keras.optimizers.Adam(base_lr), loss=loss)

    # --until-deadline: as many epochs as fit before the deadline, the cosine decay run
    # over the time left rather than over a planned number of epochs, so every job ends
    # annealed whatever the machine's speed (a stop there is planned, not a truncation)
    timed = args.until_deadline
    epochs = 100_000 if timed else max(1, round(recipe["epochs"] * args.epochs_scale))
    state: dict[str, Any] = {"truncated": False}
    deadline = args.deadline

    def lr_at(epoch: int) -> float:
        """Linear warm-up, then cosine decay to 0 at the last epoch (or the deadline)."""
        if epoch < WARMUP:
            return float(base_lr * (epoch + 1) / (WARMUP + 1))
        if timed:  # the fraction of the time after warm-up that has passed
            start = state.get("warm_end", time.time())
            t = (time.time() - start) / max(1.0, deadline - start)
        else:
            t = (epoch - WARMUP) / max(1, epochs - WARMUP)
        return float(base_lr * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))

    class Schedule(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch == WARMUP:
                state["warm_end"] = time.time()
            state["epoch_start"] = time.time()
            self.model.optimizer.learning_rate.assign(lr_at(epoch))

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            now = time.time()
            print(f"epoch {epoch} ends at {now - t_start:.1f} s", flush=True)
            if timed and epoch >= WARMUP and now + 1.2 * (now - state["epoch_start"]) > deadline:
                self.model.stop_training = True  # the next epoch would end after the deadline
            elif now > deadline and epoch + 1 < epochs:
                state["truncated"] = True  # a safety stop, reported; plan epochs to avoid it
                self.model.stop_training = True

    t_start = time.time()
    hist = model.fit(
        Batches(), epochs=epochs, verbose=0, callbacks=[Schedule()], class_weight=class_weight
    )
    train_s = time.time() - t_start
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    record: dict[str, Any] = {
        "job": args.name,
        "recipe": recipe,
        "epochs_run": len(history.get("loss", [])),
        "epochs_planned": "until the deadline" if timed else epochs,
        "batch": batch,
        "lr": base_lr,
        "truncated": state["truncated"],
        "train_seconds": round(train_s, 1),
        "n_train": len(train_idx),
        "n_val": len(val_idx),
        "images_per_s": round(
            len(history.get("loss", [])) * (len(train_idx) // batch) * batch / train_s, 1
        ),
        "history": history,
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
    }
    if len(val_idx):
        x = np.asarray(images[val_idx], np.float32) / 255.0
        p = model.predict(x, batch_size=64, verbose=0)
        pf = model.predict(x[:, :, ::-1], batch_size=64, verbose=0)
        arrays: dict[str, np.ndarray] = {"index": val_idx}
        if task in ("seg", "mt"):
            pm, pfm = (p["mask"], pf["mask"]) if task == "mt" else (p, pf)
            arrays["prob"] = _quantize(np.asarray(pm)[..., 0])
            tta = (np.asarray(pm) + np.asarray(pfm)[:, :, ::-1]) / 2
            arrays["prob_tta"] = _quantize(tta[..., 0])
        if task in ("cls", "mt"):
            pl, pfl = (p["label"], pf["label"]) if task == "mt" else (p, pf)
            arrays["class_prob"] = np.asarray(pl, np.float32)
            arrays["class_prob_tta"] = (
                np.asarray(pl, np.float32) + np.asarray(pfl, np.float32)
            ) / 2
        np.savez_compressed(out / "val.npz", **arrays)
    else:
        # an uncompiled copy: no optimizer state and no compile config in the file
        bare = build_model(recipe_name, (h, w, c))
        bare.set_weights(model.get_weights())
        bare.save(out / "model.keras")
    (out / "history.json").write_text(json.dumps(record, indent=1))
    print(
        f"{args.name}: {record['epochs_run']} epochs in {train_s:.0f} s, "
        f"{record['images_per_s']} img/s",
        flush=True,
    )


# ---------------------------------------------------------------- launcher


def launch(args: argparse.Namespace) -> None:
    t0 = time.time()
    cache = args.cache
    pack = json.loads((args.data / "pack.json").read_text())
    unpack(args.data, cache, pack["cls_size"])
    print(f"unpacked in {time.time() - t0:.0f} s", flush=True)
    deadline = t0 + args.budget - RESERVE_S
    names = []
    wanted = set(args.recipes or []) | {r for w in args.waves or [] for r in WAVES[w]}
    for recipe_name, recipe in RECIPES.items():
        if wanted and recipe_name not in wanted:
            continue
        parts = [f"fold{f}" for f in recipe["folds"]] + ["all"]
        names += [f"{recipe_name}/{p}" for p in parts if not args.parts or p in args.parts]
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    logs = args.out / "logs"
    logs.mkdir(exist_ok=True)
    procs = {}
    for name in names:
        cmd = [
            sys.executable,
            __file__,
            "job",
            "--name",
            name,
            "--cache",
            str(cache),
            "--out",
            str(args.out),
            "--deadline",
            str(deadline),
            "--epochs-scale",
            str(args.epochs_scale),
            "--limit-steps",
            str(args.limit_steps),
            "--batch-scale",
            str(args.batch_scale),
            *(["--until-deadline"] if args.until_deadline else []),
        ]
        log = open(logs / (name.replace("/", "_") + ".log"), "w")  # noqa: SIM115
        procs[name] = (subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log)
    hard = t0 + args.budget + 20
    while any(p.poll() is None for p, _ in procs.values()):
        if time.time() > hard:
            for p, _ in procs.values():
                if p.poll() is None:
                    p.kill()
            break
        time.sleep(2)
    summary = {}
    for name, (p, log) in procs.items():
        log.close()
        hist = args.out / name / "history.json"
        summary[name] = {
            "returncode": p.returncode,
            **(
                {k: v for k, v in json.loads(hist.read_text()).items() if k != "history"}
                if hist.exists()
                else {}
            ),
        }
        if p.returncode != 0:
            print(
                f"FAILED {name} rc={p.returncode}:\n"
                + (logs / (name.replace("/", "_") + ".log")).read_text()[-2000:],
                flush=True,
            )
    summary["_wall_s"] = round(time.time() - t0, 1)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    for name, s in summary.items():
        if name != "_wall_s":
            print(
                name,
                s.get("returncode"),
                s.get("epochs_run"),
                s.get("truncated"),
                s.get("train_seconds"),
                s.get("images_per_s"),
            )
    print(f"total {time.time() - t0:.0f} s")


def _job_options(parser: argparse.ArgumentParser) -> None:
    """The training options the launcher takes and hands on to each job."""
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--limit-steps", type=int, default=0)
    parser.add_argument("--batch-scale", type=float, default=1.0, help="batch x K, lr x sqrt(K)")
    parser.add_argument(
        "--until-deadline",
        action="store_true",
        help="train until the budget's deadline (cosine over the time left), not for epochs",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    la = sub.add_parser("launch")
    la.add_argument("--data", type=Path, required=True)
    la.add_argument("--out", type=Path, required=True)
    la.add_argument("--cache", type=Path, default=Path("/tmp/zoo-cache"))
    la.add_argument("--budget", type=float, default=420)
    _job_options(la)
    la.add_argument("--recipes", nargs="*", default=None)
    la.add_argument("--waves", nargs="*", default=None, choices=sorted(WAVES))
    la.add_argument("--parts", nargs="*", default=None, help="e.g. fold1 all (a dry run)")
    jb = sub.add_parser("job")
    jb.add_argument("--name", required=True)
    jb.add_argument("--cache", type=Path, required=True)
    jb.add_argument("--out", type=Path, required=True)
    jb.add_argument("--deadline", type=float, required=True)
    _job_options(jb)
    args = ap.parse_args()
    launch(args) if args.cmd == "launch" else run_job(args)


if __name__ == "__main__":
    main()

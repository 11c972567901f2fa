"""Benchmark: time to quality on the CPU, neuroseg against MONAI (and segmentation_models).

    python benchmarks/time_to_dice.py [--budget 600] [--slice 60] [--size 128]
        [--contenders resunet-small resunet-fast monai] [--json OUT] [--plot PNG]

Every contender trains on the same real data (Figshare folds 1-3, validated on fold 4,
``--size``² pixels, per-slice min-max, no crop), with the same loss (soft Dice with
smooth 1 + binary cross-entropy), optimiser (Adam, learning rate 1e-3), batch (8) and
augmentation (random left-right flip), for the same wall-clock training budget. Each
contender lives in its own worker process (so its threads and peak memory are its own);
the coordinator runs them in turn, ``--slice`` seconds of training each, until each has
had ``--budget`` seconds, and after every slice scores fold 4 (per-image Dice at 0.5,
empty truth and prediction = 1; evaluation time is not training time).

It records Dice against training seconds (and the mean of the last three turns, steadier
than the last one), the seconds to reach Dice 0.60 and 0.70, training and inference
images/s, forward GFLOPs per image, parameters and peak resident memory, and prints each
figure's ratio against the baseline contender (the first one given) run in the same
process.

Contenders:

- a neuroseg preset name (``resunet-small``, ``resunet-fast``, ...; model options after
  ``@``, e.g. ``resunet-small@stem_stride=2,base_filters=24``; the training option
  ``ema_momentum`` after ``+``, e.g. ``resunet-fast+ema_momentum=0.99``): ``create_model`` +
  ``DiceBCELoss`` + Keras ``fit`` with XLA on ("auto"), as ``neuroseg.train.fit`` compiles;
  inference through ``fuse_for_inference``;
- ``monai``: ``monai.networks.nets.UNet(spatial_dims=2, in_channels=1, out_channels=1,
  channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2), num_res_units=2)`` on CPU PyTorch;
- ``smp-resnet18``: segmentation_models ``Unet("resnet18", encoder_weights=None)``.

The peers are not neuroseg dependencies; install them in a separate environment (CPU-only
PyTorch; see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import cpu_flags, cpu_name

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "figshare-cheng"
BATCH = 8
LR = 1e-3
THRESHOLDS = (0.60, 0.70)


# --------------------------------------------------------------------------- data
def prepare(size: int, cache: Path) -> Path:
    """Figshare folds 1-3 (train) and 4 (val) at ``size``², uint8 images, bit masks."""
    path = cache / f"figshare-{size}.npz"
    if path.is_file():
        return path
    from neuroseg.data import load_figshare

    arrays: dict[str, np.ndarray] = {}
    for part, folds in (("train", [1, 2, 3]), ("val", [4])):
        ds = load_figshare(DATA, folds=folds)
        tfds = ds.to_tf_dataset(
            "segmentation", image_size=size, batch_size=64, shuffle=False, channels=1
        )
        xs, ys = [], []
        for x, y in tfds:
            xs.append(np.clip(np.rint(x.numpy() * 255.0), 0, 255).astype(np.uint8))
            ys.append((y.numpy() > 0.5).astype(np.uint8))
        arrays[f"x_{part}"] = np.concatenate(xs)
        arrays[f"y_{part}"] = np.concatenate(ys)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def dice_per_image(truth: np.ndarray, prob: np.ndarray) -> float:
    """Mean per-image Dice at 0.5; both empty = 1."""
    t = truth.reshape(len(truth), -1).astype(bool)
    p = prob.reshape(len(prob), -1) >= 0.5
    inter = (t & p).sum(1)
    den = t.sum(1) + p.sum(1)
    d = np.where(den > 0, 2.0 * inter / np.maximum(den, 1), 1.0)
    return float(d.mean())


# --------------------------------------------------------------------------- workers
def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare word: refine=half


def _options(text: str) -> dict[str, Any]:
    """``a=1,b=x`` -> ``{"a": 1, "b": "x"}`` (JSON values, or bare words as strings)."""
    pairs = [o.split("=", 1) for o in text.split(",") if o]
    bad = [o for o in pairs if len(o) != 2]
    if bad:
        raise SystemExit(f"options must be name=value, got {text!r}")
    return {k: _value(v) for k, v in pairs}


class KerasContender:
    def __init__(self, name: str, data: dict[str, np.ndarray], seed: int) -> None:
        import keras
        import tensorflow as tf

        from neuroseg.metrics import DiceBCELoss
        from neuroseg.models import count_flops, create_model
        from neuroseg.train import KeepTrainedWeights, make_optimizer

        keras.utils.set_random_seed(seed)
        self.tf, self.keras = tf, keras
        size = data["x_train"].shape[1]
        # e.g. resunet-small@stem_stride=2 (model options), resunet-fast+ema_momentum=0.99
        # (training options: ema_momentum is the one this benchmark knows)
        name, _, training = name.partition("+")
        preset, _, options = name.partition("@")
        kwargs, train_kw = _options(options), _options(training)
        unknown = set(train_kw) - {"ema_momentum"}
        if unknown:
            raise SystemExit(f"{name}: unknown training option(s) {sorted(unknown)}")
        self.model = create_model(preset, input_shape=(size, size, 1), **kwargs)
        self.params = int(self.model.count_params())
        self.gflops = count_flops(self.model) / 1e9
        # as neuroseg.train.fit compiles (a constant rate); with an average, as fit trains
        # with one: each turn is scored on the average, and the next turn continues from
        # the trained weights (see neuroseg.train.averaged_weights)
        optimizer = make_optimizer("adam", LR, ema_momentum=train_kw.get("ema_momentum"))
        self.keep = KeepTrainedWeights()  # does nothing without an average
        self.model.compile(optimizer=optimizer, loss=DiceBCELoss(), jit_compile="auto")
        x = data["x_train"].astype(np.float32) / 255.0
        y = data["y_train"].astype(np.float32)

        def flip(a: Any, b: Any) -> Any:
            do = tf.random.uniform(()) < 0.5
            return (
                tf.cond(do, lambda: tf.reverse(a, [1]), lambda: a),
                tf.cond(do, lambda: tf.reverse(b, [1]), lambda: b),
            )

        self.train = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .repeat()
            .map(flip, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(BATCH, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE)
        )
        self.iterator = iter(self.train)
        self.x_val = data["x_val"].astype(np.float32) / 255.0
        self.y_val = data["y_val"]

    def train_for(self, seconds: float) -> tuple[int, float]:
        keras = self.keras
        model = self.model

        class Stop(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.start = time.perf_counter()
                self.steps = 0

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                self.steps += 1
                if time.perf_counter() - self.start >= seconds:
                    model.stop_training = True

        stop = Stop()
        start = time.perf_counter()
        model.fit(
            self.train,
            steps_per_epoch=10**7,
            epochs=1,
            callbacks=[stop, self.keep],
            verbose=0,
            shuffle=False,
        )
        return stop.steps * BATCH, time.perf_counter() - start

    def predict(self) -> tuple[np.ndarray, float]:
        from neuroseg.models import fuse_for_inference

        fused = fuse_for_inference(self.model)
        fn = self.tf.function(lambda t: fused(t, training=False), jit_compile=False)
        fn(self.tf.constant(self.x_val[:32]))  # trace
        start = time.perf_counter()
        out = [
            fn(self.tf.constant(self.x_val[i : i + 32])).numpy()
            for i in range(0, len(self.x_val), 32)
        ]
        seconds = time.perf_counter() - start
        return np.concatenate(out), len(self.x_val) / seconds


class TorchContender:
    def __init__(self, name: str, data: dict[str, np.ndarray], seed: int) -> None:
        import torch

        torch.manual_seed(seed)
        torch.set_num_threads(os.cpu_count() or 1)
        self.torch = torch
        if name == "monai":
            from monai.networks.nets import UNet

            self.model = UNet(
                spatial_dims=2,
                in_channels=1,
                out_channels=1,
                channels=(16, 32, 64, 128, 256),
                strides=(2, 2, 2, 2),
                num_res_units=2,
            )
        elif name == "smp-resnet18":
            import segmentation_models_pytorch as smp

            self.model = smp.Unet("resnet18", encoder_weights=None, in_channels=1, classes=1)
        else:
            raise SystemExit(f"unknown contender {name!r}")
        self.params = sum(p.numel() for p in self.model.parameters())
        size = data["x_train"].shape[1]
        from torch.utils.flop_counter import FlopCounterMode

        self.model.eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            self.model(torch.zeros(1, 1, size, size))
        self.gflops = counter.get_total_flops() / 1e9
        self.model.train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        to = lambda a: torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 1)))  # noqa: E731
        self.x = to(data["x_train"]).float() / 255.0
        self.y = to(data["y_train"]).float()
        self.x_val = to(data["x_val"]).float() / 255.0
        self.y_val = data["y_val"]
        self.gen = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(len(self.x), generator=self.gen)
        self.pos = 0

    def loss(self, logits: Any, y: Any) -> Any:
        torch = self.torch
        p = torch.sigmoid(logits)
        dims = (1, 2, 3)
        inter, st, sp = (p * y).sum(dims), y.sum(dims), p.sum(dims)
        dice = 1.0 - (2.0 * inter + 1.0) / (st + sp + 1.0)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, y, reduction="none"
        ).mean(dims)
        return (dice + bce).mean()

    def batch(self) -> tuple[Any, Any]:
        torch = self.torch
        if self.pos + BATCH > len(self.order):
            self.order = torch.randperm(len(self.x), generator=self.gen)
            self.pos = 0
        idx = self.order[self.pos : self.pos + BATCH]
        self.pos += BATCH
        x, y = self.x[idx], self.y[idx]
        flip = torch.rand(BATCH, generator=self.gen) < 0.5
        x[flip] = torch.flip(x[flip], dims=[3])
        y[flip] = torch.flip(y[flip], dims=[3])
        return x, y

    def train_for(self, seconds: float) -> tuple[int, float]:
        self.model.train()
        start = time.perf_counter()
        steps = 0
        while time.perf_counter() - start < seconds:
            x, y = self.batch()
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.model(x), y)
            loss.backward()
            self.opt.step()
            steps += 1
        return steps * BATCH, time.perf_counter() - start

    def predict(self) -> tuple[np.ndarray, float]:
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            self.model(self.x_val[:32])
            start = time.perf_counter()
            out = [
                torch.sigmoid(self.model(self.x_val[i : i + 32])).numpy()
                for i in range(0, len(self.x_val), 32)
            ]
            seconds = time.perf_counter() - start
        return np.moveaxis(np.concatenate(out), 1, -1), len(self.x_val) / seconds


def worker(name: str, data_path: str, seed: int, conn: Any) -> None:
    """A contender's process: build, then answer ``train``/``eval``/``stats`` commands."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    data = dict(np.load(data_path))
    torch_names = ("monai", "smp-resnet18")
    contender: Any = (TorchContender if name in torch_names else KerasContender)(name, data, seed)
    conn.send({"params": contender.params, "gflops": contender.gflops})
    while True:
        cmd, arg = conn.recv()
        if cmd == "train":
            images, seconds = contender.train_for(arg)
            conn.send({"images": images, "seconds": seconds})
        elif cmd == "eval":
            prob, ips = contender.predict()
            conn.send({"dice": dice_per_image(contender.y_val, prob), "infer_ips": ips})
        elif cmd == "stats":
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
            conn.send({"peak_rss_mib": rss})
        else:
            conn.send({})
            return


# --------------------------------------------------------------------------- coordinator
def _recv(conn: Any, name: str) -> Any:
    try:
        return conn.recv()
    except EOFError:
        raise SystemExit(f"{name}: its worker process died (its traceback is above)") from None


def first_time(curve: list[dict[str, float]], target: float) -> float | None:
    for point in curve:
        if point["dice"] >= target:
            return point["train_seconds"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--contenders", nargs="+", default=["resunet-small", "resunet-fast", "monai"]
    )
    parser.add_argument("--budget", type=float, default=600.0, help="training seconds each")
    parser.add_argument("--slice", type=float, default=60.0, help="seconds per turn")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", default="/tmp/neuroseg-time-to-dice")
    parser.add_argument("--json", default=None)
    parser.add_argument("--plot", default=None, help="write Dice against time as a PNG")
    args = parser.parse_args()

    data_path = str(prepare(args.size, Path(args.cache)))
    ctx = mp.get_context("spawn")
    procs, conns, info = {}, {}, {}
    for name in args.contenders:
        parent, child = ctx.Pipe()
        p = ctx.Process(target=worker, args=(name, data_path, args.seed, child), daemon=True)
        p.start()
        child.close()  # so that a worker that dies ends recv() with EOFError, not a hang
        procs[name], conns[name] = p, parent
        info[name] = {**_recv(parent, name), "curve": [], "train_images": 0, "train_seconds": 0.0}
        print(
            f"{name}: {info[name]['params']:,} parameters, {info[name]['gflops']:.3f} GFLOPs/image",
            flush=True,
        )
    while any(v["train_seconds"] < args.budget - 1e-6 for v in info.values()):
        for name in args.contenders:
            v = info[name]
            left = args.budget - v["train_seconds"]
            if left <= 1e-6:
                continue
            conns[name].send(("train", min(args.slice, left)))
            r = _recv(conns[name], name)
            v["train_images"] += r["images"]
            v["train_seconds"] += r["seconds"]
            conns[name].send(("eval", None))
            e = _recv(conns[name], name)
            v["curve"].append({"train_seconds": v["train_seconds"], "dice": e["dice"]})
            v["infer_ips"] = e["infer_ips"]
            print(f"  {name:>14}: {v['train_seconds']:6.0f} s  Dice {e['dice']:.3f}", flush=True)
    for name in args.contenders:
        conns[name].send(("stats", None))
        info[name].update(_recv(conns[name], name))
        conns[name].send(("stop", None))
        _recv(conns[name], name)
        procs[name].join(timeout=30)
    base = args.contenders[0]
    rows = []
    for name in args.contenders:
        v = info[name]
        v["train_ips"] = v["train_images"] / v["train_seconds"]
        v["final_dice"] = v["curve"][-1]["dice"]
        v["best_dice"] = max(p["dice"] for p in v["curve"])
        # one turn's Dice moves by about +-0.03; the mean of the last three is steadier
        v["last3_dice"] = float(np.mean([p["dice"] for p in v["curve"][-3:]]))
        for t in THRESHOLDS:
            v[f"seconds_to_{t:.2f}"] = first_time(v["curve"], t)
        rows.append(name)
    header = (
        f"{'contender':>14} {'params':>10} {'GFLOPs':>7} {'train img/s':>11} "
        f"{'infer img/s':>11} {'Dice end':>8} {'last 3':>6} {'t(0.60)':>8} {'t(0.70)':>8} "
        f"{'RSS MiB':>8}"
    )
    print(
        f"\nFigshare folds 1-3 -> fold 4, {args.size}², {args.budget:.0f} s each "
        f"in {args.slice:.0f}-s turns, batch {BATCH}, Adam {LR}"
    )
    print(header)
    fmt_t = lambda s: "-" if s is None else f"{s:.0f}"  # noqa: E731
    for name in rows:
        v = info[name]
        print(
            f"{name:>14} {v['params']:>10,} {v['gflops']:>7.3f} {v['train_ips']:>11.1f} "
            f"{v['infer_ips']:>11.1f} {v['final_dice']:>8.3f} {v['last3_dice']:>6.3f} "
            f"{fmt_t(v['seconds_to_0.60']):>8} {fmt_t(v['seconds_to_0.70']):>8} "
            f"{v['peak_rss_mib']:>8.0f}"
        )
    b = info[base]
    print(f"\nratios against {base} (same run):")
    for name in rows[1:]:
        v = info[name]
        ratio = {
            "train img/s": v["train_ips"] / b["train_ips"],
            "infer img/s": v["infer_ips"] / b["infer_ips"],
            "Dice end": v["final_dice"] / b["final_dice"] if b["final_dice"] else float("nan"),
            "Dice last 3": v["last3_dice"] / b["last3_dice"] if b["last3_dice"] else float("nan"),
        }
        for t in THRESHOLDS:
            key = f"seconds_to_{t:.2f}"
            if v[key] is not None and b[key] is not None:
                ratio[f"t({t:.2f})"] = v[key] / b[key]
        print(f"  {name:>14}: " + ", ".join(f"{k} {r:.2f}x" for k, r in ratio.items()))
        v["ratios_vs_" + base] = ratio
    result = {
        "size": args.size,
        "budget_seconds": args.budget,
        "slice_seconds": args.slice,
        "batch": BATCH,
        "learning_rate": LR,
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_name(),
            "cpu_flags": cpu_flags(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
        },
        "contenders": info,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.plot:
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            sys.exit("--plot needs matplotlib: pip install 'neuroseg[viz]'")
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
        for name in rows:
            curve = info[name]["curve"]
            ax.plot(
                [p["train_seconds"] / 60 for p in curve],
                [p["dice"] for p in curve],
                marker="o",
                label=name,
            )
        for t in THRESHOLDS:
            ax.axhline(t, color="grey", lw=0.6, ls="--")
        ax.set_xlabel("training wall-clock (min, 2-core CPU)")
        ax.set_ylabel("fold-4 per-image Dice")
        ax.set_title(f"Figshare folds 1-3 -> fold 4, {args.size}x{args.size}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot)


if __name__ == "__main__":
    main()

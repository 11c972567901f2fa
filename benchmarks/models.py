"""Benchmark: neuroseg's segmentation presets against a plain Keras ResUNet, on the CPU.

    python benchmarks/models.py [--json OUT] [--presets resunet-small ...] [--sizes 128 256]

For each preset and size: parameters, forward GFLOPs per image, and training and inference
throughput (images/s) of

- the plain baseline: a straightforward Keras functional ResUNet of the same depth and
  filters, written below, trained with ``model.fit`` defaults (``train_on_batch``) and run
  with ``model.predict_on_batch``, batch ``--batch``;
- neuroseg's fast paths: training as the baseline but at ``--train-batch`` (and, with
  ``--jit``, XLA); inference through ``fuse_for_inference`` (batch norm folded into the
  convolutions) and one ``tf.function`` at batch ``--infer-batch``.

It also measures this machine's float32 peak (best GFLOP/s of a 2048² matmul) in the same
run and reports every model's fraction of it. Training FLOPs are counted as 3× forward.
``train_ratio_vs_plain`` compares FLOP throughput (images/s × FLOPs/image), i.e. images/s
at equal FLOPs; for the ResUNet presets the FLOPs are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from machine import cpu_flags, cpu_name

from neuroseg.models import count_flops, create_model, fuse_for_inference, get_spec

PRESETS = [
    "resunet-small",
    "resunet-fast",
    "resunet-fast-half",
    "resunet-base",
    "resunetpp",
    "attention-resunet",
    "multitask-base",
]


# ---------------------------------------------------------------- the plain baseline
def _preact(x: Any, f: int, strides: int) -> Any:
    y = layers.BatchNormalization()(x)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(f, 3, strides=strides, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(f, 3, padding="same", use_bias=False)(y)
    s = x
    if strides > 1 or x.shape[-1] != f:
        # subsample + 1x1 conv == strided 1x1 conv; a strided 1x1 conv with few channels
        # corrupts the heap in TF 2.21's oneDNN backward pass, so the baseline avoids it too
        if strides > 1:
            s = layers.MaxPooling2D(1, strides=strides)(s)
        s = layers.Conv2D(f, 1, use_bias=False)(s)
        s = layers.BatchNormalization()(s)
    return layers.Add()([y, s])


def plain_resunet(
    size: int,
    depth: int,
    base: int,
    stem_stride: int = 1,
    refine_filters: int = 8,
    refine: str = "full",
) -> keras.Model:
    """A textbook Keras ResUNet (Zhang et al. 2018), no neuroseg code.

    With ``stem_stride=2``, the same cheap first stage as ``ResUNet(stem_stride=2)``: a
    strided stem, and after the decoder a bilinear up-sampling, the image as a skip and
    one 3x3 convolution of ``refine_filters``; with ``refine="half"`` that convolution
    works at half resolution on the image folded by a 2x2 stride-2 convolution, and a
    2x2 stride-2 transposed convolution is the head.
    """
    levels = [base * 2**i for i in range(depth + 1)]
    inp = keras.Input((size, size, 1))
    x = layers.Conv2D(levels[0], 3, strides=stem_stride, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(levels[0], 3, padding="same", use_bias=False)(x)
    s = inp if stem_stride == 1 else layers.MaxPooling2D(1, strides=stem_stride)(inp)
    s = layers.BatchNormalization()(layers.Conv2D(levels[0], 1, use_bias=False)(s))
    x = layers.Add()([x, s])
    skips = [x]
    for f in levels[1:-1]:
        x = _preact(x, f, 2)
        skips.append(x)
    x = _preact(x, levels[-1], 2)
    for f, skip in zip(reversed(levels[:-1]), reversed(skips)):
        x = layers.UpSampling2D(2)(x)
        x = layers.Concatenate()([x, skip])
        x = _preact(x, f, 1)
    half = stem_stride == 2 and refine == "half"
    if stem_stride == 2:
        if half:
            image = layers.Conv2D(4, 2, strides=2, use_bias=False)(inp)
        else:
            x, image = layers.UpSampling2D(2, interpolation="bilinear")(x), inp
        x = layers.Concatenate()([x, image])
        x = layers.Conv2D(refine_filters, 3, padding="same", use_bias=False)(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
    if half:
        out = layers.Conv2DTranspose(1, 2, strides=2, activation="sigmoid")(x)
    else:
        out = layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inp, out, name="plain_resunet")


def plain_twin(name: str, size: int) -> keras.Model:
    """The plain ResUNet with the depth, filters and first stage of neuroseg preset ``name``."""
    kw = get_spec(name).kwargs
    stem = {k: kw[k] for k in ("stem_stride", "refine_filters", "refine") if k in kw}
    return plain_resunet(size, kw["depth"], kw["base_filters"], **stem)


# ---------------------------------------------------------------- measurements
def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda a, b: tf.matmul(a, b))
    f(a, b).numpy()
    best = min(_timed(lambda: f(a, b).numpy()) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _targets(model: keras.Model, x: np.ndarray) -> Any:
    mask = (x > 0.5).astype("float32")
    if isinstance(model.output, dict):
        return {"mask": mask, "label": np.arange(len(x)) % 4}
    return mask


def _loss(model: keras.Model) -> Any:
    if isinstance(model.output, dict):
        return {"mask": "binary_crossentropy", "label": "sparse_categorical_crossentropy"}
    return "binary_crossentropy"


def train_step(model: keras.Model, size: int, batch: int, jit: bool) -> Any:
    """Compile ``model`` and return a warmed-up callable running one training step."""
    x = np.random.default_rng(0).random((batch, size, size, 1), dtype=np.float32)
    y = _targets(model, x)
    model.compile(keras.optimizers.Adam(1e-4), _loss(model), jit_compile=jit)
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)
    return lambda: model.train_on_batch(x, y)


def plain_infer_step(model: keras.Model, size: int, batch: int) -> Any:
    x = np.random.default_rng(1).random((batch, size, size, 1), dtype=np.float32)
    model.predict_on_batch(x)
    return lambda: model.predict_on_batch(x)


def fast_infer_step(model: keras.Model, size: int, batch: int, fuse: bool = True) -> Any:
    run = fuse_for_inference(model) if fuse else model
    fn = tf.function(lambda t: run(t, training=False))
    x = tf.constant(np.random.default_rng(1).random((batch, size, size, 1), dtype=np.float32))
    tf.nest.map_structure(np.asarray, fn(x))
    return lambda: tf.nest.map_structure(np.asarray, fn(x))


def interleaved(steps: dict[str, tuple[Any, int]], repeats: int) -> dict[str, float]:
    """Images/s of each ``name: (step, batch)``, best of ``repeats``, timed in turn (ABAB…).

    Interleaving makes the comparison fair when other processes load the machine.
    """
    best = {name: float("inf") for name in steps}
    for _ in range(repeats):
        for name, (step, _) in steps.items():
            best[name] = min(best[name], _timed(step))
    return {name: steps[name][1] / best[name] for name in steps}


def ablation(repeats: int) -> dict[str, Any]:
    """What each lever does for resunet-small at 256² (images/s, interleaved)."""
    size = 256
    model = create_model("resunet-small")
    fl = count_flops(model) / 1e9
    out: dict[str, Any] = {"gflops_per_image": fl}
    out["train_img_s"] = interleaved(
        {
            "fit_b8": (train_step(model, size, 8, False), 8),
            "fit_b16": (train_step(create_model("resunet-small"), size, 16, False), 16),
            "xla_jit_b8": (train_step(create_model("resunet-small"), size, 8, True), 8),
        },
        repeats,
    )
    out["infer_img_s"] = interleaved(
        {
            "predict_on_batch_b8": (plain_infer_step(model, size, 8), 8),
            "tf_function_b8": (fast_infer_step(model, size, 8, fuse=False), 8),
            "tf_function_b32": (fast_infer_step(model, size, 32, fuse=False), 32),
            "fused_tf_function_b32": (fast_infer_step(model, size, 32, fuse=True), 32),
        },
        repeats,
    )
    for k, v in {**out["train_img_s"], **out["infer_img_s"]}.items():
        print(f"ablation resunet-small 256²  {k:24s} {v:6.2f} img/s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--presets", nargs="+", default=PRESETS)
    ap.add_argument("--sizes", nargs="+", type=int, default=[128, 256])
    ap.add_argument("--batch", type=int, default=8, help="baseline batch size")
    ap.add_argument("--train-batch", type=int, default=8, help="neuroseg training batch")
    ap.add_argument("--infer-batch", type=int, default=32, help="neuroseg inference batch")
    ap.add_argument("--steps", type=int, default=3, help="timed steps (best of)")
    ap.add_argument("--jit", action="store_true", help="XLA jit_compile for neuroseg training")
    ap.add_argument("--no-ablation", action="store_true", help="skip the resunet-small study")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    t0 = time.perf_counter()
    peak = matmul_peak()
    print(f"float32 matmul peak: {peak:.1f} GFLOP/s", flush=True)
    results: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu": cpu_name(),
            "cpu_flags": cpu_flags(),
            "platform": platform.platform(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "load_avg_start": os.getloadavg(),
        },
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "matmul_peak_gflops": peak,
        "models": {},
    }
    for name in args.presets:
        for size in args.sizes:
            model = create_model(name, input_shape=(size, size, 1))
            plain = plain_twin(name, size)
            fl, fl_plain = count_flops(model), count_flops(plain)
            train = interleaved(
                {
                    "ns": (train_step(model, size, args.train_batch, args.jit), args.train_batch),
                    "plain": (train_step(plain, size, args.batch, False), args.batch),
                },
                args.steps,
            )
            infer = interleaved(
                {
                    "ns": (fast_infer_step(model, size, args.infer_batch), args.infer_batch),
                    "plain": (plain_infer_step(plain, size, args.batch), args.batch),
                },
                args.steps,
            )
            ns_train, pl_train = train["ns"], train["plain"]
            ns_inf, pl_inf = infer["ns"], infer["plain"]
            r = {
                "params": model.count_params(),
                "gflops_per_image": fl / 1e9,
                "train_img_s": ns_train,
                "infer_img_s": ns_inf,
                "train_fraction_of_peak": ns_train * 3 * fl / 1e9 / peak,
                "infer_fraction_of_peak": ns_inf * fl / 1e9 / peak,
                "plain": {
                    "params": plain.count_params(),
                    "gflops_per_image": fl_plain / 1e9,
                    "train_img_s": pl_train,
                    "infer_img_s": pl_inf,
                    "train_fraction_of_peak": pl_train * 3 * fl_plain / 1e9 / peak,
                    "infer_fraction_of_peak": pl_inf * fl_plain / 1e9 / peak,
                },
                "train_ratio_vs_plain": (ns_train * fl) / (pl_train * fl_plain),
                "infer_ratio_vs_plain": (ns_inf * fl) / (pl_inf * fl_plain),
            }
            results["models"][f"{name}@{size}"] = r
            print(
                f"{name:18s} {size:4d}²  {r['params'] / 1e6:6.2f} M"
                f"  {r['gflops_per_image']:6.2f} GF"
                f" | train {ns_train:6.2f} img/s ({r['train_fraction_of_peak']:5.1%})"
                f" plain {pl_train:6.2f} ({r['plain']['train_fraction_of_peak']:5.1%})"
                f" ratio {r['train_ratio_vs_plain']:.2f}x"
                f" | infer {ns_inf:6.2f} img/s ({r['infer_fraction_of_peak']:5.1%})"
                f" plain {pl_inf:6.2f} ({r['plain']['infer_fraction_of_peak']:5.1%})",
                flush=True,
            )
            keras.backend.clear_session()
    key = "resunet-small@256"
    if key in results["models"] and not args.no_ablation:
        results["ablation_resunet_small_256"] = ablation(args.steps)
        peak = max(peak, matmul_peak())
        results["matmul_peak_gflops"] = peak
        for r in results["models"].values():  # fractions against the best peak seen
            fl = r["gflops_per_image"]
            for d, f in ((r, fl), (r["plain"], r["plain"]["gflops_per_image"])):
                d["train_fraction_of_peak"] = d["train_img_s"] * 3 * f / peak
                d["infer_fraction_of_peak"] = d["infer_img_s"] * f / peak
    if key in results["models"]:
        results["train_ratio_vs_plain"] = results["models"][key]["train_ratio_vs_plain"]
        results["infer_fraction_of_peak"] = results["models"][key]["infer_fraction_of_peak"]
    results["machine"]["load_avg_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - t0
    print(json.dumps({k: v for k, v in results.items() if k != "models"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

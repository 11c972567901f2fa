"""Benchmark: each convolution of a preset, forward plus backward, TensorFlow against PyTorch.

    python benchmarks/conv_layers.py [--preset resunet-fast] [--size 128] [--batch 8]
        [--reps 20] [--json OUT]

A training step of a ResUNet is mostly convolutions (about three quarters of the kernel
time, ``benchmarks/profile_step.py``), and how fast a convolution runs on a CPU depends on
its shape and on the instructions the CPU has: the same model trains at very different
speeds on an AVX-512 and an AVX2 machine. This script builds the preset, records the input
shape of every ``Conv2D`` in it (one forward pass), and times each of those shapes alone:
a convolution, the sum of its output, and the gradients to its input and its filter
(``tf.GradientTape`` in one ``tf.function``), best of ``--reps``. When PyTorch is
installed it times the same shapes with ``torch.nn.functional.conv2d`` and ``backward()``
in the same process (PyTorch's threads set to the CPU count), and prints each layer's
ratio, TensorFlow's time over PyTorch's: above 1, TensorFlow is slower on that shape.

The layers' total is not a step's time (batch normalisation, activations, the optimiser
and the loss come on top), but the share of each layer in it shows where a step's
convolution time goes on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from machine import cpu_flags, cpu_name
from timing import best_time

from neuroseg.models import create_model


def conv_shapes(preset: str, size: int) -> list[dict[str, Any]]:
    """Every ``Conv2D`` of the preset with its input shape, in call order."""
    model = create_model(preset, input_shape=(size, size, 1))
    found: list[dict[str, Any]] = []

    def visit(layer: Any) -> None:
        if isinstance(layer, keras.layers.Conv2D):
            original = layer.call

            def call(x: Any, *args: Any, _layer: Any = layer, _call: Any = original) -> Any:
                k = _layer.kernel.shape
                found.append(
                    {
                        "name": _layer.path,
                        "height": int(x.shape[1]),
                        "width": int(x.shape[2]),
                        "in": int(k[2]),
                        "out": int(k[3]),
                        "kernel": int(k[0]),
                        "stride": int(_layer.strides[0]),
                    }
                )
                return _call(x, *args)

            layer.call = call
        for sub in getattr(layer, "_layers", None) or []:
            visit(sub)

    for layer in model.layers:
        visit(layer)
    model(np.zeros((1, size, size, 1), np.float32), training=False)
    return found


def time_tf(shape: dict[str, Any], batch: int, reps: int) -> float:
    h, w, ci, co, k, s = (shape[n] for n in ("height", "width", "in", "out", "kernel", "stride"))
    x = tf.Variable(tf.random.normal((batch, h, w, ci)))
    kernel = tf.Variable(tf.random.normal((k, k, ci, co)) * 0.1)

    @tf.function
    def step() -> Any:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.conv2d(x, kernel, s, "SAME"))
        return tape.gradient(loss, [x, kernel])

    return best_time(lambda: [g.numpy() for g in step()], reps, warmup=2)


def time_torch(torch: Any, shape: dict[str, Any], batch: int, reps: int) -> float:
    h, w, ci, co, k, s = (shape[n] for n in ("height", "width", "in", "out", "kernel", "stride"))
    x = torch.randn(batch, ci, h, w, requires_grad=True)
    kernel = (torch.randn(co, ci, k, k) * 0.1).requires_grad_()

    def step() -> None:
        x.grad = kernel.grad = None
        torch.nn.functional.conv2d(x, kernel, stride=s, padding=k // 2).sum().backward()

    return best_time(step, reps, warmup=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="resunet-fast")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: TensorFlow's times only (no ratios).")
    else:
        torch.set_num_threads(os.cpu_count() or 1)

    shapes = conv_shapes(args.preset, args.size)
    rows = []
    for shape in shapes:
        out_h, out_w = -(-shape["height"] // shape["stride"]), -(-shape["width"] // shape["stride"])
        # forward, backward to the input, backward to the filter: 3x the forward FLOPs
        flops = (
            3 * 2 * args.batch * out_h * out_w * shape["out"] * shape["in"] * shape["kernel"] ** 2
        )
        row = {**shape, "gflop": flops / 1e9, "tf_ms": 1e3 * time_tf(shape, args.batch, args.reps)}
        if torch is not None:
            row["torch_ms"] = 1e3 * time_torch(torch, shape, args.batch, args.reps)
        rows.append(row)

    tf_total = sum(r["tf_ms"] for r in rows)
    print(
        f"{args.preset} at {args.size}², batch {args.batch}, {cpu_name()}"
        f", {os.cpu_count()} CPUs: forward + backward of each convolution (best of {args.reps})"
    )
    head = (
        f"{'layer':<34} {'input':>12} {'k/s':>5} {'GFLOP':>6} {'TF ms':>7} {'share':>6}"
        f" {'GFLOP/s':>8}"
    )
    print(head + (f" {'torch ms':>9} {'TF/torch':>9}" if torch is not None else ""))
    for r in rows:
        shape = f"{r['height']:>4}²×{r['in']:<3}→{r['out']:<3} {r['kernel']}/{r['stride']:<3}"
        speed = r["gflop"] / r["tf_ms"] * 1e3
        line = (
            f"{r['name'][-34:]:<34} {shape} {r['gflop']:6.3f} {r['tf_ms']:7.2f}"
            f" {r['tf_ms'] / tf_total:6.1%} {speed:8.1f}"
        )
        if torch is not None:
            line += f" {r['torch_ms']:9.2f} {r['tf_ms'] / r['torch_ms']:8.2f}x"
        print(line)
    summary: dict[str, Any] = {"tf_ms": tf_total}
    total = f"all {len(rows)} convolutions: TensorFlow {tf_total:.1f} ms"
    if torch is not None:
        torch_total = sum(r["torch_ms"] for r in rows)
        summary["torch_ms"] = torch_total
        summary["tf_over_torch"] = tf_total / torch_total
        total += f", PyTorch {torch_total:.1f} ms, ratio (TF / torch) {tf_total / torch_total:.2f}x"
    print(total)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "preset": args.preset,
            "size": args.size,
            "batch": args.batch,
            "reps": args.reps,
            "cpu_count": os.cpu_count(),
            "cpu": cpu_name(),
            "cpu_flags": cpu_flags(),
            "tensorflow": tf.__version__,
            "torch": None if torch is None else torch.__version__,
            "layers": rows,
            **summary,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

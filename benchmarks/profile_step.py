"""Benchmark: where a training step's time goes, neuroseg against the plain Keras ResUNet.

    python benchmarks/profile_step.py [--preset resunet-fast] [--size 128] [--batch 8]
        [--steps 20] [--json OUT]

For one segmentation preset, this traces ``--steps`` calls of ``train_on_batch`` (Adam,
``DiceBCELoss``, batch ``--batch``) of neuroseg's model and of the plain Keras ResUNet of
the same architecture from ``benchmarks/models.py``, with TensorFlow's profiler, and
sums the time the TensorFlow compute threads spend in each kind of kernel per step:

- convolution forward, backward to the input, backward to the filter;
- batch normalisation (forward and backward, fused or not);
- everything else (element-wise operations, slicing, concatenation, resizing, the
  optimiser's updates, the loss).

Thread time is summed over the compute threads, so on a machine with two cores it is
about twice the wall-clock time of the step. The step's wall-clock time is measured
without the profiler (best of ``--steps``, the two models timed in turn), and the
printed ratio is the plain model's step time over neuroseg's.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
from machine import cpu_flags, cpu_name

from models import interleaved, plain_twin, train_step
from neuroseg.models import create_model

KINDS = ("conv forward", "conv backward input", "conv backward filter", "batch norm", "other")


def kind(op: str) -> str:
    """The kind of a TensorFlow kernel name (``_MklNativeConv2DBackpropFilter`` ...)."""
    if "Conv2DBackpropFilter" in op:
        return "conv backward filter"
    if "Conv2DBackpropInput" in op:
        return "conv backward input"
    if "Conv2D" in op:
        return "conv forward"
    if "BatchNorm" in op:
        return "batch norm"
    return "other"


def op_name(event: str) -> str:
    """``name:Conv2D`` -> ``Conv2D``: the kernel's type, without the graph node's name."""
    return event.split(":")[-1]


def layer_name(event: str) -> str:
    """The layer a kernel belongs to, from its graph node's name.

    ``resunet_1/refine_conv_1/convolution`` (the forward kernel) and
    ``gradient_tape/resunet_1/refine_conv_1/convolution/Conv2DBackpropFilter`` (a backward
    one) -> ``refine_conv_1``: the model's scope and the op's own names are dropped, so a
    layer's three kernels add up under one name.
    """
    parts = event.rsplit(":", 1)[0].split("/")
    if parts[0] == "gradient_tape":
        parts = parts[1:]
    kept = [p for p in parts[1:] if p != "convolution" and not p.startswith("Conv2D")]
    return "/".join(kept) or event


def thread_ms(logdir: Path, steps: int) -> dict[str, Any]:
    """Per-step milliseconds of compute-thread time by kernel kind, from a profiler trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(logdir.rglob("*.xplane.pb"))
    space = xplane_pb2.XSpace()
    space.ParseFromString(files[-1].read_bytes())
    by_kind: collections.Counter[str] = collections.Counter()
    by_op: collections.Counter[str] = collections.Counter()
    conv_by_layer: collections.Counter[str] = collections.Counter()
    for plane in space.planes:
        if "host:CPU" not in plane.name:
            continue
        names = plane.event_metadata
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            kernels = sorted(  # by start; of two that start together, the longer first
                ((e.offset_ps, e.duration_ps, names[e.metadata_id].name) for e in line.events),
                key=lambda k: (k[0], -k[1]),
            )
            end = -1
            for start, duration, event in kernels:  # the outermost kernel only, not its shards
                op = op_name(event)
                if op == "Process" or start < end:
                    continue
                end = start + duration
                ms = duration / 1e9 / steps
                op_kind = kind(op)
                by_kind[op_kind] += ms
                by_op[op] += ms
                if op_kind.startswith("conv"):
                    conv_by_layer[layer_name(event)] += ms
    return {
        "by_kind": {k: by_kind[k] for k in KINDS},
        "total": sum(by_kind.values()),
        "top_ops": dict(by_op.most_common(12)),
        "conv_by_layer": dict(conv_by_layer.most_common(12)),
    }


def profile(step: Any, steps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        tf.profiler.experimental.start(tmp)
        for _ in range(steps):
            step()
        tf.profiler.experimental.stop()
        return thread_ms(Path(tmp), steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="resunet-fast")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    size = args.size
    models = {
        "plain": plain_twin(args.preset, size),
        "neuroseg": create_model(args.preset, input_shape=(size, size, 1)),
    }
    steps = {name: train_step(m, size, args.batch, False) for name, m in models.items()}
    img_s = interleaved({n: (s, args.batch) for n, s in steps.items()}, args.steps)
    out: dict[str, Any] = {
        "preset": args.preset,
        "size": size,
        "batch": args.batch,
        "cpu_count": os.cpu_count(),
        "cpu": cpu_name(),
        "cpu_flags": cpu_flags(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "load_avg": os.getloadavg(),
    }
    for name, step in steps.items():
        prof = profile(step, args.steps)
        prof["step_ms"] = 1000 * args.batch / img_s[name]
        out[name] = prof
    out["ratio"] = out["plain"]["step_ms"] / out["neuroseg"]["step_ms"]

    def row(label: str, plain: float, ns: float) -> None:
        print(f"{label:32s} {plain:12.1f} {ns:12.1f}")

    print(f"{args.preset} at {size}², batch {args.batch}: ms per step")
    print(f"{'':32s} {'plain Keras':>12s} {'neuroseg':>12s}")
    row("step (wall clock)", out["plain"]["step_ms"], out["neuroseg"]["step_ms"])
    for k in KINDS:
        row(f"{k} (threads)", out["plain"]["by_kind"][k], out["neuroseg"]["by_kind"][k])
    row("all kernels (threads)", out["plain"]["total"], out["neuroseg"]["total"])
    conv = sum(out["neuroseg"]["by_kind"][k] for k in KINDS[:3])
    print(f"convolutions: {conv / out['neuroseg']['total']:.0%} of neuroseg's kernel time")
    print(f"ratio (plain step / neuroseg step): {out['ratio']:.2f}x")
    print("neuroseg's convolution time by layer (forward and backward, threads):")
    for layer, ms in out["neuroseg"]["conv_by_layer"].items():
        print(f"  {layer:40s} {ms:8.1f} ms  {ms / conv:6.1%}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

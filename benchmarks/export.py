"""Benchmark: TFLite (float32, float16, int8) and ONNX exports against the Keras model.

For each format it exports MODEL, then measures on real validation slices: file size,
median batch-1 latency on this CPU (Keras baseline: a tf.function call of the model, run
in the same process), and per-image Dice of Keras vs the exported model. Prints a table
with the size and latency ratios against Keras.

    python benchmarks/export.py --model MODEL.keras \
        --data figshare:../shared/data/figshare-cheng --folds 4 --n 200 --json OUT.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

CASES = [("tflite", None), ("tflite", "float16"), ("tflite", "int8"), ("onnx", None)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, help=".keras file (e.g. from neuroseg quickstart)")
    ap.add_argument("--data", default="figshare:../shared/data/figshare-cheng")
    ap.add_argument("--folds", type=int, nargs="*", default=[4], help="figshare folds to use")
    ap.add_argument(
        "--data-option", action="append", default=[], metavar="KEY=VALUE", help="loader option"
    )
    ap.add_argument("--groups", nargs="*", default=None, help="keep only these groups")
    ap.add_argument("--n", type=int, default=200, help="validation slices (evenly spaced)")
    ap.add_argument("--repeats", type=int, default=50, help="timed calls per latency")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import keras
    import numpy as np

    from neuroseg.data import load_dataset, parse_data_options, parse_data_spec
    from neuroseg.export import export_model
    from neuroseg.export.compare import compare_export
    from neuroseg.inference import Predictor

    fmt, path = parse_data_spec(args.data)
    kwargs = {"folds": args.folds} if fmt == "figshare" and args.folds else {}
    data = load_dataset(fmt, path, **kwargs, **parse_data_options(args.data_option))
    if args.groups:
        data = data.filter(lambda r: r.group in set(args.groups))
    idx = np.linspace(0, len(data) - 1, min(args.n, len(data))).round().astype(int)
    val = data[idx]
    predictor = Predictor(args.model)  # a pretrained name brings its card's crop
    model = predictor.model
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for form, quant in CASES:
            out = Path(tmp) / f"model-{quant or 'float32'}.{form}"
            export_model(args.model, out, format=form, quantize=quant, data=val)
            rep = compare_export(
                model,
                out,
                val,
                threshold=predictor.threshold,
                crop=predictor.crop,
                repeats=args.repeats,
            )
            rep["quantize"] = quant or "none"
            rep["file"] = out.name
            results.append(rep)
    keras_size = Path(args.model).stat().st_size if Path(args.model).is_file() else None
    key = "dice" if "dice_keras" in results[0] else "accuracy"  # segmentation or classifier
    metric = "Dice" if key == "dice" else "Acc"
    print(f"model {args.model}: {model.count_params():,} parameters, input {model.input_shape}")
    print(f"validation: {len(val)} slices from {args.data} folds={args.folds}")
    print(
        f"{'export':<18}{'size KB':>10}{'Keras ms':>10}{'export ms':>10}{'ratio':>8}"
        f"{metric + ' K':>10}{metric + ' E':>10}{'delta':>9}"
    )
    for r in results:
        name = f"{r['format']} {r['quantize']}"
        print(
            f"{name:<18}{r['size_bytes'] / 1024:>10.0f}{r['latency_ms_keras']:>10.2f}"
            f"{r['latency_ms_exported']:>10.2f}{r['latency_ratio']:>8.3f}"
            f"{r[key + '_keras']:>10.4f}{r[key + '_exported']:>10.4f}{r[key + '_delta']:>+9.4f}"
        )
    print(
        f"(Keras model.predict at batch 1: "
        f"{np.median([r['latency_ms_keras_predict'] for r in results]):.1f} ms; "
        f".keras file {keras_size} bytes)"
    )
    doc = {
        "model": str(args.model),
        "parameters": int(model.count_params()),
        "input_shape": list(model.input_shape),
        "data": args.data,
        "folds": args.folds,
        "n_items": len(val),
        "keras_file_bytes": keras_size,
        "machine": {
            "cpu_count": os.cpu_count(),
            "processor": platform.processor(),
            "keras": keras.__version__,
        },
        "results": results,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()

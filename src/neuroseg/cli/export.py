"""``neuroseg export``: TFLite / ONNX export with a report of its accuracy and speed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from neuroseg.cli._common import add_data_arguments, add_model_argument, load_data_spec

__all__ = ["format_report", "register", "run"]

_DESCRIPTION = """\
Write the exported file and, with --data, compare it with the Keras model seen through the
Predictor on that data: file size, median batch-1 latencies on this CPU, and Dice
(segmentation) or accuracy (classification) of both. By default the file carries the
model's preparation: it takes raw 8-bit slices at the model's size and converts channels
and normalises itself (FILE.json beside it says what to feed). int8 quantisation
calibrates on up to --n-representative images drawn from --data."""

_EPILOG = """\
examples:
  neuroseg export --model resunet-figshare --format tflite --quantize int8 \\
      --data figshare:held-out-slices --out model-int8.tflite --json export.json
  neuroseg export --model model.keras --format onnx --out model.onnx"""


def register(sub: Any) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="export a model to TFLite (float32/float16/int8) or ONNX and measure the cost",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_argument(p)
    p.add_argument("--format", required=True, choices=["tflite", "onnx"], help="file format")
    p.add_argument(
        "--quantize",
        choices=["float16", "int8"],
        default=None,
        help="TFLite quantisation (int8 calibrates on --data)",
    )
    add_data_arguments(p, required=False)
    p.add_argument("--out", required=True, metavar="FILE", help="the exported file")
    p.add_argument(
        "--json",
        default=None,
        metavar="REPORT",
        help="write the report here as JSON; '-' prints it to standard output instead of the table",
    )
    p.add_argument(
        "--n-representative",
        type=int,
        default=200,
        help="images drawn from --data to calibrate int8",
    )
    p.add_argument(
        "--no-preprocessing",
        action="store_true",
        help="take prepared float32 slices instead of raw 8-bit ones (no preparation inside)",
    )
    p.add_argument(
        "--raw-channels",
        type=int,
        choices=[1, 3],
        default=None,
        help="channels of the raw slices the file takes (default: the model's)",
    )
    p.set_defaults(handler=run)


def format_report(report: dict[str, Any]) -> str:
    """The export report as a short aligned table (4 significant digits).

    Example:
        >>> print(format_report({"format": "onnx", "file": "m.onnx", "size_bytes": 1000,
        ...                      "quantize": "none"}))
        m.onnx (onnx, quantize none): 1000 bytes
    """
    from neuroseg.tables import format_table

    head = (
        f"{report['file']} ({report['format']}, quantize {report.get('quantize', 'none')}): "
        f"{report['size_bytes']} bytes"
    )
    if "latency_ms_keras" not in report:
        return head
    kind = str(report["format"])
    rows: list[list[Any]] = [
        ["latency, ms (batch 1)", report["latency_ms_keras"], report["latency_ms_exported"]],
        ["latency of model.predict, ms", report.get("latency_ms_keras_predict"), None],
    ]
    for key, label in (("dice", "Dice (per-image mean)"), ("accuracy", "accuracy")):
        if f"{key}_keras" in report:
            rows.append([label, report[f"{key}_keras"], report[f"{key}_exported"]])
    lines = [
        head + f", compared on {report['n_items']} items",
        format_table(rows, header=["measure", "Keras", kind]),
        f"latency ratio {kind}/Keras: {report['latency_ratio']:.3g}",
    ]
    for key in ("dice", "accuracy"):
        if f"{key}_delta" in report:
            lines.append(f"{key} change ({kind} - Keras): {report[f'{key}_delta']:+.4f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the export."""
    from neuroseg.export import export_model

    data = load_data_spec(args.data, args.data_option) if args.data else None
    to_stdout = args.json == "-"
    report = export_model(
        args.model,
        args.out,
        format=args.format,
        quantize=args.quantize,
        data=data,
        n_representative=args.n_representative,
        include_preprocessing=not args.no_preprocessing,
        raw_channels=args.raw_channels,
        json_out=None if to_stdout else args.json,
        progress=False if getattr(args, "quiet", False) else None,
    )
    if to_stdout:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print(format_report(report))
    return 0

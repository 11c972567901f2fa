"""``neuroseg export``: TFLite / ONNX export with a JSON report of its accuracy and speed."""

from __future__ import annotations

import argparse
import json
from typing import Any

from neuroseg.cli._common import add_data_arguments, add_model_argument, load_data_spec

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="export a model to TFLite (float32/float16/int8) or ONNX and measure the cost",
        description="Write the exported file and compare it with the Keras model on --data: "
        "size, median batch-1 latencies on this CPU, and Dice (or accuracy).",
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
    p.add_argument("--json", default=None, metavar="REPORT", help="write the report here")
    p.add_argument(
        "--n-representative",
        type=int,
        default=200,
        help="images drawn from --data to calibrate int8",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the export."""
    from neuroseg.export import export_model

    data = load_data_spec(args.data, args.data_option) if args.data else None
    report = export_model(
        args.model,
        args.out,
        format=args.format,
        quantize=args.quantize,
        data=data,
        n_representative=args.n_representative,
        json_out=args.json,
    )
    print(json.dumps(report, indent=2))
    return 0

"""``neuroseg calibrate``: fit a temperature on validation data and save the calibrated model."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from neuroseg.cli._common import (
    add_data_arguments,
    add_groups_argument,
    add_model_argument,
    load_data_spec,
    select_groups,
)
from neuroseg.errors import ConfigError

__all__ = ["register", "run"]

_DESCRIPTION = """\
Fit a temperature T on labelled validation data (temperature scaling: the logits are
divided by T, fitted by minimising the negative log-likelihood) and save the model with a
TemperatureScaling layer on its output, with its preprocessor beside it
(<out>.preprocessor.json). A classifier gets one T for its class logits, a one-channel
segmentation model one T for the sigmoid logit of every pixel, a multi-task model one T
per head (the class head and the mask head, fitted separately). Prints ECE, MCE, Brier
score and NLL before and after. Predicted classes and masks do not change.

--holdout F keeps a fraction F of the data out of the fit and reports the figures on it,
with bootstrap intervals of ECE: images are kept together by patient when the data has
patient IDs, else by near-copy group (neighbouring slices of one patient look alike), so
the held-out part has no copy of a fitted image. Without --holdout the figures are
measured on the data T was fitted on, which flatters T.

--temperature T applies a temperature you already have (for example one chosen by
cross-validation, as a model card may give it) without fitting: --data is then optional,
and with it the figures before and after T are measured on all of it."""

_EPILOG = """\
examples:
  neuroseg calibrate --model classifier-4class \\
      --data four-class:../shared/data/figshare-cheng \\
      --data-option no_tumor_root=../shared/data/br35h-no-tumor \\
      --data-option no_tumor_folds=4 --groups fold-4 --holdout 0.5 \\
      --out calibrated.keras --json calibration.json
  neuroseg calibrate --model resunet-figshare --data figshare:../shared/data/figshare-cheng \\
      --groups fold-4 --out resunet-calibrated.keras
  neuroseg calibrate --model resunet-figshare --temperature 1.93 --out resunet-t193.keras"""


def register(sub: Any) -> None:
    """Add the ``calibrate`` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="fit a temperature on validation data; save the calibrated model (ECE before/after)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_argument(p)
    add_data_arguments(p, required=False)
    add_groups_argument(p, purpose="a validation fold")
    p.add_argument(
        "--out", required=True, metavar="OUT.keras", help="where to save the calibrated model"
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=0.0,
        metavar="F",
        help="keep this fraction of the patients/near-copy groups out of the fit and report "
        "the figures on them (default 0: report on the fitted data)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        nargs="+",
        default=None,
        metavar="T",
        help="apply this known temperature instead of fitting one (a multi-task model: "
        "T_LABEL T_MASK); --data is then optional and only reports the figures with it",
    )
    p.add_argument("--json", default=None, metavar="OUT", help="write the figures as JSON here")
    p.add_argument(
        "--picture",
        default=None,
        metavar="PNG",
        help="write the reliability diagram before/after (on the held-out part with --holdout); "
        "a multi-task model writes one per head, PNG's name + '-label' and '-mask'",
    )
    p.add_argument("--bins", type=int, default=15, help="bins of ECE and MCE (default 15)")
    p.add_argument(
        "--bootstrap", type=int, default=1000, metavar="N", help="resamples (default 1000)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the split and bootstrap")
    p.add_argument(
        "--crop",
        choices=("brain", "none"),
        default=None,
        help="crop slices to the brain (default: the model's saved preprocessor)",
    )
    p.set_defaults(handler=run)


def _group_keys(dataset: Any) -> tuple[list[str], str]:
    """One key per record: its patient, else its near-copy group."""
    if all(r.patient_id is not None for r in dataset):
        return [str(r.patient_id) for r in dataset], "patient"
    from neuroseg.data.near_copies import find_near_copies

    copies = find_near_copies(dataset)
    return [f"copies-{g}" for g in copies.groups.tolist()], "near-copy group"


def _split(keys: list[str], fraction: float, seed: int) -> list[bool]:
    """``True`` for the records whose group is held out (a seeded hash of the group)."""

    def draw(key: str) -> float:
        digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64

    return [draw(k) < fraction for k in keys]


def _figures_dict(curve: Any) -> Any:
    """A reliability curve as a JSON-ready dict."""
    return curve.to_dict()


def _figures_on(
    args: argparse.Namespace,
    predictor: Any,
    data: Any,
    keys: list[str],
    unit: str,
    head: str | None,
    temperature: float,
    activation: str,
    quiet: bool,
) -> tuple[dict[str, Any], tuple[Any, Any]]:
    """Calibration figures of ``temperature`` on ``data`` (not used to fit it), with curves."""
    from neuroseg.inference.calibration import collect_probabilities, evaluate_temperature
    from neuroseg.progress import Progress

    with Progress(len(data), description="score", enabled=False if quiet else None) as bar:
        probs, targets, sizes = collect_probabilities(
            predictor,
            data,
            progress=lambda done, total: bar.update(done - bar.count),
            head=head,
        )
    figures = evaluate_temperature(
        targets,
        probs,
        sizes,
        temperature,
        activation=activation,
        groups=keys,
        n_bins=args.bins,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
    )
    figures["unit"] = unit
    curves = (figures.pop("curve_before"), figures.pop("curve_after"))
    figures["reliability_before"] = _figures_dict(curves[0])
    figures["reliability_after"] = _figures_dict(curves[1])
    return figures, curves


def _print_figures(figures: dict[str, Any], unit: str) -> None:
    """ECE, MCE, Brier score and NLL before and after, and the interval of ECE."""
    from neuroseg.tables import format_table

    ci = figures["ci"]
    rows = [
        [name, figures["before"][key], figures["after"][key]]
        for key, name in (
            ("ece", "expected calibration error (ECE)"),
            ("mce", "maximum calibration error (MCE)"),
            ("brier", "Brier score"),
            ("nll", "negative log-likelihood (NLL)"),
        )
    ]
    print(format_table(rows, header=["metric", "before", "after"]))
    level = f"{figures['bootstrap']['confidence'] * 100:g} %"
    print(
        f"ECE {level} CI (bootstrap over {unit}s): before "
        f"[{ci['ece_before'][0]:.4f}, {ci['ece_before'][1]:.4f}], after "
        f"[{ci['ece_after'][0]:.4f}, {ci['ece_after'][1]:.4f}], difference "
        f"[{ci['ece_difference'][0]:.4f}, {ci['ece_difference'][1]:.4f}]"
    )


def _calibrate_head(
    args: argparse.Namespace,
    predictor: Any,
    fit_data: Any,
    held: Any,
    keys: list[str],
    unit: str,
    head: str | None,
    quiet: bool,
) -> tuple[Any, dict[str, Any]]:
    """Fit one temperature (of the model, or of one head), print and return its figures."""
    from neuroseg.inference.calibration import calibrate_model
    from neuroseg.progress import Progress

    with Progress(len(fit_data), description="fit", enabled=False if quiet else None) as bar:
        model, result = calibrate_model(
            predictor,
            fit_data,
            n_bins=args.bins,
            seed=args.seed,
            progress=lambda done, total: bar.update(done - bar.count),
            head=head,
        )
    summary: dict[str, Any] = {
        "temperature": result.temperature,
        "activation": result.activation,
        "fit": result.to_dict(),
    }
    curves: tuple[Any, Any] = (result.curve_before, result.curve_after)
    if held is None:
        print("figures on the data T was fitted on (use --holdout for an honest figure):")
        print(result.format())
    else:
        figures, curves = _figures_on(
            args, predictor, held, keys, unit, head, result.temperature, result.activation, quiet
        )
        summary["holdout"] = {"fraction": args.holdout, "n_fit": len(fit_data), **figures}
        print(
            f"T = {result.temperature:.4g} fitted on {len(fit_data)} images; figures on "
            f"{len(held)} held-out images ({figures['n_groups']} {unit}s, not used to fit T):"
        )
        _print_figures(figures, unit)
    if args.picture:
        where = "held-out part" if held is not None else "fitted data"
        _save_picture(args, curves, result.temperature, result.activation, where, head)
    return model, summary


def _save_picture(
    args: argparse.Namespace,
    curves: tuple[Any, Any],
    temperature: float,
    activation: str,
    where: str,
    head: str | None,
) -> None:
    """The reliability diagram before and after ``temperature`` (one per head)."""
    from neuroseg.inference.pictures import reliability_picture, save_png

    names = ["before", f"after (T = {temperature:.3g})"]
    title = f"{args.model}, {where}" + (" (pixels)" if activation == "sigmoid" else "")
    picture = Path(args.picture)
    if head is not None:
        picture = picture.with_name(f"{picture.stem}-{head}{picture.suffix}")
        title += f", {head} head"
    save_png(picture, reliability_picture(list(curves), names=names, title=title))


def _apply_temperature(
    args: argparse.Namespace, predictor: Any, dataset: Any, quiet: bool
) -> tuple[Any, dict[str, Any]]:
    """``--temperature``: put known temperatures on the model, no fit; figures on ``--data``."""
    from neuroseg.inference.calibration import with_temperature

    multitask = predictor.task == "multitask"
    heads: list[str | None] = ["label", "mask"] if multitask else [None]
    if len(args.temperature) != len(heads):
        raise ConfigError(
            f"{args.model} is a {predictor.task} model: give "
            + (
                "two temperatures, --temperature T_LABEL T_MASK (class head, mask head)."
                if multitask
                else "one temperature, --temperature T."
            )
        )
    if any(not t > 0 for t in args.temperature):
        raise ConfigError(f"--temperature must be above 0, got {args.temperature}.")
    temps = dict(zip(heads, args.temperature, strict=True))

    def activation(head: str | None) -> str:
        mask = head == "mask" or predictor.task == "segmentation"
        return "sigmoid" if mask else "softmax"

    if multitask:
        model = with_temperature(predictor.model, {"label": temps["label"], "mask": temps["mask"]})
    else:
        model = with_temperature(predictor.model, temps[None], activation=activation(None))
    per_head: dict[str, Any] = {}
    keys, unit = _group_keys(dataset) if dataset is not None else ([], "image")
    for head in heads:
        summary: dict[str, Any] = {
            "temperature": temps[head],
            "activation": activation(head),
            "fitted": False,
        }
        if dataset is not None:
            figures, curves = _figures_on(
                args, predictor, dataset, keys, unit, head, temps[head], activation(head), quiet
            )
            summary["applied"] = figures
            print(
                ("" if head is None else f"\n{head} head: ")
                + f"T = {temps[head]:.4g} given (not fitted); figures on {len(dataset)} images "
                f"({figures['n_groups']} {unit}s):"
            )
            _print_figures(figures, unit)
            if args.picture:
                _save_picture(args, curves, temps[head], activation(head), "given T", head)
        per_head[head or "model"] = summary
    return model, per_head


def run(args: argparse.Namespace) -> int:
    """Fit the temperature, save the model and print the figures."""
    from neuroseg.data import SliceDataset
    from neuroseg.inference import Predictor

    if not 0.0 <= args.holdout < 1.0:
        raise ConfigError(f"--holdout must lie in [0, 1), got {args.holdout}.")
    if args.bins < 1 or args.bootstrap < 1:
        raise ConfigError("--bins and --bootstrap must be at least 1.")
    out = Path(args.out)
    if out.suffix != ".keras":
        raise ConfigError(f"--out must end in .keras, got {args.out}.")
    fixed = args.temperature is not None
    if args.data is None and not fixed:
        raise ConfigError(
            "--data is needed to fit a temperature (or give --temperature T to apply a known one)."
        )
    if fixed and args.holdout > 0:
        raise ConfigError("--holdout splits data for a fit; --temperature fits nothing.")
    if fixed and args.picture and args.data is None:
        raise ConfigError("--picture needs --data to draw the reliability diagram on.")
    dataset = None
    if args.data is not None:
        dataset = load_data_spec(args.data, args.data_option)
        if args.groups:
            dataset = select_groups(dataset, args.groups, args.data)
    predictor = Predictor(args.model, crop=args.crop)
    predictor.check_task(
        "classification", "segmentation", "multitask", command="neuroseg calibrate"
    )
    quiet = bool(getattr(args, "quiet", False))
    if fixed:
        print(f"{args.model}" + (f" on {args.data}" if args.data else "") + ": given temperature")
        return _save(args, out, predictor, *_apply_temperature(args, predictor, dataset, quiet))
    assert dataset is not None  # checked above: a fit needs --data
    fit_data, held = dataset, None
    keys: list[str] = []
    unit = "image"
    if args.holdout > 0:
        keys, unit = _group_keys(dataset)
        out_mask = _split(keys, args.holdout, args.seed)
        records = list(dataset)
        fit_data = SliceDataset(
            [r for r, h in zip(records, out_mask) if not h], class_names=dataset.class_names
        )
        held = SliceDataset(
            [r for r, h in zip(records, out_mask) if h], class_names=dataset.class_names
        )
        keys = [k for k, h in zip(keys, out_mask) if h]
        if not len(fit_data) or not len(held):
            raise ConfigError(
                f"--holdout {args.holdout} leaves {len(fit_data)} images to fit and {len(held)} "
                "to report on; use more data or another fraction."
            )
    multitask = predictor.task == "multitask"
    heads: list[str | None] = ["label", "mask"] if multitask else [None]
    print(
        f"{args.model} on {args.data}"
        + (f" (groups {' '.join(args.groups)})" if args.groups else "")
    )
    temperatures: dict[str, float] = {}
    per_head: dict[str, Any] = {}
    model: Any = None
    for head in heads:
        if head is not None:
            name = "class head (label, softmax)" if head == "label" else "mask head (pixels)"
            print(f"\n{name}:")
        model, summary = _calibrate_head(
            args,
            predictor,
            fit_data,
            held,
            keys,
            unit,
            head,
            quiet,
        )
        temperatures[head or "model"] = summary["temperature"]
        per_head[head or "model"] = summary
    if multitask:
        from neuroseg.inference.calibration import with_temperature

        model = with_temperature(predictor.model, {h: temperatures[h] for h in ("label", "mask")})
    return _save(args, out, predictor, model, per_head)


def _save(
    args: argparse.Namespace, out: Path, predictor: Any, model: Any, per_head: dict[str, Any]
) -> int:
    """Save the calibrated model, its preprocessor and (``--json``) the figures."""
    from neuroseg.data import preprocessor_path

    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    predictor.preprocessor.save(preprocessor_path(out))
    document: dict[str, Any] = {"model": args.model, "data": args.data, "groups": args.groups}
    if "model" in per_head:
        document.update(per_head["model"])
    else:
        document["temperature"] = {h: per_head[h]["temperature"] for h in per_head}
        document["heads"] = per_head
    document["out"] = str(out)
    if args.json:
        from neuroseg.metrics import jsonable

        Path(args.json).write_text(json.dumps(jsonable(document), indent=2) + "\n")
    print(f"saved {out} and {preprocessor_path(out).name}")
    return 0

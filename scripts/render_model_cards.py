"""Write docs/pretrained.md from the model cards in src/neuroseg/models/weights/*.json.

python scripts/render_model_cards.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "neuroseg" / "models" / "weights"
OUT = ROOT / "docs" / "pretrained.md"
RESULTS = ROOT / "docs" / "results.md"

INTRO = """# Pretrained models

neuroseg ships its pretrained models inside the package: nothing is downloaded, and they
load offline. Each is a `.keras` file (no optimiser state) with a model card (`.json`)
beside it; loading checks the file against the SHA-256 in its card, then uses Keras
`safe_mode`.

```python
from neuroseg.inference import Predictor
from neuroseg.models import create_model, list_pretrained, load_pretrained, pretrained_info

print(list_pretrained())  # ['resunet-figshare']
model = load_pretrained("resunet-figshare")  # = create_model(name, pretrained=True)
info = pretrained_info("resunet-figshare")  # the card: threshold, preprocessing, results
predictor = Predictor("resunet-figshare")  # applies the card's threshold and preprocessing
```

```bash
neuroseg models list                                   # presets, then the pretrained models
neuroseg predict --model resunet-figshare scan.png --out pred/ --overlay
neuroseg evaluate --model resunet-figshare --data figshare:PATH/TO/figshare-cheng
```

`create_model("resunet-figshare")` without `pretrained=True` builds the same architecture
untrained, for training from scratch. To fine-tune, load the pretrained model and pass it
to `neuroseg.train.fit`.

!!! warning "Research and education only"
    These models are not medical devices. They were trained on one public dataset each, and
    their results below are on that dataset's own validation split. Do not use them for
    diagnosis, treatment planning or any clinical decision.

The full results and how they compare with published work are on the [Results](results.md)
page. Both pages are generated from the cards by `python scripts/render_model_cards.py`.
"""


def _per_image(block: dict) -> str:
    """``mean (low–high)`` of a metric's per-image block, or ``—``."""
    per = block.get("per_image", {})
    if "mean" not in per:
        return "—"
    return f"{per['mean']:.3f} ({per['ci_low']:.3f}–{per['ci_high']:.3f})"


def _metric_rows(metrics: dict, names: list[str] | None = None) -> list[str]:
    rows = ["| metric | per image (95 % CI) | pooled |", "|---|---|---|"]
    for name in names or list(metrics):
        block = metrics.get(name, {})
        if names is None and "mean" not in block.get("per_image", {}):
            continue
        pooled = block.get("pooled")
        rows.append(
            f"| {name} | {_per_image(block)} | {'—' if pooled is None else f'{pooled:.3f}'} |"
        )
    return rows


def render(card: dict) -> str:
    t, m = card["training"], card["metrics"]
    lines = [
        f"## `{card['name']}`",
        "",
        f"**Status: {card['status']}.** {card.get('notes', '')}".rstrip(),
        "",
        "| | |",
        "|---|---|",
        f"| architecture | `{card['architecture']}` ({card['task']}) |",
        f"| input | {' × '.join(map(str, card['input_shape']))} |",
        f"| threshold | {card.get('threshold')} |",
        f"| class names | {card.get('class_names') or '—'} |",
        f"| file | `{card['file']}`, SHA-256 `{card['sha256'][:16]}…` |",
        "",
        "**Preprocessing** (applied by `Predictor` and the command line):",
        "",
        *[f"- {k}: {v}" for k, v in card.get("preprocessing", {}).items()],
        "",
        "**Training:**",
        "",
        *[f"- {k.replace('_', ' ')}: {v}" for k, v in t.items()],
        "",
        f"**Results** on {m['n_images']} validation images ({m['data']}); bootstrap "
        f"intervals over {m.get('bootstrap', {}).get('unit', 'image')}s; HD95 in "
        f"{m.get('hd95_units', 'pixels')}; empty masks: {m['empty_mask_rule']}.",
        "",
        *_metric_rows(m.get("metrics", {})),
        "",
        f"**Intended use.** {card['intended_use']}",
        "",
        "**Known limits.**",
        "",
        *[f"- {x}" for x in card.get("limitations", [])],
        "",
    ]
    return "\n".join(lines)


PLANNED = {
    "resunet-figshare": "binary tumour segmentation, Figshare (Cheng) T1-CE, 256×256",
    "classifier-4class": "glioma / meningioma / pituitary / no tumour, Figshare + Br35H",
    "multitask-figshare": "mask + tumour type from one network, Figshare",
    "resunet-lgg": "FLAIR abnormality segmentation, LGG kaggle_3m, per-patient Dice",
}


def render_results(cards: dict) -> str:
    """The Results page: status, the models' results, published anchors and targets."""
    seg = cards.get("resunet-figshare")
    lines = [
        "# Results",
        "",
        "What neuroseg's pretrained models reach on real public MRI, next to published",
        "results and to the project's targets. All figures are on patient-wise validation",
        "data that the model did not train on; how they were produced is on",
        "[Pretrained models](pretrained.md) and in `examples/configs/`.",
        "",
        "## Status",
        "",
        "| model | task | shipped | status |",
        "|---|---|---|---|",
    ]
    for name, task in PLANNED.items():
        card = cards.get(name)
        if card is None:
            lines.append(f"| `{name}` | {task} | no | not trained yet (see below) |")
        else:
            epochs = card["training"].get("epochs_completed")
            lines.append(f"| `{name}` | {task} | yes | {card['status']}, {epochs} epochs |")
    lines += [
        "",
        "## Figshare (Cheng) segmentation: `resunet-figshare`",
        "",
    ]
    if seg is not None:
        n = seg["metrics"]["n_images"]
        lines += [
            f"Validation: the authors' fold 4 ({n} slices, patients disjoint from the",
            "training folds 1–3). Per-image means with 95 % bootstrap intervals over images;",
            "pooled = all pixels of the fold together. HD95 in pixels of the 256×256 slice.",
            "",
            *_metric_rows(
                seg["metrics"]["metrics"], ["dice", "iou", "precision", "recall", "hd95"]
            ),
        ]
        dice = seg["metrics"]["metrics"]["dice"]["per_image"]["mean"]
        lines += [
            "",
            "| | Dice (per image) | validation |",
            "|---|---|---|",
            "| Díaz-Pernas et al. 2021 (multi-scale CNN) | 0.828 | 5-fold, Figshare |",
            "| **target** | **≥ 0.83** | cross-validation over the folds here |",
            f"| neuroseg `resunet-figshare` ({seg['status']}) | {dice:.3f} | fold 4 only |",
            "",
        ]
        if dice < 0.83:
            lines += [
                f"**Below target.** {seg.get('notes', '')}",
                "",
            ]
    lines += [
        "The earlier 4-fold cross-validation in the",
        "[tutorial](tutorial_figshare_cv.md) (96×96 px, 6 epochs per fold, CPU) gave a",
        "per-image Dice of 0.611 ± 0.016 (mean ± std over folds): a pipeline check, not a",
        "tuned model.",
        "",
        "## Classification and LGG: not trained yet",
        "",
        "| | accuracy | validation |",
        "|---|---|---|",
        "| Cheng et al. 2015 (3 classes, tumour region augmentation + BoW) | 91.3 % | "
        "5-fold, patient-wise |",
        "| Deepak & Ameer 2019 (3 classes, GoogLeNet transfer) | 98.0 % | 5-fold, patient-level |",
        "| Díaz-Pernas et al. 2021 (3 classes, multi-scale CNN) | 97.3 % | 5-fold |",
        "| **target**, 3 classes | **≥ 98 %** | cross-validation here |",
        "| **target**, 4 classes (+ Br35H no tumour) | **≥ 98.5 %** | cross-validation here |",
        "",
        "| | Dice | validation |",
        "|---|---|---|",
        "| Buda et al. 2019 (LGG FLAIR, U-Net) | 82 % mean per patient | "
        "cross-validation, 110 patients |",
        "| **target** | **≥ 0.84 per patient** | cross-validation over the 12 patients here |",
        "",
        "`classifier-4class`, `multitask-figshare` and `resunet-lgg` have configs",
        "(`examples/configs/`) but no trained weights yet: this project's machine has 2 CPU",
        "cores and no GPU was lent to it, and at 256×256 one `resunet-small` epoch over",
        "Figshare folds 1–3 takes 2.5–5 minutes there, so each model is a multi-hour CPU job",
        "(run in the background with checkpoints and `neuroseg train --resume`). The",
        "Br35H source-shortcut study (Grad-CAM and a source-only classifier) belongs to",
        "`classifier-4class` and is not done either.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    cards = {p.stem: json.loads(p.read_text()) for p in sorted(WEIGHTS.glob("*.json"))}
    OUT.write_text(INTRO + "\n" + "\n".join(render(c) for c in cards.values()))
    RESULTS.write_text(render_results(cards))
    print(f"wrote {OUT} and {RESULTS} ({len(cards)} model(s))")


if __name__ == "__main__":
    main()

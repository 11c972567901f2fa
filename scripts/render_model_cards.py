"""Write docs/pretrained.md from the model cards in src/neuroseg/models/weights/*.json.

python scripts/render_model_cards.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "neuroseg" / "models" / "weights"
OUT = ROOT / "docs" / "pretrained.md"

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
page. These pages are generated from the cards by `python scripts/render_model_cards.py`.
"""


def _metric_rows(metrics: dict) -> list[str]:
    rows = ["| metric | per image (95 % CI) | pooled |", "|---|---|---|"]
    for name, block in metrics.items():
        per = block.get("per_image", {})
        if "mean" not in per:
            continue
        rows.append(
            f"| {name} | {per['mean']:.3f} ({per['ci_low']:.3f}–{per['ci_high']:.3f}) "
            f"| {block.get('pooled', float('nan')):.3f} |"
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


def main() -> None:
    cards = [json.loads(p.read_text()) for p in sorted(WEIGHTS.glob("*.json"))]
    OUT.write_text(INTRO + "\n" + "\n".join(render(c) for c in cards))
    print(f"wrote {OUT} ({len(cards)} model(s))")


if __name__ == "__main__":
    main()

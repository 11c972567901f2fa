"""How a multi-sequence LGG model does when sequences are missing (FLAIR copied in).

Some LGG ``kaggle_3m`` scans repeat FLAIR in place of a missing sequence; one held-out
patient has FLAIR in all three channels. This predicts every patient of the folder with
the model as the files are, and with FLAIR copied into the other channels, and prints the
per-patient Dice (each patient's slices as one volume) of each variant. The patients are
the model's training data for the shipped ``resunet-lgg``, so read the drop between
variants, not the level.

    python scripts/missing_sequence_study.py --model resunet-lgg \\
        --data ../shared/data/lgg-kaggle3m --json scripts/results/missing_sequence.json
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

VARIANTS = {
    "all three sequences": (),
    "FLAIR in every channel": (0, 2),
    "no post-contrast (FLAIR copied)": (2,),
    "no pre-contrast (FLAIR copied)": (0,),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="resunet-lgg")
    ap.add_argument("--data", type=Path, default=Path("../shared/data/lgg-kaggle3m"))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from neuroseg.data import load_lgg
    from neuroseg.errors import RepeatedChannelsWarning
    from neuroseg.inference import Predictor
    from neuroseg.metrics import dice

    data = load_lgg(args.data)
    predictor = Predictor(args.model)
    patients = sorted({str(r.patient_id) for r in data})
    result: dict[str, dict[str, float]] = {}
    for name, copied in VARIANTS.items():
        per: dict[str, float] = {}
        for pid in patients:
            records = data.filter(lambda r, p=pid: r.patient_id == p)
            images = []
            for r in records:
                image = r.load_image().copy()
                for channel in copied:  # channel 1 is FLAIR
                    image[..., channel] = image[..., 1]
                images.append(image)
            with warnings.catch_warnings():  # the FLAIR-only variant is the warned case
                warnings.simplefilter("ignore", RepeatedChannelsWarning)
                preds = predictor.predict(images)
            truth = np.stack([r.load_mask() > 0 for r in records])
            mask = np.stack([np.asarray(p.mask) > 0 for p in preds])
            per[pid] = float(dice(truth, mask, reduction="pooled"))
        result[name] = per
        v = np.array(list(per.values()))
        print(
            f"{name:32s} per-patient Dice {v.mean():.3f} (lowest {v.min():.3f}; "
            f"{int((v < 0.5).sum())} of {len(v)} below 0.5)",
            flush=True,
        )
    if args.json is not None:
        args.json.write_text(json.dumps({"model": args.model, "per_patient": result}, indent=1))


if __name__ == "__main__":
    main()

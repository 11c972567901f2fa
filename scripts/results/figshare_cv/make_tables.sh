#!/bin/bash
# Rebuild the Figshare cross-validation tables of docs/results.md from the evaluations in
# this folder (written by `neuroseg evaluate ... --json/--csv`, see docs/results.md):
#   bash scripts/results/figshare_cv/make_tables.sh && python scripts/render_model_cards.py
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=scripts/results/figshare_cv
mean() { local f out=""; for f in 4 1 2 3; do out+="$R/fold-$f-$1.json,"; done; echo "${out%,}"; }
python scripts/figshare_lever_table.py --out scripts/results/figshare_cv.md \
    "fold 4 (folds 1-3 trained), last epoch=$R/fold-4-last.json" \
    "fold 4, + flip TTA (the card's settings until 2026-12-03)=$R/fold-4-last-tta.json" \
    "fold 4, + flip TTA, threshold 0.4 (the card's settings; this model was resunet-figshare until the all-folds one)=$R/fold-4-last-tta-t0.4.json" \
    "fold 1 (folds 2-4 trained), last epoch=$R/fold-1-last.json" \
    "fold 1, + flip TTA=$R/fold-1-last-tta.json" \
    "fold 1, + flip TTA, threshold 0.4=$R/fold-1-last-tta-t0.4.json" \
    "fold 2 (folds 1, 3, 4 trained), last epoch=$R/fold-2-last.json" \
    "fold 2, + flip TTA=$R/fold-2-last-tta.json" \
    "fold 2, + flip TTA, threshold 0.4=$R/fold-2-last-tta-t0.4.json" \
    "fold 3 (folds 1, 2, 4 trained), last epoch=$R/fold-3-last.json" \
    "fold 3, + flip TTA=$R/fold-3-last-tta.json" \
    "fold 3, + flip TTA, threshold 0.4=$R/fold-3-last-tta-t0.4.json" \
    --mean "4 folds, last epoch=$(mean last)" \
    --mean "4 folds, + flip TTA=$(mean last-tta)" \
    --mean "4 folds, + flip TTA, threshold 0.4=$(mean last-tta-t0.4)" \
    --mean "4 folds, + flip TTA, threshold 0.4, largest component=$(mean last-tta-t0.4-lcc)" \
    > /dev/null
python scripts/pool_segmentation_cv.py \
    $(for f in 1 2 3 4; do echo "fold-$f=$R/items/fold-$f-tta-t0.4.csv"; done) \
    --settings "flip TTA, threshold 0.4, last epoch" \
    --json scripts/results/figshare_cv_pooled.json

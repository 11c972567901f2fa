#!/usr/bin/env bash
# Train every shipped model's recipe (cross-validation folds and the all-data model) on the
# device machine in one call: Keras 3 on JAX, no TensorFlow, no network.
#
# Here, first (TensorFlow needed):
#   python scripts/pack_device_data.py --out .device/data        # ~59 MB of uint8 WebP/bits
#   pip download keras==3.15.1 namex optree -d .whl (see docs/training.md, "On a GPU machine")
# Then on the device machine, from the repository root, carrying .whl, .device/data/pack.json
# and the sets the wave trains on (the tree and the whole pack exceed a call's 64 MiB; see
# docs/training.md for the table): seg/medium figshare.npz lgg.npz, fast figshare.npz,
# cls2 cls_extra.npz cls_figshare.npz
#   bash scripts/train_zoo_device.sh 420 --waves seg   # safety budget (s), one wave a call
#   bash scripts/train_zoo_device.sh 420 --waves medium --batch-scale 4 --until-deadline
# A dry run on a CPU (a JAX-only venv first on PATH):
#   python scripts/pack_device_data.py --out .device/dry --limit 48
#   ZOO_SKIP_WHEELS=1 ZOO_DATA=.device/dry OUT=/tmp/zoo-dry-out bash scripts/train_zoo_device.sh 300 \
#       --epochs-scale 0.04 --limit-steps 2 --parts fold1 all --waves seg cls
# It writes to $OUT: usage.log, launch.log, cv-fig.tar and cv-rest.tar (validation-fold
# predictions, histories, logs, summary.json) and model-RECIPE.tar per all-data model: at most
# 8 files when a call runs at most 4 recipes (one wave has 2).
# Score them here with scripts/score_device_cv.py.
set -uo pipefail
budget=${1:-420}
shift || true
data=${ZOO_DATA:-.device/data}
out=${OUT:-/tmp/zoo-out}
mkdir -p "$out"
if [ -z "${ZOO_SKIP_WHEELS:-}" ]; then  # the dry run brings its own Keras
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD/src KERAS_BACKEND=jax PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())" || exit 1
# every 10 s: load average and GPU utilisation/memory, to tell a CPU limit from a GPU one
(while true; do
    echo "$(date +%s) load $(cut -d' ' -f1-3 /proc/loadavg) gpu $(nvidia-smi \
        --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null)"
    sleep 10
done) > "$out/usage.log" 2>&1 &
sampler=$!
python3 scripts/train_zoo_device.py launch --data "$data" --out /tmp/zoo --budget "$budget" "$@" \
    2>&1 | tee "$out/launch.log"
kill "$sampler" 2>/dev/null
cd /tmp/zoo || exit 1
tar cf "$out/cv-fig.tar" fig-*/fold* 2>/dev/null
tar cf "$out/cv-rest.tar" lgg-*/fold* cls-*/fold* mt-*/fold* summary.json logs */all/history.json \
    2>/dev/null
for model in */all/model.keras; do  # one tar per all-data model
    [ -e "$model" ] || continue
    tar cf "$out/model-${model%%/*}.tar" "${model%/model.keras}"
    # a file comes back only under 16 MiB: split larger ones (join: cat model-X.tar.part-* >X.tar)
    if [ "$(stat -c %s "$out/model-${model%%/*}.tar")" -gt 16000000 ]; then
        split -b 15000000 "$out/model-${model%%/*}.tar" "$out/model-${model%%/*}.tar.part-"
        rm "$out/model-${model%%/*}.tar"
    fi
done
ls -la "$out"

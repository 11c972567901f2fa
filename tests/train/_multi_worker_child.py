"""Child: one worker of a 2-worker MultiWorkerMirroredStrategy run on 127.0.0.1.

python _multi_worker_child.py INDEX PORT0,PORT1 OUT EPOCHS --data FIGSHARE_ROOT

Prints ``WEIGHTS <sha256 of the final weights>`` and ``HISTORY <json>`` on success.
"""

import argparse
import hashlib
import json
import os

ap = argparse.ArgumentParser()
ap.add_argument("index", type=int)
ap.add_argument("ports")
ap.add_argument("out")
ap.add_argument("epochs", type=int)
ap.add_argument("--data", required=True)
args = ap.parse_args()
os.environ["TF_CONFIG"] = json.dumps(
    {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in args.ports.split(",")]},
        "task": {"type": "worker", "index": args.index},
    }
)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from neuroseg.data import load_figshare  # noqa: E402
from neuroseg.models import create_model  # noqa: E402
from neuroseg.train import TrainConfig, fit, set_seed  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy()
set_seed(7)
with strategy.scope():
    model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
data = load_figshare(args.data, folds=[1])[:32]
train = data.to_tf_dataset(image_size=32, batch_size=8)  # global batch 8: 4 per worker
val = load_figshare(args.data, folds=[2])[:16].to_tf_dataset(image_size=32, batch_size=8)
result = fit(model, train, val, config=TrainConfig(epochs=args.epochs), out=args.out,
             strategy=strategy, verbose=0)  # fmt: skip
weights = b"".join(np.asarray(w, np.float32).tobytes() for w in model.get_weights())
print("REPLICAS", strategy.num_replicas_in_sync)
print("WEIGHTS", hashlib.sha256(weights).hexdigest())
print("HISTORY", json.dumps(result.history))

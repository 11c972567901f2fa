"""Child: train under MirroredStrategy on 2 logical CPU devices, kill-free, then resume.

python _mirrored_child.py OUT EPOCHS --data FIGSHARE_ROOT [--resume]
"""

import argparse

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from neuroseg.data import load_figshare  # noqa: E402
from neuroseg.models import create_model  # noqa: E402
from neuroseg.train import TrainConfig, fit, set_seed  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("epochs", type=int)
ap.add_argument("--data", required=True)
ap.add_argument("--resume", action="store_true")
args = ap.parse_args()

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
set_seed(7)
with strategy.scope():
    model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
data = load_figshare(args.data, folds=[1])[:16]
train = data.to_tf_dataset(image_size=32, batch_size=8)
result = fit(model, train, train, config=TrainConfig(epochs=args.epochs), out=args.out,
             strategy=strategy, resume=args.resume, verbose=0)  # fmt: skip
print("replicas", strategy.num_replicas_in_sync, "epochs", len(result.history["loss"]))

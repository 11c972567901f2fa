"""Child process for the resumption tests: trains a tiny model, optionally kills itself.

python _fit_child.py RUN_DIR EPOCHS (--data FIGSHARE_ROOT | --sample)
    [--kill-at EPOCH:BATCH] [--resume] [--ema MOMENTUM]

``--data`` trains on 24 real Figshare slices (6 steps per epoch), ``--sample`` on 12 of
the bundled sample slices (3 steps per epoch). The environment variable
NEUROSEG_TEST_KILL_AT=<write point>[@<completed epochs>] makes ``fit`` SIGKILL the
process at that point of writing the run directory (neuroseg.train.rundir.WRITE_POINTS).
"""

import argparse
import os
import signal

import keras

from neuroseg.data import Compose, RandomFlip, RandomRotate90, load_figshare, load_sample
from neuroseg.models import create_model
from neuroseg.train import TrainConfig, epoch_pipeline, fit, set_seed

ap = argparse.ArgumentParser()
ap.add_argument("run")
ap.add_argument("epochs", type=int)
ap.add_argument("--data")
ap.add_argument("--sample", action="store_true")
ap.add_argument("--kill-at")
ap.add_argument("--resume", action="store_true")
ap.add_argument("--ema", type=float, default=None, help="TrainConfig.ema_momentum")
args = ap.parse_args()


class KillAt(keras.callbacks.Callback):
    """SIGKILL this process after the given batch of the given epoch (mid-epoch)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.target, self.batch, self.epoch = epoch, batch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.target and batch == self.batch:
            os.kill(os.getpid(), signal.SIGKILL)


if args.sample:
    ds = load_sample()[::4]
    val = load_sample()[1::4][:8].to_tf_dataset(image_size=32, batch_size=8)
else:
    ds = load_figshare(args.data, folds=[1])[:24]
    val = load_figshare(args.data, folds=[2])[:8].to_tf_dataset(image_size=32, batch_size=8)
make = epoch_pipeline(
    ds, image_size=32, batch_size=4, seed=5, augment=Compose([RandomFlip(), RandomRotate90()])
)
set_seed(3, deterministic=True)  # before the weights are drawn
model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4, dropout=0.1)
callbacks = []
if args.kill_at:
    e, b = (int(x) for x in args.kill_at.split(":"))
    callbacks.append(KillAt(e, b))
config = TrainConfig(
    epochs=args.epochs, schedule="cosine", seed=3, deterministic=True, ema_momentum=args.ema
)
fit(
    model,
    make,
    val,
    config=config,
    out=args.run,
    resume=args.resume,
    callbacks=callbacks,
    verbose=0,
)

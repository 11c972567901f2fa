"""Data: records, loaders, splits, transforms and ``tf.data`` pipelines.

Example:
    >>> from neuroseg.data import load_sample, train_test_split
    >>> train, test = train_test_split(load_sample(), test_groups=["fold-4", "tcia-06"])
    >>> len(train), len(test)
    (37, 11)
"""

from neuroseg.data.classes import CLASS_NAMES, canonical_class_name
from neuroseg.data.figshare import FIGSHARE_LABELS, load_figshare
from neuroseg.data.formats import FORMATS, load_dataset, parse_data_spec
from neuroseg.data.io import check_mask_values, read_image, read_mask
from neuroseg.data.pipeline import to_tf_dataset
from neuroseg.data.records import Record, SliceDataset, Task
from neuroseg.data.sample import load_sample, sample_dir
from neuroseg.data.splits import LeakageReport, check_leakage, group_kfold, train_test_split
from neuroseg.data.transforms import (
    Compose,
    NormalizeMinMax,
    RandomFlip,
    RandomRotate90,
    Resize,
    flip,
    normalize_minmax,
    resize_image,
    resize_mask,
    tf_normalize_minmax,
    tf_random_flip,
    tf_random_rot90,
    tf_resize_image,
    tf_resize_mask,
    to_grayscale,
)

__all__ = [
    "CLASS_NAMES",
    "FIGSHARE_LABELS",
    "FORMATS",
    "Compose",
    "LeakageReport",
    "NormalizeMinMax",
    "RandomFlip",
    "RandomRotate90",
    "Record",
    "Resize",
    "SliceDataset",
    "Task",
    "canonical_class_name",
    "check_leakage",
    "check_mask_values",
    "flip",
    "group_kfold",
    "load_dataset",
    "load_figshare",
    "load_sample",
    "normalize_minmax",
    "parse_data_spec",
    "read_image",
    "read_mask",
    "resize_image",
    "resize_mask",
    "sample_dir",
    "tf_normalize_minmax",
    "tf_random_flip",
    "tf_random_rot90",
    "tf_resize_image",
    "tf_resize_mask",
    "to_grayscale",
    "to_tf_dataset",
    "train_test_split",
]

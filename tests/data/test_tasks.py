import typing

import numpy as np
import pytest

from neuroseg.data.records import Record, SliceDataset
from neuroseg.data.tasks import TASKS, Task
from neuroseg.errors import ConfigError


def test_task_names_match_the_type():
    assert TASKS == ("segmentation", "classification", "multitask")
    assert typing.get_args(Task) == TASKS


def test_every_task_builds_a_pipeline_and_others_are_refused():
    mask = np.zeros((4, 4), np.uint8)
    mask[1, 1] = 1
    ds = SliceDataset([Record(np.arange(16, dtype=np.uint8).reshape(4, 4), mask=mask, label=2)])
    targets = {}
    for task in TASKS:
        _, y = next(iter(ds.to_tf_dataset(task, batch_size=1)))
        targets[task] = y
    assert targets["segmentation"].shape == (1, 4, 4, 1)
    assert targets["classification"].numpy().tolist() == [2]
    assert set(targets["multitask"]) == {"mask", "label"}
    with pytest.raises(ConfigError, match="Unknown task"):
        ds.to_tf_dataset("detection")

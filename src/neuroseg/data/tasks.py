"""The learning tasks a dataset can feed: their names, in one place."""

from __future__ import annotations

from typing import Literal

__all__ = ["TASKS", "Task"]

#: What a model learns from a slice: a mask, a class, or both.
Task = Literal["segmentation", "classification", "multitask"]

#: The task names, in the order the docs list them.
TASKS: tuple[str, ...] = ("segmentation", "classification", "multitask")

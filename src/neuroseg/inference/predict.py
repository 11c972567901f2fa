"""Batch prediction of binary masks."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

__all__ = ["predict_masks"]


def predict_masks(
    model: keras.Model, images: Any, *, threshold: float = 0.5, batch_size: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Predict binary masks for ``(N, H, W, C)`` images already preprocessed for the model.

    Returns:
        ``(masks, probabilities)``: ``uint8`` ``(N, H, W)`` masks and ``float32``
        ``(N, H, W)`` foreground probabilities.
    """
    probs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0), np.float32)
    probs = probs[..., 0] if probs.ndim == 4 else probs
    return (probs >= threshold).astype(np.uint8), probs

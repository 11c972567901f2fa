"""Inference helpers: prediction and overlay pictures."""

from neuroseg.inference.overlay import PRED_COLOUR, TRUTH_COLOUR, overlay_contours, save_overlay
from neuroseg.inference.predict import predict_masks

__all__ = ["PRED_COLOUR", "TRUTH_COLOUR", "overlay_contours", "predict_masks", "save_overlay"]

"""Inference: the :class:`Predictor`, post-processing, TTA, pictures and Grad-CAM.

Example:
    >>> import numpy as np
    >>> from neuroseg.inference import Predictor
    >>> from neuroseg.models import create_model
    >>> predictor = Predictor(create_model("resunet-small", input_shape=(64, 64, 1)), tta=True)
    >>> predictor.predict(np.zeros((80, 80), np.uint8))[0].mask.shape
    (80, 80)
"""

# ruff: noqa: E402
# TensorFlow is imported first, quietly (see neuroseg.logs), then the modules using it.
import neuroseg.logs

neuroseg.logs.import_tensorflow()

from neuroseg.inference.dicom_seg import write_dicom_outputs, write_dicom_overlay, write_dicom_seg
from neuroseg.inference.evaluate import Evaluation, evaluate
from neuroseg.inference.gradcam import default_gradcam_layer, grad_cam
from neuroseg.inference.loading import resolve_model
from neuroseg.inference.localisation import Localisation, feret_diameter, localise
from neuroseg.inference.overlay import (
    PRED_COLOUR,
    TRUTH_COLOUR,
    overlay_contours,
    save_overlay,
    to_rgb8,
)
from neuroseg.inference.pictures import (
    gradcam_panels,
    heatmap_overlay,
    montage,
    save_png,
    side_by_side,
    title_strip,
    uncertainty_panel,
)
from neuroseg.inference.postprocess import postprocess_mask
from neuroseg.inference.predict import predict_masks
from neuroseg.inference.predictor import Prediction, Predictor, predictions_to_pandas
from neuroseg.inference.report import pick_cases, write_report
from neuroseg.inference.scans import (
    IMAGE_SUFFIXES,
    NIFTI_SUFFIXES,
    TRUTH_SUFFIXES,
    Scan,
    find_truth_file,
    is_truth_file,
    read_scan,
)
from neuroseg.inference.tta import TTATransform, tta_transforms

__all__ = [
    "IMAGE_SUFFIXES",
    "NIFTI_SUFFIXES",
    "PRED_COLOUR",
    "TRUTH_COLOUR",
    "TRUTH_SUFFIXES",
    "Evaluation",
    "Localisation",
    "Prediction",
    "Predictor",
    "Scan",
    "TTATransform",
    "default_gradcam_layer",
    "evaluate",
    "feret_diameter",
    "find_truth_file",
    "grad_cam",
    "gradcam_panels",
    "heatmap_overlay",
    "is_truth_file",
    "localise",
    "montage",
    "overlay_contours",
    "pick_cases",
    "postprocess_mask",
    "predict_masks",
    "predictions_to_pandas",
    "read_scan",
    "resolve_model",
    "save_overlay",
    "save_png",
    "side_by_side",
    "title_strip",
    "to_rgb8",
    "tta_transforms",
    "uncertainty_panel",
    "write_dicom_outputs",
    "write_dicom_overlay",
    "write_dicom_seg",
    "write_report",
]

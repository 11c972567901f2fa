"""Data: records, loaders, splits, checks, transforms and ``tf.data`` pipelines.

Example:
    >>> from neuroseg.data import load_sample, train_test_split
    >>> train, test = train_test_split(load_sample(), test_groups=["fold-4", "tcia-06"])
    >>> len(train), len(test)
    (37, 11)
"""

# ruff: noqa: E402
# TensorFlow is imported first, quietly (see neuroseg.logs), then the modules using it.
import neuroseg.logs

neuroseg.logs.import_tensorflow()

from neuroseg.data.augment import (
    RandomAffine,
    RandomBiasField,
    RandomBlur,
    RandomBrightness,
    RandomContrast,
    RandomElastic,
    RandomGamma,
    RandomNoise,
    default_augmentation,
    tf_random_affine,
    tf_random_bias_field,
    tf_random_blur,
    tf_random_brightness,
    tf_random_contrast,
    tf_random_elastic,
    tf_random_gamma,
    tf_random_noise,
)
from neuroseg.data.brats import (
    BRATS_LABELS,
    BRATS_REGIONS,
    BratsRegions,
    brats_regions,
    load_brats_slices,
    read_brats_mask,
    tf_brats_regions,
)
from neuroseg.data.check import CheckReport, check
from neuroseg.data.classes import CLASS_NAMES, canonical_class_name
from neuroseg.data.combine import (
    combine_deduplicated,
    combine_sources,
    group_near_copies,
    load_four_class,
    load_four_class_combined,
    near_copy_origins,
)
from neuroseg.data.dicom import DicomVolume, load_dicom, read_dicom_series
from neuroseg.data.download import FIGSHARE_PARTS, ArchivePart, download_figshare, safe_extract
from neuroseg.data.figshare import FIGSHARE_LABELS, load_figshare
from neuroseg.data.figshare_mat import MatSlice, load_figshare_mat, read_mat_slice
from neuroseg.data.folders import IMAGE_SUFFIXES, load_class_folders
from neuroseg.data.formats import (
    FORMATS,
    check_loader_options,
    load_dataset,
    loader_options,
    parse_data_options,
    parse_data_spec,
)
from neuroseg.data.io import check_mask_values, read_image, read_mask, write_image
from neuroseg.data.near_copies import (
    NearCopies,
    find_near_copies,
    fingerprint,
    fingerprints,
    match_fingerprints,
    match_near_copies,
    perceptual_hash,
    thumbnail_correlation,
)
from neuroseg.data.nifti import load_nifti, volume_to_slices
from neuroseg.data.orientation import VolumeOrientation
from neuroseg.data.pairs import load_lgg, load_pairs
from neuroseg.data.patients import assign_patients, read_patient_table
from neuroseg.data.pipeline import to_tf_dataset
from neuroseg.data.preprocess import (
    Preprocess,
    brain_bbox,
    clahe,
    crop_to_brain,
    normalize_percentile,
    normalize_zscore,
    resize_pad,
    tf_clahe,
    tf_crop_to_brain,
    tf_normalize_percentile,
    tf_normalize_zscore,
    tf_resize_pad,
    tf_to_grayscale,
    tf_to_rgb,
    to_rgb,
)
from neuroseg.data.preprocessor import (
    NORMALIZATIONS,
    PreparedSlice,
    SlicePreprocessor,
    load_preprocessor,
    preprocessor_path,
    repeats_one_image,
    tf_brain_box,
)
from neuroseg.data.problems import OnError, Problem
from neuroseg.data.records import MaskEncoding, Record, SliceDataset
from neuroseg.data.sample import load_sample, sample_dir
from neuroseg.data.slice_normalization import SliceNormalization
from neuroseg.data.splits import (
    LeakageReport,
    check_leakage,
    group_kfold,
    train_test_split,
    train_val_test_split,
)
from neuroseg.data.tasks import TASKS, Task
from neuroseg.data.transforms import (
    Compose,
    NormalizeMinMax,
    RandomFlip,
    RandomRotate90,
    Resize,
    convert_channels,
    flip,
    normalize_minmax,
    resize_image,
    resize_mask,
    tf_normalize_minmax,
    tf_random_flip,
    tf_random_flip_rot90,
    tf_random_rot90,
    tf_resize_image,
    tf_resize_mask,
    to_grayscale,
)

__all__ = [
    "BRATS_LABELS",
    "BRATS_REGIONS",
    "CLASS_NAMES",
    "FIGSHARE_LABELS",
    "FIGSHARE_PARTS",
    "FORMATS",
    "IMAGE_SUFFIXES",
    "NORMALIZATIONS",
    "TASKS",
    "ArchivePart",
    "BratsRegions",
    "CheckReport",
    "Compose",
    "DicomVolume",
    "LeakageReport",
    "MaskEncoding",
    "MatSlice",
    "NearCopies",
    "NormalizeMinMax",
    "OnError",
    "PreparedSlice",
    "Preprocess",
    "Problem",
    "RandomAffine",
    "RandomBiasField",
    "RandomBlur",
    "RandomBrightness",
    "RandomContrast",
    "RandomElastic",
    "RandomFlip",
    "RandomGamma",
    "RandomNoise",
    "RandomRotate90",
    "Record",
    "Resize",
    "SliceDataset",
    "SliceNormalization",
    "SlicePreprocessor",
    "Task",
    "VolumeOrientation",
    "assign_patients",
    "brain_bbox",
    "brats_regions",
    "canonical_class_name",
    "check",
    "check_leakage",
    "check_loader_options",
    "check_mask_values",
    "clahe",
    "combine_deduplicated",
    "combine_sources",
    "convert_channels",
    "crop_to_brain",
    "default_augmentation",
    "download_figshare",
    "find_near_copies",
    "fingerprint",
    "fingerprints",
    "flip",
    "group_kfold",
    "group_near_copies",
    "load_brats_slices",
    "load_class_folders",
    "load_dataset",
    "load_dicom",
    "load_figshare",
    "load_figshare_mat",
    "load_four_class",
    "load_four_class_combined",
    "load_lgg",
    "load_nifti",
    "load_pairs",
    "load_preprocessor",
    "load_sample",
    "loader_options",
    "match_fingerprints",
    "match_near_copies",
    "near_copy_origins",
    "normalize_minmax",
    "normalize_percentile",
    "normalize_zscore",
    "parse_data_options",
    "parse_data_spec",
    "perceptual_hash",
    "preprocessor_path",
    "read_brats_mask",
    "read_dicom_series",
    "read_image",
    "read_mask",
    "read_mat_slice",
    "read_patient_table",
    "repeats_one_image",
    "resize_image",
    "resize_mask",
    "resize_pad",
    "safe_extract",
    "sample_dir",
    "tf_brain_box",
    "tf_brats_regions",
    "tf_clahe",
    "tf_crop_to_brain",
    "tf_normalize_minmax",
    "tf_normalize_percentile",
    "tf_normalize_zscore",
    "tf_random_affine",
    "tf_random_bias_field",
    "tf_random_blur",
    "tf_random_brightness",
    "tf_random_contrast",
    "tf_random_elastic",
    "tf_random_flip",
    "tf_random_flip_rot90",
    "tf_random_gamma",
    "tf_random_noise",
    "tf_random_rot90",
    "tf_resize_image",
    "tf_resize_mask",
    "tf_resize_pad",
    "tf_to_grayscale",
    "tf_to_rgb",
    "thumbnail_correlation",
    "to_grayscale",
    "to_rgb",
    "to_tf_dataset",
    "train_test_split",
    "train_val_test_split",
    "volume_to_slices",
    "write_image",
]

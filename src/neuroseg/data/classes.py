"""Canonical class names for brain-tumour MRI classification."""

from __future__ import annotations

from neuroseg.errors import UnknownNameError

__all__ = ["CLASS_ALIASES", "CLASS_NAMES", "canonical_class_name"]

#: The four canonical classes, in the alphabetical order the Kaggle 4-class sets use.
CLASS_NAMES: tuple[str, ...] = ("glioma", "meningioma", "no_tumor", "pituitary")

CLASS_ALIASES: dict[str, str] = {
    "glioma": "glioma",
    "glioma_tumor": "glioma",
    "glioma-tumor": "glioma",
    "meningioma": "meningioma",
    "meningioma_tumor": "meningioma",
    "meningioma-tumor": "meningioma",
    "pituitary": "pituitary",
    "pituitary_tumor": "pituitary",
    "pituitary-tumor": "pituitary",
    "no_tumor": "no_tumor",
    "notumor": "no_tumor",
    "no-tumor": "no_tumor",
    "no_tumour": "no_tumor",
    "notumour": "no_tumor",
    "no-tumour": "no_tumor",
    "no": "no_tumor",
    "normal": "no_tumor",
}


def canonical_class_name(name: str) -> str:
    """Map a class name or a common alias to neuroseg's canonical name.

    Args:
        name: A class name such as ``"glioma_tumor"`` or ``"notumor"`` (case-insensitive).

    Returns:
        One of :data:`CLASS_NAMES`.

    Raises:
        UnknownNameError: The name is not a known class or alias.

    Example:
        >>> canonical_class_name("Glioma_Tumor")
        'glioma'
        >>> canonical_class_name("notumor")
        'no_tumor'
    """
    key = name.strip().lower().replace(" ", "_")
    if key not in CLASS_ALIASES:
        known = ", ".join(sorted(CLASS_ALIASES))
        raise UnknownNameError(
            f"Unknown class name {name!r}. Known names and aliases: {known}. "
            "Rename the folder or pass class names explicitly."
        )
    return CLASS_ALIASES[key]

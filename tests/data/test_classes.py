import pytest

from neuroseg.data.classes import CLASS_ALIASES, CLASS_NAMES, canonical_class_name
from neuroseg.errors import UnknownNameError


def test_class_names_are_the_four_in_alphabetical_order():
    assert CLASS_NAMES == ("glioma", "meningioma", "no_tumor", "pituitary")
    assert list(CLASS_NAMES) == sorted(CLASS_NAMES)
    assert set(CLASS_ALIASES.values()) == set(CLASS_NAMES)
    assert all(CLASS_ALIASES[name] == name for name in CLASS_NAMES)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("glioma_tumor", "glioma"),
        ("Meningioma-Tumor", "meningioma"),
        ("  PITUITARY  ", "pituitary"),
        ("notumor", "no_tumor"),
        ("No Tumour", "no_tumor"),  # a space reads as an underscore
        ("no", "no_tumor"),
        ("Normal", "no_tumor"),
    ],
)
def test_aliases_are_case_and_space_insensitive(name, canonical):
    assert canonical_class_name(name) == canonical


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        canonical_class_name("astrocytoma")
    message = str(info.value)
    assert message.startswith("Unknown class name 'astrocytoma'. Known names and aliases: ")
    assert ", ".join(sorted(CLASS_ALIASES)) in message
    assert isinstance(info.value, KeyError)  # callers catching KeyError still get it
    with pytest.raises(UnknownNameError, match="'glioma tumour'"):
        canonical_class_name("glioma tumour")  # British spelling only for "no tumour"

"""`load_dataset` and its loader options: every option checked before any file is read."""

import inspect

import pytest

from neuroseg.data import (
    FORMATS,
    check_loader_options,
    load_dataset,
    loader_options,
    parse_data_options,
    parse_data_spec,
)
from neuroseg.errors import ConfigError, UnknownNameError


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_loader_lists_its_options(name):
    # no loader hides its options behind **kwargs, so a misspelt one is always caught
    kinds = {p.kind for p in inspect.signature(FORMATS[name]).parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    options = loader_options(name)
    assert all(isinstance(v, bool) for v in options.values())
    if name not in ("four-class", "four-class-combined"):
        assert not any(options.values()), options  # only the combined sets need an option


def test_the_combined_sets_name_their_required_folders():
    assert loader_options("four-class") == {
        "no_tumor_root": True,
        "folds": False,
        "no_tumor_folds": False,
    }
    assert loader_options("four-class-combined") == {
        "kaggle_root": True,
        "no_tumor_root": True,
        "k": False,
        "seed": False,
    }


def test_a_missing_option_is_a_config_error_naming_the_fix(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_dataset("four-class-combined", tmp_path / "nowhere", no_tumor_root="x")
    message = str(info.value)
    assert "'four-class-combined' needs the loader option kaggle_root" in message
    assert "--data-option kaggle_root=VALUE" in message
    assert "kaggle_root (required), no_tumor_root (required), k, seed" in message


def test_an_unknown_option_is_a_config_error_listing_the_options(tmp_path):
    # checked before the folder: the folder does not exist
    with pytest.raises(ConfigError) as info:
        load_dataset("figshare", tmp_path / "nowhere", folds=[1], bogus=1, zz=2)
    message = str(info.value)
    assert "'figshare' takes no loader option bogus, zz" in message
    assert "Its options: " in message and "folds" in message and "on_error" in message
    with pytest.raises(ConfigError, match="takes no loader option no_tumor_root"):
        check_loader_options("lgg", {"no_tumor_root": "x"})
    check_loader_options("lgg", {"on_error": "skip"})  # a real option passes


def test_patient_options_are_taken_by_every_format(tmp_path):
    # patient_pattern / patient_table are load_dataset's own, not the loader's
    with pytest.raises(ConfigError, match="needs the loader option no_tumor_root"):
        load_dataset("four-class", tmp_path, patient_pattern=r"(\d+)")


def test_unknown_format_and_bad_specs():
    with pytest.raises(UnknownNameError, match="Valid formats: brats-slices"):
        load_dataset("figshare2", "x")
    assert parse_data_spec("class-folders:C:/scans") == ("class-folders", "C:/scans")
    with pytest.raises(ConfigError, match="FORMAT:PATH"):
        parse_data_spec("figshare")
    assert parse_data_options(["k=3", "x=[1, 2]", "p=a=b"]) == {"k": 3, "x": [1, 2], "p": "a=b"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_data_options(["=3"])

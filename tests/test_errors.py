import inspect

import pytest

from neuroseg import errors
from neuroseg.errors import (
    DataError,
    MissingDependencyError,
    NeurosegError,
    UnknownNameError,
)

ERRORS = [getattr(errors, n) for n in errors.__all__ if not n.endswith("Warning")]
WARNINGS = [getattr(errors, n) for n in errors.__all__ if n.endswith("Warning")]


def test_all_lists_every_exception_in_the_module():
    defined = {
        n for n, v in vars(errors).items() if inspect.isclass(v) and v.__module__ == errors.__name__
    }
    assert set(errors.__all__) == defined
    assert errors.__all__ == sorted(errors.__all__)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_every_error_is_a_documented_neuroseg_error(cls):
    assert issubclass(cls, NeurosegError) and cls.__doc__


@pytest.mark.parametrize("cls", WARNINGS, ids=lambda c: c.__name__)
def test_warnings_are_user_warnings_not_errors(cls):
    assert issubclass(cls, UserWarning) and not issubclass(cls, NeurosegError)


def test_builtin_bases_let_callers_catch_familiar_types():
    data_errors = [c for c in ERRORS if issubclass(c, DataError)]
    assert {c.__name__ for c in data_errors} >= {
        "ReadError", "DicomError", "MaskError", "ChannelError", "EmptyDatasetError",
        "PixelValueError", "MultiPageError", "MetadataError", "FolderLayoutError",
    }  # fmt: skip
    assert all(issubclass(c, ValueError) for c in data_errors)
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(UnknownNameError, KeyError)
    assert issubclass(MissingDependencyError, ImportError)
    for cls in (errors.ModelError, errors.RunDirError):
        assert not issubclass(cls, (ValueError, KeyError, ImportError))


def test_unknown_name_error_reads_as_its_message():
    message = "Unknown model 'x'. Valid names: a, b."
    assert str(UnknownNameError(message)) == message  # KeyError would print it quoted
    assert str(KeyError(message)) == repr(message)
    assert str(UnknownNameError()) == ""
    with pytest.raises(KeyError, match="Valid names"):
        raise UnknownNameError(message)

import re
from pathlib import Path

import neuroseg
from neuroseg.version import __version__


def test_version_single_source():
    root = Path(__file__).resolve().parents[1]
    text = (root / "src" / "neuroseg" / "version.py").read_text()
    assert re.search(r'__version__ = "(.+)"', text).group(1) == neuroseg.__version__
    assert 'dynamic = ["version"]' in (root / "pyproject.toml").read_text()


def test_version_is_pep_440_and_exported_by_the_package():
    from packaging.version import Version  # a dependency of pytest

    assert str(Version(__version__)) == __version__  # valid and already normalised
    assert neuroseg.__version__ is __version__

import subprocess
import sys

from neuroseg.cli.data import FORMAT_NAMES


def test_format_names_match_the_loaders():
    from neuroseg.data import FORMATS

    assert tuple(sorted(FORMATS)) == FORMAT_NAMES


def test_version_and_help_import_no_tensorflow():
    code = (
        "import sys\n"
        "from neuroseg.cli import main\n"
        "for argv in (['--version'], ['--help'], ['predict', '--help'], ['data', 'check', "
        "'--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, (argv, e.code)\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stdout[-2000:]
    assert "neuroseg 0.1" in out.stdout

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from neuroseg.errors import ConfigError, NeurosegError
from neuroseg.logs import LOG_LEVELS, import_tensorflow, log_level, quiet_stderr

SRC = str(Path(__file__).resolve().parents[1] / "src")

# A stand-in ``tensorflow`` package for the import paths that real TensorFlow cannot show
# on demand (a failing import, the order of the calls): it writes to file descriptor 2 as
# TensorFlow's C++ code does, and says on standard output what was called.
FAKE_TF = """\
import os, sys
os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on\\n")
print("TF_CPP_MIN_LOG_LEVEL=" + os.environ.get("TF_CPP_MIN_LOG_LEVEL", "unset"), flush=True)
if os.environ.get("FAKE_TF_FAIL"):
    os.write(2, b"libcudart.so.12: cannot open shared object file\\n")
    raise ImportError("fake TensorFlow failed to load")

class config:
    @staticmethod
    def list_physical_devices():
        os.write(2, b"E0000 cuda_platform.cc:52] failed call to cuInit\\n")
        print("devices listed", flush=True)
        return []

def get_logger():
    import logging
    return logging.getLogger("tensorflow")
"""


def _env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"NEUROSEG_LOG_LEVEL", "TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS"}
    }
    env.update(extra)
    return env


def _run_fake(tmp_path, code, **env):
    pkg = tmp_path / "tensorflow"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text(FAKE_TF)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(PYTHONPATH=os.pathsep.join([str(tmp_path), SRC]), **env),
    )


IMPORT_TWICE = (
    "from neuroseg.logs import import_tensorflow\n"
    "tf = import_tensorflow()\n"
    "assert import_tensorflow() is tf\n"
    "import logging\n"
    "print('levels', logging.getLogger('tensorflow').level, logging.getLogger('absl').level)\n"
)


def test_log_level_reads_the_environment(monkeypatch):
    monkeypatch.delenv("NEUROSEG_LOG_LEVEL", raising=False)
    assert log_level() == "quiet"
    monkeypatch.setenv("NEUROSEG_LOG_LEVEL", " Debug ")
    assert log_level() == "debug"
    monkeypatch.setenv("NEUROSEG_LOG_LEVEL", "")
    assert log_level() == "quiet"
    monkeypatch.setenv("NEUROSEG_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError, match="one of quiet, info, debug") as err:
        log_level()
    assert isinstance(err.value, NeurosegError)
    assert LOG_LEVELS == ("quiet", "info", "debug")


def test_quiet_stderr_hides_native_writes(capfd):
    with quiet_stderr():
        os.write(2, b"native noise\n")
        print("python stdout still shows")
    os.write(2, b"after the block\n")
    out, err = capfd.readouterr()
    assert err == "after the block\n"
    assert out == "python stdout still shows\n"


def test_quiet_stderr_replays_what_it_caught_when_the_block_fails(capfd):
    with pytest.raises(RuntimeError, match="boom"), quiet_stderr():
        os.write(2, b"why it failed\n")
        raise RuntimeError("boom")
    assert capfd.readouterr().err == "why it failed\n"
    os.write(2, b"fd 2 restored\n")
    assert capfd.readouterr().err == "fd 2 restored\n"


def test_quiet_stderr_shows_python_warnings_after_the_block():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_stderr():
            warnings.warn("kept for the user", UserWarning, stacklevel=1)
            assert caught == []  # held back while fd 2 points at the temporary file
        assert [str(w.message) for w in caught] == ["kept for the user"]


def test_import_tensorflow_is_quiet_by_default(tmp_path):
    out = _run_fake(tmp_path, IMPORT_TWICE)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    # TF_CPP_MIN_LOG_LEVEL defaults to 2, the devices are listed under the redirect, once,
    # and the Python loggers go to ERROR (40).
    assert out.stdout.splitlines() == ["TF_CPP_MIN_LOG_LEVEL=2", "devices listed", "levels 40 40"]


def test_import_tensorflow_keeps_the_users_settings(tmp_path):
    out = _run_fake(tmp_path, IMPORT_TWICE, TF_CPP_MIN_LOG_LEVEL="1")
    assert out.stdout.splitlines()[0] == "TF_CPP_MIN_LOG_LEVEL=1"
    code = "import logging\nlogging.getLogger('tensorflow').setLevel(logging.INFO)\n"
    out = _run_fake(tmp_path, code + IMPORT_TWICE)
    assert out.stdout.splitlines()[-1] == "levels 20 40"


@pytest.mark.parametrize("level", ["info", "debug"])
def test_import_tensorflow_shows_everything_when_asked(tmp_path, level):
    out = _run_fake(tmp_path, IMPORT_TWICE, NEUROSEG_LOG_LEVEL=level)
    assert out.returncode == 0, out.stderr
    assert "oneDNN custom operations" in out.stderr
    assert out.stdout.splitlines()[0] == "TF_CPP_MIN_LOG_LEVEL=unset"
    assert "devices listed" not in out.stdout  # no early device listing either
    assert out.stdout.splitlines()[-1] == ("levels 0 0" if level == "info" else "levels 10 10")


def test_a_failing_import_shows_what_tensorflow_printed(tmp_path):
    out = _run_fake(tmp_path, IMPORT_TWICE, FAKE_TF_FAIL="1")
    assert out.returncode == 1
    assert "libcudart.so.12: cannot open shared object file" in out.stderr
    assert "oneDNN custom operations" in out.stderr
    assert "ImportError: fake TensorFlow failed to load" in out.stderr
    # the replayed native lines come before the traceback
    assert out.stderr.index("libcudart") < out.stderr.index("Traceback")


def test_tensorflow_imported_first_is_left_alone(tmp_path):
    code = "import tensorflow\n" + IMPORT_TWICE
    out = _run_fake(tmp_path, code)
    assert "oneDNN custom operations" in out.stderr  # printed by the user's own import
    assert "devices listed" not in out.stdout
    assert out.stdout.splitlines()[-1] == "levels 0 0"


def test_import_tensorflow_returns_the_module():
    assert import_tensorflow() is sys.modules["tensorflow"]


QUIET_CHECK = (
    "import neuroseg.models, neuroseg.data, neuroseg.inference, neuroseg.train, "
    "neuroseg.export, neuroseg.metrics\n"
    "import tensorflow as tf\n"
    "print(int(tf.constant(1) + 1))\n"
)


def test_subpackages_import_tensorflow_silently():
    out = subprocess.run(
        [sys.executable, "-W", "default", "-c", QUIET_CHECK],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout == "2\n"
    assert out.stderr == "", out.stderr[-3000:]


def test_info_level_shows_tensorflows_lines():
    out = subprocess.run(
        [sys.executable, "-c", "import neuroseg.metrics"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(NEUROSEG_LOG_LEVEL="info"),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    # TensorFlow's C++ start-up lines (absl's preamble or a log line such as port.cc's)
    assert out.stderr.strip(), "expected TensorFlow's start-up lines with NEUROSEG_LOG_LEVEL=info"


def test_without_tensorflow_installed_it_returns_none():
    # Keras on JAX without TensorFlow (the GPU machine): the subpackages must still import.
    code = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tensorflow' or name.startswith('tensorflow.'):\n"
        "            raise ModuleNotFoundError(name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from neuroseg.logs import import_tensorflow\n"
        "print(import_tensorflow(), 'tensorflow' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["None", "False"]

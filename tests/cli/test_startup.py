import argparse
import json
import os
import re
import subprocess
import sys

from neuroseg.cli import HelpFormatter, build_parser, iter_parsers, main


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


EVERY_HELP = """\
import contextlib, io, json, sys
from neuroseg.cli import build_parser, iter_parsers, main
paths = [p.prog.split()[1:] for p, _ in iter_parsers(build_parser())]
helps = {}
for path in paths:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            main([*path, "--help"])
        except SystemExit as e:
            assert e.code == 0, (path, e.code)
    helps[" ".join(path)] = buf.getvalue()
loaded = {"tf": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}
print(json.dumps({"helps": helps, **loaded}))
"""


def test_help_of_every_subcommand_imports_no_tensorflow():
    out = subprocess.run(
        [sys.executable, "-c", EVERY_HELP],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    result = json.loads(out.stdout)
    assert (result["tf"], result["keras"]) == (False, False)
    helps = result["helps"]
    assert {"", "models", "models list", "data check", "predict", "evaluate"} <= set(helps)
    for path, text in helps.items():
        assert text.startswith(f"usage: neuroseg {path}".rstrip()), path
    # defaults are shown, e.g. quickstart's "--image-size ... (default: 128)"
    assert re.search(r"--image-size IMAGE_SIZE\s+training resolution \(pixels\) \(default: 128\)",
                     helps["quickstart"])  # fmt: skip
    assert re.search(r"\(default:? \w+\)", helps["evaluate"])
    # examples in epilogs keep their lines
    assert "\n  neuroseg models list 'classifier-*'\n" in helps["models list"]
    # a continued example line ends in a backslash; a lone backslash in the source would
    # join it to the next line ("runs/smoke       --set ...")
    for path, text in helps.items():
        examples = text.partition("\nexamples:\n")[2]
        assert not re.search(r"\S {4,}--", examples), (path, examples)
    assert "runs/smoke \\\n      --set train.epochs=1" in helps["train"]


def test_every_leaf_command_takes_quiet_and_verbose():
    parser = build_parser()
    leaves = [p for p, leaf in iter_parsers(parser) if leaf and p is not parser]
    assert {p.prog for p in leaves} >= {"neuroseg models list", "neuroseg data check"}
    for p in leaves:
        assert p.get_default("quiet") is False, p.prog
        assert p.get_default("verbose") is False, p.prog
        assert "-q, --quiet" in p.format_help(), p.prog
        assert "-v, --verbose" in p.format_help(), p.prog
    args = parser.parse_args(["models", "list", "-q"])
    assert (args.quiet, args.verbose) == (True, False)
    args = parser.parse_args(["data", "check", "--format", "figshare", "x", "--verbose"])
    assert (args.quiet, args.verbose) == (False, True)
    assert parser.parse_args(["models"]).quiet is False


def test_verbose_sets_the_log_level_before_the_handler(monkeypatch, capsys):
    monkeypatch.setenv("NEUROSEG_LOG_LEVEL", "quiet")
    assert main(["models", "list", "resunet-small", "-v"]) == 0
    assert os.environ["NEUROSEG_LOG_LEVEL"] == "info"
    monkeypatch.setenv("NEUROSEG_LOG_LEVEL", "debug")
    assert main(["models", "list", "resunet-small", "--verbose"]) == 0
    assert os.environ["NEUROSEG_LOG_LEVEL"] == "debug"  # not lowered
    monkeypatch.setenv("NEUROSEG_LOG_LEVEL", "loud")
    assert main(["models", "list", "resunet-small"]) == 2
    assert "NEUROSEG_LOG_LEVEL='loud'" in capsys.readouterr().err


def _help(monkeypatch, **kwargs):
    monkeypatch.setenv("COLUMNS", "100")
    p = argparse.ArgumentParser(prog="demo", formatter_class=HelpFormatter, **kwargs)
    p.add_argument("--batch-size", type=int, default=8, help="images per call")
    p.add_argument("--threshold", type=float, default=0.5, help="cut-off (default: 0.5 or own)")
    p.add_argument("--name", default=None, help="a name")
    p.add_argument("--tag", action="append", default=[], help="a tag")
    p.add_argument("--no-truth", dest="truth", action="store_false", help="ignore masks")
    p.add_argument("--mode", default="fast", help="how")
    p.add_argument("path", help="input")
    p.add_argument("pattern", nargs="?", default="*", help="glob")
    return p.format_help()


def test_help_formatter_shows_useful_defaults_only(monkeypatch):
    text = _help(monkeypatch)
    assert "images per call (default: 8)" in text
    assert "how (default: fast)" in text
    assert "glob (default: *)" in text
    assert "cut-off (default: 0.5 or own)\n" in text  # not twice
    for plain in ("a name\n", "a tag\n", "ignore masks\n", "input\n"):
        assert plain in text


def test_help_formatter_keeps_examples_and_reflows_prose(monkeypatch):
    text = _help(
        monkeypatch,
        description="A long sentence that was wrapped\nby hand at some width.\n\nA second one.",
        epilog="examples:\n  demo --batch-size 4 a-rather-long-path/that/must/not/be/wrapped/"
        "at/all/even/if/it/is/longer/than/the/terminal/width/of/one/hundred/columns\n  demo b",
    )
    assert "A long sentence that was wrapped by hand at some width.\n\nA second one." in text
    assert "\nexamples:\n  demo --batch-size 4 a-rather-long-path/" in text
    assert "/one/hundred/columns\n  demo b" in text


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "quickstart" in capsys.readouterr().out

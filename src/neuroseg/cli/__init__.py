"""The ``neuroseg`` command line.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` (a function taking the
parsed arguments and returning an exit code). Modules are discovered in alphabetical order.

After the modules register, :func:`build_parser` gives every parser
:class:`HelpFormatter` (defaults shown in ``--help``) and every leaf subcommand the
options ``-q/--quiet`` (``args.quiet``: no progress bars) and ``-v/--verbose``
(``args.verbose``: TensorFlow's logs, by setting ``NEUROSEG_LOG_LEVEL=info`` before the
handler runs; see :mod:`neuroseg.logs`).

:func:`main` turns every :class:`~neuroseg.errors.NeurosegError` into one line,
``neuroseg: error: ...``, and exit code 2; the global ``--debug`` flag shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import textwrap
import traceback
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from neuroseg.errors import NeurosegError
from neuroseg.logs import LOG_LEVEL_VARIABLE, log_level
from neuroseg.version import __version__

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ["HelpFormatter", "build_parser", "iter_parsers", "main"]


class HelpFormatter(argparse.HelpFormatter):
    """Help that keeps the line breaks of descriptions and epilogs and shows defaults.

    In descriptions and epilogs, indented lines (examples) are kept exactly as written and
    blank lines separate paragraphs; the other lines are prose, re-flowed to the terminal's
    width (a line starting with ``- `` or ``* `` starts a new one).
    `` (default: X)`` is appended to an option's help unless the default is ``None``,
    ``False``, empty or suppressed, the option is a flag (``store_true`` and the like), or
    the help already mentions a default.

    Example:
        >>> p = argparse.ArgumentParser(prog="demo", formatter_class=HelpFormatter)
        >>> _ = p.add_argument("--batch-size", type=int, default=8, help="images per call")
        >>> "images per call (default: 8)" in p.format_help()
        True
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        prose: list[str] = []

        def flush() -> None:
            if prose:
                lines.extend(
                    textwrap.wrap(
                        " ".join(prose),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                        break_long_words=False,
                        break_on_hyphens=False,
                    )
                )
                prose.clear()

        for line in text.splitlines():
            if not line.strip():
                flush()
                lines.append("")
            elif line[0].isspace():  # an example or other indented block: kept as written
                flush()
                lines.append(indent + line.rstrip())
            else:
                if line.startswith(("- ", "* ")):
                    flush()
                prose.append(line.strip())
        flush()
        return "\n".join(lines).strip("\n")

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if text is None or text == argparse.SUPPRESS or "default" in text.lower():
            return text
        default = action.default
        if default is None or default is False or default == argparse.SUPPRESS:
            return text
        if isinstance(default, (str, list, tuple, dict)) and not default:
            return text
        if action.nargs == 0:  # a flag: its default says nothing useful
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, "*"):
            return text  # a required positional
        return f"{text} (default: %(default)s)"


# Formatters that HelpFormatter covers; a subcommand that chose another one keeps it.
_REPLACED_FORMATTERS = (
    argparse.HelpFormatter,
    argparse.RawDescriptionHelpFormatter,
    argparse.ArgumentDefaultsHelpFormatter,
)


def iter_parsers(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[argparse.ArgumentParser, bool]]:
    """Yield ``parser`` and every nested subcommand parser, each with whether it is a leaf.

    A leaf has no subcommands of its own (``models list`` is one, ``models`` is not).
    """
    children: list[argparse.ArgumentParser] = []
    # argparse has no public accessor for a parser's subcommands; its actions hold them.
    for action in parser._actions:
        choices = action.choices
        if isinstance(choices, dict) and action.nargs == argparse.PARSER:
            children.extend(c for c in choices.values() if c not in children)
    yield parser, not children
    for child in children:
        yield from iter_parsers(child)


def _add_option(parser: argparse.ArgumentParser, flags: Sequence[str], **kwargs: Any) -> None:
    """Add an option, dropping a short flag that a subcommand already uses for itself."""
    for names in (tuple(flags), tuple(f for f in flags if f.startswith("--"))):
        try:
            parser.add_argument(*names, **kwargs)
            return
        except argparse.ArgumentError:  # the subcommand defines it (or the short flag)
            continue


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    _add_option(
        parser,
        ("-q", "--quiet"),
        action="store_true",
        default=False,
        help="no progress bars",
    )
    _add_option(
        parser,
        ("-v", "--verbose"),
        action="store_true",
        default=False,
        help=f"show TensorFlow's start-up and runtime logs ({LOG_LEVEL_VARIABLE}=info)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``neuroseg`` command with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="neuroseg",
        description="Brain-tumour MRI segmentation and classification (TensorFlow/Keras 3).",
        epilog="Every command takes -q/--quiet (no progress bars) and -v/--verbose "
        "(TensorFlow's logs);\n'neuroseg COMMAND --help' shows its options.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"neuroseg {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an error, show the full traceback instead of the one-line message",
    )
    parser.set_defaults(quiet=False, verbose=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub)
    for p, leaf in iter_parsers(parser):
        if p.formatter_class in _REPLACED_FORMATTERS:
            p.formatter_class = HelpFormatter
        if leaf and p is not parser:
            _add_common_options(p)
    return parser


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (continuation lines joined with ``; ``)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 1 findings, 2 errors).

    Every :class:`~neuroseg.errors.NeurosegError` (and an operating-system error such as a
    full disk or a folder without write permission) is printed as one line,
    ``neuroseg: error: ...``, on standard error, and the exit code is 2; ``--debug``
    (before the subcommand: ``neuroseg --debug predict ...``) shows the traceback instead.

    Example:
        >>> main(["predict", "--model", "missing.keras", "x.png", "--out", "out"])
        2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    debug = bool(getattr(args, "debug", False))
    try:
        level = log_level()  # an unknown NEUROSEG_LOG_LEVEL fails here, naming the values
        if getattr(args, "verbose", False) and level == "quiet":
            os.environ[LOG_LEVEL_VARIABLE] = "info"
        with warnings.catch_warnings():  # restores the warning machinery afterwards
            plain = warnings.showwarning

            def show(
                message: Any,
                category: Any,
                filename: str,
                lineno: int,
                file: Any = None,
                line: str | None = None,
            ) -> None:
                # neuroseg's own warnings read as one line, like its errors; others as usual.
                if filename.startswith(_PACKAGE_DIR):
                    print(f"neuroseg: warning: {message}", file=sys.stderr)
                else:
                    plain(message, category, filename, lineno, file, line)

            warnings.showwarning = show
            return int(args.handler(args))
    except (NeurosegError, OSError) as exc:
        if debug:
            traceback.print_exc(file=sys.stderr)
        print(f"neuroseg: error: {_one_line(exc)}", file=sys.stderr)
        return 2

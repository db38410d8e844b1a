"""The ``symderiv`` command line: each subcommand is a module here that only calls the stages."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import ParseError, SymderivError
from ..limits import DEFAULT_TIME_LIMIT, TIME_LIMIT_VARIABLE, time_budget, time_limit

SUBCOMMANDS = ("derive", "list", "demo", "codegen", "check")
UNGUARDED = ("check",)  # runs the user's module in its own process, with its own timeout


PREFIX = "symderiv: error: "  # how every error the command line reports begins


class UsageError(Exception):
    """Bad command-line usage: reported in one line after :data:`PREFIX`, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of the usage block."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> Parser:
    parser = Parser(
        prog="symderiv",
        description="Step-by-step symbolic gradients of neural-network building blocks.",
        epilog="Run 'symderiv COMMAND --help' for the options and examples of a command.",
    )
    parser.add_argument("--version", action="version", version=f"symderiv {_version()}")
    parser.add_argument(
        "--time-limit", metavar="SECONDS", default=None,
        help=f"stop a command that runs longer (default {DEFAULT_TIME_LIMIT:g}, or ${TIME_LIMIT_VARIABLE}; 0: none)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}_cmd")
        except ModuleNotFoundError as error:
            if error.name == f"{__name__}.{name}_cmd":
                continue
            raise
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help(sys.stderr)
            return 2
        if args.command in UNGUARDED:
            return args.run(args) or 0
        with time_limit(time_budget(args.time_limit), f"'symderiv {args.command}'"):
            return args.run(args) or 0
    except UsageError as error:
        return _fail(f"{PREFIX}{error}", 2)
    except ParseError as error:
        return _fail(f"{PREFIX}{error}", 2, error.caret())
    except SymderivError as error:
        return _fail(f"{PREFIX}{error}", 2)
    except KeyboardInterrupt:
        return _fail("symderiv: interrupted", 130)
    except BrokenPipeError:
        return 0
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        return _fail(f"{PREFIX}{error.strerror or error}{where}", 2)


def _fail(message: str, status: int, detail: str = "") -> int:
    print(message, file=sys.stderr)
    if detail and sys.stderr.isatty():
        print(detail, file=sys.stderr)
    return status


def _version() -> str:
    from .. import __version__

    return __version__

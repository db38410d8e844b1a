"""Exceptions raised by symderiv. Every message is one line and names what was wrong."""

from __future__ import annotations

import difflib


class SymderivError(Exception):
    """Base class of every error symderiv raises on bad input."""


class ShapeError(SymderivError, ValueError):
    """An operation was applied to operands of incompatible shapes."""


class MissingRuleError(SymderivError, NotImplementedError):
    """An IR operation has no derivative rule in the registry."""


class UnknownNameError(SymderivError, KeyError):
    """A catalog name, function or symbol is not known; suggests the closest match."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, sorted(known)
        super().__init__(f"unknown {kind} '{name}'{did_you_mean(name, known)}")

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.args[0]


class ConventionError(SymderivError, ValueError):
    """An unknown kink convention was asked for."""


class ConstantError(SymderivError, ValueError):
    """A constant is not a finite real float64 number (1e309, exp(710), a complex value)."""


class ParseError(SymderivError, ValueError):
    """A formula could not be parsed; carries the column of the problem."""

    def __init__(self, message: str, text: str = "", column: int | None = None):
        self.message, self.text, self.column = message, text, column
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"{message}{where}")

    def caret(self) -> str:
        """The offending text with a caret under the column, for terminal output."""
        if self.column is None or not self.text or "\n" in self.text or len(self.text) > 200:
            return ""
        return f"  {self.text}\n  {' ' * (self.column - 1)}^"


def did_you_mean(name: str, known: list[str]) -> str:
    """A ' (did you mean 'x'?)' suffix naming the closest known name, or ''.

    A name differing only in case is the closest ('W' for 'w', 'W_1' for 'w_1'); otherwise
    the closest by difflib's ratio, ignoring case.
    """
    names = sorted(set(known))
    same = [k for k in names if k.lower() == name.lower() and k != name]
    if same:
        return f" (did you mean '{same[0]}'?)"
    folded: dict[str, str] = {}
    for k in names:
        folded.setdefault(k.lower(), k)
    close = difflib.get_close_matches(name.lower(), sorted(folded), n=1, cutoff=0.6)
    return f" (did you mean '{folded[close[0]]}'?)" if close else ""

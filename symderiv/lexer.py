"""The tokenizer of symderiv's formula language and its shape declarations (``q: vector(n)``).

Only allow-listed characters and tokens are accepted; every problem is a :class:`ParseError`
with a 1-based column. Nothing is evaluated.
"""

from __future__ import annotations

import string
from typing import NamedTuple

import sympy

from . import ir
from .errors import ParseError, SymderivError, did_you_mean

MAX_LENGTH = 10_000
MAX_NUMBER_CHARS = 30

SHAPE_KINDS = {"scalar": 0, "vector": 1, "matrix": 2}
SHAPE_HINT = "expected scalar, vector(n) or matrix(N, n)"

_DIGITS = frozenset(string.digits)
_NAME_START = frozenset(string.ascii_letters + "_")
_NAME_CHARS = _NAME_START | _DIGITS
_SPACE = frozenset(" \t\r\n")
_SINGLE_OPS = frozenset("+-/^@(),'=")
_DOT_SIGNS = frozenset("\u00b7\u22c5")  # · and ⋅: the dot product, as '.'
_CHARACTER_HINTS = {  # what to write instead of a character people copy from typeset math
    "\u1d40": " (write w . x or w @ x for w\u1d40x, and w.T for a transpose)",
    "\u2212": " (write '-' for minus)",
    "\u00d7": " (write '*' to multiply)",
    "\u2299": " (write '*' for the element-wise product)",
    "\u00b2": " (write ^2 for a square)",
}

# --------------------------------------------------------------------------- errors


def _error(message: str, text: str, column: int, hint: str = "") -> ParseError:
    """A ParseError whose str() is ``message at column N`` followed by ``hint``."""
    err = ParseError(message + hint, text, column)
    err.args = (f"{message} at column {column}{hint}",)
    return err


def _show(token_text: str) -> str:
    """A token quoted for an error message."""
    return f'"{token_text}"' if "'" in token_text else f"'{token_text}'"


def _show_char(ch: str) -> str:
    """A character for an error message, escaped when not printable ASCII."""
    shown = ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
    code = f" (U+{ord(ch):04X})" if ord(ch) > 126 or not ch.isprintable() else ""
    return f"{_show(shown)}{code}"


# --------------------------------------------------------------------------- tokenizer


class Token(NamedTuple):
    """A token: ``kind`` is num, name, op or end; ``column`` is 1-based."""

    kind: str
    text: str
    column: int


def _ends_operand(token: Token) -> bool:
    return token.kind in ("num", "name") or token.text in (")", "'", ".T")


def _scan_digits(text: str, i: int, stop: int) -> int:
    while i < stop and text[i] in _DIGITS:
        i += 1
    return i


def _scan_number(text: str, i: int, stop: int) -> int:
    """The end of the number starting at ``i``: digits [. digits] [e [+-] digits]."""
    i = _scan_digits(text, i, stop)
    if i + 1 < stop and text[i] == "." and text[i + 1] in _DIGITS:
        i = _scan_digits(text, i + 1, stop)
    if i < stop and text[i] in "eE":
        j = i + 1 + (i + 1 < stop and text[i + 1] in "+-")
        if j < stop and text[j] in _DIGITS:
            i = _scan_digits(text, j, stop)
    return i


def _scan_name(text: str, i: int, stop: int) -> int:
    while i < stop and text[i] in _NAME_CHARS:
        i += 1
    return i


def _is_transpose(text: str, i: int, stop: int) -> bool:
    """Whether ``.T`` at ``i`` is the transpose (T not followed by a name character)."""
    return i + 1 < stop and text[i + 1] == "T" and (i + 2 >= stop or text[i + 2] not in _NAME_CHARS)


def _next_token(text: str, i: int, stop: int, after_operand: bool) -> Token:
    """The token starting at ``i`` (not whitespace)."""
    ch, column = text[i], i + 1
    next_is_digit = i + 1 < stop and text[i + 1] in _DIGITS
    if ch in _DIGITS or (ch == "." and not after_operand and next_is_digit):
        end = _scan_number(text, i, stop)
        if end - i > MAX_NUMBER_CHARS:
            raise _error(f"number is longer than {MAX_NUMBER_CHARS} characters", text, column)
        return Token("num", text[i:end], column)
    if ch in _NAME_START:
        name = text[i : _scan_name(text, i, stop)]
        if name.startswith("__"):
            raise _error("names starting with '__' are not allowed", text, column)
        return Token("name", name, column)
    if ch == "*":
        return Token("op", "**" if i + 1 < stop and text[i + 1] == "*" else "*", column)
    if ch == ".":
        transpose = after_operand and _is_transpose(text, i, stop)
        return Token("op", ".T" if transpose else ".", column)
    if ch in _SINGLE_OPS:
        return Token("op", ch, column)
    if ch in _DOT_SIGNS:
        return Token("op", ".", column)
    raise _error(f"unexpected character {_show_char(ch)}", text, column, _CHARACTER_HINTS.get(ch, ""))


def tokenize(text: str, start: int = 0, stop: int | None = None) -> list[Token]:
    """The tokens of ``text[start:stop]``, ending with an ``end`` token; columns index ``text``."""
    stop = len(text) if stop is None else stop
    tokens: list[Token] = []
    i = start
    while i < stop:
        if text[i] in _SPACE:
            i += 1
            continue
        token = _next_token(text, i, stop, bool(tokens) and _ends_operand(tokens[-1]))
        tokens.append(token)
        i += len(token.text)
    tokens.append(Token("end", "", stop + 1))
    return tokens


def _number(token: Token) -> sympy.Number:
    """An integer literal as sympy.Integer, any other as sympy.Float."""
    if all(c in _DIGITS for c in token.text):
        return sympy.Integer(int(token.text))
    return sympy.Float(token.text)


# --------------------------------------------------------------------------- shapes & declarations


def parse_shape(text: str) -> tuple:
    """``scalar`` -> (), ``vector(n)`` -> (n,), ``matrix(N, n)`` -> (N, n)."""
    _check_length(text)
    return _shape_at(text, 0)


def parse_declaration(text: str) -> tuple[str, tuple]:
    """``"w: vector(n)"`` -> ``("w", (n,))``."""
    _check_length(text)
    colon = text.find(":")
    names = tokenize(text, 0, len(text) if colon < 0 else colon)
    first = names[0]
    if first.kind != "name":
        where = "missing name" if first.kind == "end" else f"expected a name, found {_show(first.text)}"
        raise _error(f"{where} before ':' (a declaration looks like 'w: vector(n)')", text, first.column)
    if colon < 0 or names[1].kind != "end":
        found = names[1]
        raise _error(
            f"expected ':' after '{first.text}', found {_describe(found)}"
            " (a declaration looks like 'w: vector(n)')",
            text,
            found.column,
        )
    return first.text, _shape_at(text, colon + 1)


def parse_declarations(texts) -> dict[str, tuple]:
    """``["w: vector(n)", "c: scalar"]`` -> ``{"w": (n,), "c": ()}``; a name declared twice is an error."""
    declared: dict[str, tuple] = {}
    sources: dict[str, str] = {}
    for text in texts:
        name, shape = parse_declaration(text)
        if name in declared:
            raise SymderivError(f"'{name}' is declared twice: '{sources[name]}' and '{text}'")
        declared[name], sources[name] = shape, text
    return declared


def _describe(token: Token) -> str:
    return "end of input" if token.kind == "end" else _show(token.text)


def _shape_at(text: str, start: int) -> tuple:
    """The shape written in ``text[start:]``."""
    tokens = tokenize(text, start)
    kind = tokens[0]
    if kind.kind != "name" or kind.text not in SHAPE_KINDS:
        if kind.kind == "end":
            raise _error(f"empty shape ({SHAPE_HINT})", text, kind.column)
        hint = did_you_mean(kind.text, list(SHAPE_KINDS)) or f" ({SHAPE_HINT})"
        raise _error(f"unknown shape {_show(kind.text)}", text, kind.column, hint)
    rank = SHAPE_KINDS[kind.text]
    dims, pos = _shape_dims(text, tokens, rank)
    if tokens[pos].kind != "end":
        raise _error(f"unexpected {_describe(tokens[pos])} after the shape", text, tokens[pos].column)
    return tuple(dims)


def _shape_dims(text: str, tokens: list[Token], rank: int) -> tuple[list, int]:
    """The ``rank`` dimensions after the shape word, and the index of the next token."""
    if rank == 0:
        return [], 1
    expected = ["(", "d"] + [",", "d"] * (rank - 1) + [")"]
    dims, pos = [], 1
    for want in expected:
        token = tokens[pos]
        if want == "d":
            dims.append(_dimension(text, token))
        elif token.text != want or token.kind != "op":
            raise _error(f"expected '{want}', found {_describe(token)} ({SHAPE_HINT})", text, token.column)
        pos += 1
    return dims, pos


def _dimension(text: str, token: Token) -> sympy.Expr:
    """A dimension: a name or a positive integer."""
    try:
        if token.kind == "name":
            return ir.as_dim(token.text)
        if token.kind == "num" and all(c in _DIGITS for c in token.text):
            return ir.as_dim(int(token.text))
    except (SymderivError, TypeError, ValueError, ArithmeticError) as exc:
        raise _error(str(exc), text, token.column) from None
    raise _error(
        f"expected a dimension (a name or a positive integer), found {_describe(token)}",
        text,
        token.column,
    )


def _check_length(text: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"input is longer than {MAX_LENGTH} characters", text, MAX_LENGTH + 1)

"""A safe parser for symderiv's formula language, producing IR nodes.

The input is never evaluated: a hand-written tokenizer accepts only allow-listed tokens and a
Pratt parser builds the expression with the :mod:`symderiv.ir` smart constructors. Every problem
(bad syntax, unknown names, shape mismatches, limits) is a :class:`ParseError` with a 1-based
column.

Grammar, loosest to tightest binding::

    expr    := expr ('+' | '-') expr                      left-associative
             | expr ('*' | '/' | '@' | '.') expr          left-associative ('.' or '·': dot product)
             | ('-' | '+') expr                           binds looser than '^': -x^2 = -(x^2)
             | expr ('^' | '**') number-expr              right-associative, constant exponent
             | expr ('.T' | "'")                          transpose
             | NUMBER | NAME | NAME '(' args ')' | '(' expr ')'
    args    := [arg (',' arg)*],  arg := expr | NAME '=' expr   (only sum/mean take axis=0|1)

A NAME is a symbol of the scope or, failing that, a dimension of one (``N`` in ``1/N``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import sympy

from . import functions, ir
from .errors import ParseError, SymderivError, did_you_mean
from .lexer import (
    MAX_LENGTH,
    Token,
    _check_length,
    _error,
    _number,
    _show,
    parse_declaration,
    parse_declarations,
    parse_shape,
    tokenize,
)
from .numeric import MAX_CONSTANT_BITS, MAX_SYMBOLIC_SIZE, constant_problem, describe_constant, tame_constant
from .numeric import evaluate_constant as _evaluate

__all__ = [
    "DEFAULT_SHAPES",
    "MAX_CONSTANT_BITS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_SYMBOLIC_SIZE",
    "default_scope",
    "function_names",
    "parse",
    "parse_declaration",
    "parse_declarations",
    "parse_shape",
    "tokenize",
]

MAX_DEPTH = 200
MAX_EXPONENT = 64  # |numeric exponent| must be <= this

DEFAULT_SHAPES: dict[str, tuple] = {
    "w": (ir.dim("n"),),
    "x": (ir.dim("n"),),
    "X": (ir.dim("N"), ir.dim("n")),
    "y": (ir.dim("N"),),
    "b": (),
    "z": (),
    "a": (),
}


# name -> (number of arguments, IR builder); other functions come from functions.BUILTINS.
ARRAY_FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "sum": (1, ir.total),
    "mean": (1, ir.mean),
    "dot": (2, ir.dot),
    "softmax": (1, ir.softmax),
    "log_softmax": (1, ir.log_softmax),
    "logsumexp": (1, ir.logsumexp),
}
AXIS_FUNCTIONS = frozenset({"sum", "mean"})  # take an optional axis: f(A, axis=0), f(A, 1)
ROW_WISE = frozenset({"softmax", "log_softmax", "logsumexp"})  # of a vector or each row


_SUM_BP, _PRODUCT_BP, _UNARY_BP, _POWER_BP, _POSTFIX_BP = 10, 20, 30, 40, 50
_BINARY: dict[str, tuple[int, Callable]] = {
    "+": (_SUM_BP, ir.add),
    "-": (_SUM_BP, ir.sub),
    "*": (_PRODUCT_BP, ir.mul),
    "/": (_PRODUCT_BP, ir.div),
    "@": (_PRODUCT_BP, ir.matmul),
    ".": (_PRODUCT_BP, ir.dot),
}
_BUILD_ERRORS = (SymderivError, TypeError, ValueError, ArithmeticError)


def default_scope() -> dict[str, ir.Node]:
    """Symbols for :data:`DEFAULT_SHAPES`: w, x vector(n); X matrix(N, n); y vector(N); b, z, a."""
    return {name: ir.Symbol(name, shape) for name, shape in DEFAULT_SHAPES.items()}


def function_names() -> list[str]:
    """Every name that can be called: the built-in scalar functions and the array functions."""
    return sorted(set(functions.BUILTINS) | set(ARRAY_FUNCTIONS))


class _Arg(NamedTuple):
    """A call argument: its keyword token (or None), its first token, its node and its text."""

    keyword: Token | None
    start: Token
    node: ir.Node
    source: str


# --------------------------------------------------------------------------- expressions


def parse(text: str, scope: Mapping[str, ir.Node] | None = None) -> ir.Node:
    """The IR expression written in ``text``; names resolve through ``scope`` (default_scope())."""
    _check_length(text)
    tokens = tokenize(text)
    if tokens[0].kind == "end":
        raise ParseError("empty expression", text, 1)
    names = default_scope() if scope is None else {k: ir.as_node(v) for k, v in scope.items()}
    parser = _Parser(text, tokens, names)
    try:
        return parser.parse()
    except RecursionError:
        column = parser.peek().column
        raise ParseError("expression is nested too deeply", text, column) from None


class _Parser:
    """A Pratt parser over a token list; ``depth`` counts nested calls of :meth:`expression`."""

    def __init__(self, text: str, tokens: list[Token], scope: dict[str, ir.Node]):
        self.text, self.tokens, self.scope = text, tokens, scope
        self.dims = _dimensions(scope)
        self.pos = 0
        self.depth = 0
        self.forms = functions.ScalarForms()
        self.seen: set = set()  # values of constants already checked

    # ----------------------------------------------------------------- token helpers

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += token.kind != "end"
        return token

    def error(self, message: str, column: int, hint: str = "") -> ParseError:
        return _error(message, self.text, column, hint)

    def unexpected(self, token: Token, hint: str = "") -> ParseError:
        if token.kind == "end":
            return self.error("unexpected end of input", token.column, hint)
        return self.error(f"unexpected {_show(token.text)}", token.column, hint)

    def expect(self, text: str, opener: Token) -> None:
        token = self.advance()
        if token.text != text or token.kind != "op":
            hint = f" (expected '{text}' to close the '{opener.text}' at column {opener.column})"
            raise self.unexpected(token, hint)

    # ----------------------------------------------------------------- Pratt core

    def parse(self) -> ir.Node:
        node = self.expression()
        token = self.peek()
        if token.kind != "end":
            hint = " (missing operator?)" if token.kind in ("num", "name") or token.text == "(" else ""
            raise self.unexpected(token, hint)
        return node

    def expression(self, rbp: int = 0) -> ir.Node:
        """An expression whose operators all bind tighter than ``rbp``."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:
                raise self.error(f"expression is nested deeper than {MAX_DEPTH} levels", self.peek().column)
            start = self.peek()
            left = self.defined(self.prefix(self.advance()), start)
            while _left_power(self.peek()) > rbp:
                left = self.defined(self.infix(left, self.advance()), start)
            return left
        finally:
            self.depth -= 1

    def prefix(self, token: Token) -> ir.Node:
        """An operand starting with ``token``."""
        if token.kind == "num":
            value = _number(token)
            if constant_problem(value):
                raise self.error(f"constant {token.text} {constant_problem(value)}", token.column)
            return self.checked(ir.Const(value), token.column)
        if token.kind == "name" and self.at("("):
            builder, arity = self.callee(token)
            return self.call(token, builder, arity, self.arguments(self.advance()))
        if token.kind == "name":
            return self.symbol(token)
        if token.text == "(":
            inner = self.expression()
            self.expect(")", token)
            return inner
        if token.text in ("-", "+"):
            operand = self.expression(_UNARY_BP)
            return self.build(token.column, ir.neg, operand) if token.text == "-" else operand
        raise self.unexpected(token)

    def infix(self, left: ir.Node, token: Token) -> ir.Node:
        """The operator ``token`` applied to ``left``."""
        if token.text in (".T", "'"):
            return self.build(token.column, ir.transpose, left)
        if token.text in ("^", "**"):
            start = self.peek()
            if start.kind == "name" and start.text == "T" and "T" not in self.scope:
                raise self.transpose_hint(left, token)
            return self.power(left, token, start, self.expression(_POWER_BP - 1))
        bp, builder = _BINARY[token.text]
        start = self.peek()
        right = self.expression(bp)
        shown = _clip(self.text[start.column - 1 : self.peek().column - 1].strip())
        if token.text == "/" and self.is_zero(right):
            raise self.error(f"division by zero: {shown} is 0", start.column)
        if token.text == "/" and isinstance(right, ir.Const) and right.value and not right.value.free_symbols:
            problem = constant_problem(1 / right.value)
            if problem:
                inverse = f"1/{shown}" if shown.startswith("(") else f"1/({shown})"
                raise self.error(f"division by {shown}: {inverse} {problem}", start.column)
        return self.build(token.column, builder, left, right)

    def transpose_hint(self, left: ir.Node, token: Token) -> ParseError:
        """The error for ``w^T``: a transpose written as a power, with what to write instead."""
        following = self.tokens[self.pos + 1]
        u = left.name if isinstance(left, ir.Symbol) else "u"
        if following.kind in ("name", "num") or following.text == "(":
            v = following.text if following.kind == "name" else "v"
            hint = f" (write {u} . {v} or {u} @ {v} for {u}\u1d40{v})"
        else:
            hint = f" (write {u}.T for the transpose of {u})"
        return self.error(f"unexpected '{token.text}T'", token.column, hint)

    # ----------------------------------------------------------------- operands & operators

    def at(self, text: str) -> bool:
        """Whether the next token is the operator ``text``."""
        return self.peek().kind == "op" and self.peek().text == text

    def symbol(self, token: Token) -> ir.Node:
        """The scope's node for the name ``token``."""
        if token.text in self.scope:
            return self.scope[token.text]
        if token.text in self.dims:
            return ir.Const(self.dims[token.text])
        if token.text in function_names():
            raise self.error(f"'{token.text}' is a function", token.column, f" (call it: {token.text}(...))")
        hint = did_you_mean(token.text, list(self.scope) + list(self.dims))
        hint += f' (declare it, e.g. --let "{token.text}: vector(n)")'
        raise self.error(f"unknown symbol '{token.text}'", token.column, hint)

    def callee(self, token: Token) -> tuple[Callable, int]:
        """The IR builder and argument count of the function named by ``token``."""
        name = token.text
        if name in ARRAY_FUNCTIONS:
            arity, builder = ARRAY_FUNCTIONS[name]
            return builder, arity
        if name in functions.BUILTINS:
            fn = functions.BUILTINS[name]
            return (lambda *args: functions.apply(fn, *args)), len(fn.params)
        if name in self.scope:
            raise self.error(f"'{name}' is a symbol, not a function", token.column, " (write * to multiply)")
        raise self.error(f"unknown function '{name}'", token.column, did_you_mean(name, function_names()))

    def call(self, token: Token, builder: Callable, arity: int, args: list[_Arg]) -> ir.Node:
        """``builder(*args)`` for the call at ``token``, after checking the arguments."""
        name = token.text
        positional, axis_arg = self.split_axis(token, args)
        if len(positional) != arity:
            plural = "" if arity == 1 else "s"
            raise self.error(f"{name}() takes {arity} argument{plural}, got {len(positional)}", token.column)
        nodes = [arg.node for arg in positional]
        if axis_arg is not None:
            return self.build(token.column, builder, nodes[0], self.axis(name, axis_arg, nodes[0]))
        if name in ROW_WISE and nodes[0].shape == ():
            raise self.error(f"{name}() needs a vector or a matrix, got a scalar", token.column)
        constants = [a for a in nodes if isinstance(a, ir.Const)]
        if name in functions.BUILTINS and len(constants) == len(nodes):
            nodes = [_numeric(a) for a in constants]  # keeps SymPy's simplify of the folded call cheap
        return self.build(token.column, builder, *nodes)

    def split_axis(self, token: Token, args: list[_Arg]) -> tuple[list[_Arg], _Arg | None]:
        """The positional arguments and the axis argument (``axis=`` or a constant second one)."""
        name = token.text
        positional = [arg for arg in args if arg.keyword is None]
        keywords = [arg for arg in args if arg.keyword is not None]
        names = [arg.keyword for arg in args if arg.keyword is not None]  # the keyword tokens
        if names and name not in AXIS_FUNCTIONS:
            raise self.error(f"{name}() takes no keyword arguments", names[0].column)
        for keyword in names:
            if keyword.text != "axis":
                message = f"{name}() has no argument '{keyword.text}'"
                raise self.error(message, keyword.column, did_you_mean(keyword.text, ["axis"]))
        if len(names) > 1:
            raise self.error(f"{name}(): axis is given twice", names[1].column)
        if names and len(positional) == 2 and isinstance(positional[1].node, ir.Const):
            raise self.error(f"{name}(): axis is given twice", names[0].column)
        if keywords:
            return positional, keywords[0]
        if name in AXIS_FUNCTIONS and len(positional) == 2 and isinstance(positional[1].node, ir.Const):
            return positional[:1], positional[1]
        return positional, None

    def axis(self, name: str, arg: _Arg, operand: ir.Node) -> int:
        """The axis (0 or 1) written in ``arg`` for ``name`` of ``operand``."""
        value = arg.node.value if isinstance(arg.node, ir.Const) else None
        shown = arg.source if len(arg.source) <= 20 else arg.source[:17] + "..."
        if not isinstance(value, sympy.Integer) or value not in (0, 1):
            raise self.error(f"{name}(A, axis={shown}): axis must be 0 or 1", arg.start.column)
        if value >= max(len(operand.shape), 1):
            message = f"{name}(A, axis={shown}): a {ir.shape_str(operand.shape)} has no axis {value}"
            raise self.error(message, arg.start.column)
        return int(value)

    def arguments(self, opener: Token) -> list[_Arg]:
        """Comma-separated arguments after ``opener``, up to the closing ')'."""
        if self.at(")"):
            self.advance()
            return []
        args = [self.argument()]
        while self.at(","):
            self.advance()
            args.append(self.argument())
            if args[-1].keyword is None and args[-2].keyword is not None:
                raise self.error("positional argument after a keyword argument", args[-1].start.column)
        self.expect(")", opener)
        return args

    def argument(self) -> _Arg:
        """One argument: ``expr`` or ``name = expr``."""
        keyword = None
        following = self.tokens[self.pos + 1] if self.peek().kind == "name" else None
        if following is not None and following.kind == "op" and following.text == "=":
            keyword = self.advance()
            self.advance()
        start = self.peek()
        node = self.expression()
        source = self.text[start.column - 1 : self.peek().column - 1].strip()
        return _Arg(keyword, start, node, source)

    def power(self, base: ir.Node, token: Token, start: Token, exponent: ir.Node) -> ir.Node:
        """``base ^ exponent``: the exponent (starting at ``start``) must be a small number."""
        value = _numeric_exponent(exponent)
        if value is None:
            raise self.error("exponent must be a number", start.column)
        if abs(value) > MAX_EXPONENT:
            size = "larger than" if value > 0 else "smaller than"
            bound = MAX_EXPONENT if value > 0 else -MAX_EXPONENT
            raise self.error(f"exponent {_format(value, bound)} is {size} {bound}", start.column)
        if isinstance(base, ir.Const) and not isinstance(value, sympy.Integer):
            base = _numeric(base)  # no root extraction from huge integers
        return self.build(token.column, ir.power, base, exponent)

    # ----------------------------------------------------------------- building

    def build(self, column: int, builder: Callable, *args: ir.Node | int) -> ir.Node:
        """``builder(*args)``, with IR errors re-raised as ParseError at ``column``."""
        try:
            node = builder(*args)
        except RecursionError:
            raise self.error("expression is nested too deeply to build", column) from None
        except _BUILD_ERRORS as exc:
            raise self.error(str(exc), column) from None
        for arg in node.args:  # constants the builder made: 1/c for a division by c
            if isinstance(arg, ir.Const) and arg.value not in self.seen:
                self.checked(arg, column)
        self.seen.update(a.value for a in args if isinstance(a, ir.Const))
        return self.checked(node, column)

    def is_zero(self, node: ir.Node) -> bool:
        """Whether ``node`` is zero as written (b - b, 0 / c): a denominator that must be refused."""
        if isinstance(node, ir.Zero):
            return True
        if isinstance(node, ir.Const):  # a zero constant: ir.div says so
            return False
        form = self.forms.form(node)
        return form is not None and form == 0

    def defined(self, node: ir.Node, start: Token) -> ir.Node:
        """``node`` (written from ``start`` on), unless it has one value that is not a finite real."""
        if isinstance(node, ir.Const) or not node.elementwise:
            return node
        shown = _clip(self.text[start.column - 1 : self.peek().column - 1].strip())
        form = self.forms.form(node)
        reason = constant_problem(form) if form is not None and form.is_number else ""
        if reason:
            message = f"{shown} equals {describe_constant(form)} for every value of its symbols, which {reason}"
            raise self.error(message, start.column)
        slope = self.forms.constant_slope(node)
        if slope is None or not slope[1].is_number or not constant_problem(slope[1]):
            return node
        value, derivative = describe_constant(slope[0]), describe_constant(slope[1])
        message = f"{shown} has no derivative: its operand is always {value}, where the derivative is {derivative}"
        raise self.error(message, start.column)

    def checked(self, node: ir.Node, column: int) -> ir.Node:
        """``node``, after checking that a constant is a finite real number of bounded size.

        A constant whose SymPy expression grew large is replaced by its numeric value, so later
        folding (and SymPy's simplify in functions.apply) only ever sees small constants.
        """
        if not isinstance(node, ir.Const):
            return node
        value, problem = tame_constant(node.value)
        if problem:
            raise self.error(problem, column)
        return node if value is node.value else ir.Const(value)


def _dimensions(scope: Mapping[str, ir.Node]) -> dict[str, sympy.Symbol]:
    """Every dimension symbol in the shapes of the scope's nodes, by name."""
    found: dict[str, sympy.Symbol] = {}
    for node in scope.values():
        for size in node.shape:
            for symbol in sorted(getattr(size, "free_symbols", ()), key=str):
                found.setdefault(symbol.name, symbol)
    return found


def _left_power(token: Token) -> int:
    """How tightly ``token`` binds as an infix or postfix operator (0: it is not one)."""
    if token.kind != "op":
        return 0
    if token.text in _BINARY:
        return _BINARY[token.text][0]
    if token.text in ("^", "**"):
        return _POWER_BP
    return _POSTFIX_BP if token.text in (".T", "'") else 0


def _clip(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters for an error message."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _numeric_exponent(node: ir.Node):
    """The value of a constant exponent as a Rational or Float, or None if it is not a number."""
    value = node.value if isinstance(node, ir.Const) else None
    if isinstance(value, (sympy.Rational, sympy.Float)):
        return value
    if isinstance(value, sympy.Basic) and not value.free_symbols:
        return _evaluate(value)
    return None


def _numeric(node: ir.Const) -> ir.Const:
    """A constant argument of a fold, made numeric unless it is a small exact number."""
    value = node.value
    if isinstance(value, sympy.Float) or not isinstance(value, sympy.Basic) or value.free_symbols:
        return node
    if isinstance(value, sympy.Rational) and value.p.bit_length() + value.q.bit_length() <= 256:
        return node
    number = _evaluate(value)
    return node if number is None else ir.Const(number)


def _format(value, bound: int) -> str:
    """A number for an error message, with enough digits to tell it from ``bound``."""
    if isinstance(value, sympy.Rational):
        return describe_constant(value)
    number = float(value)
    if abs(number) == float("inf"):
        return str(value)
    for digits in range(6, 18):
        shown = f"{number:.{digits}g}"
        if float(shown) != bound:
            return shown
    return repr(number)

"""The printer base: dispatch on the node's class name, as SymPy's printers do."""

from __future__ import annotations

from functools import lru_cache

import sympy

from .. import ir

# Binding strength of each operation; a child binding more loosely than its parent is wrapped.
PRECEDENCE = {
    ir.Add: 10,
    ir.Sub: 10,
    ir.Mul: 20,
    ir.Div: 20,
    ir.MatMul: 20,
    ir.Chain: 20,
    ir.IndexedSum: 15,
    ir.Neg: 25,
    ir.Pow: 30,
}
ATOM = 100


def precedence(node: ir.Node) -> int:
    if isinstance(node, ir.Const):
        value = node.value
        if value.could_extract_minus_sign():
            return 10
        return ATOM if value.is_Atom else 20
    if isinstance(node, ir.Apply) and (node.fn.inline and not is_indicator(node.fn.body)):
        return _sympy_precedence(node.fn.body)
    return PRECEDENCE.get(type(node), ATOM)


def _sympy_precedence(body: sympy.Expr) -> int:
    from sympy.printing.precedence import PRECEDENCE as SP, precedence as sympy_precedence

    level = sympy_precedence(body)
    if level <= SP["Add"]:
        return 10
    if level <= SP["Mul"]:
        return 20
    if level <= SP["Pow"]:
        return 30
    return ATOM


class Printer:
    """Calls ``_print_<ClassName>`` for the first class in the node's MRO that has one."""

    def doprint(self, node: ir.Node) -> str:
        return self._print(node)

    def _print(self, node: ir.Node) -> str:
        for cls in type(node).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(node)
        raise TypeError(f"{type(self).__name__} cannot print a {type(node).__name__}")

    def wrap(self, child: ir.Node, parent_precedence: int, strict: bool = False) -> str:
        """Print ``child``, in parentheses if it binds more loosely than its parent."""
        text = self._print(child)
        child_precedence = precedence(child)
        if child_precedence < parent_precedence or (strict and child_precedence == parent_precedence):
            return self.parenthesize(text)
        return text

    def parenthesize(self, text: str) -> str:
        return f"({text})"

    def inline_arguments(self, node: ir.Apply, printed: list) -> dict:
        """Printed arguments of an inline function by parameter, parenthesized where needed."""
        bare = bare_arguments(node.fn.body)
        return {
            p: text if p in bare or precedence(arg) >= ATOM else self.parenthesize(text)
            for p, text, arg in zip(node.fn.params, printed, node.args)
        }


class MathPrinter(Printer):
    """A printer of notation: an inline function (or an indicator) as its body, others as calls."""

    def _print_Apply(self, node: ir.Apply) -> str:
        """An inline function (or an indicator) as its body; any other as a named call."""
        fn = node.fn
        args = [self._print(a) for a in node.args]
        if fn.inline or is_indicator(fn.body):
            return self.scalar(fn.body, self.inline_arguments(node, args))
        base = fn.name.rstrip("'")
        return self.call(base, len(fn.name) - len(base), args)

    def scalar(self, body: sympy.Expr, names: dict) -> str:
        """A SymPy scalar expression, its parameters printed as ``names``."""
        raise NotImplementedError

    def call(self, name: str, primes: int, args: list) -> str:
        """A named function (with ``primes`` derivative marks) applied to printed ``args``."""
        raise NotImplementedError


def is_indicator(body: sympy.Expr) -> bool:
    """A Piecewise whose values are all 0 or 1: printed as the indicator of where it is 1."""
    return isinstance(body, sympy.Piecewise) and all(e in (0, 1) for e, _ in body.args) and any(
        e == 1 for e, _ in body.args
    )


def indicator_condition(body: sympy.Piecewise) -> sympy.Basic:
    """Where an indicator Piecewise is 1, as one condition."""
    conditions = [c for e, c in explicit_pieces(body) if e == 1]
    return conditions[0] if len(conditions) == 1 else sympy.Or(*conditions)


@lru_cache(maxsize=None)
def explicit_pieces(body: sympy.Piecewise) -> tuple:
    """(value, condition) pairs with each condition standing alone (no 'otherwise')."""
    pieces, before = [], sympy.false
    variables = sorted(body.free_symbols, key=sympy.default_sort_key)
    for value, condition in body.args:
        alone = sympy.And(condition, sympy.Not(before))
        if len(variables) == 1:
            try:
                alone = alone.as_set().as_relational(variables[0])
            except (NotImplementedError, TypeError, ValueError):
                pass
        pieces.append((value, orient(alone)))
        before = sympy.Or(before, condition)
    return tuple(pieces)


def orient(condition):
    """Write comparisons with the variable on the left: z > 0 rather than 0 < z."""
    return condition.replace(
        lambda e: isinstance(e, sympy.core.relational.Relational) and e.lhs.is_number and not e.rhs.is_number,
        lambda e: e.reversed,
    )


def sample_name(symbol: ir.Symbol) -> str:
    """The name of row i of a data matrix: x_i for X."""
    return symbol.name.lower() if len(symbol.shape) == 2 else symbol.name


def bare_arguments(body: sympy.Expr) -> set:
    """Parameters that appear only as whole arguments of functions (no parentheses needed)."""
    bare, wrapped = set(), set()

    def visit(node, parent):
        if isinstance(node, sympy.Symbol):
            direct = isinstance(parent, (sympy.Function, sympy.Max, sympy.Min, sympy.Abs))
            (bare if direct else wrapped).add(node)
            return
        for arg in node.args:
            visit(arg, node)

    visit(body, None)
    return bare - wrapped


def is_dot(node: ir.Node) -> bool:
    """sum(a ⊙ b) of two vectors: the dot product a · b, as it was written."""
    inner = node.args[0] if isinstance(node, ir.Sum) else None
    return isinstance(inner, ir.Mul) and all(isinstance(a, ir.Symbol) and len(a.shape) == 1 for a in inner.args)

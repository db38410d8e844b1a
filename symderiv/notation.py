"""SymPy-only helpers shared by the engine and every printer: indicators, explicit pieces,
orientation of comparisons, and scalar bodies as plain text. Imports no printer of the IR."""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy.printing.str import StrPrinter

ATOM = 100


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
        try:
            if len(variables) == 1:
                alone = alone.as_set().as_relational(variables[0])
            elif sympy.count_ops(alone) < 20:
                alone = alone.simplify()  # u ≤ v and u < v → u < v; not (u > v or u < v) → u = v
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


def function_precedence(fn) -> int:
    """How tightly an applied scalar function binds when printed (inline bodies like SymPy's)."""
    if not fn.inline or is_indicator(fn.body):
        return ATOM
    from sympy.printing.precedence import PRECEDENCE as SP, precedence as sympy_precedence

    level = sympy_precedence(fn.body)
    if level <= SP["Add"]:
        return 10
    if level <= SP["Mul"]:
        return 20
    if level <= SP["Pow"]:
        return 30
    return ATOM


class ScalarTextPrinter(StrPrinter):
    """SymPy's str printer with ``^``, max/min/abs in lower case and named parameters."""

    def __init__(self, names: dict | None = None):
        super().__init__({"order": "none"})
        self.names = names or {}

    def _print_Symbol(self, expr):
        return self.names.get(expr, expr.name)

    def _print_Pow(self, expr, rational=False):
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Relational(self, expr):
        op = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return " and ".join(self._print(a) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self._print(a) for a in expr.args)

    def _print_Piecewise(self, expr):
        if is_indicator(expr):
            return f"1[{self._print(indicator_condition(expr))}]"
        pieces = [f"{self._print(e)} if {self._print(c)}" for e, c in explicit_pieces(expr)]
        return "{" + "; ".join(pieces) + "}"


def scalar_text(expr: sympy.Expr, names: dict | None = None) -> str:
    return ScalarTextPrinter(names).doprint(expr)

"""Plain-text printing of IR expressions and of their scalar SymPy bodies."""

from __future__ import annotations

import sympy
from sympy.printing.str import StrPrinter

from .. import ir
from .base import (
    MathPrinter,
    explicit_pieces,
    indicator_condition,
    is_dot,
    is_indicator,
    precedence,
    sample_name,
)


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


class TextPrinter(MathPrinter):
    """NumPy-like text: ``*`` element-wise, ``@`` matrix product, ``.T`` transpose."""

    def _print_Symbol(self, node):
        return node.name

    def _print_Const(self, node):
        return scalar_text(node.value)

    def _print_Ones(self, node):
        return "1"

    def _print_Zero(self, node):
        return "0"

    def _print_Identity(self, node):
        return "I"

    def _binary(self, node, op):
        p = precedence(node)
        return f"{self.wrap(node.args[0], p)} {op} {self.wrap(node.args[1], p, strict=True)}"

    def _print_Add(self, node):
        return self._binary(node, "+")

    def _print_Sub(self, node):
        return self._binary(node, "-")

    def _print_Mul(self, node):
        if isinstance(node.args[1], ir.IndexedSum):
            return f"{self.wrap(node.args[0], 20)} * {self._print(node.args[1])}"
        return self._binary(node, "*")

    def _print_Div(self, node):
        return self._binary(node, "/")

    def _print_MatMul(self, node):
        return self._binary(node, "@")

    def _print_Neg(self, node):
        return f"-{self.wrap(node.args[0], precedence(node), strict=True)}"

    def _print_Pow(self, node):
        return f"{self.wrap(node.args[0], precedence(node), strict=True)}^{self.wrap(node.args[1], precedence(node))}"

    def _print_Transpose(self, node):
        return f"{self.wrap(node.args[0], 99)}.T"

    def _print_Row(self, node):
        return f"{self.wrap(node.args[0], 99)}^T"

    def _print_Sum(self, node):
        if is_dot(node):
            a, b = node.args[0].args
            return f"{self.wrap(a, 21)} @ {self.wrap(b, 21)}"
        return f"sum({self._print(node.args[0])})"

    def _print_Mean(self, node):
        return f"mean({self._print(node.args[0])})"

    def _print_Diag(self, node):
        return f"diag({self._print(node.args[0])})"

    def _print_Chain(self, node):
        return " ".join(self.wrap(f, 21) for f in node.args)

    def _print_IndexedSum(self, node):
        return f"sum_{{{node.index}=1..{node.upper}}} {self.wrap(node.args[0], 21)}"

    def _print_Elem(self, node):
        return f"{sample_name(node.args[0])}_{node.index}"

    def scalar(self, body, names):
        return scalar_text(body, names)

    def call(self, name, primes, args):
        return name + "'" * primes + f"({', '.join(args)})"


def to_text(node: ir.Node) -> str:
    return TextPrinter().doprint(node)

"""The printer base: dispatch on the node's class name, as SymPy's printers do."""

from __future__ import annotations

import sympy

from .. import ir
from ..notation import (  # noqa: F401  (re-exported for the printers)
    ATOM,
    bare_arguments,
    explicit_pieces,
    indicator_condition,
    is_indicator,
    orient,
)


def precedence(node: ir.Node) -> int:
    """How tightly a node binds when printed: each node class says so itself."""
    return node.precedence


class Printer:
    """Calls ``_print_<ClassName>`` for the first class in the node's MRO that has one."""

    notation_binding: dict = {}  # class name -> binding, where the notation differs from the class

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
        child_precedence = self.binding(child)
        if child_precedence < parent_precedence or (strict and child_precedence == parent_precedence):
            return self.parenthesize(text)
        return text

    def binding(self, node: ir.Node) -> int:
        """How tightly ``node`` binds as this printer writes it: its class's precedence, unless the
        notation makes it a product (1bᵀ) or a subscripted operator (∇_X C)."""
        return self.notation_binding.get(type(node).__name__, node.precedence)

    def parenthesize(self, text: str) -> str:
        return f"({text})"

    def chain_factors(self, factors) -> list:
        """The factors of a product of Jacobians; a negated one after the first in parentheses,
        (−I), so that its sign never reads as a subtraction between factors."""
        texts = [self.wrap(f, 21) for f in factors]
        return [self.parenthesize(t) if k and isinstance(f, ir.Neg) else t for k, (f, t) in enumerate(zip(factors, texts))]

    def inline_arguments(self, node: ir.Apply, printed: list) -> dict:
        """Printed arguments of an inline function by parameter, parenthesized where needed."""
        bare = bare_arguments(node.fn.body)
        return {
            p: text if p in bare or self.binding(arg) >= ATOM else self.parenthesize(text)
            for p, text, arg in zip(node.fn.params, printed, node.args)
        }


PRODUCT = 20  # how tightly a juxtaposed product (X W, 1bᵀ, u vᵀ) binds
SUBSCRIPTED = 90  # ∇_X C: an atom in products, parenthesized under a transpose or a power


class MathPrinter(Printer):
    """A printer of notation: an inline function (or an indicator) as its body, others as calls."""

    notation_binding: dict = {"Broadcast": PRODUCT, "Adjoint": SUBSCRIPTED}
    axis_reduction_binding = PRODUCT  # Gᵀ1, (1/N) G1

    def binding(self, node: ir.Node) -> int:
        if is_axis_reduction(node):
            return self.axis_reduction_binding
        return super().binding(node)

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


def sample_name(symbol: ir.Symbol) -> str:
    """The name of row i of a data matrix: x_i for X."""
    return symbol.name.lower() if len(symbol.shape) == 2 else symbol.name


def is_axis_reduction(node: ir.Node) -> bool:
    """A sum or mean along one axis of a matrix (printed Gᵀ1 or G1, not as a full sum)."""
    return isinstance(node, (ir.Sum, ir.Mean)) and node.axis is not None and len(node.args[0].shape) == 2


def scaled_without_parentheses(a: ir.Node, b: ir.Node) -> bool:
    """a · b written ``a b``: b a sum over i, or a scalar times a product (⊙, XW, 1bᵀ, u vᵀ, Gᵀ1)."""
    if isinstance(b, ir.IndexedSum):
        return True
    return a.shape == () and (isinstance(b, (ir.Mul, ir.MatMul, ir.Outer, ir.Broadcast)) or is_axis_reduction(b))


def spread(parent: ir.Node, operand: ir.Node) -> ir.Node:
    """An element-wise operand as it acts: a vector added to every row of a matrix is 1bᵀ."""
    if len(parent.shape) == 2 and len(operand.shape) == 1:
        return ir.Broadcast(operand, 0, parent.shape[0])
    return operand


def is_dot(node: ir.Node) -> bool:
    """sum(a ⊙ b) of two vectors: the dot product a · b, as it was written."""
    inner = node.args[0] if isinstance(node, ir.Sum) else None
    return isinstance(inner, ir.Mul) and all(isinstance(a, ir.Symbol) and len(a.shape) == 1 for a in inner.args)

"""IR expressions printed as NumPy source (element-wise parts through the scalar printer)."""

from __future__ import annotations

import sympy

from .. import ir
from ..numpy_printer import _PREC_ADD, _PREC_ATOM, _PREC_MUL, _PREC_NEG, _PREC_POW, ScalarPrinter


class Printer:
    """IR nodes as NumPy source; element-wise function bodies go through :class:`ScalarPrinter`.

    ``hoist(node)`` is called for each element-wise function application and returns the name
    of a variable computed beforehand (see :mod:`.emit`). Ones and zeros are of the module's
    ``dtype``; the dimension ``rows`` (inside a block of rows) prints as ``rows``.
    """

    def __init__(self, dims: dict, rows=None, hoist=None):
        self.dims = dims  # dimension symbol -> source name
        self.rows = rows  # the dimension that counts this block's rows
        self.hoist = hoist
        self.helpers: set = set()  # helper functions the printed code calls

    def doprint(self, node: ir.Node) -> str:
        return self._print(node)

    def _print(self, node: ir.Node) -> str:
        method = getattr(self, f"_print_{type(node).__name__}", None)
        if method is None:
            raise ValueError(f"no NumPy printing for the operation {type(node).__name__}")
        return method(node)

    def wrap(self, node: ir.Node, level: int, strict: bool = False) -> str:
        text = self._print(node)
        own = _IR_PRECEDENCE.get(type(node), _PREC_ATOM)
        if isinstance(node, ir.Const):
            own = _PREC_ATOM if not text.startswith("-") and " " not in text else _PREC_MUL
        return f"({text})" if own < level or (strict and own == level) else text

    def constant(self, value) -> str:
        value = sympy.sympify(value, strict=True)
        names = {d: sympy.Symbol(self.dims[d]) for d in value.free_symbols if d in self.dims}
        return ScalarPrinter(arrays=set()).doprint(value.xreplace(names))

    def shape(self, shape: tuple) -> str:
        parts = ["rows" if d == self.rows else self.constant(d) for d in shape]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"

    def _binary(self, node, op: str, level: int):
        """Ones beside an operand of the full shape print as 1 (NumPy broadcasts it)."""
        a, b = node.args
        left = self._spread(a, level) if b.shape == node.shape else self.wrap(a, level)
        right = self._spread(b, level, strict=True) if a.shape == node.shape else self.wrap(b, level, strict=True)
        return f"{left} {op} {right}"

    def _spread(self, node: ir.Node, level: int, strict: bool = False) -> str:
        """An operand that NumPy's broadcasting spreads over the other's shape, without the spread."""
        if isinstance(node, ir.Broadcast) and node.axis == 1:  # a vector over every column
            return self.wrap(node.args[0], 100) + "[:, None]"
        return self.wrap(_without_ones(node), level, strict)

    def _print_Ones(self, node):
        return f"np.ones({self.shape(node.shape)}, dtype)" if node.shape else "1"

    def _print_Zero(self, node):
        return f"np.zeros({self.shape(node.shape)}, dtype)" if node.shape else "0"

    def _print_Broadcast(self, node):
        v = self.wrap(node.args[0], 100)
        if node.axis == 0:
            return f"np.broadcast_to({v}, {self.shape(node.shape)})"
        return f"np.broadcast_to({v}[:, None], {self.shape(node.shape)})"

    def _print_Symbol(self, node):
        return node.name

    def _print_Const(self, node):
        return self.constant(node.value)

    def _print_Add(self, node):
        return self._binary(node, "+", _PREC_ADD)

    def _print_Sub(self, node):
        return self._binary(node, "-", _PREC_ADD)

    def _print_Mul(self, node):
        return self._binary(node, "*", _PREC_MUL)

    def _print_Div(self, node):
        return self._binary(node, "/", _PREC_MUL)

    def _print_MatMul(self, node):
        return self._binary(node, "@", _PREC_MUL)

    def _print_Neg(self, node):
        return "-" + self.wrap(node.args[0], _PREC_NEG)

    def _print_Pow(self, node):
        base, exponent = node.args
        simple = isinstance(base, ir.Symbol) and isinstance(exponent, ir.Const)
        op = "**" if simple and not self._print(exponent).startswith("-") else " ** "
        return self.wrap(base, _PREC_POW, strict=True) + op + self.wrap(exponent, _PREC_POW)

    def _print_Transpose(self, node):
        return self.wrap(node.args[0], _PREC_ATOM) + ".T"

    def _print_Sum(self, node):
        return f"np.sum({self._print(node.args[0])}{self._axis(node)})"

    def _print_Mean(self, node):
        return f"np.mean({self._print(node.args[0])}{self._axis(node)})"

    def _axis(self, node) -> str:
        return "" if node.axis is None or len(node.args[0].shape) < 2 else f", axis={node.axis}"

    def _print_Outer(self, node):
        return f"np.outer({self._print(node.args[0])}, {self._print(node.args[1])})"

    def _print_Softmax(self, node):
        self.helpers.add("_softmax")
        return f"_softmax({self._print(node.args[0])})"

    def _print_LogSoftmax(self, node):
        self.helpers.add("_log_softmax")
        return f"_log_softmax({self._print(node.args[0])})"

    def _print_LogSumExp(self, node):
        self.helpers.add("_logsumexp")
        return f"_logsumexp({self._print(node.args[0])})"

    def _print_Apply(self, node):
        if self.hoist is None:
            raise ValueError("element-wise functions are computed as separate statements (no hoist given)")
        return self.hoist(node)


_IR_PRECEDENCE = {
    ir.Add: _PREC_ADD,
    ir.Sub: _PREC_ADD,
    ir.Mul: _PREC_MUL,
    ir.Div: _PREC_MUL,
    ir.MatMul: _PREC_MUL,
    ir.Neg: _PREC_NEG,
    ir.Pow: _PREC_POW,
}

def _without_ones(node: ir.Node) -> ir.Node:
    """A scalar spread over ones (c · 1) as the scalar, where NumPy's broadcasting spreads it."""
    if isinstance(node, ir.Ones):
        return ir.Const(1)
    if isinstance(node, ir.Broadcast) and node.axis == 0:  # a vector over every row
        return node.args[0]
    if isinstance(node, ir.Mul) and any(isinstance(a, ir.Ones) for a in node.args):
        scalar = [a for a in node.args if not isinstance(a, ir.Ones)]
        if len(scalar) == 1 and scalar[0].shape == ():
            return scalar[0]
    return node

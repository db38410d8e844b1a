"""Plain-text printing of IR expressions and of their scalar SymPy bodies."""

from __future__ import annotations

from .. import ir
from ..notation import printable, scalar_text
from .base import (
    ATOM,
    MathPrinter,
    is_dot,
    precedence,
    sample_name,
)


class TextPrinter(MathPrinter):
    """NumPy-like text: ``*`` element-wise, ``@`` matrix product, ``.T`` transpose; ``1 b^T`` for a
    vector repeated on every row, ``dW`` a differential, ``grad_W C`` an adjoint."""

    axis_reduction_binding = ATOM  # sum(A, axis=0) is a call

    def binding(self, node):
        return 15 if is_dot(node) else super().binding(node)  # (x @ x) / (w @ w): never x @ x / w @ w

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
        return self._reduction("sum", node)

    def _print_Mean(self, node):
        return self._reduction("mean", node)

    def _reduction(self, word, node):
        axis = "" if node.axis is None else f", axis={node.axis}"
        return f"{word}({self._print(node.args[0])}{axis})"

    def _print_Broadcast(self, node):
        v = f"{self.wrap(node.args[0], 99)}^T"
        return f"1 {v}" if node.axis == 0 else f"{self.wrap(node.args[0], 20, strict=True)} 1^T"

    def _print_Outer(self, node):
        u, v = node.args
        return f"{self.wrap(u, 20, strict=True)} {self.wrap(v, 99)}^T"

    def _print_Softmax(self, node):
        return f"softmax({self._print(node.args[0])})"

    def _print_LogSoftmax(self, node):
        return f"log_softmax({self._print(node.args[0])})"

    def _print_LogSumExp(self, node):
        return f"logsumexp({self._print(node.args[0])})"

    def _print_Differential(self, node):
        return f"d{self.wrap(node.args[0], ATOM)}"

    def _print_Adjoint(self, node):
        return f"grad_{self.wrap(node.args[0], ATOM)} {node.output}"

    def _print_Inner(self, node):
        return f"<{self._print(node.args[0])}, {self._print(node.args[1])}>"

    def _print_Entry(self, node):
        of = node.args[0]
        name = of.name if isinstance(of, ir.Symbol) else self.parenthesize(self._print(of))
        return indexed(name, "".join(node.indices))

    def _print_Diag(self, node):
        return f"diag({self._print(node.args[0])})"

    def _print_Chain(self, node):
        return " ".join(self.chain_factors(node.args))

    def _print_IndexedSum(self, node):
        return f"sum_{{{node.index}=1..{node.upper}}} {self.wrap(node.args[0], 21)}"

    def _print_Elem(self, node):
        of = node.args[0]
        name = sample_name(of) if isinstance(of, ir.Symbol) else self.parenthesize(self._print(of))
        return indexed(name, node.index)

    def _print_Node(self, node):
        """An operation with no notation of its own, as a call: ``name(operands)``."""
        return f"{type(node).__name__.lower()}({', '.join(self._print(a) for a in node.args)})"

    def scalar(self, body, names):
        return scalar_text(body, names)

    def call(self, name, primes, args):
        return printable(name) + "'" * primes + f"({', '.join(args)})"


def indexed(name: str, index: str) -> str:
    """``name`` with subscript ``index``: x_i, X_ij; a layer's Z_1 gives Z_{1,ik}."""
    if not index:
        return name
    base, _, subscript = name.partition("_")
    if not subscript or subscript.startswith("_"):
        return f"{name}_{index}"
    return f"{base}_{{{subscript},{index}}}"


def to_text(node: ir.Node) -> str:
    return TextPrinter().doprint(node)


ir.FORMATTER[0] = to_text  # nodes print as text in messages and reprs

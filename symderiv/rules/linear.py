"""Rules of linear and bilinear operations: products, transposes, reductions and broadcasts.

A linear operation's vector-Jacobian product is its transpose (sum along an axis and broadcast
along it are each other's transposes); the matrix product is bilinear and has one rule per
operand: G Bᵀ for the left one and Aᵀ G for the right one.
"""

from __future__ import annotations

from .. import ir
from ..ir import Const, Node, Ones, Row, mul
from . import Context, label, register


# --------------------------------------------------------------------------- matrix product


def _matmul_vjp(n: Node, g: Node, k: int, c: Context) -> Node:
    a, b = n.args
    if k == 1:
        return ir.matmul(ir.transpose(a), g)
    return ir.outer(g, b) if len(b.shape) == 1 else ir.matmul(g, ir.transpose(b))


def _matmul_jvp(n: Node, k: int, d: Node, c: Context) -> Node:
    a, b = n.args
    return ir.matmul(d, b) if k == 0 else ir.matmul(a, d)


def _matmul_jacobian(n: Node, k: int, c: Context):
    return n.args[0] if k == 1 and len(n.args[1].shape) == 1 else None


def _matmul_explain(n: Node, k: int, c: Context) -> str:
    a, b = (label(x) for x in n.args)
    if k == 1 and len(n.args[1].shape) == 1:
        return f"row i of {a}{b} is the dot product of row i of {a} with {b}, so the Jacobian is {a} itself"
    if k == 1:
        return f"{a}{b} is linear in {b}: its differential is {a} d{b}, and ⟨G, {a} d{b}⟩ = ⟨{a}ᵀG, d{b}⟩"
    return f"{a}{b} is linear in {a}: its differential is d{a} {b}, and ⟨G, d{a} {b}⟩ = ⟨G{b}ᵀ, d{a}⟩"


def _matmul_name(n: Node) -> str:
    return "matrix-vector product" if len(n.args[1].shape) == 1 else "matrix product"


register(ir.MatMul, _matmul_name, jvp=_matmul_jvp, vjp=_matmul_vjp, jacobian=_matmul_jacobian,
         explain=_matmul_explain)

register(
    ir.Outer,
    "outer product",
    jvp=lambda n, k, d, c: ir.outer(d, n.args[1]) if k == 0 else ir.outer(n.args[0], d),
    vjp=lambda n, g, k, c: ir.matmul(g, n.args[1]) if k == 0 else ir.matmul(ir.transpose(g), n.args[0]),
    explain=lambda n, k, c: "the outer product u vᵀ is linear in each factor",
)

register(
    ir.Transpose,
    "transpose",
    jvp=lambda n, k, d, c: ir.transpose(d),
    vjp=lambda n, g, k, c: ir.transpose(g),
    explain=lambda n, k, c: f"transposing is linear: the adjoint of {label(n.args[0])} is the adjoint "
    "of its transpose, transposed",
)


# --------------------------------------------------------------------------- reductions and broadcasts


def _spread(n: Node, g: Node) -> Node:
    """The adjoint of a reduction's operand: ``g`` repeated over what the reduction summed."""
    shape = n.args[0].shape
    if n.axis is None or len(shape) < 2:
        return mul(g, Ones(shape)) if shape else g
    return ir.broadcast(g, n.axis, shape[n.axis])


def _reduction_jacobian(n: Node, weight: Node):
    shape = n.args[0].shape
    if len(shape) > 1:
        return None
    return mul(weight, Row(Ones(shape))) if shape else weight


def _axis_words(n: Node) -> str:
    if n.axis is None or len(n.args[0].shape) < 2:
        return f"every element of {label(n.args[0])}"
    return "every row" if n.axis == 0 else "every column"


register(
    ir.Sum,
    "sum reduction",
    jvp=lambda n, k, d, c: ir.total(d, n.axis),
    vjp=lambda n, g, k, c: _spread(n, g),
    jacobian=lambda n, k, c: _reduction_jacobian(n, Const(1)),
    explain=lambda n, k, c: _explain_reduction(n, "enters the sum with weight 1", "a row of ones"),
)


def _explain_reduction(n: Node, weight: str, row: str) -> str:
    """Why a sum has its derivative: a row of ones, or the adjoint spread back."""
    if len(n.args[0].shape) > 1:
        return f"{_axis_words(n)} {weight}, so the adjoint is spread back over what was summed"
    return f"every element of {label(n.args[0])} {weight}, so the derivative is {row}"


def _explain_mean(n: Node) -> str:
    count = n.count()
    weight = f"1/{count}" if count.is_Atom else f"1/({count})"
    if len(n.args[0].shape) > 1:
        return f"the mean weighs {_axis_words(n)} by {weight}, so the adjoint is spread back over what was averaged, times {weight}"
    return f"the mean weighs every element of {label(n.args[0])} by {weight}, so the derivative is a row of {weight}"


def _mean_weight(n: Node) -> Node:
    return Const(1 / n.count())


register(
    ir.Mean,
    "mean reduction",
    jvp=lambda n, k, d, c: ir.mean(d, n.axis),
    vjp=lambda n, g, k, c: mul(_mean_weight(n), _spread(n, g)),
    jacobian=lambda n, k, c: _reduction_jacobian(n, _mean_weight(n)),
    explain=lambda n, k, c: _explain_mean(n),
)

register(
    ir.Broadcast,
    "broadcast",
    jvp=lambda n, k, d, c: ir.broadcast(d, n.axis, n.shape[n.axis]),
    vjp=lambda n, g, k, c: ir.total(g, n.axis),
    explain=lambda n, k, c: f"{label(n.args[0])} is repeated on every "
    f"{'row' if n.axis == 0 else 'column'}, so its adjoint sums the adjoint over the "
    f"{'rows' if n.axis == 0 else 'columns'}",
)

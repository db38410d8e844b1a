"""Rules of linear and bilinear operations: products, transposes, reductions and broadcasts.

A linear operation's vector-Jacobian product is its transpose (sum along an axis and broadcast
along it are each other's transposes); the matrix product is bilinear and has one rule per
operand: G Bᵀ for the left one and Aᵀ G for the right one.
"""

from __future__ import annotations

from .. import ir
from ..explain import Prose, math
from ..ir import Const, Node, Ones, Row, mul
from . import Context, register

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


def _matmul_explain(n: Node, k: int, c: Context) -> Prose:
    a, b = n.args
    this = n.args[k]
    g = ir.Symbol("g" if len(n.shape) == 1 else "G", n.shape)
    change = _matmul_jvp(n, k, ir.Differential(this), c)
    backprop = Prose(
        "the product ", n, " is linear in ", this, ": its differential is ", change, ", and with ", g,
        " the adjoint of ", c.value_of(n), ", ",
        math(ir.Inner(g, change), "=", ir.Inner(_matmul_vjp(n, g, k, c), ir.Differential(this))),
    )
    if k == 1 and len(b.shape) == 1:
        i = ir.Symbol("i")
        return Prose("row ", i, " of ", n, " is the dot product of row ", i, " of ", a, " with ", b,
                     ", so the Jacobian is ", a, " itself", backprop=backprop)
    return backprop


def _matmul_name(n: Node) -> str:
    return "matrix-vector product" if len(n.args[1].shape) == 1 else "matrix product"


register(ir.MatMul, _matmul_name, jvp=_matmul_jvp, vjp=_matmul_vjp, jacobian=_matmul_jacobian,
         explain=_matmul_explain)

register(
    ir.Outer,
    "outer product",
    jvp=lambda n, k, d, c: ir.outer(d, n.args[1]) if k == 0 else ir.outer(n.args[0], d),
    vjp=lambda n, g, k, c: ir.matmul(g, n.args[1]) if k == 0 else ir.matmul(ir.transpose(g), n.args[0]),
    explain=lambda n, k, c: Prose("the outer product ", n, " is linear in ", n.args[k], ": its differential is ",
                                  ir.outer(ir.Differential(n.args[0]), n.args[1]) if k == 0
                                  else ir.outer(n.args[0], ir.Differential(n.args[1]))),
)

register(
    ir.Transpose,
    "transpose",
    jvp=lambda n, k, d, c: ir.transpose(d),
    vjp=lambda n, g, k, c: ir.transpose(g),
    explain=lambda n, k, c: Prose("transposing is linear: the adjoint of ", n.args[0], " is the adjoint of ",
                                  c.value_of(n), ", transposed"),
)


# --------------------------------------------------------------------------- reductions and broadcasts


def _spread(n: ir.Sum | ir.Mean, g: Node) -> Node:
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


def _axis_words(n: ir.Sum | ir.Mean) -> Prose:
    if n.axis is None or len(n.args[0].shape) < 2:
        return Prose("every element of ", n.args[0])
    return Prose("every row" if n.axis == 0 else "every column")


register(
    ir.Sum,
    "sum reduction",
    jvp=lambda n, k, d, c: ir.total(d, n.axis),
    vjp=lambda n, g, k, c: _spread(n, g),
    jacobian=lambda n, k, c: _reduction_jacobian(n, Const(1)),
    explain=lambda n, k, c: _explain_reduction(n, c),
)


def _explain_reduction(n: ir.Sum, c: Context) -> Prose:
    """Why a sum has its derivative: a row of ones, or the adjoint spread back."""
    backprop = Prose(_axis_words(n), " enters the sum with weight 1, so the adjoint of ", c.value_of(n),
                     " is spread back over what was summed")
    if len(n.args[0].shape) > 1:
        return backprop
    return Prose(_axis_words(n), " enters the sum with weight 1, so the derivative is a row of ones",
                 backprop=backprop)


def _explain_mean(n: ir.Mean, c: Context) -> Prose:
    weight = _mean_weight(n)
    backprop = Prose("the mean weighs ", _axis_words(n), " by ", weight, ", so the adjoint of ", c.value_of(n),
                     " is spread back over what was averaged, times ", weight)
    if len(n.args[0].shape) > 1:
        return backprop
    return Prose("the mean weighs ", _axis_words(n), " by ", weight, ", so the derivative is a row of ", weight,
                 backprop=backprop)


def _mean_weight(n: ir.Mean) -> Node:
    return Const(1 / n.count())


register(
    ir.Mean,
    "mean reduction",
    jvp=lambda n, k, d, c: ir.mean(d, n.axis),
    vjp=lambda n, g, k, c: mul(_mean_weight(n), _spread(n, g)),
    jacobian=lambda n, k, c: _reduction_jacobian(n, _mean_weight(n)),
    explain=lambda n, k, c: _explain_mean(n, c),
)

register(
    ir.Broadcast,
    "broadcast",
    jvp=lambda n, k, d, c: ir.broadcast(d, n.axis, n.shape[n.axis]),
    vjp=lambda n, g, k, c: ir.total(g, n.axis),
    explain=lambda n, k, c: Prose(
        "the vector ", n.args[0], f" is repeated on every {'row' if n.axis == 0 else 'column'}, so its adjoint "
        f"sums the adjoint of ", c.value_of(n), f" over the {'rows' if n.axis == 0 else 'columns'}"),
)

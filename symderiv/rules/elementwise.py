"""Rules of element-wise operations: arithmetic and scalar functions applied element by element.

An element-wise rule is one local derivative (an IR expression, element by element); its
differential, vector-Jacobian product and Jacobian all follow from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .. import ir
from ..errors import MissingRuleError
from ..explain import Prose, math
from ..ir import Const, Diag, Identity, Node, Ones, mul, neg, total
from . import Context, register

N = TypeVar("N", bound=Node)

def unbroadcast(g: Node, shape: tuple) -> Node:
    """Sum an adjoint over what an operand was expanded to: every element for a scalar, the rows
    for a vector spread over the rows of a matrix (broadcast and sum are each other's transposes)."""
    if shape == () and g.shape != ():
        return total(g)
    if len(shape) == 1 and len(g.shape) == 2:
        return total(g, 0)
    return g


def elementwise_jacobian(node: Node, operand: Node, local: Node) -> Node:
    """The Jacobian of an element-wise result by one operand, given the element-wise derivative."""
    if node.shape == ():
        return local
    if operand.shape == ():  # scalar expansion: every element moves with the scalar
        return local if local.shape else mul(local, Ones(node.shape))
    if isinstance(local, Const):
        return Identity(node.shape[0]) if local.value == 1 else mul(local, Identity(node.shape[0]))
    return Diag(local if local.shape else mul(local, Ones(node.shape)))


def elementwise_vjp(operand: Node, local: Node, g: Node) -> Node:
    return unbroadcast(mul(local, g), operand.shape)


def _vector_jacobian(node: Node, operand: Node, local: Node):
    return elementwise_jacobian(node, operand, local) if len(node.shape) < 2 else None


def _shaped(change: Node, shape: tuple) -> Node:
    """A differential spread to the node's shape: a scalar operand moves every element, a vector
    spread over the rows moves every row (1 dbᵀ)."""
    if shape and not change.shape:
        return mul(change, Ones(shape))
    if len(shape) == 2 and len(change.shape) == 1:
        return ir.broadcast(change, 0, shape[0])
    return change


def register_elementwise(
    op: type[N],
    name: str,
    local: Callable[[N, int, Context], Node],
    explain: Callable[[N, int, Context], str],
) -> None:
    """Register an element-wise operation from its local derivative ``local(node, k, context)``."""
    register(
        op,
        name,
        jvp=lambda n, k, d, c: _shaped(mul(local(n, k, c), d), n.shape),
        vjp=lambda n, g, k, c: elementwise_vjp(n.args[k], local(n, k, c), g),
        jacobian=lambda n, k, c: _vector_jacobian(n, n.args[k], local(n, k, c)),
        explain=explain,
    )


def _is_expanded(node: Node, k: int) -> bool:
    return node.shape != () and node.args[k].shape == ()


def _over_rows(node: Node, k: int) -> bool:
    return len(node.shape) == 2 and len(node.args[k].shape) == 1


def _identity_word(node: Node, negative: bool = False):
    if node.shape == ():
        return Const(-1) if negative else Const(1)
    return "minus the identity" if negative else "the identity"


def _explain_sum(node: Node, k: int, c: Context) -> Prose:
    this, other, result = node.args[k], node.args[1 - k], c.value_of(node)
    minus = isinstance(node, ir.Sub) and k == 1
    verb = "subtracted from" if minus else "added to"
    if _is_expanded(node, k):
        return Prose(
            "the scalar ", this, f" is {verb} every element (scalar expansion), so the derivative is ",
            "minus " if minus else "", "a vector of ones",
            backprop=Prose("the scalar ", this, f" is {verb} every element of ", result, ", so its adjoint is ",
                           "minus " if minus else "", "the sum of the adjoint of ", result),
        )
    if _over_rows(node, k):
        return Prose("the vector ", this, f" is {verb} every row of ", other, ", so its adjoint is ",
                     "minus " if minus else "", "the adjoint of ", result, " summed over the rows")
    if minus:
        return Prose("subtracting ", this, " flips the sign of its change, so the derivative is ",
                     _identity_word(node, True),
                     backprop=Prose("subtracting ", this, " flips the sign of its differential, so its adjoint is ",
                                    "minus the adjoint of ", result))
    verb = "adding" if isinstance(node, ir.Add) else "subtracting"
    return Prose(f"{verb} ", other, " shifts ", this, " without changing its rate of change, so the derivative is ",
                 _identity_word(node),
                 backprop=Prose(f"{verb} ", other, " passes a change of ", this, " through unchanged, and ",
                                this, " receives the adjoint of ", result, " as it is"))


def _explain_product(node: Node, k: int, c: Context) -> Prose:
    this, other, result = node.args[k], node.args[1 - k], c.value_of(node)
    summed = "the sum of " if this.shape == () and node.shape else ""
    backprop = Prose("the product is linear in ", this, ": its differential is ",
                     _shaped(mul(other, ir.Differential(this)), node.shape), ", so the adjoint of ", this, " is ",
                     summed, other, " times the adjoint of ", result,
                     ", element by element" if other.shape and this.shape else "")
    if this.key == other.key:
        jacobian = ("the derivative is ",) if node.shape == () else ("the Jacobian is diagonal with ",)
        return Prose("each element of ", this, " is multiplied by itself, so by the product rule ", *jacobian,
                     mul(Const(2), this), "" if node.shape == () else " on it",
                     backprop=Prose("by the product rule, ", math(ir.Differential(node), "=",
                                    mul(Const(2), mul(this, ir.Differential(this))))))
    if this.shape == ():
        where = " every element of " if other.shape else " "
        return Prose("the scalar ", this, f" multiplies{where}", other, ", so the derivative is ", other,
                     " itself" if other.shape else "", backprop=backprop)
    if other.shape == ():
        return Prose("every element of ", this, " is multiplied by the scalar ", other,
                     ", so the Jacobian is ", other, " times the identity", backprop=backprop)
    return Prose("each element of ", this, " is multiplied by the matching element of ", other,
                 ", so the Jacobian is diagonal with ", other, " on it", backprop=backprop)


def _explain_quotient(node: Node, k: int, c: Context) -> Prose:
    """The quotient rule for every operand that varies: one sentence, the same for each operand."""
    p, q = node.args
    moves = [i for i in (0, 1) if c.varies(node.args[i]) or i == k]
    locals_ = {0: ir.div(Const(1), q), 1: neg(ir.div(p, ir.power(q, Const(2))))}
    parts = ["by the quotient rule, the derivative of ", node]
    for n, i in enumerate(moves):
        parts.extend([" and " if n else " is ", locals_[i], " by ", node.args[i]])
    parts.append(", element by element" if node.shape else "")
    changes = [mul(locals_[i], ir.Differential(node.args[i])) for i in moves]
    differential = changes[0] if len(changes) == 1 else ir.add(*changes)
    return Prose(*parts, backprop=Prose("by the quotient rule, ", math(ir.Differential(node), "=", differential),
                                        ", element by element" if node.shape else ""))


register_elementwise(ir.Add, "sum rule", lambda n, k, c: Const(1), _explain_sum)
register_elementwise(ir.Sub, "difference rule", lambda n, k, c: Const(1 if k == 0 else -1), _explain_sum)
register_elementwise(
    ir.Mul,
    "element-wise product",
    lambda n, k, c: n.args[1 - k],
    _explain_product,
)
register_elementwise(
    ir.Div,
    "quotient rule",
    lambda n, k, c: ir.div(Const(1), n.args[1]) if k == 0 else neg(ir.div(n.args[0], ir.power(n.args[1], Const(2)))),
    _explain_quotient,
)
register_elementwise(
    ir.Neg,
    "negation",
    lambda n, k, c: Const(-1),
    lambda n, k, c: Prose(
        "negation flips the sign of every element, so the derivative is ", _identity_word(n, True),
        backprop=Prose("negation flips the sign of the differential, so the adjoint of ", n.args[0],
                       " is minus the adjoint of ", c.value_of(n)),
    ),
)


def _power_local(node: Node, k: int, c: Context) -> Node:
    base, exponent = node.args
    if k == 1:
        raise MissingRuleError(f"no derivative rule for a parameter in the exponent of '{node!r}'")
    lowered = Const(exponent.value - 1) if isinstance(exponent, Const) else ir.sub(exponent, Const(1))
    return mul(exponent, ir.power(base, lowered))


register_elementwise(
    ir.Pow,
    "power rule",
    _power_local,
    lambda n, k, c: Prose(
        "by the power rule, the derivative of ", n, " by ", n.args[0], " is ", _power_local(n, k, c),
        ", element by element" if n.shape else "",
        backprop=Prose("by the power rule, ", math(ir.Differential(n), "=", mul(_power_local(n, k, c),
                       ir.Differential(n.args[0]))), ", element by element" if n.shape else ""),
    ),
)


# --------------------------------------------------------------------------- scalar functions


def _varying(n: Node, k: int, c: Context) -> list[int]:
    return [i for i, a in enumerate(n.args) if c.varies(a) or i == k]


def _apply_local(n: ir.Apply, k: int, c: Context) -> Node:
    derivative = n.fn.derivative(k, c.convention, _varying(n, k, c))
    if derivative.body.is_number:
        return Const(derivative.body)
    return ir.Apply(derivative, n.args)


def _apply_explain(n: ir.Apply, k: int, c: Context) -> str:
    from ..explain import explain_function

    return explain_function(n, k, c.convention, _varying(n, k, c))


register_elementwise(ir.Apply, "chain rule (element-wise function)", _apply_local, _apply_explain)

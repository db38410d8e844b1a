"""Rules of element-wise operations: arithmetic and scalar functions applied element by element.

An element-wise rule is one local derivative (an IR expression, element by element); its
differential, vector-Jacobian product and Jacobian all follow from it.
"""

from __future__ import annotations

from typing import Callable

from .. import ir
from ..errors import MissingRuleError
from ..ir import Const, Diag, Identity, Node, Ones, mul, neg, total
from . import Context, label, register


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


def register_elementwise(op: type, name: str, local: Callable[[Node, int, Context], Node], explain) -> None:
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


def _identity_word(node: Node) -> str:
    return "1" if node.shape == () else "the identity"


def _explain_sum(node: Node, k: int, c: Context) -> str:
    this, other = label(node.args[k]), label(node.args[1 - k])
    sign = "" if isinstance(node, ir.Add) or k == 0 else "minus "
    if _is_expanded(node, k):
        return f"{this} is added to every element (scalar expansion), so the derivative is {sign}a vector of ones"
    if sign:
        return f"{this} enters with a minus sign, so the derivative is minus {_identity_word(node)}"
    return f"{'adding' if isinstance(node, ir.Add) else 'subtracting'} {other} shifts {this} without changing its rate of change, so the derivative is {_identity_word(node)}"


register_elementwise(ir.Add, "sum rule", lambda n, k, c: Const(1), _explain_sum)
register_elementwise(ir.Sub, "difference rule", lambda n, k, c: Const(1 if k == 0 else -1), _explain_sum)
register_elementwise(
    ir.Mul,
    "element-wise product",
    lambda n, k, c: n.args[1 - k],
    lambda n, k, c: f"each element of {label(n.args[k])} is multiplied by the matching element of "
    f"{label(n.args[1 - k])}, so the Jacobian is diagonal with {label(n.args[1 - k])} on it",
)
register_elementwise(
    ir.Div,
    "quotient rule",
    lambda n, k, c: ir.div(Const(1), n.args[1]) if k == 0 else neg(ir.div(n.args[0], ir.power(n.args[1], Const(2)))),
    lambda n, k, c: "d(p/q)/dp = 1/q and d(p/q)/dq = -p/q², element by element",
)
register_elementwise(
    ir.Neg,
    "negation",
    lambda n, k, c: Const(-1),
    lambda n, k, c: "negation flips the sign of every element, so the derivative is minus the identity",
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
    lambda n, k, c: f"the power rule gives d(x^p)/dx = p x^(p-1) for each element of {label(n.args[0])}",
)


# --------------------------------------------------------------------------- scalar functions


def _varying(n: Node, k: int, c: Context) -> list:
    return [i for i, a in enumerate(n.args) if c.varies(a) or i == k]


def _apply_local(n: Node, k: int, c: Context) -> Node:
    derivative = n.fn.derivative(k, c.convention, _varying(n, k, c))
    if derivative.body.is_number:
        return Const(derivative.body)
    return ir.Apply(derivative, n.args)


def _apply_explain(n: Node, k: int, c: Context) -> str:
    from ..explain import explain_function

    return explain_function(n, k, c.convention, _varying(n, k, c))


register_elementwise(ir.Apply, "chain rule (element-wise function)", _apply_local, _apply_explain)

"""The derivative rules: one registry entry per IR operation.

Each rule gives, for the operand ``k`` of a node:

* ``jacobian`` — the local Jacobian shown in a derivation step, in numerator layout
  (the derivative of an m-vector by an n-vector is m × n);
* ``vjp`` — the vector-Jacobian product: the adjoint of the operand, given the adjoint ``g``
  of the node (gradient layout, shaped like the operand), used for the gradient and for code;
* ``explain`` — one sentence saying why, as a textbook would.

Rules see the step's definition, whose operands are the intermediate variables' symbols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


from . import ir
from .errors import MissingRuleError
from .ir import Const, Diag, Identity, Node, Ones, Row, mul, neg, total


@dataclass(frozen=True)
class Context:
    """What rules need besides the node: the kink convention."""

    convention: str = "min-norm"


@dataclass(frozen=True)
class Rule:
    name: str
    jacobian: Callable[[Node, int, Context], Node]
    vjp: Callable[[Node, Node, int, Context], Node]
    explain: Callable[[Node, int, Context], str]


RULES: dict[type, Rule] = {}


def register(op: type, name: str, *, jacobian, vjp, explain) -> None:
    """Add the rule for IR operation ``op``."""
    RULES[op] = Rule(name, jacobian, vjp, explain)


def rule_for(node: Node) -> Rule:
    try:
        return RULES[type(node)]
    except KeyError:
        raise MissingRuleError(
            f"no derivative rule for the operation {type(node).__name__} in '{node!r}'"
        ) from None


# --------------------------------------------------------------------------- helpers


def label(node: Node) -> str:
    return node.name if isinstance(node, ir.Symbol) else repr(node)


def unbroadcast(g: Node, shape: tuple) -> Node:
    """Sum an adjoint over the elements a scalar operand was expanded to."""
    return total(g) if shape == () and g.shape != () else g


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


def _elementwise(op: type, name: str, local: Callable[[Node, int], Node], explain) -> None:
    register(
        op,
        name,
        jacobian=lambda n, k, c: elementwise_jacobian(n, n.args[k], local(n, k)),
        vjp=lambda n, g, k, c: elementwise_vjp(n.args[k], local(n, k), g),
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


# --------------------------------------------------------------------------- element-wise arithmetic

_elementwise(ir.Add, "sum rule", lambda n, k: Const(1), _explain_sum)
_elementwise(ir.Sub, "difference rule", lambda n, k: Const(1 if k == 0 else -1), _explain_sum)
_elementwise(
    ir.Mul,
    "element-wise product",
    lambda n, k: n.args[1 - k],
    lambda n, k, c: f"each element of {label(n.args[k])} is multiplied by the matching element of "
    f"{label(n.args[1 - k])}, so the Jacobian is diagonal with {label(n.args[1 - k])} on it",
)
_elementwise(
    ir.Div,
    "quotient rule",
    lambda n, k: ir.div(Const(1), n.args[1]) if k == 0 else neg(ir.div(n.args[0], ir.power(n.args[1], Const(2)))),
    lambda n, k, c: "d(p/q)/dp = 1/q and d(p/q)/dq = -p/q², element by element",
)
_elementwise(
    ir.Neg,
    "negation",
    lambda n, k: Const(-1),
    lambda n, k, c: "negation flips the sign of every element, so the derivative is minus the identity",
)


def _power_local(node: Node, k: int) -> Node:
    base, exponent = node.args
    if k == 1:
        raise MissingRuleError(
            f"no derivative rule for a parameter in the exponent of '{node!r}'"
        )
    return mul(exponent, ir.power(base, Const(exponent.value - 1)) if isinstance(exponent, Const) else ir.power(base, ir.sub(exponent, Const(1))))


_elementwise(
    ir.Pow,
    "power rule",
    _power_local,
    lambda n, k, c: f"the power rule gives d(x^p)/dx = p x^(p-1) for each element of {label(n.args[0])}",
)


# --------------------------------------------------------------------------- reductions and products

register(
    ir.Sum,
    "sum reduction",
    jacobian=lambda n, k, c: Row(Ones(n.args[0].shape)) if n.args[0].shape else Const(1),
    vjp=lambda n, g, k, c: mul(g, Ones(n.args[0].shape)) if n.args[0].shape else g,
    explain=lambda n, k, c: f"every element of {label(n.args[0])} enters the sum with weight 1, "
    "so the derivative is a row of ones",
)


def _mean_weight(n: Node) -> Node:
    return Const(1 / ir.size(n.args[0].shape))


register(
    ir.Mean,
    "mean reduction",
    jacobian=lambda n, k, c: mul(_mean_weight(n), Row(Ones(n.args[0].shape))),
    vjp=lambda n, g, k, c: mul(_mean_weight(n), mul(g, Ones(n.args[0].shape))),
    explain=lambda n, k, c: f"the mean weighs every element of {label(n.args[0])} by "
    f"1/{ir.size(n.args[0].shape)}, so the derivative is a row of 1/{ir.size(n.args[0].shape)}",
)


def _matmul_jacobian(n: Node, k: int, c: Context) -> Node:
    if k == 1 and len(n.args[1].shape) == 1:
        return n.args[0]
    raise MissingRuleError(
        f"no derivative rule for '{n!r}' with respect to the matrix {label(n.args[k])}"
        " (matrix parameters are not supported yet)"
    )


def _matmul_vjp(n: Node, g: Node, k: int, c: Context) -> Node:
    _matmul_jacobian(n, k, c)
    return ir.matmul(ir.transpose(n.args[0]), g)


register(
    ir.MatMul,
    "matrix-vector product",
    jacobian=_matmul_jacobian,
    vjp=_matmul_vjp,
    explain=lambda n, k, c: f"row i of {label(n.args[0])}{label(n.args[1])} is the dot product of row i "
    f"of {label(n.args[0])} with {label(n.args[1])}, so the Jacobian is {label(n.args[0])} itself",
)


def _transpose_rule(n: Node, *rest) -> Node:
    raise MissingRuleError(
        f"no derivative rule for the transpose in '{n!r}' (matrix parameters are not supported yet)"
    )


register(ir.Transpose, "transpose", jacobian=_transpose_rule, vjp=_transpose_rule, explain=_transpose_rule)


# --------------------------------------------------------------------------- element-wise functions


def _apply_local(n: Node, k: int, c: Context) -> Node:
    derivative = n.fn.derivative(k, c.convention)
    if derivative.body.is_number:
        return Const(derivative.body)
    return ir.Apply(derivative, n.args)


def _apply_vjp(n: Node, g: Node, k: int, c: Context) -> Node:
    return elementwise_vjp(n.args[k], _apply_local(n, k, c), g)


def _apply_explain(n: Node, k: int, c: Context) -> str:
    from .explain import explain_function

    return explain_function(n, k, c.convention)


register(
    ir.Apply,
    "chain rule (element-wise function)",
    jacobian=lambda n, k, c: elementwise_jacobian(n, n.args[k], _apply_local(n, k, c)),
    vjp=_apply_vjp,
    explain=_apply_explain,
)


def local_derivative_shape(node: Node, operand: Node) -> tuple:
    """(rows, columns) of ∂node/∂operand in numerator layout."""
    return (ir.size(node.shape), ir.size(operand.shape))

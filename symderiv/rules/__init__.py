"""The derivative rules: one registry entry per IR operation.

Each rule gives, for the operand ``k`` of a node:

* ``jvp`` — the differential: how the node changes when operand k changes by ``d`` (an IR
  expression shaped like the node, shown in the forward steps of the backprop view);
* ``vjp`` — the vector-Jacobian product: the adjoint of the operand from the adjoint ``g`` of
  the node (gradient layout, shaped like the operand), used for the gradient and for code;
* ``jacobian`` — the local Jacobian in numerator layout, for operations on scalars and vectors
  (the Jacobian view); None where the Jacobian is a 4-way array that no derivation shows;
* ``explain`` — one sentence saying why, as a textbook would.

Rules see the step's definition, whose operands are the intermediate variables' symbols; the
context carries the kink convention and the step's own variable. The rules live in
:mod:`.elementwise`, :mod:`.linear` and :mod:`.rowwise`; each registers itself here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import ir
from ..errors import MissingRuleError


@dataclass(frozen=True)
class Context:
    """What rules need besides the node: the kink convention and the step's variable."""

    convention: str = "min-norm"
    result: ir.Node | None = None  # the variable that names the node's value (S for softmax)
    varying: frozenset | None = None  # names of the operands that move with the parameters

    def varies(self, operand: ir.Node) -> bool:
        return self.varying is None or (isinstance(operand, ir.Symbol) and operand.name in self.varying)

    def value_of(self, node: ir.Node) -> ir.Node:
        return self.result if self.result is not None else node


@dataclass(frozen=True)
class Rule:
    name: str | Callable  # the rule's name, or a function of the node giving it
    jvp: Callable  # (node, k, d, context) -> IR
    vjp: Callable  # (node, g, k, context) -> IR
    jacobian: Callable | None  # (node, k, context) -> IR
    explain: Callable  # (node, k, context) -> str

    def title(self, node: ir.Node) -> str:
        return self.name(node) if callable(self.name) else self.name


RULES: dict[type, Rule] = {}


def register(
    op: type,
    name: str | Callable[[ir.Node], str],
    *,
    jvp: Callable,
    vjp: Callable,
    explain: Callable,
    jacobian: Callable | None = None,
) -> None:
    """Add the rule for IR operation ``op``."""
    RULES[op] = Rule(name, jvp, vjp, jacobian, explain)


def rule_for(node: ir.Node) -> Rule:
    try:
        return RULES[type(node)]
    except KeyError:
        raise MissingRuleError(
            f"no derivative rule for the operation {type(node).__name__} in '{node!r}'"
        ) from None


def local_derivative_shape(node: ir.Node, operand: ir.Node) -> tuple:
    """(rows, columns) of ∂node/∂operand in numerator layout."""
    return (ir.size(node.shape), ir.size(operand.shape))


def label(node: ir.Node) -> str:
    return node.name if isinstance(node, ir.Symbol) else repr(node)


from . import elementwise, linear, rowwise  # noqa: F401  (each registers its rules)

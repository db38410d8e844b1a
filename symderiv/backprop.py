"""The backprop view of a derivation: differentials forward, adjoints backward.

Forward, each step's differential dV (shaped like V) from its operands' differentials, by the
rules' JVPs: dU = X dW. Backward, each variable's adjoint ∇_V C (shaped like V) as the sum of its
consumers' VJPs applied to their adjoints, each term justified by the identity
⟨∇_U C, D(dV)⟩ = ⟨vjp(∇_U C), dV⟩ it comes from: ⟨G, X dW⟩ = ⟨XᵀG, dW⟩ gives ∇_W C = XᵀG.
These lines are the vector-Jacobian products that generated code runs, one to one.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .rules import Context, rule_for
from .simplify import simplify


@dataclass(frozen=True)
class Term:
    """One consumer's contribution to an adjoint, and the identity it comes from."""

    consumer: ir.Symbol  # the variable U whose step uses V
    contribution: ir.Node  # vjp(∇_U C), in terms of the adjoint symbol ∇_U C
    identity: tuple  # (⟨∇_U C, D(dV)⟩, ⟨vjp, dV⟩) as Inner nodes


@dataclass(frozen=True)
class AdjointStep:
    """∇_V C = Σ terms, shaped like V."""

    variable: ir.Symbol
    adjoint: ir.Node
    terms: tuple
    is_parameter: bool


def differential(step_definition: ir.Node, operands: set, context: Context) -> ir.Node:
    """d of a step's variable: the sum over its varying operands of the rule's JVP."""
    rule = rule_for(step_definition)
    terms = [
        rule.jvp(step_definition, k, ir.Differential(operand), context)
        for k, operand in enumerate(step_definition.args)
        if isinstance(operand, ir.Symbol) and operand.name in operands
    ]
    return _total(terms) if terms else ir.zeros(step_definition.shape)


def adjoint_of(symbol: ir.Symbol, output: ir.Symbol) -> ir.Node:
    """The symbol ∇_V C (or 1 for the output itself)."""
    return ir.Const(1) if symbol.name == output.name else ir.Adjoint(symbol, output.name)


def backward(steps: list, output: ir.Symbol, params: list, context: Context) -> list:
    """The adjoint of every variable and parameter, from the output down, in local form.

    An operand used at several positions of one step (w ⊙ w) gets one term, the sum of them.
    """
    consumers: dict = {}
    for step in steps:
        positions: dict = {}
        for k, operand in enumerate(step.definition.args):
            if isinstance(operand, ir.Symbol) and operand.name in step.operand_names:
                positions.setdefault(operand.name, []).append(k)
        for name, ks in positions.items():
            consumers.setdefault(name, []).append((step, ks))
    definitions = {s.variable.name: s.definition for s in steps}
    order = [s.variable for s in reversed(steps) if s.variable.name != output.name] + list(params)
    out = []
    for symbol in order:
        terms = tuple(_term(step, ks, symbol, output, context) for step, ks in consumers.get(symbol.name, ()))
        if not terms:
            continue
        adjoint = terms[0].contribution
        for term in terms[1:]:
            adjoint = ir.add(adjoint, term.contribution)
        out.append(AdjointStep(symbol, simplify(adjoint, definitions), terms, symbol in params))
    return out


def _term(step, positions: list, symbol: ir.Symbol, output: ir.Symbol, context: Context) -> Term:
    rule = rule_for(step.definition)
    local = step.context(context)
    g = adjoint_of(step.variable, output)
    d = ir.Differential(symbol)
    contribution = simplify(_total([rule.vjp(step.definition, g, k, local) for k in positions]), fusion=False)
    change = simplify(_total([rule.jvp(step.definition, k, d, local) for k in positions]), fusion=False)
    identity = (_inner(g, change), _inner(contribution, d))
    return Term(step.variable, contribution, identity)


def _total(nodes: list) -> ir.Node:
    total = nodes[0]
    for node in nodes[1:]:
        total = ir.add(total, node)
    return total


def _inner(a: ir.Node, b: ir.Node) -> ir.Node:
    if a.shape == () and b.shape == ():
        return ir.mul(a, b)
    if a.shape == ():
        a = ir.mul(a, ir.Ones(b.shape))
    return ir.Inner(a, b)

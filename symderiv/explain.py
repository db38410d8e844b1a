"""One-sentence explanations of element-wise function steps, kinks included."""

from __future__ import annotations

import sympy

from . import ir, kinks
from .notation import orient, scalar_text

CONVENTION_WORDS = {
    "min-norm": "the minimum-norm subgradient",
    "mean": "the mean of the one-sided derivatives",
    "left": "the left derivative",
    "right": "the right derivative",
}


def explain_function(node: ir.Apply, k: int, convention: str, varying=None) -> str:
    """Why ∂node/∂(operand k) is what it is, piece by piece for a function with kinks."""
    fn, operand = node.fn, node.args[k]
    var = sympy.Symbol(operand.name if isinstance(operand, ir.Symbol) else "x", real=True)
    names = _names(node)
    shown = scalar_text(fn.body, names)
    analysis = kinks.analyse(fn.body, fn.params[k], convention) if len(fn.params) == 1 else None
    derivative = fn.derivative(k, convention, varying).body
    if analysis is None:
        if derivative == 0:
            return f"{shown} is piecewise constant, so its derivative is 0 wherever it is defined"
        where = " element by element" if node.shape else ""
        return f"the derivative of {shown} with respect to {var} is {scalar_text(derivative, names)}{where}"
    parts = [_piece_sentence(fn, k, d, region, names, var) for d, region in analysis.pieces]
    sentence = "; ".join(p for p in parts if p)
    for kink in analysis.kinks:
        sentence += (
            f" (at the kink {var} = {scalar_text(kink.point)} the derivative is undefined: the one-sided "
            f"values are {scalar_text(kink.left)} and {scalar_text(kink.right)}, and "
            f"{CONVENTION_WORDS[convention]} {scalar_text(kink.value)} is used)"
        )
    return sentence


def _names(node: ir.Apply) -> dict:
    return {p: a.name if isinstance(a, ir.Symbol) else "x" for p, a in zip(node.fn.params, node.args)}


def _piece_sentence(fn, k, derivative, region, names, var) -> str:
    param = fn.params[k]
    condition = scalar_text(orient(region.as_relational(param)), names)
    point = kinks.interior_point(region)
    if point is None:
        return ""
    branch = kinks.active_branch(fn.body, param, point)
    head = _head(fn.body)
    d = scalar_text(derivative, names)
    if branch.is_number:
        verb = "clips to" if head in ("max", "min", "clip") else "is"
        return f"when {condition} the {head} {verb} the constant {scalar_text(branch)}, so its derivative is 0"
    if branch == param:
        return f"when {condition} it passes {var} through unchanged, so its derivative is 1"
    return f"when {condition} it equals {scalar_text(branch, names)}, so its derivative is {d}"


def _head(body: sympy.Expr) -> str:
    if isinstance(body, sympy.Max):
        return "max"
    if isinstance(body, sympy.Min):
        return "min" if not any(isinstance(a, sympy.Max) for a in body.args) else "clip"
    if isinstance(body, sympy.Abs):
        return "absolute value"
    return "function"

"""Explanations as a textbook writes them: sentences of words and math, one per rule and view.

A :class:`Prose` is a sentence made of text segments and :class:`Math` parts (IR expressions);
each document format renders the math with its own printer (inline LaTeX, MathML, Unicode).
Its ``str`` value is the plain-text form, so ``Step.explanation`` stays a string. A rule's
sentence may carry a second wording for the backprop view (differentials and adjoints), since
the Jacobian view's words ("the Jacobian is diagonal") are not true there.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from . import ir, kinks
from .notation import orient

CONVENTION_WORDS = {
    "min-norm": "the minimum-norm subgradient",
    "mean": "the mean of the one-sided derivatives",
    "left": "the left derivative",
    "right": "the right derivative",
}


@dataclass(frozen=True)
class Math:
    """A formula inside a sentence: IR nodes joined by relation signs, ``(C, "=", E)``."""

    items: tuple

    def nodes(self) -> list:
        return [item for item in self.items if not isinstance(item, str)]


def math(*items) -> Math:
    """``math(a)`` or ``math(a, "=", b, ...)``: nodes, and relations between them."""
    return Math(tuple(items))


class Prose(str):
    """A sentence of text segments and :class:`Math` parts; its ``str`` is the plain-text form.

    ``backprop`` is the wording for the backprop view where it differs from this one.
    """

    parts: tuple
    backprop: Prose | None

    def __new__(cls, *parts, backprop: Prose | None = None):
        merged = _merge(parts)
        sentence = super().__new__(cls, "".join(p if isinstance(p, str) else plain_math(p) for p in merged))
        sentence.parts, sentence.backprop = merged, backprop
        return sentence

    def in_view(self, view: str) -> Prose:
        """The wording for ``view`` ("jacobian" or "backprop")."""
        return self.backprop if view == "backprop" and self.backprop is not None else self

    def render(self, text, formula) -> str:
        """The sentence with ``text(segment)`` and ``formula(math)`` for each part."""
        return "".join(text(p) if isinstance(p, str) else formula(p) for p in self.parts)

    def capitalized(self) -> Prose:
        """The first letter upper-cased when the sentence starts with a word (never a variable's)."""
        first = self.parts[0] if self.parts else ""
        if not isinstance(first, str):
            return self
        return Prose(first[:1].upper() + first[1:], *self.parts[1:], backprop=self.backprop)


def _merge(parts) -> tuple:
    """Adjacent text segments joined, bare nodes wrapped as Math, empty segments dropped."""
    out: list = []
    for part in parts:
        if isinstance(part, Prose):
            out.extend(part.parts)
            continue
        if isinstance(part, ir.Node):
            part = Math((part,))
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        elif part != "":
            out.append(part)
    return tuple(out)


def _engine_text(formula: Math) -> str:
    return " ".join(item if isinstance(item, str) else repr(item) for item in formula.items)


# The Unicode printer of formulas lives with the renderers, which install it here when imported
# (``import symderiv`` does); the engine itself imports no printer.
UNICODE_MATH = [_engine_text]


def plain_math(formula: Math) -> str:
    """The Unicode text of a formula."""
    return UNICODE_MATH[0](formula)


def as_prose(sentence) -> Prose:
    return sentence if isinstance(sentence, Prose) else Prose(str(sentence))


def join(sentences, view: str = "jacobian", separator: str = "; ") -> Prose:
    """Sentences in ``view``'s wording, each said once, joined into one."""
    seen: set[str] = set()
    parts: list[str] = []
    for sentence in sentences:
        sentence = as_prose(sentence).in_view(view)
        if str(sentence) in seen or not str(sentence):
            continue
        seen.add(str(sentence))
        parts.extend([separator, sentence] if parts else [sentence])
    return Prose(*parts)


def scalar(body: sympy.Expr, node: ir.Apply) -> ir.Node:
    """A SymPy body in the parameters of ``node``'s function, as math on ``node``'s operands."""
    from .functions import ScalarFunction

    if body.is_number:
        return ir.Const(body)
    return ir.Apply(ScalarFunction("", node.fn.params, body, True), node.args)


def elementwise_words(node: ir.Node) -> str:
    return ", element by element" if node.shape else ""


# --------------------------------------------------------------------------- element-wise functions


def explain_function(node: ir.Apply, k: int, convention: str, varying=None) -> Prose:
    """Why ∂node/∂(operand k) is what it is, piece by piece for a function with kinks."""
    fn, operand = node.fn, node.args[k]
    analysis = kinks.analyse(fn.body, fn.params[k], convention) if len(fn.params) == 1 else None
    derivative = fn.derivative(k, convention, varying).body
    shown = scalar(fn.body, node)
    if analysis is None:
        if derivative == 0:
            return Prose("the function ", shown, " is piecewise constant, so its derivative is 0 wherever it is defined")
        return Prose("the derivative of ", shown, " with respect to ", operand, " is ",
                     scalar(derivative, node), elementwise_words(node))
    pieces = [_piece_sentence(node, k, d, region) for d, region in analysis.pieces]
    parts: list[str | ir.Node] = []
    for piece in (p for p in pieces if p is not None):
        parts.extend(["; ", piece] if parts else [piece])
    for kink in analysis.kinks:
        parts.extend([
            " (at the kink ", scalar(sympy.Eq(fn.params[k], kink.point, evaluate=False), node),
            " the derivative is undefined: the one-sided values are ", _number(kink.left), " and ",
            _number(kink.right), ", and ", CONVENTION_WORDS[convention], " ", _number(kink.value), " is used)",
        ])
    return Prose(*parts)


def _number(value) -> ir.Node:
    return ir.Const(sympy.sympify(value))


def _piece_sentence(node, k, derivative, region) -> Prose | None:
    fn = node.fn
    param = fn.params[k]
    point = kinks.interior_point(region)
    if point is None:
        return None
    condition = scalar(orient(region.as_relational(param)), node)
    try:
        branch = kinks.active_branch(fn.body, param, point)
    except (TypeError, ValueError):  # not real at the sample point (log(z) for z < 0): no branch to name
        return Prose("when ", condition, " its derivative is ", scalar(derivative, node))
    head = _head(fn.body)
    if branch.is_number:
        verb = "clips to" if head in ("max", "min", "clip") else "is"
        return Prose("when ", condition, f" the {head} {verb} the constant ", _number(branch),
                     ", so its derivative is 0")
    if branch == param:
        return Prose("when ", condition, " it passes ", node.args[k], " through unchanged, so its derivative is 1")
    return Prose("when ", condition, " it equals ", scalar(branch, node), ", so its derivative is ",
                 scalar(derivative, node))


def _head(body: sympy.Expr) -> str:
    if isinstance(body, sympy.Max):
        return "max"
    if isinstance(body, sympy.Min):
        return "min" if not any(isinstance(a, sympy.Max) for a in body.args) else "clip"
    if isinstance(body, sympy.Abs):
        return "absolute value"
    return "function"

"""A derivation laid out for documents: every expression printed by one printer, and the one
builder of the equation lists that every format lays out.

The LaTeX, text, Markdown, HTML, Sphinx and JSON outputs share this view and differ only in the
printer, the *notation* (how ∂, ∇, products and updates are written) and the template, so they
always hold the same steps, adjoints and results. An equation is ``(left, relation, right)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from .. import explain, forms, ir
from ..errors import SymderivError
from ..explain import Prose, join, math
from ..notation import printable, scalar_unicode, superscript
from .base import ATOM, is_axis_reduction, is_dot, precedence, scaled_without_parentheses, spread
from .text import TextPrinter

SAMPLES = ir.dim("N")  # the dimension of the samples: a loss averages or sums over it
PARTS = ("notes", "steps", "chain", "gradients", "per-sample")

LAYOUT_NOTE = (
    "Numerator layout: the derivative of an m-vector by an n-vector is an m × n matrix, "
    "so the derivative of a scalar by a column vector is a row vector; gradients ∇ are "
    "shaped like their parameter."
)

BACKPROP_LAYOUT_NOTE = (
    "Gradient layout: for each variable V, the differential dV and the adjoint ∇ (the gradient "
    "of the output by V) are shaped like V; ⟨A, B⟩ = tr(AᵀB) = Σ A ⊙ B."
)

LAYOUTS = {"jacobian": "numerator", "backprop": "gradient"}

CONVENTION_NOTE = {
    "min-norm": "At a kink the minimum-norm subgradient is used (relu'(0) = 0, |·|'(0) = 0).",
    "mean": "At a kink the mean of the one-sided derivatives is used (relu'(0) = 1/2).",
    "left": "At a kink the left derivative is used (relu'(0) = 0).",
    "right": "At a kink the right derivative is used (relu'(0) = 1).",
}


class Equation(tuple):
    """``(left, relation, right)``; ``kind`` names the line (path, chain, derivative, ...)."""

    kind: str

    def __new__(cls, left: str, relation: str, right: str, kind: str = ""):
        equation = super().__new__(cls, (left, relation, right))
        equation.kind = kind
        return equation


@dataclass
class PartialView:
    numerator: str  # the variable differentiated, as printed
    denominator: str
    jacobian: str
    space: str  # the set the Jacobian belongs to, e.g. R^{n×n}


@dataclass
class StepView:
    number: int
    variable: str
    definition: str
    rule: str
    explanation: str
    shape: str
    partials: list
    dims: str = ""  # the shape in words: N × h, n-vector, scalar
    differential_symbol: str | None = None  # dV (backprop content only)
    differential: str | None = None


@dataclass
class TermView:
    consumer: str
    contribution: str
    left: str  # ⟨∇_U C, D(dV)⟩
    right: str  # ⟨vjp(∇_U C), dV⟩


@dataclass
class AdjointView:
    variable: str
    symbol: str  # ∇_V C
    adjoint: str
    dims: str
    is_parameter: bool
    terms: list = field(default_factory=list)


@dataclass
class ResultView:
    parameter: str
    output: str
    chain_symbols: list  # [(numerator, denominator), ...] per path
    chain: str | None
    derivative: str | None
    per_sample: str | None
    gradient: str
    update: str
    shape: str
    view: str = "jacobian"
    dims: str = ""
    entry: str | None = None  # W_jk, the element the index form gives
    index_form: str | None = None
    is_loss: bool = True  # a gradient-descent update is shown for a loss only


def build(derivation, printer, space, prose=None, backprop: bool | None = None) -> dict:
    """The template context: ``space(rows, cols)`` prints a Jacobian's set, ``prose`` a sentence
    (a :class:`~symderiv.explain.Prose` or a plain string; default: plain text).

    ``backprop`` adds the differentials and adjoints (default: when the view is backprop).
    """
    show = printer.doprint
    prose = prose or plain_prose
    is_backprop = derivation.view == "backprop"
    backprop = is_backprop if backprop is None else backprop
    steps = [_step_view(i, step, show, space, prose, derivation, backprop)
             for i, step in enumerate(derivation.steps, start=1)]
    loss = is_loss(derivation)
    results = [_result_view(derivation, g, show, backprop, loss) for g in derivation.gradients.values()]
    return {
        "title": prose(title(derivation)),
        "title_text": str(title(derivation)),
        "expression": show(derivation.expression),
        "output": show(derivation.output),
        "wrt": [show(p) for p in derivation.wrt],
        "convention": derivation.convention,
        "convention_note": prose(CONVENTION_NOTE[derivation.convention]),
        "layout_note": prose(BACKPROP_LAYOUT_NOTE if is_backprop else LAYOUT_NOTE),
        "view": derivation.view,
        "layout": LAYOUTS[derivation.view],
        "is_loss": loss,
        "steps": steps,
        "backward": [_adjoint_view(a, derivation.output, show) for a in derivation.backward] if backprop else [],
        "results": results,
    }


def title(derivation) -> Prose:
    """The derivation's title: a spec's words, or the formula it differentiates set as math."""
    if derivation.title:
        return Prose(derivation.title)
    return Prose("the gradient of ", math(derivation.output, "=", derivation.expression))


def explanation(step, view: str) -> Prose:
    """A step's explanation in ``view``'s wording: each operand's sentence, each said once."""
    partials = getattr(step, "partials", ())
    sentences = [p.explanation for p in partials] if partials else [step.explanation]
    return join(sentences, view).capitalized()


def is_loss(derivation) -> bool:
    """Whether the output is a loss: a mean or sum over the N samples (a term of it, for a
    penalised loss). Only then is a gradient-descent update shown."""
    return any(_over_samples(term) for term in _terms(derivation.expression))


def _terms(node: ir.Node) -> list:
    if isinstance(node, (ir.Add, ir.Sub)):
        return [t for a in node.args for t in _terms(a)]
    if isinstance(node, ir.Neg):
        return _terms(node.args[0])
    if isinstance(node, ir.Mul) and any(isinstance(a, ir.Const) for a in node.args):
        return [t for a in node.args if not isinstance(a, ir.Const) for t in _terms(a)]
    return [node]


def _over_samples(node: ir.Node) -> bool:
    if not isinstance(node, (ir.Sum, ir.Mean)):
        return False
    shape = node.args[0].shape
    return bool(shape) and shape[0] == SAMPLES


def _step_view(number, step, show, space, prose, derivation, backprop: bool) -> StepView:
    partials = [
        PartialView(show(step.variable), show(p.operand), show(p.jacobian), space(*p.shape))
        for p in step.partials
    ] if derivation.has_jacobians else []
    return StepView(
        number=number,
        variable=show(step.variable),
        definition=show(step.definition),
        rule=step.rule,
        explanation=prose(explanation(step, derivation.view)),
        shape=ir.shape_str(step.variable.shape),
        partials=partials,
        dims=shape_words(step.variable.shape),
        differential_symbol=show(ir.Differential(step.variable)) if backprop else None,
        differential=show(step.differential) if backprop else None,
    )


def _adjoint_view(adjoint, output: ir.Symbol, show) -> AdjointView:
    terms = [
        TermView(show(t.consumer), show(t.contribution), show(t.identity[0]), show(t.identity[1]))
        for t in adjoint.terms
    ]
    return AdjointView(
        variable=show(adjoint.variable),
        symbol=show(ir.Adjoint(adjoint.variable, output.name)),
        adjoint=show(adjoint.adjoint),
        dims=shape_words(adjoint.variable.shape),
        is_parameter=adjoint.is_parameter,
        terms=terms,
    )


def _result_view(derivation, gradient, show, with_index: bool, loss: bool = True) -> ResultView:
    backprop = derivation.view == "backprop"
    paths = [] if backprop else [
        [(show(_var(derivation, a)), show(_var(derivation, b))) for a, b in pairwise(p)] for p in gradient.paths
    ]
    per_sample = gradient.per_sample
    if per_sample is not None and not backprop:
        per_sample = forms.numerator(per_sample)
    index_form = gradient.index_form if with_index else None
    param = gradient.parameter
    return ResultView(
        parameter=show(param),
        output=show(derivation.output),
        chain_symbols=paths,
        chain=show(gradient.chain) if gradient.chain is not None and not backprop else None,
        derivative=show(gradient.derivative) if gradient.derivative is not None and not backprop else None,
        per_sample=show(per_sample) if per_sample is not None else None,
        gradient=show(gradient.vectorized),
        update=show(gradient.update),
        shape=ir.shape_str(param.shape),
        view=derivation.view,
        dims=shape_words(param.shape),
        entry=show(parameter_entry(param)) if index_form is not None else None,
        index_form=show(index_form) if index_form is not None else None,
        is_loss=loss,
    )


def parameter_entry(param: ir.Symbol) -> ir.Node:
    """The element W_jk (or b_j) of a parameter that its index form gives."""
    return ir.Entry(param, forms.PARAMETER_INDICES[: len(param.shape)])


def shape_words(shape: tuple) -> str:
    """``N × h``, ``n-vector`` or ``scalar``."""
    if not shape:
        return "scalar"
    if len(shape) == 1:
        return f"{shape[0]}-vector"
    return " × ".join(str(d) for d in shape)


# --------------------------------------------------------------------------- equation lists


def step_equations(step: StepView, notation) -> list:
    """A step's equations: its definition, then its differential (backprop content) or the
    local derivative by each operand."""
    lines = [Equation(step.variable, "=", step.definition, "definition")]
    if step.differential_symbol is not None and step.differential is not None:  # set together
        lines.append(Equation(step.differential_symbol, "=", step.differential, "differential"))
        return lines
    for p in step.partials:
        lines.append(Equation(notation.partial(p.numerator, p.denominator), "=",
                              notation.member(p.jacobian, p.space), "partial"))
    return lines


def adjoint_equations(adjoint: AdjointView) -> list:
    """∇_V C = Σ terms, then each term's identity ⟨∇_U C, D(dV)⟩ = ⟨vjp, dV⟩."""
    lines = [Equation(adjoint.symbol, "=", adjoint.adjoint, "adjoint")]
    # an identity whose two sides read the same (the adjoint passes through unchanged) says nothing
    lines.extend(Equation(t.left, "=", t.right, "identity") for t in adjoint.terms if t.left != t.right)
    return lines


def result_equations(result: ResultView, notation, parts=PARTS, update: bool = True) -> list:
    """A gradient's equations, for both views.

    Jacobian view: chain rule, product, derivative, per-sample sum, ∇, update. Backprop view:
    ∇ vectorized, the per-sample sum of outer products, the index form ∂C/∂W_jk, update.
    """
    if result.view == "backprop":
        lines = _backprop_results(result, notation, parts)
    else:
        lines = _jacobian_results(result, notation, parts)
    if update and result.is_loss:
        lines.append(Equation(result.parameter, "<-", notation.descent(result.parameter, result.output), "update"))
    return lines


def _jacobian_results(result: ResultView, notation, parts) -> list:
    lines = []
    if "chain" in parts:
        for k, path in enumerate(result.chain_symbols):
            product = notation.product([notation.partial(num, den) for num, den in path])
            lines.append(Equation("", "+" if k else "=", product, "path"))
        if result.chain:
            lines.append(Equation("", "=", result.chain, "chain"))
    # the Jacobian view has only scalar and vector parameters, each with a numerator-layout derivative
    if result.derivative is None:
        raise SymderivError(f"the Jacobian view has no derivative of {result.parameter} to show")
    lines.append(Equation("", "=", result.derivative, "derivative"))
    if result.per_sample and "per-sample" in parts:
        lines.append(Equation("", "=", result.per_sample, "per-sample"))
    first = lines[0]
    lines[0] = Equation(notation.partial(result.output, result.parameter), first[1], first[2], first.kind)
    lines.append(Equation(notation.nabla(result.parameter, result.output), "=", result.gradient, "gradient"))
    return lines


def _backprop_results(result: ResultView, notation, parts) -> list:
    lines = [Equation(notation.nabla(result.parameter, result.output), "=", result.gradient, "gradient")]
    if "per-sample" in parts:
        if result.per_sample:
            lines.append(Equation("", "=", result.per_sample, "per-sample"))
        if result.index_form:
            lines.append(Equation(notation.partial(result.output, result.entry), "=", result.index_form, "index"))
    return lines


def _var(derivation, name: str) -> ir.Symbol:
    for step in derivation.steps:
        if step.variable.name == name:
            return step.variable
    for param in derivation.wrt:
        if param.name == name:
            return param
    return ir.Symbol(name)


# --------------------------------------------------------------------------- sentences


class UnicodePrinter(TextPrinter):
    """Math in plain-text sentences as a textbook prints it: Xᵀ(𝟙[z > 0] ⊙ e), w · x, 2e, dW."""

    def binding(self, node):
        return 15 if is_dot(node) else super().binding(node)  # w · x: parenthesized in products

    def _print_Const(self, node):
        return scalar_unicode(node.value)

    def _print_Ones(self, node):
        return "𝟏"

    def _print_Sub(self, node):
        return self._binary(node, "−")

    def _print_Neg(self, node):
        return f"−{self.wrap(node.args[0], precedence(node), strict=True)}"

    def _print_Mul(self, node):
        a, b = node.args
        if scaled_without_parentheses(a, b):
            return _juxtapose(self._factor(a, 20), self._print(b))
        if a.shape and b.shape:
            a, b = spread(node, a), spread(node, b)
            return f"{self.wrap(a, 20, strict=a is not node.args[0])} ⊙ {self.wrap(b, 20, strict=True)}"
        return _juxtapose(self._factor(a, 20), self._factor(b, 20, strict=True))

    def _factor(self, node, level, strict=False) -> str:
        text = self.wrap(node, level, strict)
        fraction = isinstance(node, ir.Const) and "/" in text
        return f"({text})" if fraction else text

    def _print_Div(self, node):
        return f"{self.wrap(node.args[0], 20)}/{self.wrap(node.args[1], 20, strict=True)}"

    def _print_MatMul(self, node):
        return _juxtapose(self.wrap(node.args[0], 20), self.wrap(node.args[1], 20, strict=True))

    def _print_Pow(self, node):
        base, exponent = node.args
        raised = superscript(self._print(exponent).replace("−", "-")) if isinstance(exponent, ir.Const) else None
        shown = self.wrap(base, precedence(node), strict=True)
        return shown + raised if raised else f"{shown}^{self.wrap(exponent, ATOM)}"

    def _print_Transpose(self, node):
        return f"{self.wrap(node.args[0], 99)}ᵀ"

    _print_Row = _print_Transpose

    def _print_Sum(self, node):
        if is_dot(node):
            a, b = node.args[0].args
            return f"{self.wrap(a, 21)} · {self.wrap(b, 21)}"
        if is_axis_reduction(node):
            return self._along_axis(node)
        return f"sum({self._print(node.args[0])})"

    def _print_Mean(self, node):
        if is_axis_reduction(node):
            return f"(1/{node.count()}) {self._along_axis(node)}"
        return f"mean({self._print(node.args[0])})"

    def _along_axis(self, node):
        a = node.args[0]
        return f"{self.wrap(a, 99)}ᵀ𝟏" if node.axis == 0 else f"{self.wrap(a, 20, strict=True)}𝟏"

    def _print_Broadcast(self, node):
        v = node.args[0]
        return f"𝟏{self.wrap(v, 99)}ᵀ" if node.axis == 0 else f"{self.wrap(v, 20)}𝟏ᵀ"

    def _print_Outer(self, node):
        u, v = node.args
        return f"{self.wrap(u, 20, strict=True)} {self.wrap(v, 99)}ᵀ"

    def _print_LogSoftmax(self, node):
        return f"log softmax({self._print(node.args[0])})"

    def _print_Adjoint(self, node):
        return f"∇_{self.wrap(node.args[0], ATOM)} {node.output}"

    def _print_Inner(self, node):
        return f"⟨{self._print(node.args[0])}, {self._print(node.args[1])}⟩"

    def _print_IndexedSum(self, node):
        return f"Σ_{node.index} {self.wrap(node.args[0], 21)}"

    def scalar(self, body, names):
        return scalar_unicode(body, names)

    def call(self, name, primes, args):
        return {"sigmoid": "σ"}.get(name, printable(name)) + "′" * primes + f"({', '.join(args)})"


def _juxtapose(left: str, right: str) -> str:
    """A product written without a sign: Xw, 2e, Xᵀ(…); a space where names would merge (X dW)."""
    merge = len(left) == 1 and len(right) == 1 or not (left[-1:].isalnum() and right[:1].isalnum())
    if re.fullmatch(r"[\d.]+", left) and not right[:1].isdigit() or left[-1:] in _RAISED and len(right) == 1:
        merge = True
    return left + right if merge else f"{left} {right}"


_RAISED = "ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹)"
_UNICODE = UnicodePrinter()


def unicode_math(formula) -> str:
    """A formula of a sentence (:class:`symderiv.explain.Math`) in Unicode text."""
    return " ".join(item if isinstance(item, str) else _UNICODE.doprint(item) for item in formula.items)


def plain_prose(sentence) -> str:
    """A sentence in plain text (the text format's, JSON's and the API's form)."""
    return str(sentence)


def formula_renderer(printer, relation=lambda r: r, wrap=lambda m: m, separator=" "):
    """``formula(math)`` for a format: nodes by ``printer``, relations by ``relation``, all wrapped."""

    def formula(m) -> str:
        items = [relation(i) if isinstance(i, str) else printer.doprint(i) for i in m.items]
        return wrap(separator.join(items))

    return formula


explain.UNICODE_MATH[0] = unicode_math  # sentences' formulas print in Unicode (see explain.py)

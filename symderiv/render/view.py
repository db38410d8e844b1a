"""A derivation laid out for documents: every expression printed by one printer, and the one
builder of the equation lists that every format lays out.

The LaTeX, text, Markdown, HTML, Sphinx and JSON outputs share this view and differ only in the
printer, the *notation* (how ∂, ∇, products and updates are written) and the template, so they
always hold the same steps, adjoints and results. An equation is ``(left, relation, right)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from .. import forms, ir

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


def build(derivation, printer, space, prose=str, backprop: bool | None = None) -> dict:
    """The template context: ``space(rows, cols)`` prints a Jacobian's set, ``prose`` a sentence.

    ``backprop`` adds the differentials and adjoints (default: when the view is backprop).
    """
    show = printer.doprint
    is_backprop = derivation.view == "backprop"
    backprop = is_backprop if backprop is None else backprop
    steps = [_step_view(i, step, show, space, prose, derivation.has_jacobians, backprop)
             for i, step in enumerate(derivation.steps, start=1)]
    results = [_result_view(derivation, g, show, backprop) for g in derivation.gradients.values()]
    return {
        "title": prose(derivation.title or f"the gradient of {derivation.output.name} = {derivation.expression!r}"),
        "expression": show(derivation.expression),
        "output": show(derivation.output),
        "wrt": [show(p) for p in derivation.wrt],
        "convention": derivation.convention,
        "convention_note": prose(CONVENTION_NOTE[derivation.convention]),
        "layout_note": prose(BACKPROP_LAYOUT_NOTE if is_backprop else LAYOUT_NOTE),
        "view": derivation.view,
        "layout": LAYOUTS[derivation.view],
        "steps": steps,
        "backward": [_adjoint_view(a, derivation.output, show) for a in derivation.backward] if backprop else [],
        "results": results,
    }


def _step_view(number, step, show, space, prose, with_partials: bool, backprop: bool) -> StepView:
    partials = [
        PartialView(show(step.variable), show(p.operand), show(p.jacobian), space(*p.shape))
        for p in step.partials
    ] if with_partials else []
    return StepView(
        number=number,
        variable=show(step.variable),
        definition=show(step.definition),
        rule=step.rule,
        explanation=prose(_sentence(step.explanation)),
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


def _result_view(derivation, gradient, show, with_index: bool) -> ResultView:
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
    if step.differential is not None:
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
    if update:
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


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]

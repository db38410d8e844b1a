"""A derivation laid out for documents: every expression printed by one printer.

The LaTeX, text, Markdown and HTML documents share this view and differ only in the printer
and the template, so they always hold the same steps and results.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import forms, ir

LAYOUT_NOTE = (
    "Numerator layout: the derivative of an m-vector by an n-vector is an m × n matrix, "
    "so the derivative of a scalar by a column vector is a row vector; gradients ∇ are "
    "shaped like their parameter."
)

CONVENTION_NOTE = {
    "min-norm": "At a kink the minimum-norm subgradient is used (relu'(0) = 0, |·|'(0) = 0).",
    "mean": "At a kink the mean of the one-sided derivatives is used (relu'(0) = 1/2).",
    "left": "At a kink the left derivative is used (relu'(0) = 0).",
    "right": "At a kink the right derivative is used (relu'(0) = 1).",
}


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


@dataclass
class ResultView:
    parameter: str
    output: str
    chain_symbols: list  # [(numerator, denominator), ...] per path
    chain: str | None
    derivative: str
    per_sample: str | None
    gradient: str
    update: str
    shape: str


def build(derivation, printer, space, prose=str) -> dict:
    """The template context: ``space(rows, cols)`` prints a Jacobian's set, ``prose`` a sentence."""
    show = printer.doprint
    steps = [
        StepView(
            number=i,
            variable=show(step.variable),
            definition=show(step.definition),
            rule=step.rule,
            explanation=prose(_sentence(step.explanation)),
            shape=ir.shape_str(step.variable.shape),
            partials=[
                PartialView(show(step.variable), show(p.operand), show(p.jacobian), space(*p.shape))
                for p in step.partials
            ],
        )
        for i, step in enumerate(derivation.steps, start=1)
    ]
    results = []
    for name, gradient in derivation.gradients.items():
        paths = [[(show(_var(derivation, a)), show(_var(derivation, b))) for a, b in zip(p, p[1:])] for p in gradient.paths]
        per_sample = gradient.per_sample
        results.append(
            ResultView(
                parameter=show(gradient.parameter),
                output=show(derivation.output),
                chain_symbols=paths,
                chain=show(gradient.chain) if gradient.chain is not None else None,
                derivative=show(gradient.derivative),
                per_sample=show(forms.numerator(per_sample)) if per_sample is not None else None,
                gradient=show(gradient.vectorized),
                update=show(gradient.update),
                shape=ir.shape_str(gradient.parameter.shape),
            )
        )
    return {
        "title": prose(derivation.title or f"the gradient of {derivation.output.name} = {derivation.expression!r}"),
        "expression": show(derivation.expression),
        "output": show(derivation.output),
        "wrt": [show(p) for p in derivation.wrt],
        "convention": derivation.convention,
        "convention_note": prose(CONVENTION_NOTE[derivation.convention]),
        "layout_note": prose(LAYOUT_NOTE),
        "steps": steps,
        "results": results,
    }


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

"""Derivations as Markdown with ``$$`` math blocks (GitHub, MyST, Jupyter), and the equation lists
that the Markdown, HTML and Sphinx outputs share.

Each step and each gradient is a list of equations ``(left, relation, right)``, built from the
template view by a *notation* (LaTeX here, MathML in :mod:`.mathml`), so every format shows the
same lines.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..templating import render
from . import register_format, view
from .latex import LatexIRPrinter, shape_latex

PARTS = ("notes", "steps", "chain", "gradients", "per-sample")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$|#~])")


class LatexNotation:
    """Derivative notation in LaTeX."""

    relations: ClassVar[dict] = {"=": "=", "+": "+", "<-": r"\leftarrow"}

    def partial(self, numerator: str, denominator: str) -> str:
        return rf"\frac{{\partial {numerator}}}{{\partial {denominator}}}"

    def product(self, factors: list) -> str:
        return " ".join(factors)

    def member(self, value: str, space: str) -> str:
        return rf"{value} \in {space}"

    def nabla(self, parameter: str, output: str) -> str:
        return rf"\nabla_{{{parameter}}} {output}"

    def descent(self, parameter: str, output: str) -> str:
        return rf"{parameter} - \eta {self.nabla(parameter, output)}"


def step_equations(step, notation) -> list:
    """A step's equations: its definition, then the local derivative by each operand."""
    lines = [(step.variable, "=", step.definition)]
    for p in step.partials:
        lines.append(
            (notation.partial(p.numerator, p.denominator), "=", notation.member(p.jacobian, p.space))
        )
    return lines


def result_equations(result, notation, parts=PARTS) -> list:
    """A gradient's equations: chain rule, product, derivative, per-sample sum, ∇ and the update."""
    lines = []
    if "chain" in parts:
        for k, path in enumerate(result.chain_symbols):
            product = notation.product([notation.partial(num, den) for num, den in path])
            lines.append(("", "+", product) if k else ("", "=", product))
        if result.chain:
            lines.append(("", "=", result.chain))
    lines.append(("", "=", result.derivative))
    if result.per_sample and "per-sample" in parts:
        lines.append(("", "=", result.per_sample))
    left = notation.partial(result.output, result.parameter)
    lines[0] = (left, *lines[0][1:])
    lines.append((notation.nabla(result.parameter, result.output), "=", result.gradient))
    lines.append((result.parameter, "<-", notation.descent(result.parameter, result.output)))
    return lines


def latex_lines(equations: list) -> str:
    """Equations aligned at the relation, one per line, for ``aligned``/``split``."""
    relations = LatexNotation.relations
    return " \\\\\n".join(f"{left} &{relations[rel]} {right}" for left, rel, right in equations)


def markdown_prose(text: str) -> str:
    """A sentence with Markdown's special characters escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def derivation_markdown(derivation, heading: int = 2) -> str:
    """The derivation as Markdown; ``heading`` is the level of its title (steps one below)."""
    context = view.build(derivation, LatexIRPrinter(), shape_latex, markdown_prose)
    notation = LatexNotation()
    steps = {s.number: latex_lines(step_equations(s, notation)) for s in context["steps"]}
    results = {r.parameter: latex_lines(result_equations(r, notation)) for r in context["results"]}
    return render(
        "derivation.md.j2",
        **context,
        step_math=steps,
        result_math=results,
        title_marks="#" * heading,
        section_marks="#" * (heading + 1),
    )


def equation_markdown(title: str, latex: str) -> str:
    """A titled display equation (for a model's notebook repr)."""
    return f"**{markdown_prose(title[:1].upper() + title[1:])}**\n\n$$\n{latex}\n$$\n"


@register_format("markdown", ".md")
def _markdown_format(derivation, standalone: bool = False) -> str:
    return derivation_markdown(derivation, heading=1)

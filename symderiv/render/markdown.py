"""Derivations as Markdown with ``$$`` math blocks (GitHub, MyST, Jupyter), and the LaTeX notation.

Each step, adjoint and gradient is a list of equations ``(left, relation, right)`` built by
:mod:`.view` with a *notation* (LaTeX here, MathML in :mod:`.mathml`, text in :mod:`.derivation`),
so every format shows the same lines.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..explain import Prose
from ..templating import render
from . import register_format, view
from .latex import LatexIRPrinter, shape_latex
from .view import PARTS, adjoint_equations, result_equations, step_equations  # noqa: F401  (shared)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$|#~])")  # \< is never a tag in CommonMark


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


def latex_lines(equations: list) -> str:
    """Equations aligned at the relation, one per line, for ``aligned``/``split``."""
    relations = LatexNotation.relations
    return " \\\\\n".join(f"{left} &{relations[rel]} {right}" for left, rel, right in equations)


def markdown_prose(text) -> str:
    """A sentence with Markdown's special characters escaped; the formulas of a
    :class:`~symderiv.explain.Prose` as inline math ``$...$``."""
    if isinstance(text, Prose):
        return text.render(markdown_prose, _FORMULA)
    text = text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


_FORMULA = view.formula_renderer(LatexIRPrinter(), wrap=lambda m: f"${m}$")


def derivation_markdown(derivation, heading: int = 2) -> str:
    """The derivation as Markdown; ``heading`` is the level of its title (steps one below)."""
    context = view.build(derivation, LatexIRPrinter(), shape_latex, markdown_prose)
    notation = LatexNotation()
    return render(
        "derivation.md.j2",
        **context,
        step_math={s.number: latex_lines(step_equations(s, notation)) for s in context["steps"]},
        adjoint_math=[latex_lines(adjoint_equations(a)) for a in context["backward"]],
        result_math={r.parameter: latex_lines(result_equations(r, notation)) for r in context["results"]},
        title_marks="#" * heading,
        section_marks="#" * (heading + 1),
    )


def equation_markdown(title: str, latex: str) -> str:
    """A titled display equation (for a model's notebook repr)."""
    return f"**{markdown_prose(title[:1].upper() + title[1:])}**\n\n$$\n{latex}\n$$\n"


@register_format("markdown", ".md")
def _markdown_format(derivation, standalone: bool = False) -> str:
    return derivation_markdown(derivation, heading=1)

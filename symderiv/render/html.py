"""Derivations as HTML with Presentation MathML: browsers render the math natively, offline.

``derivation_html(d)`` is an ``<article>`` fragment with its own scoped style (for notebooks and
pages); ``standalone=True`` gives a whole page. Neither loads anything from the network.
"""

from __future__ import annotations

import html

from ..explain import Prose
from ..templating import render
from . import register_format, view
from .mathml import MathMLIRPrinter, MathMLNotation, aligned, math, op, row, shape_mathml
from .view import adjoint_equations, result_equations, step_equations


def derivation_html(derivation, standalone: bool = False) -> str:
    """The derivation as an HTML fragment, or a complete page with ``standalone``."""
    context = view.build(derivation, MathMLIRPrinter(), shape_mathml, html_prose)
    notation = MathMLNotation()
    body = render(
        "derivation.html.j2",
        **context,
        expression_math=math(row(context["output"], op("="), context["expression"])),
        step_math={s.number: math(aligned(step_equations(s, notation))) for s in context["steps"]},
        adjoint_math=[math(aligned(adjoint_equations(a))) for a in context["backward"]],
        result_math={r.parameter: math(aligned(result_equations(r, notation))) for r in context["results"]},
        inline=lambda markup: math(markup, display=False),
        nabla=notation.nabla,
        scoped_style=not standalone,
    )
    if not standalone:
        return body
    return render("standalone.html.j2", body=body, title=html.escape(context["title_text"]))


def html_prose(text) -> str:
    """A sentence as HTML: text escaped, the formulas of a :class:`~symderiv.explain.Prose` as
    inline MathML."""
    if isinstance(text, Prose):
        return text.render(html.escape, _FORMULA)
    return html.escape(text)


_FORMULA = view.formula_renderer(MathMLIRPrinter(), op, lambda m: math(row(m), display=False), "")


def equation_html(title: str, left: str, right: str) -> str:
    """A titled display equation ``left = right`` (MathML markup), for a model's notebook repr."""
    heading = html.escape(title[:1].upper() + title[1:])
    equation = math(row(left, op("="), right))
    return f'<div class="symderiv"><p><strong>{heading}</strong></p>{equation}</div>'


@register_format("html", ".html")
def _html_format(derivation, standalone: bool = False) -> str:
    """A complete page: an HTML file is meant to be opened in a browser."""
    return derivation_html(derivation, standalone=True)

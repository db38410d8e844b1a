"""Whole derivations as LaTeX (a fragment, a standalone document, or notebook math) and text.

Both lay out the equation lists of :mod:`.view`; :func:`tex_lines` and :func:`text_lines` are
the two layouts (``align*`` rows, indented text lines).
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..explain import Prose
from ..templating import render
from . import register_format, view
from .latex import LatexIRPrinter, shape_latex
from .linebreak import QUAD, TEXT_WIDTH, break_lines, breakable_inline, estimate_width
from .markdown import LatexNotation
from .text import TextPrinter
from .view import adjoint_equations, result_equations, step_equations

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_TEX_MATH = {"≤": r"\le", "≥": r"\ge", "≠": r"\ne", "⊙": r"\odot", "×": r"\times", "∂": r"\partial",
             "η": r"\eta", "∇": r"\nabla", "²": "^2", "·": r"\cdot", "ᵀ": r"^{\top}", "→": r"\to",
             "∈": r"\in", "Σ": r"\Sigma", "<": "<", ">": ">", "|": "|", "⟨": r"\langle", "⟩": r"\rangle"}
_TEX_AFTER = {"path": "\\\\\n", "chain": " \\\\\n"}  # row ends other than "\n\\\n"


def tex_prose(text) -> str:
    """A sentence for LaTeX text mode: special characters escaped, symbols and formulas as inline
    math (a :class:`~symderiv.explain.Prose` sets its formulas with the LaTeX printer)."""
    if isinstance(text, Prose):
        return text.render(tex_prose, _TEX_FORMULA)
    out = []
    for char in text:
        if not char.isprintable():  # a newline would end a comment line; control characters
            out.append(" ")
        elif char in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[char])
        elif char in _TEX_MATH:
            out.append(f"${_TEX_MATH[char]}$")
        else:
            out.append(char)
    return re.sub(r"\$\$", "", "".join(out))


# a sentence's formula as LaTeX math (TEX_FORMULA, for the directive's inline math) and in $…$
TEX_FORMULA = view.formula_renderer(LatexIRPrinter(), lambda r: _TEX_MATH.get(r, r))
_TEX_FORMULA = view.formula_renderer(LatexIRPrinter(), lambda r: _TEX_MATH.get(r, r), lambda m: f"${m}$")


def text_space(rows, cols) -> str:
    rows, cols = str(rows), str(cols)
    return "R" if rows == cols == "1" else f"R^({rows} x {cols})"


class TexNotation(LatexNotation):
    """LaTeX notation with the factors of a chain written side by side."""

    def product(self, factors: list) -> str:
        return "".join(factors)


class TextNotation:
    """Derivative notation in plain text: dC/dw, grad_w C."""

    relations: ClassVar[dict] = {"=": "=", "+": "+", "<-": "<-"}

    def partial(self, numerator: str, denominator: str) -> str:
        return f"d{numerator}/d{denominator}"

    def product(self, factors: list) -> str:
        return "".join(f"({f})" for f in factors)

    def member(self, value: str, space: str) -> str:
        return f"{value}    in {space}"

    def nabla(self, parameter: str, output: str) -> str:
        return f"grad_{parameter} {output}"

    def descent(self, parameter: str, output: str) -> str:
        return f"{parameter} - eta * {self.nabla(parameter, output)}"


def tex_lines(equations: list) -> str:
    """``align*`` rows: a first left side alone on its line, chain rows kept compact, and a right
    side too wide for the page broken at a top-level operator."""
    relations = TexNotation.relations
    left_width = max((estimate_width(e[0]) for e in equations), default=0.0)
    out = []
    for k, equation in enumerate(equations):
        left, rel, right = equation
        right = _broken(right, left_width, estimate_width(relations[rel]))
        if k == 0 and left and equation.kind not in ("gradient", "update", "adjoint", "definition"):
            row = f"{left}\n&{relations[rel]} {right}"
        else:
            row = f"{left} &{relations[rel]} {right}" if left else f"&{relations[rel]} {right}"
        last = k == len(equations) - 1
        out.append(row + ("" if last else _TEX_AFTER.get(equation.kind, "\n\\\\\n")))
    return "".join(out)


def _broken(right: str, indent: float, relation: float, suffix: str = "") -> str:
    """``right`` (then ``suffix`` on its first line) in lines that fit after ``indent`` points,
    each further line indented by a quad under the relation."""
    lines = break_lines(right, TEXT_WIDTH - indent - relation, TEXT_WIDTH - indent - QUAD)
    lines[0] += suffix
    return "\\\\\n&\\quad ".join(lines)


def jacobian_step_lines(step) -> str:
    """A Jacobian-view step's ``align*`` rows: the definition with its rule, then each partial."""
    rule = f" && \\text{{{step.rule}}}"
    lefts = [step.variable] + [rf"\frac{{\partial {p.numerator}}}{{\partial {p.denominator}}}" for p in step.partials]
    indent = max(estimate_width(left) for left in lefts) + estimate_width(rule) + 2 * QUAD
    rows = [f"{step.variable} &= {_broken(step.definition, indent, estimate_width('='), rule)}"]
    for left, p in zip(lefts[1:], step.partials):
        jacobian = rf"{p.jacobian} \in {p.space}"
        rows.append(f"{left} &= {_broken(jacobian, indent, estimate_width('='))}")
    return "\n\\\\\n".join(rows)


def tex_display(left: str, right: str) -> str:
    """``left = right`` displayed: one ``equation*`` line, or ``align*`` rows where it is too wide."""
    width = estimate_width(left)
    lines = break_lines(right, TEXT_WIDTH - width - estimate_width("="), TEXT_WIDTH - width - QUAD)
    if len(lines) == 1:
        return f"\\begin{{equation*}}\n{left} = {right}\n\\end{{equation*}}"
    body = "\\\\\n&\\quad ".join(lines)
    return f"\\begin{{align*}}\n{left} &= {body}\n\\end{{align*}}"


def notebook_lines(equations: list) -> str:
    """``aligned`` rows for notebook math, each ending the way the notebook template ends it."""
    relations = TexNotation.relations
    return " \\\\\n".join(
        f"{left} &{relations[rel]} {right}" if left else f"&{relations[rel]} {right}" for left, rel, right in equations
    )


def text_lines(equations: list, indent: str = "  ") -> str:
    """Indented text lines: continuations under the first, updates as ``update: w <- ...``."""
    out = []
    for left, rel, right in equations:
        if rel == "<-":
            out.append(f"{indent}update: {left} <- {right}")
        elif left:
            out.append(f"{indent}{left} {rel} {right}")
        elif rel == "+":  # a further path of the chain rule, indented under the first product
            out.append(f"{indent}      + {right}")
        else:
            out.append(f"{indent}    {rel} {right}")
    return "\n".join(out)


def derivation_latex(derivation, standalone: bool = False, notebook: bool = False) -> str:
    """LaTeX needing amsmath and amssymb; ``standalone`` gives a whole document."""
    context = view.build(derivation, LatexIRPrinter(), shape_latex, tex_prose)
    if notebook:
        notation = LatexNotation()
        math = _math(context, notation, notebook_lines, update=False, parts=("gradients", "per-sample"))
        return render("derivation.mathjax.tex.j2", **context, **math)
    math = _math(context, TexNotation(), tex_lines)
    math["jacobian_math"] = {s.number: jacobian_step_lines(s) for s in context["steps"]}
    opening = tex_display(context["output"], context["expression"])
    body = render("derivation.tex.j2", **context, **math, opening=opening)
    if not standalone:
        return body
    return render("standalone.tex.j2", body=body, **{**context, "title": breakable_inline(context["title"])})


def _math(context: dict, notation, lines, update: bool = True, parts=view.PARTS) -> dict:
    """Every equation list of the context, laid out by ``lines``."""
    return {
        "step_math": {s.number: lines(step_equations(s, notation)) for s in context["steps"]},
        "adjoint_math": [lines(adjoint_equations(a)) for a in context["backward"]],
        "result_math": {
            r.parameter: lines(result_equations(r, notation, parts, update)) for r in context["results"]
        },
    }


@register_format("latex", ".tex")
def _latex_format(derivation, standalone: bool = False) -> str:
    return derivation_latex(derivation, standalone=standalone)


@register_format("text", ".txt")
def _text_format(derivation, standalone: bool = False) -> str:
    return derivation_text(derivation)


def derivation_text(derivation) -> str:
    context = view.build(derivation, TextPrinter(), text_space)
    return render("derivation.txt.j2", **context, **_math(context, TextNotation(), text_lines))

"""Whole derivations as LaTeX (a fragment, a standalone document, or notebook math) and text.

Both lay out the equation lists of :mod:`.view`; :func:`tex_lines` and :func:`text_lines` are
the two layouts (``align*`` rows, indented text lines).
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..templating import render
from . import register_format, view
from .latex import LatexIRPrinter, shape_latex
from .markdown import LatexNotation
from .text import TextPrinter
from .view import adjoint_equations, result_equations, step_equations

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_TEX_MATH = {"≤": r"\le", "≥": r"\ge", "≠": r"\ne", "⊙": r"\odot", "×": r"\times", "∂": r"\partial",
             "η": r"\eta", "∇": r"\nabla", "²": "^2", "·": r"\cdot", "ᵀ": r"^{\top}", "→": r"\to",
             "∈": r"\in", "Σ": r"\Sigma", "<": "<", ">": ">", "|": "|", "⟨": r"\langle", "⟩": r"\rangle"}
_TEX_AFTER = {"path": "\\\\\n", "chain": " \\\\\n"}  # row ends other than "\n\\\n"


def tex_prose(text: str) -> str:
    """A sentence for LaTeX text mode: special characters escaped, symbols as inline math."""
    out = []
    for char in text:
        if char in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[char])
        elif char in _TEX_MATH:
            out.append(f"${_TEX_MATH[char]}$")
        else:
            out.append(char)
    return re.sub(r"\$\$", "", "".join(out))


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
    """``align*`` rows: a first left side alone on its line, chain rows kept compact."""
    relations = TexNotation.relations
    out = []
    for k, equation in enumerate(equations):
        left, rel, right = equation
        if k == 0 and left and equation.kind not in ("gradient", "update", "adjoint", "definition"):
            row = f"{left}\n&{relations[rel]} {right}"
        else:
            row = f"{left} &{relations[rel]} {right}" if left else f"&{relations[rel]} {right}"
        last = k == len(equations) - 1
        out.append(row + ("" if last else _TEX_AFTER.get(equation.kind, "\n\\\\\n")))
    return "".join(out)


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
    body = render("derivation.tex.j2", **context, **_math(context, TexNotation(), tex_lines))
    return render("standalone.tex.j2", body=body, **context) if standalone else body


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

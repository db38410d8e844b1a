"""Whole derivations as LaTeX (a fragment, a standalone document, or notebook math) and text."""

from __future__ import annotations

import re

from ..templating import render
from . import register_format, view
from .latex import LatexIRPrinter, shape_latex
from .text import TextPrinter

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_TEX_MATH = {"≤": r"\le", "≥": r"\ge", "≠": r"\ne", "⊙": r"\odot", "×": r"\times", "∂": r"\partial",
             "η": r"\eta", "∇": r"\nabla", "²": "^2", "·": r"\cdot", "ᵀ": r"^{\top}", "→": r"\to",
             "∈": r"\in", "Σ": r"\Sigma", "<": "<", ">": ">", "|": "|"}


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


def derivation_latex(derivation, standalone: bool = False, notebook: bool = False) -> str:
    """LaTeX needing amsmath and amssymb; ``standalone`` gives a whole document."""
    context = view.build(derivation, LatexIRPrinter(), shape_latex, tex_prose)
    if notebook:
        return render("derivation.mathjax.tex.j2", **context)
    body = render("derivation.tex.j2", **context)
    return render("standalone.tex.j2", body=body, **context) if standalone else body


@register_format("latex", ".tex")
def _latex_format(derivation, standalone: bool = False) -> str:
    return derivation_latex(derivation, standalone=standalone)


@register_format("text", ".txt")
def _text_format(derivation, standalone: bool = False) -> str:
    return derivation_text(derivation)


def derivation_text(derivation) -> str:
    context = view.build(derivation, TextPrinter(), text_space)
    return render("derivation.txt.j2", **context)

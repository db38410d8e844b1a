"""Prose as a textbook writes it (issue 12, item 3): math set as math in every format, names
never recapitalised, numbers as a person writes them, titles as math, each explanation once and
true for its operand's shape and view, the update line for a loss only."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sympy

import symderiv
from symderiv import ir
from symderiv.explain import Prose
from symderiv.notation import scalar_text, scalar_unicode
from symderiv.render import render, view


def expr(text: str, wrt: str, view_name: str | None = None, **lets):
    node = symderiv.expression(text, {k: _shape(v) for k, v in lets.items()})
    return symderiv.derive(node, wrt=tuple(wrt.split(",")), view=view_name)


def _shape(words: str) -> tuple:
    return () if words == "scalar" else (ir.dim(words),)


@pytest.fixture(scope="module")
def worked():
    return symderiv.derive(symderiv.loss("mse", symderiv.neuron("relu")))


@pytest.fixture(scope="module")
def corpus(worked):
    """Derivations whose explanations cover every rule family, in both views where they exist."""
    out = [
        worked,
        worked.with_view("backprop"),
        symderiv.derive(symderiv.loss("logistic", symderiv.neuron("sigmoid"))),
        symderiv.derive(symderiv.loss("huber", symderiv.neuron("leaky_relu", alpha=0.1))),
        symderiv.derive(symderiv.neuron("tanh")),
        expr("sum(x / w)", "x,w"),
        expr("sum(x / w)", "x,w", "backprop"),
        expr("sum(a - x)", "a", a="n"),
        expr("sum(sqrt(x^2 + 1))", "x"),
        expr("c * (x . w)", "w,c", c="scalar"),
        symderiv.derive(symderiv.network([symderiv.dense("h", "relu"), symderiv.dense("k")],
                                         loss="softmax_cross_entropy")),
    ]
    return out


def why_lines(text: str) -> list:
    return [line.split("Why: ", 1)[1] for line in text.splitlines() if "Why: " in line]


def sentences(derivation) -> list:
    return [view.explanation(step, derivation.view) for step in derivation.steps]


# --------------------------------------------------------------------------- the sentence structure


def test_every_sentence_starts_with_a_word_and_keeps_the_case_of_variable_names(corpus):
    for derivation in corpus:
        for sentence in sentences(derivation):
            assert isinstance(sentence.parts[0], str), sentence
            assert sentence[:1].isupper(), sentence


def test_a_variable_named_a_is_not_capitalised_when_it_enters_with_a_minus_sign():
    text = render(expr("sum(x - a)", "a", a="n"), "text")
    (why, *_) = [w for w in why_lines(text) if "sign" in w]
    assert why.startswith("Subtracting a flips the sign")
    assert "A enters" not in text


def test_step_explanation_stays_a_plain_string_for_the_api(worked):
    first = worked.steps[0]
    assert isinstance(first.explanation, str)
    assert first.explanation == "row i of Xw is the dot product of row i of X with w, so the Jacobian is X itself"
    assert isinstance(first.partials[0].explanation, Prose)


def test_each_explanation_is_said_once_per_step(corpus):
    for derivation in corpus:
        for sentence in sentences(derivation):
            parts = str(sentence).split("; ")
            assert len(parts) == len(set(parts)), sentence
    quotient = render(expr("sum(x / w)", "x,w"), "text")
    assert sum(w.count("quotient rule") for w in why_lines(quotient)) == 1


# --------------------------------------------------------------------------- true for the shape and the view


def test_a_scalar_factor_multiplies_rather_than_having_elements():
    text = render(expr("c * (x . w)", "w,c", c="scalar"), "text")
    assert "The scalar c multiplies" in text
    assert "each element of c" not in text.lower()


def test_backprop_sentences_speak_of_differentials_and_adjoints(corpus):
    backprop = [d for d in corpus if d.view == "backprop"]
    assert len(backprop) >= 3
    for derivation in backprop:
        for sentence in sentences(derivation):
            assert "Jacobian" not in sentence and "identity" not in sentence, sentence
    relu = sentences(backprop[0])
    assert "⟨g, X dw⟩ = ⟨Xᵀg, dw⟩" in relu[0]
    assert "d(e²) = 2e ⊙ de" in relu[4]


def test_the_jacobian_view_keeps_its_own_wording(worked):
    assert "the derivative is the identity" in render(worked, "text")


# --------------------------------------------------------------------------- math as math


def test_text_prose_writes_math_in_unicode_not_code():
    sigmoid = why_lines(render(symderiv.derive(symderiv.neuron("sigmoid")), "text"))
    tanh = why_lines(render(symderiv.derive(symderiv.neuron("tanh")), "text"))
    assert "σ(z)(1 − σ(z))" in sigmoid[-1]
    assert "1 − tanh(z)²" in tanh[-1]
    for why in sigmoid + tanh + why_lines(render(symderiv.derive(symderiv.loss()), "text")):
        assert not re.search(r"\*|\^|@|sigmoid|\.T\b", why), why


def test_latex_prose_sets_formulas_as_inline_math(worked):
    tex = render(worked, "latex")
    assert r"Row $i$ of $\mathbf{X} \mathbf{w}$ is the dot product" in tex
    assert r"the derivative of $\mathbf{e}^{2}$ by $\mathbf{e}$ is $2 \mathbf{e}$" in tex
    assert r"\^{}" not in tex  # no code syntax escaped into text mode


def test_markdown_prose_sets_formulas_as_inline_math(worked):
    md = render(worked, "markdown")
    assert r"Row $i$ of $\mathbf{X} \mathbf{w}$ is" in md
    assert r"\^" not in md and "x^(p" not in md


class _Sentences(HTMLParser):
    """Collects each explanation paragraph: its text outside math, and its <math> elements."""

    def __init__(self):
        super().__init__()
        self.paragraphs, self._depth, self._in_why = [], 0, False

    def handle_starttag(self, tag, attrs):
        if tag == "p" and ("class", "sd-why") in attrs:
            self._in_why = True
            self.paragraphs.append({"text": "", "math": []})
        elif tag == "math" and self._in_why:
            self._depth += 1
            self.paragraphs[-1]["math"].append(dict(attrs).get("display"))

    def handle_endtag(self, tag):
        if tag == "math" and self._in_why:
            self._depth -= 1
        elif tag == "p":
            self._in_why = False

    def handle_data(self, data):
        if self._in_why and not self._depth:
            self.paragraphs[-1]["text"] += data


def test_html_prose_holds_inline_mathml_inside_its_sentences(worked):
    parser = _Sentences()
    parser.feed(render(worked, "html"))
    steps = [p for p in parser.paragraphs if p["text"].startswith(("Row", "Adding", "When", "By", "The mean"))]
    assert len(steps) >= 5
    for paragraph in steps:
        assert paragraph["math"] and set(paragraph["math"]) == {"inline"}
        assert not re.search(r"\^|\*|@", paragraph["text"]), paragraph["text"]
    assert "Row  of  is the dot product of row  of  with" in steps[0]["text"]


# --------------------------------------------------------------------------- numbers, titles, roots


def test_numbers_are_written_as_a_person_writes_them():
    derivation = symderiv.derive(symderiv.loss("mse", symderiv.neuron("leaky_relu", alpha=0.1)))
    for fmt in ("text", "latex", "markdown", "html"):
        out = render(derivation, fmt)
        assert "0.1" in out and "0.100000" not in out, fmt
    assert scalar_text(sympy.Float(0.1)) == "0.1" and scalar_unicode(sympy.Float(2.5) * sympy.Symbol("z")) == "2.5z"


def test_titles_show_the_formula_as_math():
    dot = expr("w . x", "w")
    assert render(dot, "text").splitlines()[0] == "Derivation of the gradient of C = w · x"
    assert r"# Derivation of the gradient of $C = \mathbf{w} \cdot \mathbf{x}$" in render(dot, "markdown")
    page = render(dot, "html")
    heading = re.search(r'<h1 class="sd-title">(.*?)</h1>', page).group(1)
    assert heading.startswith("Derivation of the gradient of <math") and 'display="inline"' in heading
    assert "<title>Derivation of the gradient of C = w · x</title>" in page


def test_a_square_root_has_one_pair_of_parentheses():
    root = expr("sum(sqrt(x^2 + 1))", "x")
    text = render(root, "text")
    assert "sqrt(x^2 + 1)" in text and "sqrt((" not in text
    assert "√(x² + 1)" in text.splitlines()[0] and "√((" not in text
    assert "<msqrt><mrow><mrow><mo>(</mo>" not in render(root, "html")
    assert r"\sqrt{\left(" not in render(root, "latex")


# --------------------------------------------------------------------------- the update line


@pytest.mark.parametrize("fmt, mark", [("text", "update:"), ("latex", r"\leftarrow"),
                                       ("markdown", r"\leftarrow"), ("html", "←")])
def test_the_update_line_is_shown_for_a_loss_only(worked, fmt, mark):
    assert mark in render(worked, fmt)
    network = symderiv.network([symderiv.dense("h", "relu"), symderiv.dense("k")], loss="softmax_cross_entropy")
    assert mark in render(symderiv.derive(network), fmt)
    for not_a_loss in (symderiv.derive(symderiv.neuron("relu")), expr("sum(exp(x))", "x")):
        assert mark not in render(not_a_loss, fmt)

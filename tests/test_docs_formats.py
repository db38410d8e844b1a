"""Markdown, HTML (MathML) and JSON derivations, the command line and the Jupyter reprs.

The worked example of DESIGN.md is the reference: every format must hold its six steps, the
indicator inside the per-sample sum, and gradients that evaluate to the closed form.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import sympy

import symderiv
from symderiv import forms
from symderiv.cli import main
from symderiv.render import format_names, render, view
from symderiv.render.html import derivation_html
from symderiv.render.json import (
    UnsafeExpressionError,
    derivation_json,
    parse_srepr,
    read_expression,
    read_tree,
    schema,
)
from symderiv.render.latex import LatexIRPrinter, shape_latex
from symderiv.render.markdown import derivation_markdown, markdown_prose
from symderiv.render.mathml import bold, to_mathml

RULES = [
    "matrix-vector product",
    "sum rule",
    "chain rule (element-wise function)",
    "difference rule",
    "power rule",
    "mean reduction",
]
MATHML = "{http://www.w3.org/1998/Math/MathML}"


@pytest.fixture(scope="module")
def worked():
    """The worked example: the mean squared error of a relu neuron over N samples."""
    return symderiv.derive(symderiv.loss("mse", symderiv.neuron("relu")), wrt=("w", "b"))


@pytest.fixture(scope="module")
def neuron():
    """The single neuron max(0, w·x + b)."""
    return symderiv.derive(symderiv.expression("max(0, w . x + b)"), wrt=("w", "b"))


def latex_view(derivation):
    return view.build(derivation, LatexIRPrinter(), shape_latex)


# --------------------------------------------------------------------------- Markdown


def math_blocks(markdown: str) -> list:
    """The contents of the $$ blocks, as a Markdown parser with dollar math finds them."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    tokens = MarkdownIt("commonmark").use(dollarmath_plugin).parse(markdown)
    return [t.content for t in tokens if t.type == "math_block"]


def test_markdown_has_a_math_block_per_step_and_gradient(worked):
    pytest.importorskip("mdit_py_plugins")
    md = derivation_markdown(worked)
    blocks = math_blocks(md)
    assert len(blocks) == 1 + len(worked.steps) + len(worked.gradients)
    headings = re.findall(r"^### Step \d+: (.+)$", md, re.MULTILINE)
    assert headings == RULES


def test_markdown_holds_the_latex_of_every_step_and_result(worked):
    md = derivation_markdown(worked)
    context = latex_view(worked)
    for step in context["steps"]:
        assert f"{step.variable} &= {step.definition}" in md
        for p in step.partials:
            assert p.jacobian in md and p.space in md
    for result in context["results"]:
        for form in (result.chain, result.derivative, result.per_sample, result.gradient):
            assert form in md


def test_markdown_keeps_the_indicator_inside_the_per_sample_sum(worked):
    md = derivation_markdown(worked)
    assert r"\frac{2}{N} \sum_{i=1}^{N} \mathbb{I}\left[z_{i} > 0\right] e_{i} \mathbf{x}_{i}^{\top}" in md
    assert (
        r"\nabla_{\mathbf{w}} C &= \frac{2}{N} \mathbf{X}^{\top} \left(\mathbb{I}\left[\mathbf{z} > 0\right]"
        in md
    )


def test_markdown_carries_each_step_explanation(worked):
    from symderiv.render import view

    md = derivation_markdown(worked)
    for step in worked.steps:
        sentence = markdown_prose(view.explanation(step, worked.view))  # words, with $…$ formulas
        assert sentence in md and "$" in sentence


def test_markdown_prose_escapes_markup():
    assert markdown_prose("a*b_c [x] <y> $z$ |t|") == r"a\*b\_c \[x\] \<y\> \$z\$ \|t\|"


def test_neuron_markdown_shows_the_cases_of_the_worked_example(neuron):
    md = derivation_markdown(neuron)
    assert (
        r"\begin{cases} \mathbf{0}^{\top} & \text{if } z \leq 0 \\ \mathbf{x}^{\top} & \text{if } z > 0" in md
    )


# --------------------------------------------------------------------------- HTML / MathML


def math_elements(page: str) -> list:
    """Every <math> element of a page, parsed as XML (so each must be well-formed)."""
    return [ET.fromstring(m) for m in re.findall(r"<math\b.*?</math>", page, re.DOTALL)]


def flat_text(element) -> str:
    return "".join(element.itertext()).replace("\u2062", "").replace("\u2061", "")


def test_html_page_is_self_contained(worked):
    page = render(worked, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_html_has_a_section_per_step_with_its_rule_and_explanation(worked):
    page = render(worked, "html")
    assert re.findall(r"<h2>Step \d+: (.+?)</h2>", page) == RULES
    from symderiv.render import view
    from symderiv.render.html import html_prose

    for step in worked.steps:
        sentence = html_prose(view.explanation(step, worked.view))  # words, with inline <math>
        assert sentence in page and "<math" in sentence


def test_html_math_is_well_formed_mathml(worked):
    maths = math_elements(render(worked, "html"))
    assert len(maths) >= 1 + len(worked.steps) + len(worked.gradients)
    for element in maths:
        assert element.tag == f"{MATHML}math"
        assert not list(element.iter(f"{MATHML}merror"))


def test_html_keeps_the_indicator_inside_the_per_sample_sum(worked):
    text = [flat_text(m) for m in math_elements(render(worked, "html"))]
    per_sample = [t for t in text if "∑" in t and "𝐱" in t]
    assert per_sample, "no per-sample sum for w"
    assert "=2N∑i=1N𝟙[zi>0]ei𝐱i⊤" in per_sample[0]
    assert any("∇𝐰C=2N𝐗⊤(𝟙[𝐳>0]⊙𝐞)" in t for t in text)


def test_html_fragment_is_scoped_and_standalone_page_is_not_a_fragment(worked):
    fragment = derivation_html(worked)
    assert fragment.startswith('<article class="symderiv">') and "<style>" in fragment
    assert "<html" not in fragment
    assert "<html" in derivation_html(worked, standalone=True)


def test_mathml_printer_escapes_relations_and_prints_cases():
    d = symderiv.derive(symderiv.neuron("hard_tanh"))
    markup = to_mathml(d.steps[-1].partials[0].jacobian)
    parsed = ET.fromstring(f'<math xmlns="http://www.w3.org/1998/Math/MathML">{markup}</math>')
    assert "z>-1" in flat_text(parsed).replace("∧", "") and "z<1" in flat_text(parsed)
    cases = to_mathml(symderiv.derive(symderiv.expression("max(0, w . x + b)")).gradient("w").derivative)
    assert '<mo stretchy="true">{</mo>' in cases and cases.count("<mtr>") == 2


def test_bold_maps_letters_digits_and_greek():
    assert bold("wX1η") == "\U0001d430\U0001d417\U0001d7cf\U0001d6c8"


# --------------------------------------------------------------------------- JSON


def test_json_validates_against_its_schema(worked, neuron):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema())
    for derivation in (worked, neuron):
        document = json.loads(render(derivation, "json"))
        jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)


def test_json_steps_match_the_worked_example(worked):
    document = json.loads(render(worked, "json"))
    steps = document["steps"]
    assert [s["rule"] for s in steps] == RULES
    assert [s["variable"]["text"] for s in steps] == ["u", "z", "a", "e", "v", "C"]
    assert [s["shape"] for s in steps] == [["N"]] * 5 + [[]]
    assert all(s["explanation"] for s in steps)
    relu_step = steps[2]
    assert relu_step["partials"][0]["shape"] == ["N", "N"]
    assert relu_step["partials"][0]["jacobian"]["text"] == "diag(1[z > 0])"
    assert document["gradients"]["w"]["per_sample"]["text"] == "2/N * sum_{i=1..N} (1[z_i > 0] * e_i * x_i^T)"
    assert document["gradients"]["w"]["paths"] == [["C", "v", "e", "a", "z", "u", "w"]]


def _expanded(document: dict, name: str):
    """A gradient read from JSON, with the intermediate variables replaced by their JSON definitions."""
    from symderiv import ir

    definitions = {}
    for step in document["steps"]:
        variable = read_expression(step["variable"])
        definitions[variable.key] = ir.substitute(read_expression(step["definition"]), definitions)
    return ir.substitute(read_expression(document["gradients"][name]["gradient"]), definitions)


def test_json_gradients_evaluate_to_the_closed_form(worked):
    from symderiv import numeric

    document = json.loads(render(worked, "json"))
    rng = np.random.default_rng(5)
    X, w, y, b = rng.normal(size=(7, 4)), rng.normal(size=4), rng.normal(size=7), 0.3
    z = X @ w + b
    e = np.maximum(z, 0) - y
    expected = {"w": 2 / 7 * X.T @ ((z > 0) * e), "b": 2 / 7 * np.sum((z > 0) * e)}
    env = {"X": X, "w": w, "y": y, "b": b}
    assert 0 < (z > 0).sum() < 7, "samples on both sides of the kink"
    for name, value in expected.items():
        np.testing.assert_allclose(numeric.evaluate(_expanded(document, name), env), value, rtol=1e-12)


def test_json_kink_convention_survives_the_round_trip(worked):
    document = json.loads(render(worked, "json"))
    jacobian = read_expression(document["steps"][2]["partials"][0]["jacobian"])
    derivative = jacobian.args[0].fn  # diag(relu'(z))
    z = derivative.params[0]
    assert [derivative.body.subs(z, v) for v in (-1, 0, 1)] == [0, 0, 1]  # min-norm: relu'(0) = 0


@pytest.mark.parametrize(
    "target",
    [
        lambda: symderiv.loss("mse", symderiv.neuron("relu")),
        lambda: symderiv.loss("huber", symderiv.neuron("hard_tanh")),
        lambda: symderiv.loss("squared_hinge", symderiv.neuron("relu")),
        lambda: symderiv.loss("logistic", symderiv.neuron("sigmoid")),
        lambda: symderiv.neuron("elu"),
    ],
    ids=["relu-mse", "hard_tanh-huber", "relu-squared_hinge", "sigmoid-logistic", "elu"],
)
def test_json_trees_read_back_exactly(target):
    derivation = symderiv.derive(target())
    document = json.loads(json.dumps(derivation_json(derivation)))
    pairs = [(s.definition, js["definition"]) for s, js in zip(derivation.steps, document["steps"])]
    for step, js in zip(derivation.steps, document["steps"]):
        pairs += [(p.jacobian, jp["jacobian"]) for p, jp in zip(step.partials, js["partials"])]
    for name, gradient in derivation.gradients.items():
        jg = document["gradients"][name]
        pairs += [(gradient.vectorized, jg["gradient"]), (gradient.derivative, jg["derivative"])]
        if gradient.per_sample is not None:  # shown in numerator layout, like the derivative
            pairs.append((forms.numerator(gradient.per_sample), jg["per_sample"]))
    for node, expression in pairs:
        assert read_expression(expression) == node


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "Symbol('x').__class__",
        "Max('1+1', Integer(0))",
        "Symbol('x; import os')",
        "Float('nan; x')",
        "Pow(Integer(10), Integer(100000000000000000000000))",
        "Integer(2**10)",
        "(lambda: 0)()",
        "eval('1')",
        "Symbol(name='x')",
    ],
)
def test_parse_srepr_rejects_anything_but_plain_srepr(text):
    with pytest.raises(UnsafeExpressionError):
        parse_srepr(text)


def test_parse_srepr_reads_srepr_back():
    z = sympy.Symbol("z", real=True)
    for expr in [sympy.Piecewise((0, z <= 0), (1, True)), sympy.Float("0.01") * z, -2 / sympy.Symbol("N")]:
        assert parse_srepr(sympy.srepr(expr, order="none")) == expr


def test_read_tree_checks_the_shape():
    with pytest.raises(ValueError, match="shape"):
        read_tree({"node": "Sum", "shape": ["n"], "args": [{"node": "Symbol", "name": "w", "shape": ["n"]}]})


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    "fmt,check",
    [
        ("markdown", lambda text: text.startswith("# Derivation of the mse loss of a relu neuron")),
        ("html", lambda text: text.startswith("<!DOCTYPE html>") and "<math" in text),
        ("json", lambda text: json.loads(text)["format"] == "symderiv-derivation"),
    ],
)
def test_cli_writes_each_format_to_a_file(tmp_path, capsys, fmt, check):
    target = tmp_path / f"relu_mse.{fmt}"
    status = main(["derive", "--activation", "relu", "--loss", "mse", "--format", fmt, "-o", str(target)])
    assert status == 0, capsys.readouterr().err
    assert check(target.read_text(encoding="utf-8"))


def test_formats_are_registered():
    assert {"markdown", "html", "json"} <= set(format_names())


# --------------------------------------------------------------------------- Jupyter


def test_derivation_reprs(worked):
    assert worked._repr_markdown_() == derivation_markdown(worked)
    fragment = worked._repr_html_()
    assert fragment == derivation_html(worked) and "<math" in fragment and "<script" not in fragment
    assert worked._repr_latex_().startswith("$$")


@pytest.mark.parametrize(
    "make,symbol",
    [
        (lambda: symderiv.neuron("relu"), "a"),
        (lambda: symderiv.loss("mse", symderiv.neuron("relu")), "C"),
    ],
)
def test_model_reprs(make, symbol):
    model = make()
    markdown = model._repr_markdown_()
    assert f"$$\n{model.latex()}\n$$" in markdown and model.title()[1:] in markdown
    (math,) = math_elements(model._repr_html_())
    assert flat_text(math).startswith(f"{symbol}=")
    assert "\U0001d430" in flat_text(math)  # bold w


def test_ipython_picks_up_every_repr(worked):
    formatters = pytest.importorskip("IPython.core.formatters")
    bundle, _ = formatters.DisplayFormatter().format(worked)
    assert {"text/html", "text/markdown", "text/latex"} <= set(bundle)
    bundle, _ = formatters.DisplayFormatter().format(symderiv.neuron("relu"))
    assert {"text/html", "text/markdown", "text/latex"} <= set(bundle)

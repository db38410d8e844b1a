"""The backprop view in every document format: differentials forward, adjoints backward, results.

Two matrix derivations (a dense relu layer with the mean squared error, a softmax classifier with
cross-entropy) and the worked example in the backprop view, rendered as LaTeX, text, Markdown,
HTML, JSON, Sphinx nodes and notebook reprs; plus the ``--view`` option and the one equation
builder that every format lays out.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

import symderiv
from symderiv import ir
from symderiv.cli import main
from symderiv.functions import BUILTINS
from symderiv.render import render, view
from symderiv.render.derivation import TextNotation, text_lines
from symderiv.render.json import derivation_json, read_expression, schema
from symderiv.render.latex import LatexIRPrinter, shape_latex
from symderiv.render.markdown import LatexNotation
from symderiv.sphinx import derivation_nodes, parse_show, spec_arguments

MATHML = "{http://www.w3.org/1998/Math/MathML}"
N, n, h, k = ir.dim("N"), ir.dim("n"), ir.dim("h"), ir.dim("k")


@pytest.fixture(scope="module")
def dense():
    """mean((relu(XW + b) - Y)²) by W (n×h) and b (h)."""
    X, W, b, Y = ir.Symbol("X", (N, n)), ir.Symbol("W", (n, h)), ir.Symbol("b", (h,)), ir.Symbol("Y", (N, h))
    return symderiv.derive(ir.mean((BUILTINS["relu"](X @ W + b) - Y) ** 2), wrt=("W", "b"))


@pytest.fixture(scope="module")
def softmax():
    """mean(logsumexp(Z) - Σ_j Y ⊙ Z) with Z = XW + b: softmax cross-entropy."""
    X, W, b, Y = ir.Symbol("X", (N, n)), ir.Symbol("W", (n, k)), ir.Symbol("b", (k,)), ir.Symbol("Y", (N, k))
    Z = X @ W + b
    return symderiv.derive(ir.mean(ir.logsumexp(Z) - ir.total(Y * Z, 1)), wrt=("W", "b"))


@pytest.fixture(scope="module")
def worked():
    return symderiv.loss("mse", symderiv.neuron("relu")).derive().with_view("backprop")


@pytest.fixture(scope="module")
def network():
    """Two layers (relu, then softmax cross-entropy) with l2 on both weight matrices."""
    spec = symderiv.network([symderiv.dense("h", "relu"), symderiv.dense("k")],
                            loss="softmax_cross_entropy", regularizers=[symderiv.l2(0.01)])
    return symderiv.derive(spec)


@pytest.fixture(params=["dense", "softmax", "worked", "network"])
def derivation(request):
    return request.getfixturevalue(request.param)


def variables(d) -> list:
    """Every intermediate but the output, and every parameter: each has an adjoint."""
    return [s.variable.name for s in d.steps if s.variable.name != d.output.name] + [p.name for p in d.wrt]


# --------------------------------------------------------------------------- the view and equations


def test_matrix_derivations_default_to_the_backprop_view(dense, softmax):
    assert dense.view == softmax.view == "backprop"
    with pytest.raises(symderiv.errors.SymderivError, match="backprop view"):
        dense.with_view("jacobian")


def test_view_lists_an_adjoint_for_every_variable(derivation):
    context = view.build(derivation, LatexIRPrinter(), shape_latex)
    assert context["view"] == "backprop" and context["layout"] == "gradient"
    assert sorted(a.variable.name for a in derivation.backward) == sorted(variables(derivation))
    assert all(s.differential and s.differential_symbol for s in context["steps"])
    assert all(s.partials == [] for s in context["steps"]) or derivation.has_jacobians
    marked = {a.variable: a.is_parameter for a in context["backward"]}
    assert sum(marked.values()) == len(derivation.wrt)


def test_result_equations_in_the_backprop_view(dense):
    context = view.build(dense, LatexIRPrinter(), shape_latex)
    result = context["results"][0]
    lines = view.result_equations(result, LatexNotation())
    assert [e.kind for e in lines] == ["gradient", "per-sample", "index", "update"]
    assert lines[0][0] == r"\nabla_{\mathbf{W}} C" and r"\mathbf{X}^{\top}" in lines[0][2]
    assert r"\sum_{i=1}^{N}" in lines[1][2] and r"\mathbb{I}" in lines[1][2].split(r"\sum_{i=1}^{N}")[1]
    assert "W_{jk}" in lines[2][0].replace(r"\mathbf{W}", "W").replace(" ", "")
    assert "update" not in [e.kind for e in view.result_equations(result, LatexNotation(), update=False)]


def test_one_builder_lays_out_the_jacobian_text_results():
    d = symderiv.loss("mse", symderiv.neuron("relu")).derive()
    context = view.build(d, symderiv.render.text.TextPrinter(), lambda r, c: "")
    text = text_lines(view.result_equations(context["results"][0], TextNotation()))
    assert text in d.text()
    assert text.splitlines()[0].startswith("  dC/dw = (dC/dv)(dv/de)")
    assert text.splitlines()[-1] == "  update: w <- w - eta * grad_w C"


# --------------------------------------------------------------------------- the formats


def test_text_shows_forward_backward_and_results(dense):
    text = dense.text()
    assert text.index("Forward") < text.index("Backward") < text.index("Gradient with respect to W")
    assert "Gradient layout" in text and "minimum-norm subgradient" in text
    assert "  dU = X @ dW" in text
    assert "  <grad_U C, X @ dW> = <X.T @ grad_U C, dW>" in text  # the identity for W has Xᵀ
    assert "  dC/dW_jk = " in text and "X_ij" in text
    assert "  update: W <- W - eta * grad_W C" in text
    for name in variables(dense):
        assert f"  grad_{name} C = " in text


def test_softmax_backward_uses_the_softmax_rule(softmax):
    text = softmax.text()
    assert "softmax(" in text.split("Backward")[1]
    assert "logsumexp" in text.split("Backward")[0]


def test_markdown_has_aligned_blocks_for_steps_adjoints_and_results(derivation):
    md = render(derivation, "markdown")
    blocks = md.count(r"\begin{aligned}")
    assert blocks == len(derivation.steps) + len(derivation.backward) + len(derivation.gradients)
    assert md.count(r"\end{aligned}") == blocks
    for adjoint in view.build(derivation, LatexIRPrinter(), shape_latex)["backward"]:
        assert f"\n{adjoint.symbol} &= {adjoint.adjoint}" in md
    assert "Gradient layout" in md


def sections(page: str) -> dict:
    """The <math> elements (parsed as XML) of each <section>, by the section's class."""
    found: dict = {}
    for kind, body in re.findall(r'<section class="([^"]+)"[^>]*>(.*?)</section>', page, re.DOTALL):
        maths = [ET.fromstring(m) for m in re.findall(r"<math\b.*?</math>", body, re.DOTALL)]
        found.setdefault(kind, []).append(maths)
    return found


def test_html_has_mathml_for_every_line(derivation):
    page = render(derivation, "html")
    HTMLParser().feed(page)
    found = sections(page)
    steps, gradients = found["sd-step"], found["sd-gradient"]
    adjoints = found.get("sd-adjoint", []) + found.get("sd-adjoint sd-parameter", [])
    assert len(found["sd-adjoint sd-parameter"]) == len(derivation.wrt)
    assert len(steps) == len(derivation.steps) and len(adjoints) == len(derivation.backward)
    for maths in steps:  # inline shape, then V = ... and dV = ...
        assert len(maths[-1].findall(f".//{MATHML}mtr")) == 2
    rows = sorted(len(maths[-1].findall(f".//{MATHML}mtr")) for maths in adjoints)
    # identities whose two sides read the same (an adjoint passed through unchanged) are left out
    assert rows == sorted(1 + sum(not _trivial(t) for t in a.terms) for a in derivation.backward)
    for maths in gradients:
        assert len(maths[-1].findall(f".//{MATHML}mtr")) >= 2
    assert not re.search(r"<merror", page)


def test_json_validates_and_reads_back(derivation):
    jsonschema = pytest.importorskip("jsonschema")
    document = json.loads(render(derivation, "json"))
    jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)
    assert document["version"] == 2 and document["view"] == "backprop" and document["layout"] == "gradient"
    for step, original in zip(document["steps"], derivation.steps):
        assert read_expression(step["differential"]["value"]) == original.differential
    for entry, original in zip(document["backward"], derivation.backward):
        assert read_expression(entry["adjoint"]) == original.adjoint
        for term, source in zip(entry["terms"], original.terms):
            assert read_expression(term["identity"]["left"]) == source.identity[0]
            assert read_expression(term["identity"]["right"]) == source.identity[1]
    for name, gradient in derivation.gradients.items():
        written = document["gradients"][name]
        assert read_expression(written["gradient"]) == gradient.vectorized
        if gradient.index_form is not None:
            assert read_expression(written["index_form"]) == gradient.index_form
    assert {e["variable"]["text"] for e in document["backward"]} == set(variables(derivation))


def test_json_identity_for_w_has_x_transposed(dense):
    document = derivation_json(dense)
    (w,) = [e for e in document["backward"] if e["variable"]["text"] == "W"]
    assert w["is_parameter"]
    assert w["terms"][0]["identity"]["right"]["text"] == "<X.T @ grad_U C, dW>"


def test_jacobian_json_also_carries_the_backward_pass():
    jsonschema = pytest.importorskip("jsonschema")
    d = symderiv.loss("mse", symderiv.neuron("relu")).derive()
    document = derivation_json(d)
    jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)
    assert document["view"] == "jacobian" and document["layout"] == "numerator"
    assert len(document["backward"]) == len(d.backward) and document["steps"][0]["partials"]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ["dense", "softmax", "network"])
def test_standalone_latex_compiles(name, request, tmp_path):
    d = request.getfixturevalue(name)
    source = tmp_path / "derivation.tex"
    source.write_text(render(d, "latex", standalone=True), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "derivation.pdf").stat().st_size > 1000


def test_latex_marks_gradients_and_identities(dense):
    latex = dense.latex()
    assert latex.count(r"\textbf{Gradient $\nabla") == len(dense.wrt)
    assert r"\langle" in latex and r"\mathbf{X}^{\top}" in latex
    assert "shaped like" in latex


def test_notebook_reprs_use_the_same_lines(dense):
    assert dense._repr_latex_().startswith("$$") and r"\nabla" in dense._repr_latex_()
    assert dense._repr_markdown_() == symderiv.render.markdown.derivation_markdown(dense)
    assert "sd-adjoint" in dense._repr_html_()


# --------------------------------------------------------------------------- front ends


def test_cli_view_option(capsys):
    assert main(["derive", "-a", "relu", "-l", "mse", "--view", "backprop", "-f", "text"]) == 0
    out = capsys.readouterr().out
    assert "Backward" in out and "grad_w C = X.T @ grad_u C" in out


def test_cli_rejects_an_unknown_view_in_one_line(capsys):
    assert main(["derive", "-a", "relu", "-l", "mse", "--view", "hessian"]) == 2
    err = capsys.readouterr().err.strip()
    assert "hessian" in err and len(err.splitlines()) == 1


def test_cli_jacobian_view_of_a_matrix_derivation_is_the_engines_error(capsys):
    argv = ["derive", "-e", "mean((X @ W - Y)^2)", "--let", "X: matrix(N, n)", "--let", "W: matrix(n, h)",
            "--let", "Y: matrix(N, h)", "--wrt", "W", "--view", "jacobian"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "backprop view" in err and len(err.splitlines()) == 1


def test_directive_options_reach_the_spec_namespace():
    args = spec_arguments({"layer": "dense(h, relu); dense(k) ;", "regularizer": "l2(0.1)", "view": "backprop"})
    assert args.layer == ["dense(h, relu)", "dense(k)"]
    assert args.regularizer == ["l2(0.1)"] and args.view == "backprop"
    assert spec_arguments({}).layer == [] and spec_arguments({}).view is None


def test_directive_nodes_in_the_backprop_view(dense):
    out = derivation_nodes(dense, parse_show(""), "doc")
    blocks = [node.astext() for node in out if node.tagname == "math_block"]
    assert len(blocks) == 1 + len(dense.steps) + len(dense.backward) + len(dense.gradients)
    assert any(r"\langle" in b for b in blocks)
    only_results = derivation_nodes(dense, parse_show("gradients"), "doc")
    assert sum(node.tagname == "math_block" for node in only_results) == 1 + len(dense.gradients)


def _trivial(term) -> bool:
    from symderiv.render.text import to_text

    return to_text(term.identity[0]) == to_text(term.identity[1])

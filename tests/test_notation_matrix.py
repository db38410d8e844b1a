"""Notation of the matrix nodes in the three expression printers (text, LaTeX, MathML)."""

import shutil
import subprocess
from xml.dom.minidom import parseString

import pytest
import sympy

import symderiv
from symderiv import ir
from symderiv.functions import BUILTINS
from symderiv.render.latex import LatexIRPrinter, to_latex
from symderiv.render.mathml import MathMLIRPrinter, math, to_mathml
from symderiv.render.text import TextPrinter, to_text

N, n, h, k = ir.dim("N"), ir.dim("n"), ir.dim("h"), ir.dim("k")
X = ir.Symbol("X", (N, n))
W = ir.Symbol("W", (n, h))
U = ir.Symbol("U", (N, h))
G = ir.Symbol("G", (N, h))
Z = ir.Symbol("Z", (N, h))
Y = ir.Symbol("Y", (N, h))
b = ir.Symbol("b", (h,))
v = ir.Symbol("v", (n,))
g = ir.Symbol("g", (N,))
c = ir.Symbol("c")
Z1 = ir.Symbol("Z_1", (N, h))
W2 = ir.Symbol("W_2", (h, k))
relu = BUILTINS["relu"]

# One instance of every node class: a new class without an entry here fails test_every_node_class.
INSTANCES = {
    "Add": lambda: ir.Add(G, b),
    "Adjoint": lambda: ir.Adjoint(W, "C"),
    "Apply": lambda: relu(G),
    "Broadcast": lambda: ir.Broadcast(b, 0, N),
    "Chain": lambda: ir.Chain((ir.Row(v), ir.Diag(v)), (1, n)),
    "Const": lambda: ir.Const(sympy.Rational(1, 2)),
    "Diag": lambda: ir.Diag(v),
    "Differential": lambda: ir.Differential(W),
    "Div": lambda: ir.Div(G, c),
    "Elem": lambda: ir.Elem(X, "i"),
    "Entry": lambda: ir.Entry(X, ("i", "j")),
    "Identity": lambda: ir.Identity(n),
    "IndexedSum": lambda: ir.IndexedSum("i", N, ir.Outer(ir.Elem(X, "i"), ir.Elem(G, "i"))),
    "Inner": lambda: ir.Inner(G, ir.Differential(G)),
    "LogSoftmax": lambda: ir.LogSoftmax(Z),
    "LogSumExp": lambda: ir.LogSumExp(Z),
    "MatMul": lambda: ir.MatMul(X, W),
    "Mean": lambda: ir.Mean(G, 0),
    "Mul": lambda: ir.Mul(G, b),
    "Neg": lambda: ir.Neg(G),
    "Ones": lambda: ir.Ones((N,)),
    "Outer": lambda: ir.Outer(v, b),
    "Pow": lambda: ir.Pow(G, ir.Const(2)),
    "Row": lambda: ir.Row(v),
    "Softmax": lambda: ir.Softmax(Z),
    "Sub": lambda: ir.Sub(G, b),
    "Sum": lambda: ir.Sum(G, 1),
    "Symbol": lambda: W,
    "Transpose": lambda: ir.Transpose(W),
    "Zero": lambda: ir.Zero((N, h)),
}

PRINTERS = {"text": TextPrinter, "latex": LatexIRPrinter, "mathml": MathMLIRPrinter}


def instance(name):
    if name not in INSTANCES:
        pytest.fail(f"no instance of {name} in INSTANCES: add one (and its notation in every printer)")
    return INSTANCES[name]()


def notation_owner(printer_class, node_class):
    """The class whose ``_print_<Name>`` the printer uses for ``node_class`` (the generic Node is none)."""
    for cls in node_class.__mro__:
        if cls is ir.Node:
            return None
        if hasattr(printer_class, f"_print_{cls.__name__}"):
            return cls
    return None


def mathml_parses(markup):
    return parseString(math(markup)).documentElement.tagName == "math"


@pytest.mark.parametrize("printer", sorted(PRINTERS))
@pytest.mark.parametrize("name", sorted(ir.node_classes()))
def test_every_node_class_has_notation(name, printer):
    node = instance(name)
    assert type(node).__name__ == name
    assert notation_owner(PRINTERS[printer], type(node)) is not None, f"{printer} has no notation for {name}"
    printed = PRINTERS[printer]().doprint(node)
    assert isinstance(printed, str) and printed.strip()
    if printer == "mathml":
        assert mathml_parses(printed)


# --------------------------------------------------------------------------- exact forms

LATEX = [
    (ir.add(U, b), r"\mathbf{U} + \mathbf{1}\mathbf{b}^{\top}"),
    (ir.sub(U, b), r"\mathbf{U} - \mathbf{1}\mathbf{b}^{\top}"),
    (ir.Adjoint(W, "C"), r"\nabla_{\mathbf{W}} C"),
    (ir.Inner(G, X @ ir.Differential(W)), r"\langle \mathbf{G}, \mathbf{X} d\mathbf{W} \rangle"),
    (ir.Elem(ir.Symbol("z_1", (N,)), "i"), r"z_{1,i}"),
    (ir.Elem(Z1, "i"), r"\mathbf{z}_{1,i}"),
    (ir.Entry(Z1, ("i", "k")), r"Z_{1,ik}"),
    (ir.Entry(X, ("i", "j")), r"X_{ij}"),
    (ir.Elem(X, "i"), r"\mathbf{x}_{i}"),
    (Z1, r"\mathbf{Z}_{1}"),
    (ir.Adjoint(W2, "C"), r"\nabla_{\mathbf{W}_{2}} C"),
    (ir.Broadcast(b, 0, N), r"\mathbf{1}\mathbf{b}^{\top}"),
    (ir.Broadcast(g, 1, h), r"\mathbf{g}\mathbf{1}^{\top}"),
    (ir.Broadcast(ir.Differential(b), 0, N), r"\mathbf{1}d\mathbf{b}^{\top}"),
    (ir.total(G, 0), r"\mathbf{G}^{\top}\mathbf{1}"),
    (ir.total(G, 1), r"\mathbf{G}\mathbf{1}"),
    (ir.mean(G, 0), r"\frac{1}{N}\mathbf{G}^{\top}\mathbf{1}"),
    (ir.total(ir.Adjoint(Z, "C"), 0), r"\left(\nabla_{\mathbf{Z}} C\right)^{\top}\mathbf{1}"),
    (ir.outer(v, b), r"\mathbf{v}\mathbf{b}^{\top}"),
    (ir.softmax(Z), r"\operatorname{softmax}\left(\mathbf{Z}\right)"),
    (ir.log_softmax(Z), r"\log\operatorname{softmax}\left(\mathbf{Z}\right)"),
    (ir.logsumexp(Z), r"\operatorname{logsumexp}\left(\mathbf{Z}\right)"),
    # precedence: products are parenthesised under ⊙, powers and transposes; atoms are not
    (ir.mul(G, b), r"\mathbf{G} \odot \left(\mathbf{1}\mathbf{b}^{\top}\right)"),
    (ir.mul(b, G), r"\left(\mathbf{1}\mathbf{b}^{\top}\right) \odot \mathbf{G}"),
    (ir.Pow(ir.Broadcast(b, 0, N), ir.Const(2)), r"\left(\mathbf{1}\mathbf{b}^{\top}\right)^{2}"),
    (ir.transpose(ir.Adjoint(G, "C")), r"\left(\nabla_{\mathbf{G}} C\right)^{\top}"),
    (ir.mul(ir.Const(2), ir.total(G, 0)), r"2 \mathbf{G}^{\top}\mathbf{1}"),
    (ir.Outer(ir.Elem(X, "i"), ir.mul(ir.Elem(G, "i"), ir.Elem(Z, "i"))),
     r"\mathbf{x}_{i}\left(\mathbf{g}_{i} \odot \mathbf{z}_{i}\right)^{\top}"),
    (X @ ir.Adjoint(W, "C"), r"\mathbf{X} \nabla_{\mathbf{W}} C"),
]

TEXT = [
    (ir.add(U, b), "U + b"),
    (ir.Adjoint(W, "C"), "grad_W C"),
    (ir.Inner(G, X @ ir.Differential(W)), "<G, X @ dW>"),
    (ir.Elem(Z1, "i"), "z_{1,i}"),
    (ir.Entry(Z1, ("i", "k")), "Z_{1,ik}"),
    (ir.Entry(X, ("i", "j")), "X_ij"),
    (ir.Elem(X, "i"), "x_i"),
    (ir.Broadcast(b, 0, N), "1 b^T"),
    (ir.Broadcast(ir.Differential(b), 0, N), "1 db^T"),
    (ir.Broadcast(g, 1, h), "g 1^T"),
    (ir.total(G, 0), "sum(G, axis=0)"),
    (ir.mean(G, 1), "mean(G, axis=1)"),
    (ir.total(G), "sum(G)"),
    (ir.outer(v, b), "v b^T"),
    (ir.log_softmax(Z), "log_softmax(Z)"),
    (ir.logsumexp(Z), "logsumexp(Z)"),
    (ir.transpose(ir.Adjoint(G, "C")), "(grad_G C).T"),
    (ir.Pow(ir.Broadcast(b, 0, N), ir.Const(2)), "(1 b^T)^2"),
]


@pytest.mark.parametrize("node, expected", LATEX, ids=[e for _, e in LATEX])
def test_latex_forms(node, expected):
    assert to_latex(node) == expected


@pytest.mark.parametrize("node, expected", TEXT, ids=[e for _, e in TEXT])
def test_text_forms(node, expected):
    assert to_text(node) == expected


def test_mathml_forms():
    assert to_mathml(ir.Adjoint(W, "C")) == (
        '<mrow><msub><mi mathvariant="normal">∇</mi><mrow><mi>𝐖</mi></mrow></msub><mi>C</mi></mrow>'
    )
    assert to_mathml(ir.Elem(Z1, "i")) == "<msub><mi>𝐳</mi><mrow><mn>1</mn><mo>,</mo><mi>i</mi></mrow></msub>"
    assert to_mathml(ir.Entry(X, ("i", "j"))) == "<msub><mi>X</mi><mrow><mi>i</mi><mi>j</mi></mrow></msub>"
    assert to_mathml(ir.add(U, b)) == (
        "<mrow><mi>𝐔</mi><mo>+</mo><mrow><mn>𝟏</mn><mo>&#x2062;</mo>"
        '<msup><mi>𝐛</mi><mi mathvariant="normal">⊤</mi></msup></mrow></mrow>'
    )
    inner = to_mathml(ir.Inner(G, X @ ir.Differential(W)))
    assert inner.startswith("<mrow><mo>⟨</mo><mi>𝐆</mi><mo>,</mo>") and inner.endswith("<mo>⟩</mo></mrow>")
    assert '<mi mathvariant="normal">d</mi><mi>𝐖</mi>' in inner


def test_mathml_of_a_greek_vector_is_valid_xml():
    markup = to_mathml(ir.Symbol("alpha", (h,)))
    assert markup == "<mi>𝛂</mi>" and mathml_parses(markup)


# --------------------------------------------------------------------------- a whole derivation


@pytest.fixture(scope="module")
def dense():
    return symderiv.derive(ir.mean((relu(X @ W + b) - Y) ** 2), wrt=("W", "b"))


def test_dense_layer_differentials_and_identities(dense):
    steps = {s.variable.name: s for s in dense.steps}
    assert to_latex(steps["Z"].definition) == r"\mathbf{U} + \mathbf{1}\mathbf{b}^{\top}"
    assert to_latex(steps["Z"].differential) == r"d\mathbf{U} + \mathbf{1}d\mathbf{b}^{\top}"
    assert to_text(steps["U"].differential) == "X @ dW"
    backward = {a.variable.name: a for a in dense.backward}
    w_identity = [to_latex(side) for side in backward["W"].terms[0].identity]
    assert w_identity == [
        r"\langle \nabla_{\mathbf{U}} C, \mathbf{X} d\mathbf{W} \rangle",
        r"\langle \mathbf{X}^{\top} \nabla_{\mathbf{U}} C, d\mathbf{W} \rangle",
    ]
    assert to_text(backward["b"].terms[0].identity[1]) == "<sum(grad_Z C, axis=0), db>"


def dense_nodes(derivation):
    """Every expression a dense-layer derivation shows."""
    nodes = []
    for step in derivation.steps:
        nodes += [step.definition, step.differential]
    for adjoint in derivation.backward:
        nodes.append(adjoint.adjoint)
        for term in adjoint.terms:
            nodes += list(term.identity)
    for gradient in derivation.gradients.values():
        nodes += [x for x in (gradient.vectorized, gradient.per_sample, gradient.index_form) if x is not None]
    return [x for x in nodes if x is not None]


def test_dense_layer_mathml_is_valid_xml(dense):
    nodes = dense_nodes(dense)
    assert len(nodes) > 20
    for node in nodes:
        assert mathml_parses(to_mathml(node)), to_text(node)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles_with_pdflatex(tmp_path, dense):
    nodes = [instance(name) for name in sorted(ir.node_classes())] + [x for x, _ in LATEX] + dense_nodes(dense)
    body = "\n".join(rf"\[ {to_latex(x)} \]" for x in nodes)
    source = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + body + "\n\\end{document}\n"
    (tmp_path / "notation.tex").write_text(source, encoding="utf-8")
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "notation.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
    assert result.returncode == 0 and not errors, "\n".join(errors) or result.stdout[-2000:]
    assert (tmp_path / "notation.pdf").exists()

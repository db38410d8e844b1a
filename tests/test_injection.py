"""Issue 13, readers and printers: the JSON reader never evaluates and accepts only its
allow-list; no name or title reaches a page as markup (HTML, MathML, LaTeX, Markdown)."""

from __future__ import annotations

import json
import re
import time

import pytest
import sympy

import symderiv
from symderiv import ir
from symderiv.errors import SymderivError
from symderiv.functions import ScalarFunction
from symderiv.render import render
from symderiv.render.json import (
    MAX_DEPTH,
    UnsafeExpressionError,
    derivation_json,
    parse_srepr,
    read_expression,
    read_tree,
)
from symderiv.render.latex import LatexIRPrinter, escaped_name, symbol_latex
from symderiv.render.mathml import symbol_mathml, to_mathml

HTML = "<img src=x onerror=alert(1)>"
TEX = r"\immediate\write18{rm -rf x}\input{/etc/passwd}"
TEX_COMMAND = re.compile(r"(?<!\\)\\(write18|input|immediate)")  # \\write18 is an escaped backslash
RAW_TAG = re.compile(r"(?<!\\)<img")  # Markdown's \<img is escaped text


# --------------------------------------------------------------------------- names at construction


@pytest.mark.parametrize("name", [HTML, TEX, "", "1x", "x y", "x-1", "x\n", "α", None, 3])
def test_symbol_names_must_be_identifiers(name):
    with pytest.raises(SymderivError, match="identifier"):
        ir.Symbol(name)


@pytest.mark.parametrize("name", ["x", "W_1", "_b", "eta", "Z2"])
def test_identifier_names_are_accepted(name):
    assert ir.Symbol(name, (ir.dim("n"),)).name == name


# --------------------------------------------------------------------------- the JSON reader


@pytest.mark.parametrize(
    "text, message",
    [
        ("Pow(Integer(2), Integer(4096), evaluate=True)", "keyword argument 'evaluate'"),
        ("Pow(Integer(2), Integer(4096), true)", "takes 2 arguments"),
        ("Float('1.5', dps=20000000)", "keyword argument 'dps'"),
        ("Float('1.5', 20000000)", "takes 1 arguments"),
        ("Float('1.5', precision=10**9)", "keyword argument 'precision'"),
        ("Rational(Integer(2), Integer(4), Integer(1))", "takes 1 or 2"),
        ("Pow(Integer(2), Integer(4096))", "power of numbers"),
        ("Pow(Pow(Integer(2), Integer(1024)), Integer(1024))", "power of numbers"),
        ("Pow(Integer(10), Integer(18446744073709551616))", "power of numbers"),
        ("Integer(18446744073709551617)", "larger than 2\\*\\*64"),
        ("Symbol('x', commutative=False)", "keyword argument 'commutative'"),
        ("Symbol('x', real=1)", "keyword argument 'real'"),
        ("Symbol('<img src=x>')", "may not take the text"),
        ("Float('1e99999')", "may not take the text"),
        ("Float('" + "1" * 200 + "')", "may not take the text"),
        ("Function(Symbol('f'))", "disallowed name 'Function'"),
        ("Lambda(Symbol('x'), Symbol('x'))", "disallowed name 'Lambda'"),
        ("Integral(Symbol('x'), Symbol('x'))", "disallowed name 'Integral'"),
        ("Tuple(Integer(1))", "disallowed name 'Tuple'"),
        ("Integer(Symbol('x'))", "cannot take these arguments"),
        ("Add(" * 300 + "Integer(1)" + ")" * 300, "not srepr text|deeper"),
        ("Symbol(**{'a': 1})", "takes 1 arguments, not 0"),
        ("Symbol('x', **{'real': True})", "keyword argument '\\*\\*'"),
    ],
)
def test_parse_srepr_refuses_evaluation_and_unbounded_input(text, message):
    start = time.perf_counter()
    with pytest.raises(UnsafeExpressionError, match=message) as caught:
        parse_srepr(text)
    assert time.perf_counter() - start < 2
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, SymderivError)


def test_parse_srepr_reads_the_allowed_forms_unevaluated():
    z = sympy.Symbol("z", real=True)
    assert parse_srepr("Symbol('z', real=True)") == z
    assert parse_srepr("Float('1.5', precision=53)") == sympy.Float("1.5")
    assert parse_srepr("-oo") == -sympy.oo
    assert parse_srepr("Pow(Integer(2), Rational(1, 2))") == sympy.sqrt(2)
    kept = parse_srepr("Add(Integer(1), Integer(2))")
    assert isinstance(kept, sympy.Add)  # read, not evaluated to 3


def _nested(depth: int) -> dict:
    tree = {"node": "Symbol", "name": "b", "shape": []}
    for _ in range(depth):
        tree = {"node": "Neg", "shape": [], "args": [tree]}
    return tree


def test_read_tree_bounds_the_depth():
    assert isinstance(read_tree(_nested(MAX_DEPTH - 1)), ir.Node)
    with pytest.raises(UnsafeExpressionError, match=f"deeper than {MAX_DEPTH}"):
        read_tree(_nested(5000))


@pytest.mark.parametrize(
    "tree, message",
    [
        ({"node": "Symbol", "name": HTML, "shape": []}, "not a name"),
        ({"node": "Symbol", "name": TEX, "shape": []}, "not a name"),
        ({"node": "Symbol", "shape": []}, "malformed"),
        ({"node": "Const", "value": "Symbol('<img>')", "shape": []}, "may not take the text"),
        ({"node": "Const", "value": "Pow(Integer(2), Integer(4096), evaluate=True)", "shape": []}, "evaluate"),
        ({"node": "Symbol", "name": "w", "shape": ["<img>"]}, "not srepr text"),
        ({"node": "Symbol", "name": "w", "shape": [1, 2, 3]}, "at most 2"),
        ({"node": "Symbol", "name": "w", "shape": [True]}, "not a dimension"),
        ({"node": "__import__", "shape": []}, "unknown node"),
        ([], "must be an object"),
        ({"node": "Elem", "index": HTML, "shape": [], "args": [{"node": "Symbol", "name": "x", "shape": ["n"]}]},
         "not a name"),
        ({"node": "Apply", "shape": [], "function": {"name": HTML, "params": [], "body": "Integer(1)"},
          "args": []}, "not a function name"),
        ({"node": "Apply", "shape": [], "function": {"name": "f", "params": ["Integer(1)"], "body": "Integer(1)"},
          "args": [{"node": "Symbol", "name": "b", "shape": []}]}, "must be symbols"),
    ],
)
def test_read_tree_refuses_hostile_trees_in_one_line(tree, message):
    with pytest.raises(UnsafeExpressionError, match=message) as caught:
        read_tree(tree)
    assert "\n" not in str(caught.value)


def test_a_hostile_name_in_a_json_document_is_refused_on_reading():
    document = json.loads(json.dumps(derivation_json(_hostile_derivation())))
    with pytest.raises(UnsafeExpressionError, match="not a function name|may not take the text"):
        for step in document["steps"]:
            read_expression(step["definition"])


# --------------------------------------------------------------------------- printers


def _hostile_derivation(view=None):
    """A derivation whose function names, constants' symbols and title are hostile text (ir.Symbol
    refuses such names, SymPy symbols and ScalarFunction names do not)."""
    b, w, x = ir.Symbol("b"), ir.Symbol("w", (ir.dim("n"),)), ir.Symbol("x", (ir.dim("n"),))
    z = sympy.Symbol(TEX, real=True)
    named = ScalarFunction(HTML, (z,), sympy.tanh(z) * sympy.Symbol(HTML, real=True), inline=False)
    shown = ScalarFunction(TEX, (z,), sympy.exp(z) * sympy.Symbol(TEX), inline=True)
    expression = named(b) + shown(b * ir.Const(sympy.Symbol(HTML))) + ir.dot(w, x)
    return symderiv.derive(expression, wrt=("b", "w"), title=HTML + TEX, view=view)


@pytest.fixture(scope="module", params=["jacobian", "backprop"])
def hostile(request):
    return _hostile_derivation(request.param)


def _assert_tex_safe(out: str):
    assert not RAW_TAG.search(out)
    assert not TEX_COMMAND.search(out), TEX_COMMAND.search(out)


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
@pytest.mark.parametrize("standalone", [False, True])
def test_tex_formats_escape_names_and_titles(hostile, fmt, standalone):
    _assert_tex_safe(render(hostile, fmt, standalone=standalone))


def test_notebook_reprs_escape_names(hostile):
    _assert_tex_safe(hostile._repr_latex_())
    _assert_tex_safe(hostile._repr_markdown_())
    assert "<img" not in hostile._repr_html_()


@pytest.mark.parametrize("standalone", [False, True])
def test_html_escapes_names_and_titles(hostile, standalone):
    out = render(hostile, "html", standalone=standalone)
    assert "<img" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out  # shown, as text


def test_json_carries_escaped_latex_and_the_title_as_data(hostile):
    document = json.loads(render(hostile, "json"))
    assert document["title"] == HTML + TEX  # data, escaped by whoever shows it
    for step in document["steps"]:
        _assert_tex_safe(step["definition"]["latex"])


def test_text_drops_control_characters_of_names():
    b = ir.Symbol("b")
    z = sympy.Symbol("z", real=True)
    clear = ScalarFunction("f\x1b[2J", (z,), sympy.tanh(z), inline=False)
    shown = ScalarFunction("g", (z,), z * sympy.Symbol("k\x1b]0;x\x07"), inline=True)
    out = render(symderiv.derive(clear(b) + shown(b), wrt=("b",)), "text")
    assert "\x1b" not in out and "\x07" not in out
    assert "f?[2J(b)" in out


def test_symbol_printers_escape_names_that_bypass_construction():
    # a Symbol whose name was changed after construction still never prints as markup
    sym = ir.Symbol("v", (ir.dim("n"),))
    object.__setattr__(sym, "name", HTML + TEX)
    for markup in (to_mathml(sym), symbol_mathml(sym.name, (), "<i>")):
        assert "<img" not in markup and "<i>" not in markup
    for tex in (LatexIRPrinter().doprint(sym), symbol_latex(sym.name, (), "\\input")):
        _assert_tex_safe(tex)


def test_escaped_names_keep_every_character_visible():
    assert escaped_name("a{b}%c") == r"\mathrm{a\{b\}\%c}"
    assert escaped_name("\\x\n") == r"\mathrm{\backslash{}x\ }"
    assert symbol_latex("W_1", (1,), "ik") == r"\mathbf{W}_{1,ik}"  # identifiers print as before


def test_hostile_latex_compiles_without_shell_escape(tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (tmp_path / "h.tex").write_text(render(_hostile_derivation(), "latex", standalone=True), encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "h.tex"],
        check=False, cwd=tmp_path, capture_output=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (tmp_path / "x").exists()

"""Derivations as JSON for tools, and the safe way back from JSON to expressions.

Every expression is given three ways: ``latex``, ``text`` and ``tree``, a nested object that
names the IR operation, its shape and its operands, with SymPy values written by ``srepr``.
:func:`read_expression` rebuilds the IR from a tree without evaluating any code (SymPy text goes
through :func:`parse_srepr`, an allow-listed reader). The schema is ``derivation.schema.json``
in the templates folder (:func:`schema`).
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache

import sympy
from sympy.functions.elementary.piecewise import ExprCondPair

from .. import ir
from ..functions import CUSTOM_SYMPY_FUNCTIONS, ScalarFunction
from ..ir import dim_json
from ..templating import templates_dir
from . import register_format, view
from .base import Printer
from .derivation import text_space
from .latex import LatexIRPrinter, shape_latex
from .text import TextPrinter

FORMAT = "symderiv-derivation"
VERSION = 2
SCHEMA_FILE = "derivation.schema.json"
MAX_SREPR_LENGTH = 100_000
MAX_INTEGER = 2**64

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")
_CONSTANT_NAMES = {"true": sympy.true, "false": sympy.false, "E": sympy.E, "pi": sympy.pi, "oo": sympy.oo}
_STRING_TAKERS = {"Symbol": _IDENTIFIER, "Float": _FLOAT_TEXT}


# --------------------------------------------------------------------------- writing


def _srepr(expr) -> str:
    """``srepr`` with arguments in their stored order, so reading it back unevaluated is exact."""
    return sympy.srepr(expr, order="none")


class TreePrinter(Printer):
    """IR expressions as JSON-ready trees: ``{"node": class, "shape": [...], "args": [...]}``."""

    def _print_Node(self, node):
        tree = {"node": type(node).__name__, "shape": [dim_json(d) for d in node.shape]}
        tree.update(node.to_json())
        if node.args:
            tree["args"] = [self._print(a) for a in node.args]
        return tree


def shape_tree(rows, cols) -> list:
    return [dim_json(rows), dim_json(cols)]


def derivation_json(derivation) -> dict:
    """The derivation as a JSON-ready dict following the schema (both views' content, always)."""
    latex = view.build(derivation, LatexIRPrinter(), shape_latex, backprop=True)
    text = view.build(derivation, TextPrinter(), text_space, backprop=True)
    tree = view.build(derivation, TreePrinter(), shape_tree, backprop=True)
    views = (latex, text, tree)
    return {
        "format": FORMAT,
        "version": VERSION,
        "title": text["title"],
        "view": derivation.view,
        "layout": text["layout"],
        "convention": derivation.convention,
        "notes": {"layout": text["layout_note"], "convention": text["convention_note"]},
        "output": _expression(*(v["output"] for v in views)),
        "expression": _expression(*(v["expression"] for v in views)),
        "wrt": [_expression(*forms) for forms in zip(*(v["wrt"] for v in views))],
        "steps": [
            _step(sl, st, sr, derivation.steps[k])
            for k, (sl, st, sr) in enumerate(zip(latex["steps"], text["steps"], tree["steps"]))
        ],
        "backward": [
            _adjoint(al, at, ar, derivation.backward[k])
            for k, (al, at, ar) in enumerate(zip(latex["backward"], text["backward"], tree["backward"]))
        ],
        "gradients": {
            name: _gradient(gl, gt, gr, derivation.gradients[name], view.is_loss(derivation))
            for name, (gl, gt, gr) in zip(
                derivation.gradients, zip(latex["results"], text["results"], tree["results"])
            )
        },
    }


def _expression(latex, text, tree):
    """One expression in its three forms (None stays None)."""
    if tree is None:
        return None
    return {"latex": latex, "text": text, "tree": tree}


def _fields(latex, text, tree):
    """A function giving a field of the three views as one expression."""
    return lambda field: _expression(getattr(latex, field), getattr(text, field), getattr(tree, field))


def _step(latex, text, tree, step) -> dict:
    field = _fields(latex, text, tree)
    return {
        "number": tree.number,
        "variable": field("variable"),
        "definition": field("definition"),
        "rule": tree.rule,
        "explanation": text.explanation,
        "shape": [dim_json(d) for d in step.variable.shape],
        "shape_text": tree.shape,
        "partials": [
            {
                "operand": _expression(pl.denominator, pt.denominator, pr.denominator),
                "jacobian": _expression(pl.jacobian, pt.jacobian, pr.jacobian),
                "shape": pr.space,
                "space": {"latex": pl.space, "text": pt.space},
            }
            for pl, pt, pr in zip(latex.partials, text.partials, tree.partials)
        ],
        "differential": {"symbol": field("differential_symbol"), "value": field("differential")},
    }


def _adjoint(latex, text, tree, adjoint) -> dict:
    field = _fields(latex, text, tree)
    return {
        "variable": field("variable"),
        "symbol": field("symbol"),
        "adjoint": field("adjoint"),
        "shape": [dim_json(d) for d in adjoint.variable.shape],
        "is_parameter": adjoint.is_parameter,
        "terms": [_term(*forms) for forms in zip(latex.terms, text.terms, tree.terms)],
    }


def _term(latex, text, tree) -> dict:
    field = _fields(latex, text, tree)
    return {
        "consumer": field("consumer"),
        "contribution": field("contribution"),
        "identity": {"left": field("left"), "right": field("right")},
    }


def _gradient(latex, text, tree, gradient, loss: bool) -> dict:
    field = _fields(latex, text, tree)
    return {
        "parameter": field("parameter"),
        "shape": [dim_json(d) for d in gradient.parameter.shape],
        "shape_text": tree.shape,
        "paths": [list(path) for path in gradient.paths],
        "chain": field("chain"),
        "derivative": field("derivative"),
        "per_sample": field("per_sample"),
        "entry": field("entry"),
        "index_form": field("index_form"),
        "gradient": field("gradient"),
        "update": field("update") if loss else None,  # a descent step only for a loss
    }


@register_format("json", ".json")
def _json_format(derivation, standalone: bool = False) -> str:
    return json.dumps(derivation_json(derivation), indent=2, ensure_ascii=False) + "\n"


@cache
def schema() -> dict:
    """The JSON Schema of :func:`derivation_json`'s documents."""
    return json.loads((templates_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- reading


class UnsafeExpressionError(ValueError):
    """SymPy text that is not a plain ``srepr`` of allowed classes."""


def parse_srepr(text: str) -> sympy.Basic:
    """SymPy's ``srepr`` text back to an expression, without eval: only calls of SymPy classes
    (and symderiv's sigmoid, softplus, log1p) on numbers, tuples and nested calls are read;
    strings only as a Symbol's name or a Float's digits. Nothing is evaluated while reading."""
    if len(text) > MAX_SREPR_LENGTH:
        raise UnsafeExpressionError(f"srepr text longer than {MAX_SREPR_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as error:
        raise UnsafeExpressionError(f"not srepr text: {error}") from None
    with sympy.evaluate(False):
        return _read(tree.body)


def _read(node):
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, ast.Tuple):
        return tuple(_read(e) for e in node.elts)
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return _CONSTANT_NAMES[node.id]
    if isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        if abs(node.value) > MAX_INTEGER:
            raise UnsafeExpressionError(f"integer {node.value} is too large")
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        value = _read(node.operand)
        if type(value) is int:
            return -value
    raise UnsafeExpressionError(f"not allowed in an expression: {ast.dump(node)[:80]}")


def _call(node: ast.Call):
    if not isinstance(node.func, ast.Name):
        raise UnsafeExpressionError("only plain class names may be called")
    cls = _callable(node.func.id)
    args = [_string_argument(node.func.id, a) if k == 0 else _read(a) for k, a in enumerate(node.args)]
    kwargs = {}
    for keyword in node.keywords:
        value = keyword.value
        if keyword.arg is None or not isinstance(value, ast.Constant) or type(value.value) not in (int, bool):
            raise UnsafeExpressionError(f"keyword arguments must be numbers or booleans in {node.func.id}()")
        kwargs[keyword.arg] = value.value
    return cls(*args, **kwargs)


def _string_argument(name: str, node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        pattern = _STRING_TAKERS.get(name)
        if pattern is None or not pattern.match(node.value):
            raise UnsafeExpressionError(f"{name}() may not take the text {node.value!r}")
        return node.value
    return _read(node)


@cache
def _callable(name: str):
    custom = {f.__name__: f for f in (*CUSTOM_SYMPY_FUNCTIONS, ExprCondPair)}
    if name in custom:
        return custom[name]
    candidate = getattr(sympy, name, None)
    if isinstance(candidate, type) and issubclass(candidate, sympy.Basic):
        return candidate
    raise UnsafeExpressionError(f"unknown or disallowed name {name!r}")


def read_dim(value):
    """A dimension from its JSON form."""
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    if isinstance(value, str) and _IDENTIFIER.match(value):
        return ir.dim(value)
    if isinstance(value, str):
        return parse_srepr(value)
    raise UnsafeExpressionError(f"not a dimension: {value!r}")


def _function(data: dict) -> ScalarFunction:
    params = tuple(parse_srepr(p) for p in data["params"])
    return ScalarFunction(data["name"], params, parse_srepr(data["body"]), bool(data["inline"]))


class _Reader:
    """What a node's ``from_json`` may use to read its content: each piece validated, nothing run."""

    def sympy(self, text):
        return parse_srepr(text)

    def dim(self, value):
        return read_dim(value)

    def function(self, data: dict) -> ScalarFunction:
        return _function(data)

    def name(self, value):
        if not isinstance(value, str) or not _IDENTIFIER.match(value):
            raise UnsafeExpressionError(f"not a name: {value!r}")
        return value

    def axis(self, value):
        if value is None or (type(value) is int and value in (0, 1)):
            return value
        raise UnsafeExpressionError(f"not an axis: {value!r}")


def read_tree(tree: dict) -> ir.Node:
    """The IR node a ``tree`` describes, its structure kept exactly (no simplification)."""
    kind = tree.get("node")
    classes = ir.node_classes()
    if kind not in classes:
        raise UnsafeExpressionError(f"unknown node {kind!r}")
    shape = tuple(read_dim(d) for d in tree.get("shape", []))
    args = [read_tree(a) for a in tree.get("args", [])]
    node = classes[kind].from_json(tree, args, shape, _Reader())
    if node.shape != shape:
        raise ValueError(f"{kind} node: the tree says shape {shape}, its operands give {node.shape}")
    return node


def read_expression(expression: dict) -> ir.Node:
    """The IR of one expression object (``{"latex", "text", "tree"}``) of a JSON derivation."""
    return read_tree(expression["tree"])

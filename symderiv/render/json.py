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
from ..errors import SymderivError
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
MAX_DEPTH = 200  # nesting of srepr calls and of tree nodes
MAX_EXPONENT = 1024  # in a power of two numbers
MAX_PRECISION = 1024  # bits of a Float
MAX_NAME_LENGTH = 100
MAX_PARAMS = 16

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FUNCTION_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*'*)?\Z")  # relu, relu', or none (inline)
_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,4})?\Z")
_CONSTANT_NAMES = {"true": sympy.true, "false": sympy.false, "E": sympy.E, "pi": sympy.pi, "oo": sympy.oo}
_STRING_TAKERS = {"Symbol": _IDENTIFIER, "Float": _FLOAT_TEXT}
_VARIADIC = None
# the SymPy classes read, each with the number of positional arguments it takes (a further one
# could be Pow's evaluate, Float's dps or Rational's gcd, which are never read)
_SYMPY_CLASSES = {
    **dict.fromkeys(["Add", "Mul", "Max", "Min", "Piecewise", "And", "Or"], _VARIADIC),
    **dict.fromkeys(["Symbol", "Integer", "Float", "exp", "log", "tanh", "sinh", "cosh", "sin", "cos",
                     "Abs", "sign", "Not", "sigmoid", "softplus", "log1p"], (1,)),
    **dict.fromkeys(["Pow", "ExprCondPair", "Equality", "Unequality", "LessThan", "StrictLessThan",
                     "GreaterThan", "StrictGreaterThan"], (2,)),
    "Rational": (1, 2),
}
_ASSUMPTIONS = frozenset({"real", "positive", "negative", "nonnegative", "nonpositive", "integer", "finite", "nonzero"})


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


class UnsafeExpressionError(SymderivError, ValueError):
    """SymPy text or a JSON tree that is not a plain, bounded expression of allowed classes."""


def parse_srepr(text: str) -> sympy.Basic:
    """SymPy's ``srepr`` text back to an expression, without eval: only calls of allow-listed
    SymPy classes (and symderiv's sigmoid, softplus, log1p) on bounded numbers, tuples and nested
    calls are read; strings only as a Symbol's name or a Float's digits; keywords only a Symbol's
    assumptions and a Float's precision. Nothing is evaluated while reading."""
    if not isinstance(text, str):
        raise UnsafeExpressionError(f"srepr text must be a string, not {type(text).__name__}")
    if len(text) > MAX_SREPR_LENGTH:
        raise UnsafeExpressionError(f"srepr text longer than {MAX_SREPR_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise UnsafeExpressionError(f"not srepr text: {_one_line(error)}") from None
    with sympy.evaluate(False):
        return _read(tree.body, 0)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:120]


def _read(node, depth: int):
    if depth > MAX_DEPTH:
        raise UnsafeExpressionError(f"srepr text nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Call):
        return _call(node, depth + 1)
    if isinstance(node, ast.Tuple):
        return tuple(_read(e, depth + 1) for e in node.elts)
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return _CONSTANT_NAMES[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, int):  # bool too
        return _bounded_integer(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
            return -_bounded_integer(node.operand.value)
        if isinstance(node.operand, ast.Name) and node.operand.id == "oo":
            return sympy.S.NegativeInfinity
    raise UnsafeExpressionError(f"not allowed in an expression: {ast.dump(node)[:80]}")


def _bounded_integer(value: int) -> int:
    if abs(value) > MAX_INTEGER:
        raise UnsafeExpressionError(f"integer {str(value)[:30]}... is larger than 2**64")
    return value


def _call(node: ast.Call, depth: int):
    if not isinstance(node.func, ast.Name):
        raise UnsafeExpressionError("only plain class names may be called")
    name = node.func.id
    cls = _callable(name)
    arities = _SYMPY_CLASSES[name]
    if arities is not _VARIADIC and len(node.args) not in arities:
        raise UnsafeExpressionError(f"{name}() takes {' or '.join(map(str, arities))} arguments, not {len(node.args)}")
    args = [_string_argument(name, a, depth) if k == 0 else _read(a, depth) for k, a in enumerate(node.args)]
    kwargs = {}
    for keyword in node.keywords:
        value = _keyword(name, keyword)  # refuses **mapping, whose arg is None
        kwargs[str(keyword.arg)] = value
    if cls is sympy.Pow and len(args) == 2:
        _check_power(*args)
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError, ArithmeticError, AttributeError, IndexError) as error:
        raise UnsafeExpressionError(f"{name}() cannot take these arguments: {_one_line(error)}") from None


def _keyword(name: str, keyword: ast.keyword):
    """A keyword argument allowed for ``name``: a Symbol's assumption or a Float's precision."""
    value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
    if name == "Symbol" and keyword.arg in _ASSUMPTIONS and type(value) is bool:
        return value
    if name == "Float" and keyword.arg == "precision" and type(value) is int and 1 <= value <= MAX_PRECISION:
        return value
    raise UnsafeExpressionError(
        f"keyword argument {keyword.arg or '**'!r} is not allowed in {name}() "
        f"(only a Symbol's assumptions and a Float's precision up to {MAX_PRECISION})"
    )


def _check_power(base, exponent) -> None:
    """A power of numbers (its base free of symbols) is only a plain number (or e, pi) raised to
    a number of magnitude at most ``MAX_EXPONENT``, so computing it later stays cheap."""
    base, exponent = sympy.sympify(base, strict=True), sympy.sympify(exponent, strict=True)
    if base.free_symbols:
        return
    plain = isinstance(base, (sympy.Number, sympy.NumberSymbol)) and isinstance(exponent, sympy.Number)
    if not plain or abs(exponent) > MAX_EXPONENT:
        raise UnsafeExpressionError(
            f"a power of numbers must be a number raised to a number of magnitude at most {MAX_EXPONENT}"
        )


def _string_argument(name: str, node, depth: int):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        pattern = _STRING_TAKERS.get(name)
        if pattern is None or len(node.value) > MAX_NAME_LENGTH or not pattern.match(node.value):
            raise UnsafeExpressionError(f"{name}() may not take the text {node.value[:40]!r}")
        return node.value
    return _read(node, depth)


@cache
def _callable(name: str):
    custom = {f.__name__: f for f in (*CUSTOM_SYMPY_FUNCTIONS, ExprCondPair)}
    if name not in _SYMPY_CLASSES:
        raise UnsafeExpressionError(f"unknown or disallowed name {name[:40]!r}")
    return custom[name] if name in custom else getattr(sympy, name)


def read_dim(value):
    """A dimension from its JSON form."""
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(_bounded_integer(value))
    if isinstance(value, str) and _IDENTIFIER.match(value) and len(value) <= MAX_NAME_LENGTH:
        return ir.dim(value)
    if isinstance(value, str):
        return parse_srepr(value)
    raise UnsafeExpressionError(f"not a dimension: {value!r:.60}")


def _function(data) -> ScalarFunction:
    if not isinstance(data, dict) or not isinstance(data.get("params"), list):
        raise UnsafeExpressionError("a function must be an object with a list of params")
    if len(data["params"]) > MAX_PARAMS:
        raise UnsafeExpressionError(f"a function may have at most {MAX_PARAMS} params")
    name = data.get("name")
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not _FUNCTION_NAME.match(name):
        raise UnsafeExpressionError(f"not a function name (an identifier): {name!r:.60}")
    params = tuple(parse_srepr(p) for p in data["params"])
    if not all(isinstance(p, sympy.Symbol) for p in params):
        raise UnsafeExpressionError(f"the params of function {name} must be symbols")
    return ScalarFunction(name, params, parse_srepr(data.get("body", "")), bool(data.get("inline")))


class _Reader:
    """What a node's ``from_json`` may use to read its content: each piece validated, nothing run."""

    def sympy(self, text):
        return parse_srepr(text)

    def dim(self, value):
        return read_dim(value)

    def function(self, data: dict) -> ScalarFunction:
        return _function(data)

    def name(self, value):
        if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH or not _IDENTIFIER.match(value):
            raise UnsafeExpressionError(f"not a name (an identifier): {value!r:.60}")
        return value

    def axis(self, value):
        if value is None or (type(value) is int and value in (0, 1)):
            return value
        raise UnsafeExpressionError(f"not an axis: {value!r:.60}")


def read_tree(tree: dict, depth: int = 0) -> ir.Node:
    """The IR node a ``tree`` describes, its structure kept exactly (no simplification); trees
    nested deeper than ``MAX_DEPTH`` or with malformed fields are refused with one-line errors."""
    if depth > MAX_DEPTH:
        raise UnsafeExpressionError(f"expression tree nested deeper than {MAX_DEPTH} levels")
    if not isinstance(tree, dict):
        raise UnsafeExpressionError(f"a tree node must be an object, not {type(tree).__name__}")
    kind = tree.get("node")
    classes = ir.node_classes()
    if not isinstance(kind, str) or kind not in classes:
        raise UnsafeExpressionError(f"unknown node {kind!r:.60}")
    shape_data, args_data = tree.get("shape", []), tree.get("args", [])
    if not isinstance(shape_data, list) or len(shape_data) > 2 or not isinstance(args_data, list):
        raise UnsafeExpressionError(f"{kind} node: 'shape' must be a list of at most 2 dimensions, 'args' a list")
    shape = tuple(read_dim(d) for d in shape_data)
    args = [read_tree(a, depth + 1) for a in args_data]
    try:
        node = classes[kind].from_json(tree, args, shape, _Reader())
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        raise UnsafeExpressionError(f"{kind} node: malformed content ({type(error).__name__}: {_one_line(error)})") from None
    if node.shape != shape:
        raise UnsafeExpressionError(f"{kind} node: the tree says shape {shape}, its operands give {node.shape}")
    return node


def read_expression(expression: dict) -> ir.Node:
    """The IR of one expression object (``{"latex", "text", "tree"}``) of a JSON derivation."""
    if not isinstance(expression, dict) or "tree" not in expression:
        raise UnsafeExpressionError("an expression must be an object with a 'tree'")
    return read_tree(expression["tree"])

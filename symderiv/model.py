"""Specs: neurons f(Xw + b) and mean losses over N samples, from catalog names or formulas."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from numbers import Integral
from typing import TYPE_CHECKING

import sympy

from . import catalog, ir
from .errors import ParseError, SymderivError, UnknownNameError
from .functions import ScalarFunction, apply, real, scalar_function
from .limits import MAX_FORMULA_DEPTH, check_depth, sympy_depth

N, n = ir.dim("N"), ir.dim("n")
w = ir.Symbol("w", (n,))
b = ir.Symbol("b")
x = ir.Symbol("x", (n,))
X = ir.Symbol("X", (N, n))
y = ir.Symbol("y", (N,))

_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_]\w*")
_ARG = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def split_spec(text: str):
    """``"leaky_relu(alpha=0.1)"`` → ("leaky_relu", {"alpha": 0.1}); None if not that form.

    A catalog name whose arguments are not ``name=number`` is an error, not a formula.
    """
    match = _CALL.match(text)
    if not match:
        return None
    name, inside = match.group(1), match.group(2)
    params = {}
    for part in (inside or "").split(",") if inside and inside.strip() else []:
        arg = _ARG.match(part)
        if not arg:
            _check_catalog_argument(name, part)
            return None
        params[arg.group(1)] = _number(arg.group(2))
    return name, params


def _check_catalog_argument(name: str, part: str) -> None:
    """Refuse ``key=value`` as an argument of the catalog entry ``name`` when value is not a number
    (a positional argument is left to the formula parser: ``sigmoid(z)`` is a formula)."""
    entry = {**catalog.ACTIVATIONS, **catalog.LOSSES, **catalog.ROW_LOSSES}.get(name)
    keyword = re.match(r"^\s*([A-Za-z_]\w*)\s*=(?!=)(.*)$", part, re.DOTALL)
    if entry is None or keyword is None:
        return
    entry.with_params({keyword.group(1): 1})  # an unknown parameter is named as such
    value = keyword.group(2).strip()
    allowed = entry.allowed(keyword.group(1))
    raise SymderivError(f"{name}: parameter '{keyword.group(1)}' must be {allowed}, got '{value}'")


def _number(text: str):
    return sympy.Integer(text) if re.fullmatch(r"[-+]?\d+", text) else sympy.Float(text)


def _constants(params: dict) -> dict:
    """Catalog parameters as constants; only numbers are accepted (text is never parsed here)."""
    return {key: ir.Const(_as_number(key, value)) for key, value in params.items()}


def _as_number(key: str, value) -> sympy.Expr:
    if isinstance(value, sympy.Number):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    if isinstance(value, float) and math.isfinite(value):
        return sympy.Float(value)
    raise SymderivError(f"parameter '{key}' must be a finite number, got {value!r}")


# --------------------------------------------------------------------------- activations


def activation_function(spec, **params) -> tuple[ScalarFunction, str]:
    """(the activation as a ScalarFunction, the name shown) from a catalog name, formula or SymPy."""
    if isinstance(spec, ScalarFunction):
        return spec, spec.name
    if isinstance(spec, sympy.Expr):
        return _from_sympy(spec, ("z",), "f"), "f"
    if not isinstance(spec, str):
        raise SymderivError(
            f"an activation is a name, a formula or a SymPy expression, not {type(spec).__name__}"
        )
    call = split_spec(spec)
    if call and call[0] in catalog.ACTIVATIONS:
        entry = catalog.activation(call[0])
        values = entry.with_params({**call[1], **params})
        return _parse_function(entry.name, entry.formula, values, entry.inline), entry.name
    if call and not call[1] and "(" not in spec:
        raise UnknownNameError("activation", call[0], list(catalog.ACTIVATIONS))
    return _parse_function("f", spec, params, True), "f"


def _parse_function(name: str, formula: str, params: dict, inline: bool) -> ScalarFunction:
    from .parse import parse

    node = parse(formula, {"z": ir.Symbol("z"), **_constants(params)})
    check_depth(ir.depth(node), "the activation's formula", MAX_FORMULA_DEPTH)
    if node.shape != ():
        raise SymderivError(f"an activation must be a scalar formula in z, got {ir.shape_str(node.shape)}")
    return scalar_function(name, node, ["z"], inline)


def _from_sympy(expr: sympy.Expr, variables: tuple, name: str) -> ScalarFunction:
    check_depth(sympy_depth(expr), "the SymPy expression", MAX_FORMULA_DEPTH)
    allowed = {v: real(v) for v in variables}
    stray = sorted(s.name for s in expr.free_symbols if s.name not in allowed)
    if stray:
        raise SymderivError(f"the expression may only use {', '.join(variables)}, not {', '.join(stray)}")
    body = expr.xreplace({s: allowed[s.name] for s in expr.free_symbols})
    return ScalarFunction(name, tuple(allowed.values()), body)


class _Spec:
    """What a neuron and a loss share: deriving and showing themselves (``symbol = expression``)."""

    symbol = "f"
    name: str
    notes: tuple = ()  # sentences documents show: what the spec assumes about its data

    if TYPE_CHECKING:
        # A neuron computes these; a loss and a network set ``expression`` as an attribute.
        @property
        def expression(self) -> ir.Node: ...

        def title(self) -> str: ...

        def naming_hints(self) -> dict: ...

    @property
    def parameters(self) -> tuple[str, ...]:
        """What derive() differentiates by unless told otherwise."""
        return ("w", "b")

    def derive(self, wrt=None, convention="min-norm"):
        from .derive import derive

        return derive(self, wrt=self.parameters if wrt is None else wrt, convention=convention)

    def latex(self) -> str:
        from .render.latex import to_latex

        return f"{self.symbol} = {to_latex(self.expression)}"

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"

    def _repr_markdown_(self) -> str:
        from .render.markdown import equation_markdown

        return equation_markdown(self.title(), self.latex())

    def _repr_html_(self) -> str:
        from .render.html import equation_html
        from .render.mathml import to_mathml

        return equation_html(self.title(), to_mathml(ir.Symbol(self.symbol)), to_mathml(self.expression))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}: {self.symbol} = {self.expression!r})"


class Neuron(_Spec):
    """A neuron: an activation f applied to z = w·x + b, or to z = Xw + b for all N samples."""

    symbol = "a"

    def __init__(self, activation="relu", **params):
        self.activation, self.name = activation_function(activation, **params)

    @property
    def pre_activation(self) -> ir.Node:
        return ir.add(ir.matmul(X, w), b)

    @property
    def expression(self) -> ir.Node:
        """One sample: f(w·x + b)."""
        return apply(self.activation, ir.add(ir.dot(w, x), b))

    @property
    def prediction(self) -> ir.Node:
        """Every row of X: f(Xw + b), a vector of N predictions."""
        return apply(self.activation, self.pre_activation)

    def title(self) -> str:
        return f"a {self.name} neuron"

    def naming_hints(self) -> dict:
        hints = {ir.add(ir.dot(w, x), b).key: "z"}
        hints.setdefault(self.expression.key, "a")
        return hints


# --------------------------------------------------------------------------- losses


class Loss(_Spec):
    """The mean over N samples of a per-sample loss of the prediction a and the target y."""

    symbol = "C"
    expression: ir.Node

    def __init__(self, spec="mse", model: Neuron | None = None, **params):
        self.model = model if model is not None else Neuron("relu")
        self.name, self.per_sample = self._per_sample(spec, params)
        self.expression = ir.mean(self.per_sample)

    def _per_sample(self, spec, params):
        model = self.model
        if isinstance(spec, sympy.Expr):
            fn = _from_sympy(spec, ("a", "y"), "loss")
            return "loss", apply(fn, model.prediction, y)
        if not isinstance(spec, str):
            raise SymderivError(
                f"a loss is a name, a formula or a SymPy expression, not {type(spec).__name__}"
            )
        call = split_spec(spec)
        if call and call[0] in catalog.ROW_LOSSES:
            raise SymderivError(
                f"{call[0]} needs a network's output row and one-hot targets, not a neuron's single"
                " output: use symderiv.network([...], loss=...)"
            )
        if call and call[0] in catalog.LOSSES:
            entry = catalog.loss(call[0])
            values = entry.with_params({**call[1], **params})
            if entry.logit_formula and model.name == "sigmoid":
                scope = {"z": model.pre_activation, "y": y}
                return entry.name, _parse_loss(entry.logit_formula, scope, values)
            return entry.name, _parse_loss(entry.formula, {"a": model.prediction, "y": y}, values)
        if call and not call[1] and "(" not in spec:
            raise UnknownNameError("loss", call[0], list(catalog.LOSSES))
        return "loss", _parse_loss(spec, {"a": model.prediction, "y": y}, params)

    def title(self) -> str:
        return f"the {self.name} loss of a {self.model.name} neuron"

    def naming_hints(self) -> dict:
        hints = {self.model.pre_activation.key: "z"}
        hints.setdefault(self.model.prediction.key, "a")
        return hints


def _parse_loss(formula: str, scope: dict, params: dict) -> ir.Node:
    from .parse import parse

    node = parse(formula, {**scope, **_constants(params)})
    check_depth(ir.depth(node), "the loss", MAX_FORMULA_DEPTH)
    if node.shape != y.shape:
        raise SymderivError(
            f"a per-sample loss must be element-wise in a and y, this one is {ir.shape_str(node.shape)}"
        )
    return node


def expression(text: str, let: Mapping | None = None, *, lets: Mapping | None = None) -> ir.Node:
    """A whole expression from a formula, with the default shapes and the declared ones.

    ``let`` maps a name to its shape: declaration text (``"vector(n)"``, ``"matrix(N, k)"``,
    ``"scalar"``), a tuple of dimensions (names or positive ints; ``()`` for a scalar) or an int
    (a vector of that length, as in NumPy). ``lets`` is the old name of ``let``.
    """
    from .parse import default_scope, parse

    if lets is not None:
        warnings.warn("expression(lets=...) is deprecated: write let=...", DeprecationWarning, stacklevel=2)
        if let is not None:
            raise SymderivError("expression() got both let and lets: give only let")
        let = lets
    scope = default_scope()
    for name, shape in declarations(let).items():
        scope[name] = ir.Symbol(name, shape)
    return parse(text, scope)


def declarations(let: Mapping | None) -> dict[str, tuple]:
    """``{name: shape}`` checked and read: every name an identifier, every shape a real shape."""
    if let is None:
        return {}
    if not isinstance(let, Mapping):
        raise SymderivError(
            f"let must be a dict of name: shape, such as {{'q': 'vector(n)'}}, not {type(let).__name__}"
        )
    return {_declared_name(name): declared_shape(name, shape) for name, shape in let.items()}


def _declared_name(name) -> str:
    if isinstance(name, str) and _NAME.fullmatch(name) and not name.startswith("__"):
        return name
    raise SymderivError(f"let: a declared name must be an identifier such as 'q', got {_brief(name)}")


def declared_shape(name: str, shape) -> tuple:
    """The shape declared for ``name``: from text, a tuple of dimensions or an int."""
    from .lexer import parse_declaration, parse_shape

    if isinstance(shape, str):
        try:
            declared, result = parse_declaration(shape) if ":" in shape else (name, parse_shape(shape))
        except ParseError as error:
            raise SymderivError(
                f"let: the shape of '{name}' cannot be read from {_brief(shape)}: {error}"
            ) from None
        if declared != name:
            raise SymderivError(f"let: the declaration {_brief(shape)} is for '{declared}', not '{name}'")
        return result
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        return (_dimension(name, shape),)
    if isinstance(shape, (tuple, list)) and len(shape) <= 2:
        return tuple(_dimension(name, size) for size in shape)
    raise SymderivError(
        f"let: the shape of '{name}' must be text such as 'vector(n)', a tuple of at most two dimensions"
        f" or an int, got {_brief(shape)}"
    )


def _dimension(name: str, size) -> sympy.Expr:
    """One dimension of a declared shape: a name, a positive int or a SymPy dimension."""
    if isinstance(size, str) and _NAME.fullmatch(size):
        return ir.dim(size)
    if isinstance(size, Integral) and not isinstance(size, bool) and int(size) >= 1:
        return sympy.Integer(int(size))
    if isinstance(size, sympy.Symbol) or (isinstance(size, sympy.Integer) and size >= 1):
        return ir.as_dim(size)
    raise SymderivError(
        f"let: a dimension of '{name}' must be a name such as 'n' or a positive integer, got {_brief(size)}"
    )


def _brief(value) -> str:
    """``repr(value)``, shortened for a one-line message."""
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."

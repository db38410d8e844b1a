"""Specs: neurons f(Xw + b) and mean losses over N samples, from catalog names or formulas."""

from __future__ import annotations

import re

import sympy

from . import catalog, ir
from .errors import SymderivError, UnknownNameError
from .functions import ScalarFunction, apply, real, scalar_function

N, n = ir.dim("N"), ir.dim("n")
w = ir.Symbol("w", (n,))
b = ir.Symbol("b")
x = ir.Symbol("x", (n,))
X = ir.Symbol("X", (N, n))
y = ir.Symbol("y", (N,))

_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.S)
_ARG = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def split_spec(text: str):
    """``"leaky_relu(alpha=0.1)"`` → ("leaky_relu", {"alpha": 0.1}); None if not that form."""
    match = _CALL.match(text)
    if not match:
        return None
    name, inside = match.group(1), match.group(2)
    params = {}
    for part in (inside or "").split(",") if inside and inside.strip() else []:
        arg = _ARG.match(part)
        if not arg:
            return None
        params[arg.group(1)] = _number(arg.group(2))
    return name, params


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
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
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
        raise SymderivError(f"an activation is a name, a formula or a SymPy expression, not {type(spec).__name__}")
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
    if node.shape != ():
        raise SymderivError(f"an activation must be a scalar formula in z, got {ir.shape_str(node.shape)}")
    return scalar_function(name, node, ["z"], inline)


def _from_sympy(expr: sympy.Expr, variables: tuple, name: str) -> ScalarFunction:
    allowed = {v: real(v) for v in variables}
    stray = sorted(s.name for s in expr.free_symbols if s.name not in allowed)
    if stray:
        raise SymderivError(f"the expression may only use {', '.join(variables)}, not {', '.join(stray)}")
    body = expr.xreplace({s: allowed[s.name] for s in expr.free_symbols})
    return ScalarFunction(name, tuple(allowed.values()), body)


class _Spec:
    """What a neuron and a loss share: deriving and showing themselves (``symbol = expression``)."""

    symbol = "f"
    expression: ir.Node
    name: str
    parameters: tuple = ("w", "b")  # what derive() differentiates by unless told otherwise
    notes: tuple = ()  # sentences documents show: what the spec assumes about its data

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
            raise SymderivError(f"a loss is a name, a formula or a SymPy expression, not {type(spec).__name__}")
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
    if node.shape != y.shape:
        raise SymderivError(
            f"a per-sample loss must be element-wise in a and y, this one is {ir.shape_str(node.shape)}"
        )
    return node


def expression(text: str, lets: dict | None = None) -> ir.Node:
    """A whole expression from a formula, with the default shapes and declared ones (``lets``)."""
    from .parse import default_scope, parse

    scope = default_scope()
    for name, shape in (lets or {}).items():
        scope[name] = ir.Symbol(name, shape)
    return parse(text, scope)

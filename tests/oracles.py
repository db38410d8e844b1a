"""Test helpers: SymPy's own differentiation of the fully expanded expression (oracle 2),
data in each loss's domain, and points kept away from kinks (for oracle 1)."""

from __future__ import annotations

import numpy as np
import sympy

from symderiv import catalog, ir, kinks, numeric
from symderiv.functions import expand_custom

SIZES = {"N": 4, "n": 3}


# --------------------------------------------------------------------------- oracle 2


def expand_scalar(node: ir.Node, sizes: dict):
    """The IR at concrete sizes as SymPy: scalars, or Matrix of scalar expressions."""
    dims = {ir.dim(k): v for k, v in sizes.items()}
    memo: dict = {}
    for current in ir.walk(node):
        memo[current.key] = _EXPAND[type(current)](current, [memo[a.key] for a in current.args], dims)
    return memo[node.key]


def _symbol(node, args, dims):
    shape = [int(sympy.sympify(d).subs(dims)) for d in node.shape]
    if not shape:
        return sympy.Symbol(node.name, real=True)
    if len(shape) == 1:
        return sympy.Matrix(shape[0], 1, lambda i, _: sympy.Symbol(f"{node.name}_{i}", real=True))
    return sympy.Matrix(*shape, lambda i, j: sympy.Symbol(f"{node.name}_{i}_{j}", real=True))


def _ew(function):
    def apply(node, args, dims):
        matrices = [a for a in args if isinstance(a, sympy.MatrixBase)]
        if not matrices:
            return function(*args)
        rows, cols = matrices[0].shape
        pick = lambda a, i, j: a[i, j] if isinstance(a, sympy.MatrixBase) else a  # noqa: E731
        return sympy.Matrix(rows, cols, lambda i, j: function(*[pick(a, i, j) for a in args]))

    return apply


def _apply_fn(node):
    body = expand_custom(node.fn.body)
    return lambda *values: body.xreplace(dict(zip(node.fn.params, values)))


def _size(value):
    return value.shape[0] * value.shape[1] if isinstance(value, sympy.MatrixBase) else 1


def _total(value):
    return sum(value) if isinstance(value, sympy.MatrixBase) else value


_EXPAND = {
    ir.Symbol: _symbol,
    ir.Const: lambda n, a, d: n.value.subs(d),
    ir.Ones: lambda n, a, d: sympy.ones(int(n.shape[0].subs(d)), 1),
    ir.Add: _ew(lambda p, q: p + q),
    ir.Sub: _ew(lambda p, q: p - q),
    ir.Mul: _ew(lambda p, q: p * q),
    ir.Div: _ew(lambda p, q: p / q),
    ir.Neg: _ew(lambda p: -p),
    ir.Pow: _ew(lambda p, q: p**q),
    ir.MatMul: lambda n, a, d: a[0] * a[1],
    ir.Transpose: lambda n, a, d: a[0].T,
    ir.Sum: lambda n, a, d: _total(a[0]),
    ir.Mean: lambda n, a, d: _total(a[0]) / _size(a[0]),
    ir.Apply: lambda n, a, d: _ew(_apply_fn(n))(n, a, d),
}


def sympy_gradient(expression: ir.Node, param: ir.Symbol, sizes: dict):
    """SymPy's diff of the expanded scalar expression by each element of ``param``."""
    scalar = expand_scalar(expression, sizes)
    variables = expand_scalar(param, sizes)
    if isinstance(variables, sympy.MatrixBase):
        return [sympy.diff(scalar, v) for v in variables], list(variables)
    return [sympy.diff(scalar, variables)], [variables]


def evaluate_sympy(exprs, env: dict, sizes: dict) -> np.ndarray:
    """Numeric values of expanded expressions at the arrays of ``env``."""
    values = {}
    for name, array in env.items():
        array = np.asarray(array, dtype=float)
        if array.ndim == 0:
            values[sympy.Symbol(name, real=True)] = float(array)
        elif array.ndim == 1:
            values.update({sympy.Symbol(f"{name}_{i}", real=True): v for i, v in enumerate(array)})
        else:
            values.update(
                {sympy.Symbol(f"{name}_{i}_{j}", real=True): array[i, j] for i in range(array.shape[0]) for j in range(array.shape[1])}
            )
    numbers = {symbol: sympy.Float(value, 30) for symbol, value in values.items()}
    return np.array([float(sympy.sympify(e).xreplace(numbers).evalf(30)) for e in exprs], dtype=float)


# --------------------------------------------------------------------------- data


def kink_distance(derivation, env: dict) -> float:
    """How far every element-wise step's input is from its function's kinks (inf if none)."""
    nearest = np.inf
    for step in derivation.steps:
        definition = step.definition
        if not isinstance(definition, ir.Apply) or len(definition.fn.params) != 1:
            continue
        body, param = definition.fn.body, definition.fn.params[0]
        if not body.has(sympy.Max, sympy.Min, sympy.Abs, sympy.sign, sympy.Piecewise):
            continue
        analysis = kinks.analyse(body, param)
        points = [float(k.point) for k in analysis.kinks] if analysis else []
        if not points:
            continue
        values = np.asarray(numeric.evaluate(derivation.expand(definition.args[0]), env), dtype=float)
        nearest = min(nearest, float(np.min(np.abs(values[..., None] - np.array(points)))))
    return nearest


def targets(entry: catalog.Entry, rng, size: int) -> np.ndarray:
    if entry.targets == "{-1, 1}":
        return rng.choice([-1.0, 1.0], size=size)
    if entry.targets == "{0, 1}":
        return rng.choice([0.0, 1.0], size=size)
    return rng.normal(size=size)


def sample_point(derivation, loss_entry, N: int, n: int, seed: int = 0, margin: float = 1e-3) -> dict:
    """Random (w, b, X, y) where the loss is finite and every kink is at least ``margin`` away."""
    rng = np.random.default_rng(seed)
    for centre, spread in [(0.3, 1.0), (0.5, 0.05), (-1.0, 0.05), (0.25, 0.05), (1.5, 0.3), (-2.0, 0.3)]:
        for _ in range(30):
            env = {
                "X": rng.normal(size=(N, n)),
                "w": rng.normal(size=n) * spread,
                "b": np.float64(centre + 0.01 * rng.normal()),
                "y": targets(loss_entry, rng, N),
            }
            with np.errstate(all="ignore"):
                value = numeric.evaluate(derivation.expression, env)
            if np.isfinite(value) and kink_distance(derivation, env) > margin:
                return env
    raise RuntimeError("no point found in the loss's domain away from kinks")

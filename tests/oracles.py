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
    """The IR at concrete sizes as SymPy: a scalar, or a Matrix of scalar expressions (a vector
    of length m is an m×1 Matrix). Expansions are cached per (expression, sizes)."""
    key = (node, tuple(sorted(sizes.items())))
    if key not in _EXPANSIONS:
        dims = {ir.dim(k): v for k, v in sizes.items()}
        memo: dict = {}
        for current in ir.walk(node):
            expand = _EXPAND.get(type(current))
            if expand is None:
                raise TypeError(f"the oracle cannot expand {type(current).__name__} nodes")
            memo[current.key] = expand(current, [memo[a.key] for a in current.args], dims)
        _EXPANSIONS[key] = memo[node.key]
    return _EXPANSIONS[key]


_EXPANSIONS: dict = {}


def _concrete(shape, dims) -> list[int]:
    return [int(sympy.sympify(d).subs(dims)) for d in shape]


def _symbol(node, args, dims):
    shape = _concrete(node.shape, dims)
    if not shape:
        return sympy.Symbol(node.name, real=True)
    if len(shape) == 1:
        return sympy.Matrix(shape[0], 1, lambda i, _: sympy.Symbol(f"{node.name}_{i}", real=True))
    return sympy.Matrix(*shape, lambda i, j: sympy.Symbol(f"{node.name}_{i}_{j}", real=True))


def _filled(value):
    def expand(node, args, dims):
        shape = _concrete(node.shape, dims)
        if not shape:
            return sympy.Integer(value)
        rows, cols = (shape[0], 1) if len(shape) == 1 else shape
        return sympy.Matrix(rows, cols, lambda i, j: sympy.Integer(value))

    return expand


def _picker(operand_shape, result_shape):
    """How element (i, j) of the result reads an operand: scalar expansion, the same element,
    or element j of a vector spread over every row of a matrix."""
    if operand_shape == ():
        return lambda a, i, j: a
    if len(operand_shape) == 1 and len(result_shape) == 2:
        return lambda a, i, j: a[j, 0]
    return lambda a, i, j: a[i, j]


def _ew(function):
    def apply(node, args, dims):
        if node.shape == ():
            return function(*args)
        shape = _concrete(node.shape, dims)
        rows, cols = (shape[0], 1) if len(shape) == 1 else shape
        picks = [_picker(a.shape, node.shape) for a in node.args]
        return sympy.Matrix(rows, cols, lambda i, j: function(*[p(a, i, j) for p, a in zip(picks, args)]))

    return apply


def _apply_fn(node):
    body = expand_custom(node.fn.body)
    return lambda *values: body.xreplace(dict(zip(node.fn.params, values)))


def _reduce(node, value, per_group):
    """Sum or mean of all elements (or of a vector), or along axis 0 (columns) or 1 (rows)."""
    if not isinstance(value, sympy.MatrixBase):
        return value
    if node.axis is None or len(node.args[0].shape) == 1:
        return per_group(list(value))
    if node.axis == 0:
        groups = [value.col(j) for j in range(value.cols)]
    else:
        groups = [value.row(i) for i in range(value.rows)]
    return sympy.Matrix([per_group(list(g)) for g in groups])


def _broadcast(node, args, dims):
    v, count = args[0], _concrete((node.shape[node.axis],), dims)[0]
    if node.axis == 0:
        return sympy.Matrix(count, v.rows, lambda i, j: v[j, 0])
    return sympy.Matrix(v.rows, count, lambda i, j: v[i, 0])


def _row_wise(per_row, reduces=False):
    """A function of a vector, or of each row of a matrix; ``per_row`` maps a list to a list."""

    def expand(node, args, dims):
        value = args[0]
        if len(node.args[0].shape) == 1:
            out = per_row(list(value))
            return out[0] if reduces else sympy.Matrix(out)
        rows = [per_row(list(value.row(i))) for i in range(value.rows)]
        return sympy.Matrix([r[0] for r in rows]) if reduces else sympy.Matrix(rows)

    return expand


def _softmax(row):
    exps = [sympy.exp(x) for x in row]
    return [e / sum(exps) for e in exps]


def _logsumexp(row):
    return [sympy.log(sum(sympy.exp(x) for x in row))]


_EXPAND = {
    ir.Symbol: _symbol,
    ir.Const: lambda n, a, d: n.value.subs(d),
    ir.Ones: _filled(1),
    ir.Zero: _filled(0),
    ir.Add: _ew(lambda p, q: p + q),
    ir.Sub: _ew(lambda p, q: p - q),
    ir.Mul: _ew(lambda p, q: p * q),
    ir.Div: _ew(lambda p, q: p / q),
    ir.Neg: _ew(lambda p: -p),
    ir.Pow: _ew(lambda p, q: p**q),
    ir.Apply: lambda n, a, d: _ew(_apply_fn(n))(n, a, d),
    ir.MatMul: lambda n, a, d: a[0] * a[1],
    ir.Transpose: lambda n, a, d: a[0].T,
    ir.Outer: lambda n, a, d: a[0] * a[1].T,
    ir.Sum: lambda n, a, d: _reduce(n, a[0], sum),
    ir.Mean: lambda n, a, d: _reduce(n, a[0], lambda g: sum(g) / len(g)),
    ir.Broadcast: _broadcast,
    ir.Softmax: _row_wise(_softmax),
    ir.LogSoftmax: _row_wise(lambda row: [x - _logsumexp(row)[0] for x in row]),
    ir.LogSumExp: _row_wise(_logsumexp, reduces=True),
}


def sympy_gradient(expression: ir.Node, param: ir.Symbol, sizes: dict):
    """SymPy's diff of the expanded scalar expression by each element of ``param`` (row-major
    for a matrix, as NumPy ravels), with the element symbols in the same order."""
    key = (expression, param, tuple(sorted(sizes.items())))
    if key not in _GRADIENTS:
        scalar = expand_scalar(expression, sizes)
        if isinstance(scalar, sympy.MatrixBase):
            raise TypeError(f"the expression must be a scalar, got a {scalar.shape} Matrix")
        variables = expand_scalar(param, sizes)
        variables = list(variables) if isinstance(variables, sympy.MatrixBase) else [variables]
        _GRADIENTS[key] = ([sympy.diff(scalar, v) for v in variables], variables)
    exprs, variables = _GRADIENTS[key]
    return list(exprs), list(variables)


_GRADIENTS: dict = {}


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

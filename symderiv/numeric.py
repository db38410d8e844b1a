"""Evaluate IR expressions with NumPy (for tests and the gradient checker).

:func:`evaluate` walks the graph children-first, computing each distinct node once. Dimension
symbols (n, N, ...) are bound from the shapes of the arrays given for the symbols, so ``Ones``,
``Zero``, ``Identity`` and constants such as ``1/N`` get concrete sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import mpmath
import numpy as np
import sympy

from . import ir
from .errors import ConstantError

Value = np.ndarray | float


# --------------------------------------------------------------------------- scalar functions


def stable_sigmoid(x):
    """The logistic function without overflow for large |x|."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _heaviside(x, h0=0.5):
    return np.heaviside(x, h0)


_NUMPY_FUNCTIONS = {
    "sigmoid": stable_sigmoid,
    "softplus": lambda x: np.logaddexp(0, x),
    "log1p": np.log1p,
    "Heaviside": _heaviside,
}


@dataclass(frozen=True)
class _Compiled:
    """A lambdified ScalarFunction body; ``extra`` are the dimension symbols it also uses."""

    call: Callable
    extra: tuple


@cache
def compile_function(fn) -> _Compiled:
    """Lambdify ``fn.body`` once; dimension symbols left in the body become extra arguments."""
    extra = tuple(sorted(fn.body.free_symbols - set(fn.params), key=lambda s: s.name))
    call = sympy.lambdify((*fn.params, *extra), fn.body, modules=[_NUMPY_FUNCTIONS, "numpy"], dummify=True)
    return _Compiled(call, extra)


# --------------------------------------------------------------------------- dimensions


def bind_dimensions(node: ir.Node, env: Mapping[str, Value], dims: Mapping | None = None) -> dict:
    """Bind each dimension symbol of ``node``'s symbols to a size read from ``env``'s arrays.

    ``dims`` gives known sizes first (keys are dimension symbols or names), for dimensions no
    symbol of ``node`` carries. Raises ValueError naming the symbol, the expected and the
    actual shape when an array does not fit its symbol's shape (wrong rank, wrong fixed size,
    or a dimension bound twice to different sizes), or when a symbol has no value.
    """
    return _bind([n for n in ir.walk(node) if isinstance(n, ir.Symbol)], env, dims)


def _bind(symbols: list, env: Mapping[str, Value], given: Mapping | None) -> dict:
    dims = {ir.as_dim(d): int(size) for d, size in (given or {}).items()}
    for symbol in symbols:
        actual = np.shape(_lookup(env, symbol.name))
        if len(actual) != len(symbol.shape):
            raise _shape_error(symbol, dims, actual)
        for expected, size in zip(symbol.shape, actual):
            if isinstance(expected, sympy.Symbol) and expected not in dims:
                dims[expected] = int(size)
    for symbol in symbols:
        actual = np.shape(env[symbol.name])
        if any(_size(d, dims) != size for d, size in zip(symbol.shape, actual)):
            raise _shape_error(symbol, dims, actual)
    return dims


def _lookup(env: Mapping[str, Value], name: str) -> Value:
    if name not in env:
        raise ValueError(f"no value given for symbol '{name}'")
    return env[name]


def _size(d, dims: dict) -> int | None:
    """A dimension as an int under ``dims``, or None if it cannot be resolved."""
    value = sympy.sympify(d, strict=True).xreplace(_sympy_sizes(dims))
    return int(value) if value.is_Integer else None


def _shape_error(symbol: ir.Symbol, dims: dict, actual: tuple) -> ValueError:
    expected = tuple(_size(d, dims) or d for d in symbol.shape)
    return ValueError(
        f"symbol '{symbol.name}' expects shape {_fmt(expected)} "
        f"({ir.shape_str(symbol.shape)}), got an array of shape {_fmt(actual)}"
    )


def _fmt(shape: tuple) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _sympy_sizes(dims: dict) -> dict:
    return {d: sympy.Integer(size) for d, size in dims.items()}


def concrete_shape(shape: tuple, dims: dict) -> tuple[int, ...]:
    """An IR shape with every dimension resolved to an int; ValueError if one is unbound."""
    out = []
    for d in shape:
        size = _size(d, dims)
        if size is None:
            raise ValueError(f"dimension {d} is not bound by the shape of any symbol")
        out.append(size)
    return tuple(out)


def concrete_value(value, dims: dict) -> float:
    """A SymPy constant (possibly in dimension symbols, like 1/N) as a float."""
    expr = sympy.sympify(value, strict=True).xreplace(_sympy_sizes(dims))
    if expr.free_symbols:
        names = ", ".join(sorted(s.name for s in expr.free_symbols))
        raise ValueError(f"constant {value} uses unbound symbol(s) {names}")
    return finite_float(expr)


def describe_constant(value) -> str:
    """A constant for an error message: as written when short, else its value to four digits."""
    if value is sympy.zoo or value is sympy.nan:
        return "1/0" if value is sympy.zoo else "0/0"
    shown = str(value)
    if len(shown) <= 40:
        return shown
    try:
        number = sympy.sympify(value, strict=True).evalf(4)
    except (TypeError, ValueError, ArithmeticError):
        number = None
    return f"about {number!s}" if isinstance(number, sympy.Float) else "a large constant"


def check_constants(node: ir.Node) -> None:
    """Raise ConstantError naming the first constant of ``node`` that float64 cannot hold.

    Constants in dimensions (1/N) are skipped; the numbers inside element-wise functions'
    bodies (``exp(1e3 * z)``) are checked too. Every derived expression should pass this.
    """
    for current in ir.walk(node):
        values = [current.value] if isinstance(current, ir.Const) else []
        if isinstance(current, ir.Apply):
            values = sorted(current.fn.body.atoms(sympy.Number), key=sympy.default_sort_key)
        for value in values:
            if isinstance(value, sympy.Basic) and not value.free_symbols:
                finite_float(value)


# --------------------------------------------------------------------------- constants

MAX_CONSTANT_BITS = 4096  # folded constants larger than about 2**4096 are rejected
MAX_SYMBOLIC_SIZE = 40  # larger symbolic constants (exp(1) + exp(2) + ...) are made numeric
FLOAT64_MAX = float(np.finfo(np.float64).max)  # every constant must be at most this in magnitude
TOO_LARGE_FOR_FLOAT64 = "is too large for float64 (|x| > 1.8e308)"
_NON_FINITE = (mpmath.libmp.finf, mpmath.libmp.fninf, mpmath.libmp.fnan)
_SYMPY_ERRORS = (TypeError, ValueError, ArithmeticError)


def constant_problem(value) -> str:
    """Why a numeric SymPy constant cannot be used ('is too large ...', 'is undefined'), or ''."""
    if isinstance(value, sympy.Rational):
        if value.p.bit_length() + value.q.bit_length() > MAX_CONSTANT_BITS:
            return f"is too large (more than {MAX_CONSTANT_BITS} bits)"
        return "" if abs(value) <= FLOAT64_MAX else TOO_LARGE_FOR_FLOAT64
    number = evaluate_constant(value)
    if number is None:
        is_complex = value.is_finite and value.is_real is False
        return "is not a finite real number" + (" (it is complex)" if is_complex else "")
    _, mantissa, exponent, bitcount = number._mpf_
    if mantissa and exponent + bitcount > MAX_CONSTANT_BITS:
        return f"is too large (more than {MAX_CONSTANT_BITS} bits)"
    return "" if abs(number) <= FLOAT64_MAX else TOO_LARGE_FOR_FLOAT64


def tame_constant(value) -> tuple[object, str]:
    """A folded constant (its Float value if its expression is large) and why it is rejected."""
    if not isinstance(value, sympy.Basic) or value.free_symbols:
        return value, ""  # e.g. 1/N: an expression in dimensions
    problem = constant_problem(value)
    if problem:
        return value, f"constant {describe_constant(value)} {problem}"
    small = not isinstance(value, sympy.Basic) or value.is_Number or symbolic_size(value) <= MAX_SYMBOLIC_SIZE
    return (value if small else evaluate_constant(value)), ""


def evaluate_constant(value) -> sympy.Float | None:
    """A numeric constant as a finite sympy.Float, or None if it has no finite real value."""
    if isinstance(value, sympy.Float):
        number = value
    else:
        try:
            number = sympy.sympify(value, strict=True).evalf(15)
        except _SYMPY_ERRORS:
            return None
    if not isinstance(number, sympy.Float) or number._mpf_ in _NON_FINITE:
        return None
    return number


def symbolic_size(value: sympy.Basic) -> int:
    """The number of nodes of a SymPy expression, counting at most MAX_SYMBOLIC_SIZE + 1."""
    count = 0
    for _ in sympy.preorder_traversal(value):
        count += 1
        if count > MAX_SYMBOLIC_SIZE:
            break
    return count


def finite_float(value) -> float:
    """A numeric SymPy constant as a float; ConstantError naming it unless finite, real, float64."""
    try:
        expr = sympy.sympify(value, strict=True)
        number = complex(expr.evalf(17)) if expr.is_finite is not False else complex("nan")
    except (TypeError, ValueError, ArithmeticError):
        number = complex("nan")
    if number.imag != 0 or number.real != number.real:
        raise ConstantError(f"constant {describe_constant(value)} is not a finite real number")
    if not abs(number.real) <= FLOAT64_MAX:
        raise ConstantError(f"constant {describe_constant(value)} {TOO_LARGE_FOR_FLOAT64}")
    return number.real



# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class _Context:
    """What a node's ``evaluate`` needs besides its operands' values."""

    env: Mapping[str, Value]
    dims: dict

    def lookup(self, name: str) -> Value:
        return self.env[name]

    def shape(self, shape: tuple) -> tuple[int, ...]:
        return concrete_shape(shape, self.dims)

    def number(self, value) -> float:
        return concrete_value(value, self.dims)

    def apply(self, fn, values: list, shape: tuple) -> np.ndarray:
        compiled = compile_function(fn)
        extra = [concrete_value(s, self.dims) for s in compiled.extra]
        with np.errstate(all="ignore"):
            result = compiled.call(*values, *extra)
        return np.array(np.broadcast_to(np.asarray(result, dtype=float), concrete_shape(shape, self.dims)))


def evaluate(node: ir.Node, env: Mapping[str, Value], dims: Mapping | None = None) -> Value:
    """The value of ``node`` with symbols bound by name in ``env``: a float or a float64 array.

    ``dims`` optionally gives sizes of dimensions that no symbol of ``node`` carries (see
    :func:`bind_dimensions`). Each node computes itself (``Node.evaluate``).
    """
    order = list(ir.walk(node))
    ctx = _Context(env, _bind([n for n in order if isinstance(n, ir.Symbol)], env, dims))
    memo: dict = {}
    for current in order:
        memo[current] = current.evaluate([memo[a] for a in current.args], ctx)
    return _finish(memo[node])


def _finish(value) -> Value:
    value = np.asarray(value, dtype=float)
    return float(value) if value.ndim == 0 else value

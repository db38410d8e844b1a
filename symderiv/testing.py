"""The gradient checker: compare a gradient against central differences.

Every test that checks a derived gradient numerically goes through :func:`check_gradient`
(or :func:`check_expression_gradient` for IR). Errors are measured with :func:`relative_error`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from . import ir, numeric

Params = Mapping[str, "np.ndarray | float"]


class GradientMismatch(AssertionError):
    """An analytic gradient differs from central differences by more than the tolerance."""

    def __init__(self, name: str, index: tuple, analytic, numerical, error: float, rtol: float):
        self.name, self.index = name, index
        self.analytic, self.numerical, self.error = analytic, numerical, error
        super().__init__(
            f"gradient of '{name}' is wrong at index {index}: analytic {analytic!r}, "
            f"numerical {numerical!r} (relative error {error:.3g} > rtol {rtol:g})"
        )


# --------------------------------------------------------------------------- errors


FLOOR = 1e-6
"""The smallest scale an error is measured against: the default finite-difference step. Central
differences with this step are good to about 1e-10 for values of order 1, so a gradient smaller
than the floor is compared absolutely, in units of the floor (a sign flip of a gradient of 1e-8
is an error of 2e-2), instead of against a floor of 1 that would hide it."""


def relative_errors(a, b, *, floor: float = FLOOR) -> np.ndarray:
    """Element-wise ``|a - b| / scale`` with ``scale = max(floor, max|a|, max|b|)`` over the
    whole arrays (the gradient's own scale); inf where either value is not finite.

    Scaling by the largest element, not each element, keeps an element that should be 0 from
    blowing up; the floor keeps an all-zero gradient from dividing by 0. Symmetric in ``a``, ``b``.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    if not floor > 0:
        raise ValueError(f"the floor must be positive, got {floor!r}")
    with np.errstate(all="ignore"):
        errors = np.abs(a - b) / _scale(a, b, floor)
    same = a == b  # equal infinities compare as exact
    return np.where(same, 0.0, np.where(np.isfinite(errors), errors, np.inf))


def _scale(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """The largest finite magnitude in ``a`` and ``b``, at least ``floor``."""
    magnitudes = np.abs(np.concatenate([a.ravel(), b.ravel()]))
    finite = magnitudes[np.isfinite(magnitudes)]
    return max(floor, float(finite.max())) if finite.size else floor


def relative_error(a, b, *, floor: float = FLOOR) -> float:
    """The largest of :func:`relative_errors` (0.0 for empty arrays).

    Works for scalars and arrays of equal shape; a NaN or an unmatched infinity gives inf.
    """
    errors = relative_errors(a, b, floor=floor)
    return float(errors.max()) if errors.size else 0.0


# --------------------------------------------------------------------------- differences


def _as_param(value):
    """A float64 copy: a 0-d value becomes a Python float, an array a fresh array."""
    array = np.array(value, dtype=float)
    return float(array) if array.ndim == 0 else array


def numerical_gradient(f: Callable, params: Params, eps: float = 1e-6, *, wrt=None) -> dict:
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` of a scalar ``f``.

    Each element of each parameter named in ``wrt`` (default: all) is perturbed on its own, on
    float64 copies; other parameters are passed unchanged. Scalars give floats.
    """
    base = {name: _as_param(value) for name, value in params.items()}
    return {name: _partials(f, base, name, eps) for name in (params if wrt is None else wrt)}


def _partials(f: Callable, base: dict, name: str, eps: float):
    value = np.asarray(base[name])
    grad = np.empty(value.shape)
    for index in np.ndindex(value.shape):
        grad[index] = (_shifted(f, base, name, index, eps) - _shifted(f, base, name, index, -eps)) / (2 * eps)
    return float(grad) if grad.ndim == 0 else grad


def _shifted(f: Callable, base: dict, name: str, index: tuple, step: float) -> float:
    moved = np.array(base[name], dtype=float)
    moved[index] += step
    return _scalar(f({**base, name: _as_param(moved)}))


def _scalar(value) -> float:
    array = np.asarray(value, dtype=float)
    if array.size != 1:
        raise ValueError(f"the function must return a scalar, got shape {array.shape}")
    return float(array.reshape(()))


# --------------------------------------------------------------------------- checking


def check_gradient(f: Callable, grad: Callable, params: Params, *, rtol=1e-6, eps=1e-6) -> float:
    """Check ``grad(params)`` (name -> array shaped like the parameter) against central
    differences of the scalar ``f(params)``, for every name ``grad`` returns.

    Errors are relative to each gradient's largest element, with the step ``eps`` as the floor.
    Returns the largest :func:`relative_error`; raises :class:`GradientMismatch` naming the
    parameter, the worst element's index and both values when it exceeds ``rtol``.
    """
    point = {name: _as_param(value) for name, value in params.items()}
    analytic = dict(grad({k: _as_param(v) for k, v in point.items()}))
    if not analytic:
        raise ValueError("grad returned no gradients")
    unknown = sorted(set(analytic) - set(point))
    if unknown:
        raise ValueError(f"grad returned gradients for unknown parameter(s) {', '.join(unknown)}")
    numerical = numerical_gradient(f, point, eps, wrt=list(analytic))
    return max(_compare(name, analytic[name], numerical[name], rtol, eps) for name in analytic)


def _compare(name: str, analytic, numerical, rtol: float, floor: float) -> float:
    analytic = np.asarray(analytic, dtype=float)
    numerical = np.asarray(numerical, dtype=float)
    if analytic.shape != numerical.shape:
        raise GradientMismatch(name, (), f"shape {analytic.shape}", f"shape {numerical.shape}", np.inf, rtol)
    errors = relative_errors(analytic, numerical, floor=floor)
    if errors.size == 0:
        return 0.0
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errors)), errors.shape))
    if not errors[worst] <= rtol:
        raise GradientMismatch(
            name, worst, float(analytic[worst]), float(numerical[worst]), float(errors[worst]), rtol
        )
    return float(errors[worst])


def check_expression_gradient(
    expression: ir.Node, gradients: Mapping[str, ir.Node], env: Params, *, rtol=1e-6, eps=1e-6
) -> float:
    """:func:`check_gradient` for IR: ``expression`` and each ``gradients[name]`` are evaluated
    with :func:`numeric.evaluate`; differences are taken over ``env[name]`` for each name."""
    if expression.shape != ():
        raise ValueError(f"the expression must be a scalar, not a {ir.shape_str(expression.shape)}")

    def f(params):
        return numeric.evaluate(expression, params)

    def grad(params):  # a gradient may use dimensions only the expression's symbols carry
        dims = numeric.bind_dimensions(expression, params)
        return {name: numeric.evaluate(g, params, dims) for name, g in gradients.items()}

    return check_gradient(f, grad, env, rtol=rtol, eps=eps)


# --------------------------------------------------------------------------- random points


def random_point(shapes: Mapping[str, tuple], rng, *, away_from=None, margin=1e-3, max_tries=1000) -> dict:
    """Standard-normal float64 values for each name (a float for shape ``()``).

    ``away_from(params)`` may return kink distances (an array, or a list of arrays); points are
    resampled until every ``|distance| > margin``, so central differences never straddle a
    kink. ``rng`` is a ``numpy.random.Generator`` or a seed.
    """
    rng = np.random.default_rng(rng)
    for _ in range(max_tries):
        point = {name: _as_param(rng.standard_normal(tuple(shape))) for name, shape in shapes.items()}
        if away_from is None or _clear_of_kinks(away_from(point), margin):
            return point
    raise RuntimeError(f"no point with every kink distance above {margin} in {max_tries} tries")


def _clear_of_kinks(distances, margin: float) -> bool:
    if isinstance(distances, (list, tuple)):
        return all(_clear_of_kinks(d, margin) for d in distances)
    return bool(np.all(np.abs(np.asarray(distances, dtype=float)) > margin))


def shapes_of(expression: ir.Node, sizes: Mapping[str, int]) -> dict[str, tuple[int, ...]]:
    """The concrete shape of each symbol of ``expression``, dimensions given by name."""
    dims = {ir.dim(name): int(size) for name, size in sizes.items()}
    return {s.name: numeric.concrete_shape(s.shape, dims) for s in ir.symbols(expression)}

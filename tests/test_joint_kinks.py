"""Kinks of several arguments: one subgradient for the whole step (min-norm of the joint subdifferential)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symderiv
from symderiv import functions, ir, kinks, numeric
from symderiv.functions import BUILTINS, ScalarFunction, real

p, q, r, z = real("p"), real("q"), real("r"), real("z")
HALF = sympy.S.Half


def _fn(body, *params):
    return ScalarFunction("f", params, body)


# (function, point on the tie, {convention: (∂f/∂param for each param)})
TIES = {
    "max": (BUILTINS["max"], {p: 1, q: 1}, {
        "min-norm": (HALF, HALF), "mean": (HALF, HALF), "left": (0, 0), "right": (1, 1)}),
    "min": (BUILTINS["min"], {p: 1, q: 1}, {
        "min-norm": (HALF, HALF), "mean": (HALF, HALF), "left": (1, 1), "right": (0, 0)}),
    "abs_difference": (_fn(sympy.Abs(p - q), p, q), {p: 2, q: 2}, {
        "min-norm": (0, 0), "mean": (0, 0), "left": (-1, -1), "right": (1, 1)}),
    "relu_of_sum": (_fn(sympy.Max(0, p + q), p, q), {p: 1, q: -1}, {
        "min-norm": (0, 0), "mean": (HALF, HALF), "left": (0, 0), "right": (1, 1)}),
    "max_scaled": (_fn(sympy.Max(p, HALF * q), p, q), {p: 1, q: 2}, {
        "min-norm": (sympy.Rational(1, 5), sympy.Rational(2, 5)), "mean": (HALF, sympy.Rational(1, 4)),
        "left": (0, 0), "right": (1, HALF)}),
    "max_of_three": (_fn(sympy.Max(p, q, r), p, q, r), {p: 1, q: 1, r: 1}, {
        "min-norm": (sympy.Rational(1, 3),) * 3}),
    "max_of_three_two_tied": (_fn(sympy.Max(p, q, r), p, q, r), {p: 1, q: 1, r: 0}, {
        "min-norm": (HALF, HALF, 0)}),
    "clip_varying_bounds": (_fn(sympy.Min(sympy.Max(z, p), q), z, p, q), {z: 1, p: 0, q: 1}, {
        "min-norm": (HALF, 0, HALF)}),
    "symbolic_branch_gradients": (_fn(sympy.Max(p * q, r), p, q, r), {p: 1, q: 1, r: 1}, {
        "min-norm": (sympy.Rational(1, 3), sympy.Rational(1, 3), sympy.Rational(2, 3))}),
}


def _cases():
    for name, (_, _, expected) in TIES.items():
        for convention in expected:
            yield pytest.param(name, convention, id=f"{name}-{convention}")


@pytest.mark.parametrize("name, convention", list(_cases()))
def test_value_at_a_tie(name, convention):
    fn, point, expected = TIES[name]
    values = [fn.derivative(k, convention).body.subs(point) for k in range(len(fn.params))]
    assert [float(v) for v in values] == pytest.approx([float(e) for e in expected[convention]], abs=1e-12)


@pytest.mark.parametrize("name", ["max", "min"])
def test_a_tie_anywhere_moves_both_arguments(name):
    """(0, 0) is not a subgradient of max(p, q) at p = q: a maxout unit with equal weights would never move."""
    fn = BUILTINS[name]
    for value in np.random.default_rng(2).normal(size=5):
        point = {p: sympy.Float(value), q: sympy.Float(value)}
        assert [fn.derivative(k).body.subs(point) for k in (0, 1)] == [HALF, HALF]


@pytest.mark.parametrize(
    "body, point, expected",
    [
        (sympy.Max(0, z), 0, {"min-norm": 0, "mean": HALF, "left": 0, "right": 1}),
        (sympy.Max(sympy.Float(0.01) * z, z), 0, {"min-norm": 0.01, "mean": 0.505, "left": 0.01, "right": 1}),
        (sympy.Min(sympy.Max(z, -1), 1), 1, {"min-norm": 0, "mean": HALF, "left": 1, "right": 0}),
        (sympy.Abs(z), 0, {"min-norm": 0, "mean": 0, "left": -1, "right": 1}),
    ],
    ids=["relu", "leaky_relu", "hard_tanh", "abs"],
)
@pytest.mark.parametrize("convention", kinks.CONVENTIONS)
def test_one_argument_functions_are_unchanged(body, point, expected, convention):
    value = _fn(body, z).derivative(0, convention).body.subs(z, point)
    assert float(value) == pytest.approx(float(expected[convention]), abs=1e-12)


def test_clip_against_constants_is_unchanged():
    clip = functions.apply(BUILTINS["clip"], ir.Symbol("a", ()), 0, 1)
    d = clip.fn.derivative(0).body
    assert [d.subs(clip.fn.params[0], v) for v in (0, 1)] == [0, 0]


def test_joint_values_are_exact_and_deterministic():
    first = BUILTINS["max"].derivative(0).body
    kinks.derivative.cache_clear()
    kinks._joint_point.cache_clear()
    functions._derivative.cache_clear()
    assert BUILTINS["max"].derivative(0).body == first
    assert first.args[-1][0] == HALF


def _branch(expr, point):
    """The smooth branch of ``expr`` active at ``point`` (a dict), kinks resolved bottom-up."""
    if isinstance(expr, (sympy.Max, sympy.Min)):
        args = [_branch(a, point) for a in expr.args]
        values = [float(a.subs(point)) for a in args]
        best = max(values) if isinstance(expr, sympy.Max) else min(values)
        return args[values.index(best)]
    if isinstance(expr, sympy.Abs):
        inner = _branch(expr.args[0], point)
        return inner if float(inner.subs(point)) >= 0 else -inner
    if not expr.args:
        return expr
    return expr.func(*[_branch(a, point) for a in expr.args])


@pytest.mark.parametrize("name", list(TIES) + ["product_inside"])
@pytest.mark.parametrize("convention", kinks.CONVENTIONS)
def test_away_from_ties_the_derivative_is_the_branch_derivative(name, convention):
    fn = TIES[name][0] if name in TIES else _fn(p * sympy.Max(0, q) + sympy.Abs(p - 2 * q), p, q)
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = {s: sympy.Float(v) for s, v in zip(fn.params, rng.normal(size=len(fn.params)))}
        branch = _branch(fn.body, point)
        for k, param in enumerate(fn.params):
            value = fn.derivative(k, convention).body.subs(point)
            assert float(value) == pytest.approx(float(sympy.diff(branch, param).subs(point)), abs=1e-9)


def test_maxout_with_equal_weights_moves_both_halves():
    n = ir.dim("n")
    expr = symderiv.expression("mean((y - max(X @ w, X @ w2))^2)", let={"w2": (n,)})
    d = symderiv.derive(expr, wrt=("w", "w2"))
    rng = np.random.default_rng(1)
    X, y, w = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=3)
    env = {"X": X, "y": y, "w": w, "w2": w.copy()}
    gw = numeric.evaluate(d.expand(d.gradient("w").vectorized), env)
    gw2 = numeric.evaluate(d.expand(d.gradient("w2").vectorized), env)
    plain = symderiv.derive(symderiv.expression("mean((y - X @ w)^2)"), wrt=("w",))
    full = numeric.evaluate(plain.expand(plain.gradient("w").vectorized), {"X": X, "y": y, "w": w})
    assert np.allclose(gw, gw2)
    assert np.linalg.norm(gw) > 1e-6
    assert np.allclose(gw + gw2, full)
    assert np.allclose(full, -2 / 6 * X.T @ (y - X @ w))

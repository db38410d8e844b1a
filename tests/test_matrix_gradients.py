"""Gradients by matrix parameters against central differences over every element (oracle 1) and
against SymPy's diff of the fully expanded scalar expression (oracle 2), built with ``symderiv.ir``.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from oracles import evaluate_sympy, expand_scalar, kink_distance, sympy_gradient

import symderiv
from symderiv import catalog, ir, numeric
from symderiv.functions import BUILTINS, apply
from symderiv.model import activation_function
from symderiv.testing import check_expression_gradient, relative_error

SMALL = {"N": 3, "n": 2, "h": 2, "k": 3}  # SymPy expands at these sizes
LARGER = {"N": 5, "n": 3, "h": 4, "k": 3}  # central differences run here too
N, n, h, k = (ir.dim(name) for name in ("N", "n", "h", "k"))
LAMBDA = sympy.Rational(1, 10)

X, Y, Yk = ir.Symbol("X", (N, n)), ir.Symbol("Y", (N, h)), ir.Symbol("Y", (N, k))
W, b = ir.Symbol("W", (n, h)), ir.Symbol("b", (h,))


def _relu(a):
    return BUILTINS["relu"](a)


def _cross_entropy(Z, Y):
    """mean over the rows of logsumexp(z_i) − y_iᵀ z_i."""
    return ir.mean(ir.logsumexp(Z) - ir.total(Y * Z, 1))


def dense_mse(fn=_relu):
    return ir.mean((fn(X @ W + b) - Y) ** 2), ("W", "b")


def softmax_ce():
    Wk, bk = ir.Symbol("W", (n, k)), ir.Symbol("b", (k,))
    return _cross_entropy(X @ Wk + bk, Yk), ("W", "b")


def log_softmax_ce():
    Wk, bk = ir.Symbol("W", (n, k)), ir.Symbol("b", (k,))
    return -ir.mean(ir.total(Yk * ir.log_softmax(X @ Wk + bk), 1)), ("W", "b")


def two_layer():
    W1, b1 = ir.Symbol("W1", (n, h)), ir.Symbol("b1", (h,))
    W2, b2 = ir.Symbol("W2", (h, k)), ir.Symbol("b2", (k,))
    A1 = _relu(X @ W1 + b1)
    penalty = ir.Const(LAMBDA / 2) * (ir.total(W1**2) + ir.total(W2**2))
    return _cross_entropy(A1 @ W2 + b2, Yk) + penalty, ("W1", "b1", "W2", "b2")


def logsumexp_vector():
    w, c = ir.Symbol("w", (n,)), ir.Symbol("c", (N,))
    return ir.logsumexp(X @ w + c), ("w", "c")


def bias_over_rows():
    """A row vector on the left of a sum and a per-column gain multiplying every row."""
    g = ir.Symbol("g", (h,))
    return ir.mean((b + g * (X @ W) - Y) ** 2), ("W", "b", "g")


CASES = {
    "dense_relu_mse": (dense_mse, "normal"),
    "softmax_ce_one_hot": (softmax_ce, "one_hot"),
    "softmax_ce_soft_targets": (softmax_ce, "soft"),
    "log_softmax_ce_one_hot": (log_softmax_ce, "one_hot"),
    "log_softmax_ce_soft_targets": (log_softmax_ce, "soft"),
    "two_layer_relu_softmax_l2": (two_layer, "one_hot"),
    "logsumexp_of_a_vector": (logsumexp_vector, "normal"),
    "vector_bias_over_rows": (bias_over_rows, "normal"),
}


# --------------------------------------------------------------------------- data


def _targets(kind: str, shape, rng):
    if kind == "one_hot":
        return np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]
    if kind == "soft":
        return rng.dirichlet(np.ones(shape[1]), size=shape[0])
    return rng.standard_normal(shape)


def sample(derivation, targets: str, sizes: dict, seed: int, margin: float = 1e-3) -> dict:
    """Random values for every symbol, resampled until each pre-activation is ``margin`` from a kink."""
    rng = np.random.default_rng(seed)
    dims = {ir.dim(name): size for name, size in sizes.items()}
    for _ in range(200):
        env = {}
        for symbol in ir.symbols(derivation.expression):
            shape = numeric.concrete_shape(symbol.shape, dims)
            is_target = symbol.name == "Y"
            env[symbol.name] = _targets(targets, shape, rng) if is_target else rng.standard_normal(shape)
        if kink_distance(derivation, env) > margin:
            return env
    raise RuntimeError(f"no point {margin} away from every kink")


def _derive(build, *args):
    expression, wrt = build(*args)
    return symderiv.derive(expression, wrt=wrt)


def _vectorized(d, name: str) -> ir.Node:
    return d.expand(d.gradient(name).vectorized)


def check_both_oracles(d, targets: str, seed: int) -> None:
    for sizes in (SMALL, LARGER):
        env = sample(d, targets, sizes, seed)
        gradients = {name: _vectorized(d, name) for name in d.gradients}
        assert check_expression_gradient(d.expression, gradients, env, rtol=1e-6) < 1e-6
    env = sample(d, targets, SMALL, seed + 1)
    for name, gradient in d.gradients.items():
        exprs, _ = sympy_gradient(d.expression, gradient.parameter, SMALL)
        ours = np.ravel(numeric.evaluate(_vectorized(d, name), env))
        assert relative_error(ours, evaluate_sympy(exprs, env, SMALL)) < 1e-9, name


# --------------------------------------------------------------------------- the cases


@pytest.fixture(scope="module")
def derivations():
    cache: dict = {}

    def get(case: str):
        if case not in cache:
            cache[case] = _derive(CASES[case][0])
        return cache[case]

    return get


@pytest.mark.parametrize("case", list(CASES))
def test_gradients_match_both_oracles(derivations, case):
    check_both_oracles(derivations(case), CASES[case][1], seed=sorted(CASES).index(case))


@pytest.mark.parametrize("activation", list(catalog.ACTIVATIONS))
def test_catalog_activation_dense_layer_with_mse(activation):
    fn, _ = activation_function(activation)
    d = _derive(dense_mse, lambda z: apply(fn, z))
    check_both_oracles(d, "normal", seed=len(activation))


def test_softmax_ce_gradient_is_s_minus_y_over_n(derivations):
    """∇_W C = Xᵀ(S − Y)/N when each row of Y sums to 1 (the closed form of the design notes)."""
    d = derivations("softmax_ce_soft_targets")
    env = sample(d, "soft", LARGER, seed=5)
    Z = env["X"] @ env["W"] + env["b"]
    S = np.exp(Z - Z.max(1, keepdims=True))
    S /= S.sum(1, keepdims=True)
    G = (S - env["Y"]) / len(Z)
    assert relative_error(numeric.evaluate(_vectorized(d, "W"), env), env["X"].T @ G) < 1e-12
    assert relative_error(numeric.evaluate(_vectorized(d, "b"), env), G.sum(0)) < 1e-12


def test_a_wrong_gradient_is_caught_for_a_matrix_parameter(derivations):
    """The checker compares every element: a gradient off in one element only is rejected."""
    d = derivations("dense_relu_mse")
    env = sample(d, "normal", LARGER, seed=3)
    bump = ir.Symbol("bump", W.shape)
    env["bump"] = np.zeros(numeric.concrete_shape(W.shape, {ir.dim(k): v for k, v in LARGER.items()}))
    env["bump"][2, 1] = 1e-3
    gradients = {"W": _vectorized(d, "W") + bump}
    with pytest.raises(AssertionError, match=r"'W' is wrong at index \(2, 1\)"):
        check_expression_gradient(d.expression, gradients, env)


# --------------------------------------------------------------------------- per-sample form


def _is_indicator(node: ir.Node) -> bool:
    return isinstance(node, ir.Apply) and node.fn.body.has(sympy.Piecewise)


@pytest.mark.parametrize("case, name", [("dense_relu_mse", "W"), ("two_layer_relu_softmax_l2", "W1")])
def test_per_sample_form_keeps_the_indicator_inside_a_sum_of_outer_products(derivations, case, name):
    per_sample = derivations(case).gradient(name).per_sample
    sums = [node for node in ir.walk(per_sample) if isinstance(node, ir.IndexedSum)]
    assert sums, f"no Σ_i in {per_sample!r}"
    inside = {node for s in sums for node in ir.walk(s.args[0])}
    assert any(isinstance(node, ir.Outer) for node in inside), f"no outer product in {per_sample!r}"
    indicators = [node for node in ir.walk(per_sample) if _is_indicator(node)]
    assert indicators, f"no indicator in {per_sample!r}"
    assert all(node in inside for node in indicators), f"an indicator is outside the sum in {per_sample!r}"


# --------------------------------------------------------------------------- the expander itself


def _example_nodes():
    from test_rules_registry import EXAMPLES

    for op, examples in EXAMPLES.items():
        for name, node in examples.items():
            yield pytest.param(node, id=f"{op.__name__}-{name}")


@pytest.mark.parametrize("node", list(_example_nodes()))
def test_sympy_expansion_agrees_with_numpy_evaluation(node):
    """Oracle 2's expander computes what ``numeric.evaluate`` computes, for every rule's examples."""
    from test_rules_registry import DIMS, SIZES, random_values

    env = random_values(node, np.random.default_rng(7))
    expanded = expand_scalar(node, SIZES)
    exprs = list(expanded) if isinstance(expanded, sympy.MatrixBase) else [expanded]
    expected = np.ravel(numeric.evaluate(node, env, DIMS))
    assert relative_error(evaluate_sympy(exprs, env, SIZES), expected) < 1e-12

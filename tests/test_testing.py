"""The gradient checker accepts right gradients and rejects wrong ones."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv import ir
from symderiv.functions import BUILTINS
from symderiv.testing import (
    GradientMismatch,
    check_expression_gradient,
    check_gradient,
    numerical_gradient,
    random_point,
    relative_error,
    relative_errors,
    shapes_of,
)

SHAPES = {"X": (6, 3), "w": (3,), "b": (), "y": (6,)}


def sum_of_squares(p):
    return float(np.sum(p["w"] * p["w"]))


def relu_loss(p):
    z = p["X"] @ p["w"] + p["b"]
    return float(np.mean((np.maximum(0, z) - p["y"]) ** 2))


def relu_loss_grad(p):
    z = p["X"] @ p["w"] + p["b"]
    delta = 2 * (np.maximum(0, z) - p["y"]) * (z > 0) / len(z)
    return {"w": p["X"].T @ delta, "b": float(delta.sum())}


def kinks(p):
    return p["X"] @ p["w"] + p["b"]


# --------------------------------------------------------------------------- relative_error


def test_relative_error_scalars():
    assert relative_error(1.0, 1.0) == 0.0
    assert relative_error(0.0, 1e-8) == pytest.approx(1e-2)  # in units of the floor (1e-6) below it
    assert relative_error(1e-8, -1e-8) == pytest.approx(2e-2)  # a small sign flip is not hidden
    assert relative_error(0.0, 1e-8, floor=1e-9) == pytest.approx(1.0)
    assert relative_error(1000.0, 1001.0) == pytest.approx(1 / 1001)  # relative above it
    assert relative_error(-3.0, 3.0) == pytest.approx(2.0)
    assert relative_error(np.float64(2.0), 2) == 0.0


def test_relative_error_arrays_take_the_worst_element():
    a = np.array([1.0, 100.0, 0.0])
    b = np.array([1.0, 101.0, 1e-3])
    assert relative_error(a, b) == pytest.approx(1 / 101)
    # every element is measured against the array's own scale, its largest magnitude
    np.testing.assert_allclose(relative_errors(a, b), [0.0, 1 / 101, 1e-3 / 101])


def test_relative_error_is_symmetric():
    a, b = np.array([0.5, 20.0, -7.0]), np.array([0.4, 25.0, -6.0])
    assert relative_error(a, b) == relative_error(b, a)


def test_relative_error_zeros_and_empty():
    assert relative_error(np.zeros((2, 3)), np.zeros((2, 3))) == 0.0
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    assert relative_error(np.zeros(3), np.full(3, 1e-12)) == pytest.approx(1e-6)  # 1e-12 / floor


def test_relative_error_non_finite():
    assert relative_error(np.nan, 1.0) == np.inf
    assert relative_error(np.nan, np.nan) == np.inf
    assert relative_error(np.inf, 1.0) == np.inf
    assert relative_error(np.inf, np.inf) == 0.0
    assert relative_error(np.inf, -np.inf) == np.inf


def test_relative_error_shape_mismatch():
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="floor"):
        relative_error(1.0, 1.0, floor=0.0)


# --------------------------------------------------------------------------- numerical_gradient


def test_numerical_gradient_vector_and_scalar():
    params = {"w": np.array([1.0, -2.0, 0.5]), "c": 3.0}
    grad = numerical_gradient(lambda p: p["c"] ** 2 * np.sum(np.sin(p["w"])), params)
    np.testing.assert_allclose(grad["w"], 9 * np.cos(params["w"]), rtol=1e-8)
    assert isinstance(grad["c"], float)
    assert grad["c"] == pytest.approx(6 * np.sum(np.sin(params["w"])), rel=1e-8)


def test_numerical_gradient_matrix_and_wrt():
    rng = np.random.default_rng(1)
    A, x = rng.standard_normal((3, 4)), rng.standard_normal(3)
    grad = numerical_gradient(lambda p: x @ p["A"] @ p["A"].T @ x, {"A": A}, wrt=["A"])
    np.testing.assert_allclose(grad["A"], 2 * np.outer(x, x @ A), rtol=1e-7, atol=1e-9)
    assert list(numerical_gradient(sum_of_squares, {"w": A[0], "v": x}, wrt=["w"])) == ["w"]


def test_numerical_gradient_perturbs_one_element_at_a_time_on_copies():
    w = np.array([1.0, 2.0, 3.0])
    seen = []

    def f(p):
        seen.append(p["w"].copy())
        p["w"][0] = 99.0  # a careless f must not corrupt later evaluations or the caller's data
        return 0.0

    numerical_gradient(f, {"w": w}, eps=0.5)
    assert len(seen) == 6
    for moved in seen:
        assert np.count_nonzero(moved != [1.0, 2.0, 3.0]) == 1
        assert np.abs(moved - [1.0, 2.0, 3.0]).max() == 0.5
    np.testing.assert_array_equal(w, [1.0, 2.0, 3.0])


def test_numerical_gradient_of_integer_params_uses_float64():
    grad = numerical_gradient(lambda p: float(np.sum(p["w"] ** 3)), {"w": np.array([1, 2])})
    np.testing.assert_allclose(grad["w"], [3.0, 12.0], rtol=1e-8)


def test_numerical_gradient_requires_a_scalar_function():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda p: p["w"], {"w": np.ones(2)})


# --------------------------------------------------------------------------- check_gradient


def test_accepts_gradient_of_sum_of_squares():
    w = np.array([0.3, -1.2, 2.5, 0.0])
    error = check_gradient(sum_of_squares, lambda p: {"w": 2 * p["w"]}, {"w": w})
    assert 0.0 <= error < 1e-8


def test_accepts_gradient_of_relu_loss():
    params = random_point(SHAPES, np.random.default_rng(3), away_from=kinks)
    assert check_gradient(relu_loss, relu_loss_grad, params) < 1e-6


def test_rejects_gradient_off_by_one_percent():
    w = np.array([0.1, -0.2, 2.5])
    with pytest.raises(GradientMismatch, match="'w'") as info:
        check_gradient(sum_of_squares, lambda p: {"w": 2.02 * p["w"]}, {"w": w})
    assert info.value.name == "w" and info.value.index == (2,)  # the largest error against one scale
    assert info.value.analytic == pytest.approx(5.05)
    assert info.value.numerical == pytest.approx(5.0)
    assert "5.05" in str(info.value) and "(2,)" in str(info.value)


def test_rejects_a_single_wrong_element():
    params = random_point(SHAPES, np.random.default_rng(4), away_from=kinks)

    def wrong(p):
        grad = relu_loss_grad(p)
        grad["w"][1] += 1e-4
        return grad

    with pytest.raises(GradientMismatch, match=r"'w' is wrong at index \(1,\)") as info:
        check_gradient(relu_loss, wrong, params)
    scale = np.abs(relu_loss_grad(params)["w"]).max()  # the error is relative to the gradient's scale
    assert info.value.error == pytest.approx(1e-4 / scale, rel=1e-2)


def test_rejects_wrong_scalar_parameter_gradient():
    params = random_point(SHAPES, np.random.default_rng(5), away_from=kinks)

    def wrong(p):
        return {**relu_loss_grad(p), "b": relu_loss_grad(p)["b"] * 1.01 + 1e-3}

    with pytest.raises(GradientMismatch, match=r"'b' is wrong at index \(\)"):
        check_gradient(relu_loss, wrong, params)


def test_reports_the_worst_element_of_a_matrix():
    A = np.arange(6.0).reshape(2, 3)

    def grad(p):
        g = 2 * p["A"]
        g[1, 0] += 0.1
        return {"A": g}

    with pytest.raises(GradientMismatch) as info:
        check_gradient(lambda p: float(np.sum(p["A"] ** 2)), grad, {"A": A})
    assert info.value.index == (1, 0)


def test_mismatch_is_an_assertion_error():
    with pytest.raises(AssertionError):
        check_gradient(sum_of_squares, lambda p: {"w": p["w"]}, {"w": np.ones(2)})


def test_rejects_wrong_gradient_shape():
    with pytest.raises(GradientMismatch, match="shape"):
        check_gradient(sum_of_squares, lambda p: {"w": 2 * p["w"][:2]}, {"w": np.ones(3)})


def test_rtol_is_respected():
    grad = lambda p: {"w": 2 * p["w"] + 1e-5}
    with pytest.raises(GradientMismatch):
        check_gradient(sum_of_squares, grad, {"w": np.ones(3)})
    assert check_gradient(sum_of_squares, grad, {"w": np.ones(3)}, rtol=1e-4) < 1e-4


def test_unknown_or_missing_gradients():
    with pytest.raises(ValueError, match="unknown parameter"):
        check_gradient(sum_of_squares, lambda p: {"v": 0.0}, {"w": np.ones(2)})
    with pytest.raises(ValueError, match="no gradients"):
        check_gradient(sum_of_squares, lambda p: {}, {"w": np.ones(2)})


def test_only_returned_gradients_are_checked():
    params = random_point(SHAPES, np.random.default_rng(6), away_from=kinks)
    # X and y are data: no gradient given, none compared
    assert check_gradient(relu_loss, lambda p: {"b": relu_loss_grad(p)["b"]}, params) < 1e-6


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_accepts_relu_loss_gradient_at_random_points(seed):
    params = random_point(SHAPES, np.random.default_rng(seed), away_from=kinks)
    check_gradient(relu_loss, relu_loss_grad, params)


# --------------------------------------------------------------------------- random_point


def test_random_point_shapes_and_types():
    point = random_point(SHAPES, np.random.default_rng(0))
    assert set(point) == set(SHAPES)
    assert isinstance(point["b"], float)
    for name in ("X", "w", "y"):
        assert point[name].shape == SHAPES[name] and point[name].dtype == np.float64


def test_random_point_is_reproducible():
    a, b = random_point(SHAPES, 7), random_point(SHAPES, np.random.default_rng(7))
    for name in SHAPES:
        np.testing.assert_array_equal(a[name], b[name])


def test_random_point_respects_away_from():
    calls = []

    def distances(p):
        calls.append(1)
        return kinks(p)

    for seed in range(20):
        point = random_point(SHAPES, np.random.default_rng(seed), away_from=distances, margin=0.3)
        assert np.all(np.abs(kinks(point)) > 0.3)
    assert len(calls) > 20  # a margin this wide forces some resampling


def test_random_point_accepts_several_kink_arrays():
    point = random_point({"u": (5,), "v": (5,)}, 0, away_from=lambda p: [p["u"], p["u"] - p["v"]], margin=0.2)
    assert np.all(np.abs(point["u"]) > 0.2) and np.all(np.abs(point["u"] - point["v"]) > 0.2)


def test_random_point_gives_up():
    with pytest.raises(RuntimeError, match="kink"):
        random_point({"w": (2,)}, 0, away_from=lambda p: 0.0, max_tries=5)


# --------------------------------------------------------------------------- IR gradients

X = ir.Symbol("X", ("N", "n"))
w = ir.Symbol("w", ("n",))
b = ir.Symbol("b")
y = ir.Symbol("y", ("N",))
N = ir.dim("N")


def linear_regression():
    r = X @ w + b - y
    loss = ir.mean(r**2)
    grads = {"w": ir.Mul(ir.Const(2 / N), ir.Transpose(X) @ r), "b": ir.Mul(ir.Const(2 / N), ir.Sum(r))}
    return loss, grads


def relu_regression():
    relu = BUILTINS["relu"]
    z = X @ w + b
    loss = ir.mean((relu(z) - y) ** 2)
    delta = ir.Mul(ir.Const(2 / N), (relu(z) - y) * relu.derivative(0)(z))
    return loss, {"w": ir.Transpose(X) @ delta, "b": ir.Sum(delta)}


def test_shapes_of():
    loss, _ = linear_regression()
    assert shapes_of(loss, {"N": 6, "n": 3}) == SHAPES


def test_expression_gradient_accepts_linear_regression():
    loss, grads = linear_regression()
    env = random_point(shapes_of(loss, {"N": 6, "n": 3}), 0)
    assert check_expression_gradient(loss, grads, env) < 1e-6


def test_expression_gradient_accepts_relu_regression():
    loss, grads = relu_regression()
    env = random_point(shapes_of(loss, {"N": 8, "n": 4}), 1, away_from=kinks)
    assert check_expression_gradient(loss, grads, env) < 1e-6


def test_expression_gradient_rejects_a_wrong_gradient():
    loss, grads = linear_regression()
    grads["w"] = ir.Mul(ir.Const(sympy.Rational(101, 100)), grads["w"])
    env = random_point(shapes_of(loss, {"N": 6, "n": 3}), 2)
    with pytest.raises(GradientMismatch, match="'w'"):
        check_expression_gradient(loss, grads, env)


def test_expression_gradient_with_a_symbol_free_gradient():
    # d mean(w) / dw = (1/n) 1: the gradient carries no symbol, n comes from the expression
    n = ir.dim("n")
    grads = {"w": ir.Mul(ir.Const(1 / n), ir.Ones((n,)))}
    assert check_expression_gradient(ir.mean(w), grads, {"w": np.arange(4.0)}) < 1e-8


def test_expression_gradient_requires_a_scalar():
    with pytest.raises(ValueError, match="scalar"):
        check_expression_gradient(X @ w, {"w": w}, {})

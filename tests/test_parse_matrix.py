"""Tests of the parser's matrix features: axes, row-wise functions, dimensions as numbers,
row broadcasting and transposes, and an end-to-end derivation of a parsed matrix loss."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symderiv
from symderiv import ir, testing
from symderiv.errors import ParseError
from symderiv.parse import function_names, parse

n, N, h, k = ir.dim("n"), ir.dim("N"), ir.dim("h"), ir.dim("k")
X, x, y, z = ir.Symbol("X", (N, n)), ir.Symbol("x", (n,)), ir.Symbol("y", (N,)), ir.Symbol("z")
W, bh, cN = ir.Symbol("W", (n, h)), ir.Symbol("bh", (h,)), ir.Symbol("c", (N,))
LETS = {"W": (n, h), "bh": (h,), "c": (N,)}


def expr(text: str) -> ir.Node:
    return symderiv.expression(text, LETS)


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        expr(text)
    return info.value


# --------------------------------------------------------------------------- axes


@pytest.mark.parametrize(
    "text, expected, shape",
    [
        ("sum(X, axis=0)", ir.total(X, 0), (n,)),
        ("sum(X, axis = 1)", ir.total(X, 1), (N,)),
        ("mean(X, axis=0)", ir.mean(X, 0), (n,)),
        ("mean(X, axis=1)", ir.mean(X, 1), (N,)),
        ("sum(X, 1)", ir.total(X, 1), (N,)),
        ("mean(X, 0)", ir.mean(X, 0), (n,)),
        ("sum(X)", ir.total(X), ()),
        ("mean(X)", ir.mean(X), ()),
        ("sum(x, axis=0)", ir.total(x), ()),
        ("sum(2 * X, axis=1)", ir.total(ir.mul(ir.Const(sympy.Integer(2)), X), 1), (N,)),
    ],
)
def test_axis_argument(text, expected, shape):
    node = expr(text)
    assert node == expected and node.shape == shape


def test_axis_is_kept_on_the_node():
    assert expr("sum(X, axis=0)").axis == 0 and expr("mean(X, 1)").axis == 1
    assert expr("sum(X)").axis is None and expr("sum(X, axis=0)") != expr("sum(X, axis=1)")


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("sum(X, axis=2)", "sum(A, axis=2): axis must be 0 or 1", 13),
        ("mean(X, axis=-1)", "mean(A, axis=-1): axis must be 0 or 1", 14),
        ("sum(X, axis=1.0)", "sum(A, axis=1.0): axis must be 0 or 1", 13),
        ("sum(X, axis=0.5)", "sum(A, axis=0.5): axis must be 0 or 1", 13),
        ("sum(X, axis=x)", "sum(A, axis=x): axis must be 0 or 1", 13),
        ("sum(X, axis=N)", "sum(A, axis=N): axis must be 0 or 1", 13),
        ("sum(X, 2)", "sum(A, axis=2): axis must be 0 or 1", 8),
        ("sum(x, axis=1)", "sum(A, axis=1): a vector(n) has no axis 1", 13),
        ("mean(y, 1)", "mean(A, axis=1): a vector(N) has no axis 1", 9),
        ("sum(z, axis=1)", "sum(A, axis=1): a scalar has no axis 1", 13),
        ("sum(X, axs=1)", "sum() has no argument 'axs' (did you mean 'axis'?)", 8),
        ("relu(z, axis=1)", "relu() takes no keyword arguments", 9),
        ("dot(x, x, axis=0)", "dot() takes no keyword arguments", 11),
        ("sum(axis=1, X)", "positional argument after a keyword argument", 13),
        ("sum(X, axis=0, axis=1)", "sum(): axis is given twice", 16),
        ("sum(X, 0, axis=1)", "sum(): axis is given twice", 11),
        ("sum(axis=1)", "sum() takes 1 argument, got 0", 1),
        ("sum(X, x)", "sum() takes 1 argument, got 2", 1),
        ("sum(X, axis=)", "unexpected ')'", 13),
        ("z = 1", "unexpected '='", 3),
    ],
)
def test_bad_axes(text, message, column):
    err = error_of(text)
    assert err.message == message and err.column == column
    assert "\n" not in str(err)


def test_long_axis_text_is_shortened():
    err = error_of("sum(X, axis=1 + 1 + 1 + 1 + 1 + 1 + 1)")
    assert err.message == "sum(A, axis=1 + 1 + 1 + 1 + 1...): axis must be 0 or 1"


# --------------------------------------------------------------------------- row-wise functions


@pytest.mark.parametrize(
    "name, builder, matrix_shape, vector_shape",
    [
        ("softmax", ir.softmax, (N, n), (n,)),
        ("log_softmax", ir.log_softmax, (N, n), (n,)),
        ("logsumexp", ir.logsumexp, (N,), ()),
    ],
)
def test_row_wise_functions(name, builder, matrix_shape, vector_shape):
    assert name in function_names()
    of_matrix, of_vector = expr(f"{name}(X)"), expr(f"{name}(x)")
    assert of_matrix == builder(X) and of_matrix.shape == matrix_shape
    assert of_vector == builder(x) and of_vector.shape == vector_shape


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_row_wise_functions_reject_scalars(name):
    for arg in ("z", "3", "sum(x)"):
        err = error_of(f"z + {name}({arg})")
        assert err.message == f"{name}() needs a vector or a matrix, got a scalar" and err.column == 5


def test_row_wise_names_and_arity():
    assert str(error_of("sofmax(x)")) == "unknown function 'sofmax' at column 1 (did you mean 'softmax'?)"
    assert "did you mean 'logsumexp'" in str(error_of("logsumexpp(x)"))
    assert "'softmax' is a function" in str(error_of("softmax"))
    assert error_of("softmax(x, 1)").message == "softmax() takes 1 argument, got 2"
    assert error_of("logsumexp(X, axis=1)").message == "logsumexp() takes no keyword arguments"


# --------------------------------------------------------------------------- dimensions as numbers


def test_dimension_names_are_constants():
    node = parse("1/N * sum((y - X @ w)^2)")
    w = ir.Symbol("w", (n,))
    squares = ir.power(ir.sub(y, ir.matmul(X, w)), ir.Const(sympy.Integer(2)))
    assert node == ir.mul(ir.Const(1 / N), ir.total(squares))
    assert node.shape == ()
    assert parse("n") == ir.Const(n) and parse("x / n").shape == (n,)
    assert expr("h * bh") == ir.mul(ir.Const(h), ir.Symbol("bh", (h,)))


def test_dimension_of_a_declared_symbol_only():
    assert parse("h", {"W": W}) == ir.Const(h)
    err = error_of("k")
    assert err.message.startswith("unknown symbol 'k'") and err.column == 1
    with pytest.raises(ParseError, match="unknown symbol 'N'"):
        parse("N * z", {"z": z})  # no symbol of this scope has the dimension N


def test_declared_symbol_wins_over_dimension():
    node = symderiv.expression("N * x", {"N": ()})
    assert node == ir.mul(ir.Symbol("N"), x)
    vector_n = symderiv.expression("n", {"n": (N,)})
    assert vector_n == ir.Symbol("n", (N,))


def test_dimension_derives_and_evaluates():
    loss = parse("1/N * sum((y - X @ w)^2)")
    d = symderiv.derive(loss, wrt=("w",))
    env = testing.random_point(testing.shapes_of(loss, {"N": 6, "n": 3}), 1)
    grads = {"w": d.expand(d.gradient("w").vectorized)}
    assert testing.check_expression_gradient(loss, grads, env) < 1e-6


# --------------------------------------------------------------------------- broadcasting & transposes


def test_row_broadcast_of_a_bias():
    node = expr("X @ W + bh")
    assert node.shape == (N, h) and node == ir.add(ir.matmul(X, W), bh)
    assert expr("relu(X @ W + bh) - bh").shape == (N, h)


def test_column_vector_does_not_broadcast_over_rows():
    err = error_of("X @ W + c")
    assert err.message == "shape mismatch in a + b: left is matrix(N, h), right is vector(N)"
    assert err.column == 7


@pytest.mark.parametrize(
    "text, shape",
    [("W.T", (h, n)), ("W'", (h, n)), ("X.T @ X", (n, n)), ("W.T @ X.T", (h, N)), ("(X @ W).T @ c", (h,))],
)
def test_transposes_and_products(text, shape):
    assert expr(text).shape == shape


def test_transpose_round_trip():
    assert expr("W.T.T") == W and expr("(X @ W)'") == ir.transpose(ir.matmul(X, W))


def test_matmul_mismatch_names_both_shapes():
    err = error_of("W @ X")
    assert "matrix(n, h)" in err.message and "matrix(N, n)" in err.message and err.column == 3


# --------------------------------------------------------------------------- end to end


def test_softmax_cross_entropy_derives_correctly():
    lets = {"W": (n, k), "Y": (N, k)}
    loss = symderiv.expression("mean(logsumexp(X @ W) - sum(Y * (X @ W), axis=1))", lets)
    assert loss.shape == ()
    d = symderiv.derive(loss, wrt=("W",))
    grads = {"W": d.expand(d.gradient("W").vectorized)}
    for seed in range(3):
        env = testing.random_point(testing.shapes_of(loss, {"N": 5, "n": 3, "k": 4}), seed)
        assert testing.check_expression_gradient(loss, grads, env) < 1e-6


def test_parsed_loss_matches_numpy():
    lets = {"W": (n, k), "Y": (N, k)}
    right = symderiv.expression("mean(logsumexp(X @ W) - sum(Y * (X @ W), axis=1))", lets)
    other = symderiv.expression("sum(Y * (X @ W), axis=0)", lets)
    assert other.shape == (k,)
    env = testing.random_point(testing.shapes_of(right, {"N": 5, "n": 3, "k": 4}), 0)
    by_hand = np.mean(
        np.log(np.exp(env["X"] @ env["W"]).sum(axis=1)) - (env["Y"] * (env["X"] @ env["W"])).sum(axis=1)
    )
    assert symderiv.numeric.evaluate(right, env) == pytest.approx(by_hand)

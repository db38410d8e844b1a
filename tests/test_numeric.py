"""numeric.evaluate against hand-written NumPy."""

import warnings

import numpy as np
import pytest
import sympy

from symderiv import functions, ir, numeric
from symderiv.functions import BUILTINS, ScalarFunction, real

N, n, k = ir.dim("N"), ir.dim("n"), ir.dim("k")
X = ir.Symbol("X", ("N", "n"))
W = ir.Symbol("W", ("n", "k"))
w = ir.Symbol("w", ("n",))
b = ir.Symbol("b")
y = ir.Symbol("y", ("N",))
v = ir.Symbol("v", ("N",))


SIZES = {"N": 5, "n": 3, "k": 2}


@pytest.fixture
def env():
    rng = np.random.default_rng(0)
    return {
        "X": rng.standard_normal((5, 3)),
        "W": rng.standard_normal((3, 2)),
        "w": rng.standard_normal(3),
        "b": 0.3,
        "y": rng.standard_normal(5),
        "v": rng.uniform(0.5, 2.0, 5),
    }


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def relu_np(x):
    return np.maximum(0, x)


# --------------------------------------------------------------------------- whole expressions


def test_mean_squared_error_of_relu_layer(env):
    loss = ir.mean((BUILTINS["relu"](X @ w + b) - y) ** 2)
    expected = np.mean((relu_np(env["X"] @ env["w"] + env["b"]) - env["y"]) ** 2)
    result = numeric.evaluate(loss, env)
    assert isinstance(result, float)
    close(result, expected)


def test_logistic_loss_with_functions_apply(env):
    z = X @ w + b
    loss = ir.mean(functions.apply(BUILTINS["softplus"], z) - y * z)
    zn = env["X"] @ env["w"] + env["b"]
    close(numeric.evaluate(loss, env), np.mean(np.logaddexp(0, zn) - env["y"] * zn))


# --------------------------------------------------------------------------- node by node

NODE_CASES = [
    ("add", lambda: ir.Add(y, v), lambda e: e["y"] + e["v"]),
    ("add scalar", lambda: ir.Add(y, b), lambda e: e["y"] + e["b"]),
    ("sub", lambda: ir.Sub(y, v), lambda e: e["y"] - e["v"]),
    ("mul", lambda: ir.Mul(y, v), lambda e: e["y"] * e["v"]),
    ("mul scalar", lambda: ir.Mul(b, X), lambda e: e["b"] * e["X"]),
    ("div", lambda: ir.Div(y, v), lambda e: e["y"] / e["v"]),
    ("neg", lambda: ir.Neg(X), lambda e: -e["X"]),
    ("pow", lambda: ir.Pow(v, ir.Const(sympy.Rational(3, 2))), lambda e: e["v"] ** 1.5),
    ("pow symbol", lambda: ir.Pow(v, b), lambda e: e["v"] ** e["b"]),
    ("matvec", lambda: ir.MatMul(X, w), lambda e: e["X"] @ e["w"]),
    ("matmat", lambda: ir.MatMul(X, W), lambda e: e["X"] @ e["W"]),
    ("transpose", lambda: ir.Transpose(X), lambda e: e["X"].T),
    ("vecmat", lambda: w @ ir.Transpose(X) @ y, lambda e: e["w"] @ e["X"].T @ e["y"]),
    ("sum", lambda: ir.Sum(X), lambda e: e["X"].sum()),
    ("mean", lambda: ir.Mean(X), lambda e: e["X"].mean()),
    ("dot", lambda: ir.dot(y, v), lambda e: e["y"] @ e["v"]),
    ("ones", lambda: ir.Ones((N, k)), lambda e: np.ones((5, 2))),
    ("zero", lambda: ir.Zero((n,)), lambda e: np.zeros(3)),
    ("ones plus", lambda: ir.Add(ir.Ones((N,)), y), lambda e: 1 + e["y"]),
    ("zero times", lambda: ir.Mul(ir.Zero((N, n)), X), lambda e: np.zeros((5, 3))),
    ("const", lambda: ir.Const(sympy.Rational(1, 4)), lambda e: 0.25),
    ("const 1/N", lambda: ir.Const(1 / N), lambda e: 0.2),
    ("const 2/(N*n)", lambda: ir.Const(2 / (N * n)), lambda e: 2 / 15),
    ("scaled sum", lambda: ir.Mul(ir.Const(1 / N), ir.Sum(y)), lambda e: e["y"].sum() / 5),
    ("total of ones", lambda: ir.total(ir.Ones((N, n))), lambda e: 15.0),
    ("diag", lambda: ir.Diag(w), lambda e: np.diag(e["w"])),
    ("identity", lambda: ir.MatMul(ir.Identity(n), w), lambda e: e["w"]),
    ("row", lambda: ir.Row(w), lambda e: e["w"]),
    ("tanh", lambda: BUILTINS["tanh"](X), lambda e: np.tanh(e["X"])),
    ("sigmoid", lambda: BUILTINS["sigmoid"](y), lambda e: 1 / (1 + np.exp(-e["y"]))),
    ("log1p", lambda: BUILTINS["log1p"](v), lambda e: np.log1p(e["v"])),
    ("sqrt", lambda: BUILTINS["sqrt"](v), lambda e: np.sqrt(e["v"])),
    ("abs", lambda: BUILTINS["abs"](y), lambda e: np.abs(e["y"])),
    ("sign", lambda: BUILTINS["sign"](y), lambda e: np.sign(e["y"])),
    ("max of two", lambda: BUILTINS["max"](y, v), lambda e: np.maximum(e["y"], e["v"])),
    ("max scalar, vector", lambda: BUILTINS["max"](b, y), lambda e: np.maximum(e["b"], e["y"])),
    ("clip", lambda: BUILTINS["clip"](y, -0.5, 0.5), lambda e: np.clip(e["y"], -0.5, 0.5)),
    ("max with 1/N folded", lambda: BUILTINS["max"](ir.Const(1 / N), y), lambda e: np.maximum(0.2, e["y"])),
    ("fused leaky relu", lambda: BUILTINS["max"](0.1 * y, y), lambda e: np.maximum(0.1 * e["y"], e["y"])),
]


@pytest.mark.parametrize("build, expected", [c[1:] for c in NODE_CASES], ids=[c[0] for c in NODE_CASES])
def test_node(env, build, expected):
    node = build()
    result = numeric.evaluate(node, env, dims=SIZES)  # sizes for nodes without symbols
    want = expected(env)
    assert np.shape(result) == np.shape(want)
    close(result, want)


@pytest.mark.parametrize("node", [ir.Sum(y), ir.Const(3), ir.Mean(X), b])
def test_scalars_come_back_as_floats(env, node):
    assert type(numeric.evaluate(node, env)) is float


def test_arrays_come_back_as_float64(env):
    result = numeric.evaluate(ir.Add(ir.Ones((N,)), ir.Zero((N,))), {}, dims={"N": 2})
    assert isinstance(result, np.ndarray) and result.dtype == np.float64


def test_display_only_nodes_raise_type_error(env):
    for node in (ir.Elem(X, "i"), ir.IndexedSum("i", N, y), ir.Chain((ir.Diag(w), ir.Diag(w)), (n, n))):
        with pytest.raises(TypeError, match="display-only"):
            numeric.evaluate(node, env)


def test_integer_env_values_are_converted(env):
    result = numeric.evaluate(ir.Div(y, v), {**env, "y": np.arange(5), "v": np.full(5, 2)})
    close(result, np.arange(5) / 2)


# --------------------------------------------------------------------------- piecewise bodies on arrays


X0 = np.array([-2.0, -1e-9, 0.0, 1e-9, 1.5])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("relu", np.array([0, 0, 0, 1, 1.0])),
        ("abs", np.array([-1, -1, 0, 1, 1.0])),
        ("sign", np.zeros(5)),
    ],
)
def test_piecewise_derivatives_on_arrays(name, expected):
    t = ir.Symbol("t", ("N",))
    derivative = BUILTINS[name].derivative(0)
    close(numeric.evaluate(derivative(t), {"t": X0}), expected)


def test_multi_parameter_piecewise_body_on_arrays():
    p, q = real("p"), real("q")
    fn = ScalarFunction("f", (p, q), sympy.Piecewise((p * q, p > q), (q**2, sympy.Eq(p, q)), (-p, True)))
    s, t = ir.Symbol("s", ("N",)), ir.Symbol("t", ("N",))
    sv, tv = np.array([2.0, 1.0, -1.0]), np.array([1.0, 1.0, 3.0])
    close(numeric.evaluate(fn(s, t), {"s": sv, "t": tv}), np.array([2.0, 1.0, 1.0]))


def test_constant_body_is_broadcast_to_the_node_shape():
    x = real("x")
    fn = ScalarFunction("seven", (x,), sympy.Integer(7))
    t = ir.Symbol("t", ("N", "n"))
    result = numeric.evaluate(ir.Apply(fn, (t,)), {"t": np.zeros((2, 3))})
    assert result.shape == (2, 3)
    close(result, np.full((2, 3), 7.0))


def test_heaviside_body():
    x = real("x")
    fn = ScalarFunction("H", (x,), sympy.Heaviside(x))
    t = ir.Symbol("t", ("N",))
    close(numeric.evaluate(ir.Apply(fn, (t,)), {"t": np.array([-1.0, 0.0, 2.0])}), [0.0, 0.5, 1.0])


def test_sigmoid_and_softplus_are_stable_for_large_inputs():
    t = ir.Symbol("t", ("N",))
    big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = numeric.evaluate(BUILTINS["sigmoid"](t), {"t": big})
        sp = numeric.evaluate(BUILTINS["softplus"](t), {"t": big})
    close(s, [0.0, np.exp(-50) / (1 + np.exp(-50)), 0.5, 1 / (1 + np.exp(-50)), 1.0])
    close(sp, [0.0, np.log1p(np.exp(-50)), np.log(2), 50 + np.log1p(np.exp(-50)), 1000.0])


def test_invalid_values_inside_functions_give_nan_without_warnings():
    t = ir.Symbol("t", ("N",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = numeric.evaluate(BUILTINS["log"](t), {"t": np.array([-1.0, 1.0])})
    assert np.isnan(result[0]) and result[1] == 0.0


def test_each_function_is_compiled_once(env):
    fn = BUILTINS["cosh"]
    numeric.evaluate(fn(y), env)
    before = numeric.compile_function.cache_info()
    numeric.evaluate(fn(v) + fn(y), env)
    after = numeric.compile_function.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 2


# --------------------------------------------------------------------------- graph traversal


def test_shared_subexpressions_are_evaluated_once(env, monkeypatch):
    calls = []
    original = ir.Apply.evaluate
    monkeypatch.setattr(ir.Apply, "evaluate", lambda *a: calls.append(1) or original(*a))
    h = BUILTINS["tanh"](X @ w + b)
    numeric.evaluate(ir.Sum(h * h + h), env)
    assert len(calls) == 1


def test_deep_graphs_do_not_recurse():
    t = ir.Symbol("t", ("N",))
    node = t
    for _ in range(3000):
        node = ir.Add(node, ir.Const(1))
    close(numeric.evaluate(node, {"t": np.zeros(2)}), [3000.0, 3000.0])


# --------------------------------------------------------------------------- dimensions


def test_bind_dimensions(env):
    loss = ir.mean((X @ W) * ir.Ones((N, k))) + ir.Sum(y)
    assert numeric.bind_dimensions(loss, env) == {N: 5, n: 3, k: 2}


def test_fixed_integer_dimensions_are_checked():
    a = ir.Symbol("a", (3,))
    close(numeric.evaluate(ir.Sum(a), {"a": np.ones(3)}), 3.0)
    with pytest.raises(ValueError, match=r"'a' expects shape \(3,\).*shape \(4,\)"):
        numeric.evaluate(ir.Sum(a), {"a": np.ones(4)})


def test_inconsistent_dimension_names_symbol_and_shapes(env):
    with pytest.raises(ValueError, match=r"symbol 'y' expects shape \(5,\) .*got an array of shape \(4,\)"):
        numeric.evaluate(ir.Sum(X @ w - y), {**env, "y": np.zeros(4)})


def test_wrong_rank_names_symbol_and_shapes(env):
    with pytest.raises(ValueError, match=r"symbol 'w' expects shape \(3,\).*shape \(3, 1\)"):
        numeric.evaluate(ir.Sum(X @ w), {**env, "w": np.zeros((3, 1))})


def test_scalar_symbol_given_an_array(env):
    with pytest.raises(ValueError, match=r"symbol 'b' expects shape \(\).*shape \(2,\)"):
        numeric.evaluate(ir.Add(y, b), {**env, "b": np.zeros(2)})


def test_missing_symbol(env):
    del env["w"]
    with pytest.raises(ValueError, match="no value given for symbol 'w'"):
        numeric.evaluate(X @ w, env)


def test_unbound_dimension(env):
    with pytest.raises(ValueError, match="dimension m is not bound"):
        numeric.evaluate(ir.Ones((ir.dim("m"),)), env)


def test_explicit_dimensions():
    close(numeric.evaluate(ir.Identity(n), {}, dims={"n": 3}), np.eye(3))
    close(numeric.evaluate(ir.Const(1 / n), {}, dims={n: 4}), 0.25)
    with pytest.raises(ValueError, match=r"symbol 'w' expects shape \(4,\)"):
        numeric.evaluate(ir.Sum(w), {"w": np.ones(3)}, dims={"n": 4})


def test_constant_with_unbound_dimension(env):
    with pytest.raises(ValueError, match="unbound symbol"):
        numeric.evaluate(ir.Const(1 / ir.dim("m")), env)


def test_dimension_bindings_follow_the_arrays():
    expr = ir.Mul(ir.Const(1 / N), ir.Sum(y))
    for size in (1, 4, 100):
        close(numeric.evaluate(expr, {"y": np.ones(size)}), 1.0)

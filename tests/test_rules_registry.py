"""Every rule of the registry against the adjoint identity ⟨G, D(dX)⟩ = ⟨vjp(G), dX⟩ and
against central differences of the operation itself, on random inputs, for every operand.

The test iterates over ``symderiv.rules.RULES``: a rule added without an example here fails
:func:`test_every_rule_has_an_example` by name.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy

from symderiv import ir, numeric
from symderiv.functions import BUILTINS
from symderiv.rules import RULES, Context, Rule

SIZES = {"N": 3, "n": 2, "h": 4}
DIMS = {ir.dim(k): v for k, v in SIZES.items()}
N, n, h = (ir.dim(k) for k in ("N", "n", "h"))

# the operands: scalars, vectors and matrices with distinct names so no symbol is shared
s, t = ir.Symbol("s"), ir.Symbol("t")
u, v, c = ir.Symbol("u", (h,)), ir.Symbol("v", (h,)), ir.Symbol("c", (N,))
w = ir.Symbol("w", (n,))
U, V = ir.Symbol("U", (N, h)), ir.Symbol("V", (N, h))
X, W, S = ir.Symbol("X", (N, n)), ir.Symbol("W", (n, h)), ir.Symbol("Sq", (h, h))


def _elementwise(op):
    """Equal shapes, scalar expansion on either side and a vector over a matrix's rows."""
    return {
        "scalars": op(s, t),
        "vectors": op(u, v),
        "matrices": op(U, V),
        "matrix-scalar": op(U, s),
        "scalar-matrix": op(s, U),
        "vector-scalar": op(u, s),
        "matrix-row-vector": op(U, u),
        "row-vector-matrix": op(u, U),
    }


EXAMPLES = {
    ir.Add: _elementwise(ir.Add),
    ir.Sub: _elementwise(ir.Sub),
    ir.Mul: _elementwise(ir.Mul),
    ir.Div: _elementwise(ir.Div),  # denominators are made positive (see POSITIVE)
    ir.Neg: {"scalar": ir.Neg(s), "vector": ir.Neg(u), "matrix": ir.Neg(U)},
    ir.Pow: {
        "cube-matrix": ir.Pow(U, ir.Const(3)),
        "square-vector": ir.Pow(u, ir.Const(2)),
        "sqrt-matrix": ir.Pow(V, ir.Const(sympy.Rational(1, 2))),
        "scalar": ir.Pow(t, ir.Const(-2)),
    },
    ir.Apply: {
        "relu-matrix": ir.Apply(BUILTINS["relu"], (U,)),
        "tanh-vector": ir.Apply(BUILTINS["tanh"], (u,)),
        "max-matrices": ir.Apply(BUILTINS["max"], (U, V)),
        "max-matrix-row-vector": ir.Apply(BUILTINS["max"], (U, u)),
        "max-matrix-scalar": ir.Apply(BUILTINS["max"], (U, s)),
        "exp-scalar": ir.Apply(BUILTINS["exp"], (s,)),
    },
    ir.MatMul: {
        "matrix@matrix": ir.MatMul(X, W),
        "matrix@vector": ir.MatMul(X, w),
        "square@square": ir.MatMul(S, ir.Symbol("Sr", (h, h))),
    },
    ir.Outer: {"vectors": ir.Outer(c, u)},
    ir.Transpose: {"matrix": ir.Transpose(X)},
    ir.Sum: {
        "matrix": ir.Sum(U),
        "matrix-axis0": ir.Sum(U, 0),
        "matrix-axis1": ir.Sum(U, 1),
        "vector": ir.Sum(u),
        "vector-axis0": ir.Sum(u, 0),
    },
    ir.Mean: {
        "matrix": ir.Mean(U),
        "matrix-axis0": ir.Mean(U, 0),
        "matrix-axis1": ir.Mean(U, 1),
        "vector": ir.Mean(u),
        "vector-axis0": ir.Mean(u, 0),
    },
    ir.Broadcast: {"axis0": ir.Broadcast(u, 0, N), "axis1": ir.Broadcast(c, 1, h)},
    ir.Softmax: {"vector": ir.Softmax(u), "matrix": ir.Softmax(U)},
    ir.LogSoftmax: {"vector": ir.LogSoftmax(u), "matrix": ir.LogSoftmax(U)},
    ir.LogSumExp: {"vector": ir.LogSumExp(u), "matrix": ir.LogSumExp(U)},
}

POSITIVE = {"t", "v", "V"}  # denominators and the base of a square root


def _cases():
    for op in RULES:
        for name, node in EXAMPLES.get(op, {}).items():
            yield pytest.param(node, id=f"{op.__name__}-{name}")


# --------------------------------------------------------------------------- the checker


def random_values(node: ir.Node, rng) -> dict:
    """Standard-normal values for the symbols of ``node``; names in POSITIVE get values in [0.5, 2]."""
    env = {}
    for symbol in ir.symbols(node):
        shape = numeric.concrete_shape(symbol.shape, DIMS)
        value = rng.uniform(0.5, 2.0, shape) if symbol.name in POSITIVE else rng.standard_normal(shape)
        env[symbol.name] = float(value) if value.ndim == 0 else value
    return env


def _evaluate(node: ir.Node, env: dict) -> np.ndarray:
    return np.asarray(numeric.evaluate(node, env, DIMS), dtype=float)


def rule_errors(node: ir.Node, k: int, rule: Rule, seed: int = 0, eps: float = 1e-5) -> dict:
    """For operand ``k`` at a random point: the relative error of the adjoint identity and of the
    jvp against central differences of the node. Raises AssertionError on a shape mismatch."""
    rng = np.random.default_rng(seed)
    env = random_values(node, rng)
    operand, ctx = node.args[k], Context()
    d_symbol, g_symbol = ir.Symbol("dX__", operand.shape), ir.Symbol("G__", node.shape)
    differential = ir.Differential(operand)
    jvp = ir.substitute(rule.jvp(node, k, differential, ctx), {differential: d_symbol})
    vjp = rule.vjp(node, g_symbol, k, ctx)
    env["dX__"] = _random_like(operand, rng)
    env["G__"] = _random_like(node, rng)
    tangent, cotangent = _evaluate(jvp, env), _evaluate(vjp, env)
    _expect_shape("jvp", tangent, node)
    _expect_shape("vjp", cotangent, operand)
    left = float(np.sum(env["G__"] * tangent))
    right = float(np.sum(cotangent * env["dX__"]))
    return {
        "adjoint": abs(left - right) / max(1.0, abs(left), abs(right)),
        "jvp": _worst(tangent, _central_difference(node, operand, env, eps)),
    }


def _random_like(node: ir.Node, rng):
    value = rng.standard_normal(numeric.concrete_shape(node.shape, DIMS))
    return float(value) if value.ndim == 0 else value


def _expect_shape(what: str, value: np.ndarray, like: ir.Node) -> None:
    expected = numeric.concrete_shape(like.shape, DIMS)
    if value.shape != expected:
        raise AssertionError(f"{what} has shape {value.shape}, expected {expected} like {like!r}")


def _central_difference(node: ir.Node, operand: ir.Symbol, env: dict, eps: float) -> np.ndarray:
    def at(step):
        moved = dict(env)
        moved[operand.name] = env[operand.name] + step * env["dX__"]
        return _evaluate(node, moved)

    return (at(eps) - at(-eps)) / (2 * eps)


def _worst(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.maximum(np.abs(a), np.abs(b))), initial=0.0))


def _operands(node: ir.Node) -> list[int]:
    """The operands a rule is checked for: symbols (constants such as exponents do not vary)."""
    return [k for k, a in enumerate(node.args) if isinstance(a, ir.Symbol)]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("op", list(RULES), ids=lambda op: op.__name__)
def test_every_rule_has_an_example(op):
    assert EXAMPLES.get(op), f"no example for the rule of {op.__name__}: add one to EXAMPLES in {__name__}"


@pytest.mark.parametrize("node", list(_cases()))
def test_rule_satisfies_adjoint_identity_and_central_differences(node):
    rule = RULES[type(node)]
    assert _operands(node), f"example {node!r} has no symbol operand"
    for k in _operands(node):
        errors = rule_errors(node, k, rule, seed=k)
        where = f"operand {k} of {node!r}: {errors}"
        assert errors["adjoint"] < 1e-10, f"⟨G, jvp⟩ ≠ ⟨vjp(G), dX⟩ for {where}"
        assert errors["jvp"] < 1e-6, f"jvp differs from central differences for {where}"


def test_examples_cover_broadcasting_and_every_axis():
    """The variants the matrix rules distinguish are all present."""
    sums = {(e.axis, len(e.args[0].shape)) for e in EXAMPLES[ir.Sum].values()}
    assert {(None, 2), (0, 2), (1, 2), (None, 1)} <= sums
    assert {b.axis for b in EXAMPLES[ir.Broadcast].values()} == {0, 1}
    for op in (ir.Add, ir.Sub, ir.Mul, ir.Div):
        shapes = {tuple(len(a.shape) for a in e.args) for e in EXAMPLES[op].values()}
        assert {(2, 1), (1, 2), (2, 0), (0, 2)} <= shapes, op.__name__


# --------------------------------------------------------------------------- the checker rejects wrong rules


def _with(op, **changes) -> Rule:
    return dataclasses.replace(RULES[op], **changes)


def test_checker_rejects_a_transposed_vjp():
    node = EXAMPLES[ir.MatMul]["square@square"]  # G B instead of G Bᵀ: same shape, wrong values
    right = RULES[ir.MatMul]
    wrong = _with(
        ir.MatMul, vjp=lambda n, g, k, c: ir.matmul(g, n.args[1]) if k == 0 else right.vjp(n, g, k, c)
    )
    assert rule_errors(node, 0, wrong)["adjoint"] > 1e-3
    assert rule_errors(node, 1, wrong)["adjoint"] < 1e-10


def test_checker_rejects_a_vjp_missing_its_unbroadcast():
    node = EXAMPLES[ir.Add]["matrix-row-vector"]
    wrong = _with(ir.Add, vjp=lambda n, g, k, c: g)
    with pytest.raises(AssertionError, match="vjp has shape"):
        rule_errors(node, 1, wrong)


def test_checker_rejects_a_wrong_jvp_paired_with_a_matching_wrong_vjp():
    """Doubling both keeps the adjoint identity; only central differences catch it."""
    node = EXAMPLES[ir.Softmax]["matrix"]
    right = RULES[ir.Softmax]
    wrong = _with(
        ir.Softmax,
        jvp=lambda n, k, d, c: ir.mul(ir.Const(2), right.jvp(n, k, d, c)),
        vjp=lambda n, g, k, c: ir.mul(ir.Const(2), right.vjp(n, g, k, c)),
    )
    errors = rule_errors(node, 0, wrong)
    assert errors["adjoint"] < 1e-10 and errors["jvp"] > 1e-3

"""The simplifier: every rewrite checked numerically against the unsimplified gradient, and the
simplified results asserted structurally (collected terms, closed forms, one local derivative)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy

import symderiv
from symderiv import catalog, ir, numeric
from symderiv.derive import _accumulate
from symderiv.functions import BUILTINS, real
from symderiv.parse import parse
from symderiv.rules import Context
from symderiv.simplify import RULES, closed_form, rule_names, simplify

n, N, h, k = ir.dim("n"), ir.dim("N"), ir.dim("h"), ir.dim("k")
w, x = ir.Symbol("w", (n,)), ir.Symbol("x", (n,))
SIZES = {n: 3, N: 5, h: 4, k: 3}


def expr(text: str, **shapes):
    scope = {name: ir.Symbol(name, shape) for name, shape in shapes.items()}
    return parse(text, scope)


CORPUS = {
    "sum(w + w)": (expr("sum(w + w)", w=(n,)), "w"),
    "sum(w * w)": (expr("sum(w * w)", w=(n,)), "w"),
    "sum(sqrt(x^2 + 1))": (expr("sum(sqrt(x^2 + 1))", x=(n,)), "x"),
    "x . x / (w . w)": (expr("x . x / (w . w)", x=(n,), w=(n,)), "x,w"),
    "sum(x)^2": (expr("sum(x)^2", x=(n,)), "x"),
    "sum(log(cosh(x)))": (expr("sum(log(cosh(x)))", x=(n,)), "x"),
    "sum(sigmoid(x))": (expr("sum(sigmoid(x))", x=(n,)), "x"),
    "l2": (expr("mean((y - X @ w)^2) + 0.005*sum(w*w)", y=(N,), X=(N, n), w=(n,)), "w"),
    "w - w": (expr("sum(w * x - w * x + w)", w=(n,), x=(n,)), "w"),
}


def _catalog_pairs():
    for act in catalog.ACTIVATIONS:
        for loss in catalog.LOSSES:
            yield act, loss


NETWORKS = {
    "relu-mse": lambda: symderiv.network([symderiv.dense("h", "relu")], loss="mse"),
    "two-layer-softmax-l2": lambda: symderiv.network(
        [symderiv.dense("h", "relu"), symderiv.dense("k")], "softmax_cross_entropy", [symderiv.l2(0.01)]
    ),
    "two-layer-huber": lambda: symderiv.network(
        [symderiv.dense("h", "tanh"), symderiv.dense("k")], "huber", delta=0.5
    ),
}


# --------------------------------------------------------------------------- numeric checks


def _env(derivation, seed: int = 0, unit: bool = False) -> dict:
    """Random inputs; ``unit``: positive and small, so that a neuron's output lies in (0, 1)."""
    rng = np.random.default_rng(seed)
    env = {}
    for symbol in ir.symbols(derivation.expression):
        shape = tuple(int(sympy.sympify(d).subs(SIZES)) for d in symbol.shape)
        value = rng.uniform(0.05, 0.3, size=shape) if unit else rng.normal(scale=1.5, size=shape)
        env[symbol.name] = value if shape else float(value)
    if unit:
        env["y"] = (rng.random(np.shape(env["y"])) > 0.5).astype(float)
    return env


def _value(derivation, node, env):
    return np.asarray(numeric.evaluate(derivation.expand(node), env, SIZES), dtype=float)


def _check_gradients(derivation, seed: int = 0, unit: bool = False):
    """Simplified gradients and adjoints against the raw reverse accumulation, at a random point."""
    raw = _accumulate(derivation.steps, derivation.output, Context(derivation.convention))
    env = _env(derivation, seed, unit)
    compared = 0
    for name, gradient in derivation.gradients.items():
        expected = _value(derivation, raw[name], env)
        actual = _value(derivation, gradient.vectorized, env)
        finite = np.isfinite(expected)
        assert actual.shape == expected.shape, name
        np.testing.assert_allclose(actual[finite], expected[finite], rtol=1e-9, atol=1e-12, err_msg=name)
        compared += int(finite.sum())
    adjoints = {
        ir.Adjoint(s.variable, derivation.output.name): raw[s.variable.name]
        for s in derivation.steps
        if s.variable.name != derivation.output.name
    }
    for step in derivation.backward:
        local = ir.substitute(step.adjoint, adjoints)
        expected = _value(derivation, raw[step.variable.name], env)
        finite = np.isfinite(expected)
        np.testing.assert_allclose(
            _value(derivation, local, env)[finite],
            expected[finite],
            rtol=1e-9,
            atol=1e-12,
            err_msg=step.variable.name,
        )
    assert compared > 0


@pytest.mark.parametrize("name", list(CORPUS))
def test_corpus_matches_the_unsimplified_gradients(name):
    expression, wrt = CORPUS[name]
    _check_gradients(symderiv.derive(expression, wrt=wrt))


@pytest.mark.parametrize("act,loss", list(_catalog_pairs()))
def test_catalog_pairs_match_the_unsimplified_gradients(act, loss):
    derivation = symderiv.derive(symderiv.loss(loss, symderiv.neuron(act)))
    for seed in (0, 1):
        _check_gradients(derivation, seed, unit=loss == "logistic")


@pytest.mark.parametrize("name", list(NETWORKS))
def test_networks_match_the_unsimplified_gradients(name):
    _check_gradients(symderiv.derive(NETWORKS[name]()))


def test_huber_with_another_delta_matches():
    derivation = symderiv.derive(symderiv.loss("huber", symderiv.neuron("identity"), delta=0.25))
    _check_gradients(derivation, 3)
    assert "0.25" in str(derivation.gradients["w"].vectorized) or "1/4" in str(
        derivation.gradients["w"].vectorized
    )


def test_the_checker_rejects_a_wrong_simplification():
    derivation = symderiv.derive(*CORPUS["sum(w * w)"])
    gradient = derivation.gradients["w"]
    wrong = {"w": gradient.__class__(**{**gradient.__dict__, "vectorized": ir.mul(ir.Const(3), w)})}
    with pytest.raises(AssertionError):
        _check_gradients(type(derivation)(**{**derivation.__dict__, "gradients": wrong}))


# --------------------------------------------------------------------------- structure


def _gradient(name: str, param: str):
    expression, wrt = CORPUS[name]
    return symderiv.derive(expression, wrt=wrt).gradients[param].vectorized


def _nodes(node):
    return list(ir.walk(node))


def test_like_terms_collected():
    assert _gradient("sum(w + w)", "w") == ir.Mul(ir.Const(2), ir.Ones((n,)))
    assert _gradient("sum(w * w)", "w") == ir.Mul(ir.Const(2), w)
    assert _gradient("w - w", "w") == ir.Ones((n,))


def test_operand_used_twice_gets_one_local_derivative():
    derivation = symderiv.derive(*CORPUS["sum(w * w)"])
    step = derivation.steps[0]
    assert [p.operand.name for p in step.partials] == ["w"]
    assert step.partials[0].jacobian == ir.Diag(ir.Mul(ir.Const(2), w))
    assert step.differential == ir.Mul(ir.Const(2), ir.Mul(w, ir.Differential(w)))
    (adjoint_w,) = [a for a in derivation.backward if a.variable.name == "w"]
    assert len(adjoint_w.terms) == 1
    assert adjoint_w.adjoint == ir.Mul(ir.Const(2), ir.Mul(w, ir.Adjoint(step.variable, "C")))
    sum_step = symderiv.derive(*CORPUS["sum(w + w)"]).steps[0]
    assert sum_step.partials[0].jacobian == ir.Mul(ir.Const(2), ir.Identity(n))


def test_constants_cancelled_and_intermediates_expanded():
    gradient = _gradient("sum(sqrt(x^2 + 1))", "x")
    assert gradient == ir.div(x, BUILTINS["sqrt"](ir.add(ir.power(x, ir.Const(2)), ir.Const(1))))


def test_one_fraction_and_sign_out_of_the_product():
    gx, gw = _gradient("x . x / (w . w)", "x"), _gradient("x . x / (w . w)", "w")
    assert not any(isinstance(node, ir.Add) for node in _nodes(gx))
    assert isinstance(gx, ir.Div) and gx.args[0] == ir.Mul(ir.Const(2), x)
    assert isinstance(gw, ir.Neg) and isinstance(gw.args[0], ir.Div)
    assert not any(isinstance(node, ir.Const) and node.value < 0 for node in _nodes(gw))


def test_constant_joins_the_scalar_factors():
    gradient = _gradient("sum(x)^2", "x")
    assert isinstance(gradient, ir.Mul) and gradient.args[1] == ir.Ones((n,))
    assert gradient.args[0].args[0] == ir.Const(2)


def test_l2_regulariser_collected():
    gradient = _gradient("l2", "w")
    assert ir.Mul(ir.Const(sympy.Float("0.01")), w) in _nodes(gradient) or any(
        isinstance(node, ir.Const) and node.value == sympy.Rational(1, 100) for node in _nodes(gradient)
    )
    terms = [node for node in _nodes(gradient) if isinstance(node, ir.Mul) and w in node.args]
    assert len(terms) == 1


def _loss_gradient(act: str, loss: str, **params):
    return symderiv.derive(symderiv.loss(loss, symderiv.neuron(act), **params)).gradients["w"].vectorized


def test_log_cosh_gradient_is_tanh():
    gradient = _loss_gradient("identity", "log_cosh")
    names = [node.fn.name for node in _nodes(gradient) if isinstance(node, ir.Apply)]
    assert names == ["tanh"]
    assert "cosh" not in str(gradient)


def test_sinh_over_cosh_of_an_input_is_tanh():
    assert _gradient("sum(log(cosh(x)))", "x") == BUILTINS["tanh"](x)


def test_logistic_on_sigmoid_reads_s_minus_y():
    X, y, z = ir.Symbol("X", (N, n)), ir.Symbol("y", (N,)), ir.Symbol("z", (N,))
    expected = ir.mul(ir.Const(1 / N), ir.matmul(ir.transpose(X), ir.sub(BUILTINS["sigmoid"](z), y)))
    assert _loss_gradient("sigmoid", "logistic") == expected


@pytest.mark.parametrize("act", ["identity", "relu", "hard_tanh"])
@pytest.mark.parametrize("delta", [1, 0.5])
def test_huber_gradient_is_a_clip(act, delta):
    gradient = _loss_gradient(act, "huber", delta=delta)
    e = real("x")
    clips = [node for node in _nodes(gradient) if isinstance(node, ir.Apply) and node.fn.name == "clip"]
    assert len(clips) == 1 and clips[0].args == (ir.Symbol("e", (N,)),)
    d = sympy.Float(delta) if isinstance(delta, float) else sympy.Integer(delta)  # as written: 0.5
    assert clips[0].fn.evaluate_at(e) == sympy.Min(sympy.Max(e, -d), d)
    assert "sign" not in str(gradient)


def test_sigmoid_derivative_kept_as_is():
    z = real("z")
    s = BUILTINS["sigmoid"].body.func(z)
    assert closed_form(s * (1 - s), (z,)) in (None, s * (1 - s))


def test_saturation_needs_an_exact_match():
    z = real("z")
    almost = sympy.Piecewise((z, sympy.Abs(z) < 1), (sympy.sign(z) * 2, True))  # jumps at ±1: no clip
    form = closed_form(almost, (z,))
    assert form is None or not form.has(sympy.Min)


def test_simplify_is_idempotent_and_deterministic():
    gradient = _loss_gradient("relu", "huber")
    assert simplify(gradient) == gradient
    assert str(_loss_gradient("relu", "huber")) == str(gradient)


def test_worked_example_unchanged():
    derivation = symderiv.derive(symderiv.loss("mse", symderiv.neuron("relu")))
    assert str(derivation.gradients["w"].vectorized) == "2/N * (X.T @ (1[z > 0] * e))"
    assert str(derivation.gradients["b"].vectorized) == "2/N * sum(1[z > 0] * e)"


def test_rules_are_a_named_table():
    assert rule_names() == [rule.name for rule in RULES]
    assert {"like terms", "closed form", "one fraction"} <= set(rule_names())


def test_three_layer_network_stays_fast():
    spec = symderiv.network(
        [symderiv.dense("h", "relu"), symderiv.dense("m", "relu"), symderiv.dense("k")],
        "softmax_cross_entropy",
        [symderiv.l2(0.01)],
    )
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        symderiv.derive(spec)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.1


def test_sum_of_scaled_ones_folded():
    u = ir.Symbol("u")
    assert ir.total(ir.mul(u, ir.Ones((n,)))) == ir.Mul(ir.Const(n), u)
    assert ir.mean(ir.mul(ir.mul(ir.Const(3), u), ir.Ones((n,)))) == ir.Mul(ir.Const(3), u)

"""The engine against its three oracles, over every activation x loss of the catalog."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy

import symderiv
from oracles import SIZES, evaluate_sympy, sample_point, sympy_gradient
from symderiv import catalog, numeric
from symderiv.testing import check_expression_gradient, relative_error

PAIRS = list(itertools.product(catalog.ACTIVATIONS, catalog.LOSSES))


@pytest.fixture(scope="module")
def derivations():
    cache = {}

    def get(activation, loss):
        if (activation, loss) not in cache:
            model = symderiv.loss(loss, symderiv.neuron(activation))
            cache[activation, loss] = symderiv.derive(model, wrt=("w", "b"))
        return cache[activation, loss]

    return get


@pytest.mark.parametrize("activation,loss", PAIRS)
def test_gradient_matches_central_differences(derivations, activation, loss):
    d = derivations(activation, loss)
    env = sample_point(d, catalog.loss(loss), N=7, n=5, seed=1)
    gradients = {name: d.expand(g.vectorized) for name, g in d.gradients.items()}
    error = check_expression_gradient(d.expression, gradients, env, rtol=1e-6)
    assert error < 1e-6


@pytest.mark.parametrize("activation,loss", PAIRS)
def test_gradient_matches_sympy_diff_of_expanded_expression(derivations, activation, loss):
    d = derivations(activation, loss)
    env = sample_point(d, catalog.loss(loss), N=SIZES["N"], n=SIZES["n"], seed=2)
    for name, gradient in d.gradients.items():
        exprs, _ = sympy_gradient(d.expression, gradient.parameter, SIZES)
        expected = evaluate_sympy(exprs, env, SIZES)
        ours = np.atleast_1d(numeric.evaluate(d.expand(gradient.vectorized), env))
        assert relative_error(ours, expected) < 1e-9, name


@pytest.mark.parametrize("activation", list(catalog.ACTIVATIONS))
def test_activation_gradient_matches_central_differences(activation):
    d = symderiv.neuron(activation).derive()
    rng = np.random.default_rng(3)
    for _ in range(20):
        env = {"w": rng.normal(size=5), "x": rng.normal(size=5), "b": np.float64(rng.normal())}
        z = env["w"] @ env["x"] + env["b"]
        if min(abs(z), abs(abs(z) - 1)) > 1e-3:
            break
    gradients = {name: d.expand(g.vectorized) for name, g in d.gradients.items()}
    assert check_expression_gradient(d.expression, gradients, env, rtol=1e-6) < 1e-6


def test_derivation_steps_record_rule_shape_and_explanation(derivations):
    d = derivations("relu", "mse")
    assert [s.variable.name for s in d.steps] == ["u", "z", "a", "e", "v", "C"]
    for step in d.steps:
        assert step.rule and step.explanation and step.partials
        for partial in step.partials:
            assert len(partial.shape) == 2
    relu_step = d.step("a")
    assert "when z ≤ 0 the max clips to the constant 0, so its derivative is 0" in relu_step.explanation


def test_user_sympy_activation_and_loss():
    z, a, y = sympy.symbols("z a y")
    model = symderiv.neuron(sympy.Max(0, z) ** 2)
    d = symderiv.derive(symderiv.loss(sympy.log(sympy.cosh(a - y)), model))
    env = {"X": np.eye(3)[:, :2] + 0.3, "w": np.array([0.4, -0.2]), "b": np.float64(0.1), "y": np.array([0.1, 0.5, -1.0])}
    gradients = {name: d.expand(g.vectorized) for name, g in d.gradients.items()}
    assert check_expression_gradient(d.expression, gradients, env) < 1e-6


def test_catalog_parameters_can_be_set():
    d = symderiv.neuron("leaky_relu(alpha=0.2)").derive()
    body = d.step("a").definition.fn.derivative(0).body
    assert body.subs(sympy.Symbol("z", real=True), -1) == sympy.Float(0.2)
    d = symderiv.derive(symderiv.loss("huber", symderiv.neuron("identity"), delta=0.5))
    assert "0.5" in repr(d.expression)

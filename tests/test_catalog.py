"""Every catalog formula, parsed, equals its textbook definition written independently here."""

from __future__ import annotations

import pytest
import sympy

import symderiv
from symderiv import catalog
from symderiv.functions import real, to_sympy
from symderiv.model import y as Y

z, a, t = real("z"), real("a"), real("y")
sigma = 1 / (1 + sympy.exp(-z))

ACTIVATIONS = {
    "identity": z,
    "relu": sympy.Piecewise((0, z <= 0), (z, True)),
    "leaky_relu": sympy.Piecewise((0.01 * z, z <= 0), (z, True)),
    "elu": sympy.Piecewise((sympy.exp(z) - 1, z <= 0), (z, True)),
    "sigmoid": sigma,
    "tanh": sympy.tanh(z),
    "softplus": sympy.log(1 + sympy.exp(z)),
    "silu": z * sigma,
    "hard_tanh": sympy.Piecewise((-1, z < -1), (1, z > 1), (z, True)),
}
r = a - t
LOSSES = {
    "mse": r**2,
    "mae": sympy.Abs(r),
    "huber": sympy.Piecewise((r**2 / 2, sympy.Abs(r) <= 1), (sympy.Abs(r) - sympy.S.Half, True)),
    "hinge": sympy.Piecewise((1 - t * a, t * a < 1), (0, True)),
    "squared_hinge": sympy.Piecewise(((1 - t * a) ** 2, t * a < 1), (0, True)),
    "logistic": -(t * sympy.log(a) + (1 - t) * sympy.log(1 - a)),
    "log_cosh": sympy.log(sympy.cosh(r)),
}
POINTS = [-3.5, -1.0, -0.3, 0.0, 0.2, 1.0, 2.7]


def test_every_entry_has_a_reference():
    assert set(ACTIVATIONS) == set(catalog.ACTIVATIONS)
    assert set(LOSSES) == set(catalog.LOSSES)


def _close(p, q) -> bool:
    return abs(complex(sympy.N(p)) - complex(sympy.N(q))) < 1e-12


@pytest.mark.parametrize("name", list(catalog.ACTIVATIONS))
def test_activation_formula(name):
    fn = symderiv.neuron(name).activation
    for value in POINTS:
        assert _close(fn.evaluate_at(sympy.Float(value)), ACTIVATIONS[name].subs(z, value)), value


@pytest.mark.parametrize("name", list(catalog.LOSSES))
def test_loss_formula(name):
    model = symderiv.neuron("identity")
    per_sample = symderiv.loss(name, model).per_sample
    body = to_sympy(per_sample, {model.prediction.key: a, Y.key: t})
    targets = {"{-1, 1}": [-1, 1], "{0, 1}": [0, 1]}.get(catalog.loss(name).targets, [-0.7, 0.4, 1.9])
    predictions = [0.05, 0.3, 0.9] if name == "logistic" else POINTS
    for target in targets:
        for value in predictions:
            point = {a: value, t: target}
            assert _close(body.subs(point), LOSSES[name].subs(point)), point


def test_sigmoid_with_logistic_uses_the_stable_logit_form():
    model = symderiv.neuron("sigmoid")
    per_sample = symderiv.loss("logistic", model).per_sample
    body = to_sympy(per_sample, {model.pre_activation.key: z, Y.key: t})
    for target in (0, 1):
        for value in (-4.0, 0.5, 3.0):
            reference = LOSSES["logistic"].subs({a: sigma.subs(z, value), t: target})
            assert _close(body.subs({z: value, t: target}), reference)

"""Kinks: each convention's documented value at exactly the kink."""

from __future__ import annotations

import pytest
import sympy

import symderiv
from symderiv import kinks
from symderiv.errors import ConventionError
from symderiv.functions import real

z = real("z")

# (function, kink point, {convention: derivative at the kink})
CASES = {
    "relu": (sympy.Max(0, z), 0, {"min-norm": 0, "mean": sympy.S.Half, "left": 0, "right": 1}),
    "leaky_relu": (sympy.Max(sympy.Float(0.01) * z, z), 0,
                   {"min-norm": 0.01, "mean": 0.505, "left": 0.01, "right": 1}),
    "abs": (sympy.Abs(z), 0, {"min-norm": 0, "mean": 0, "left": -1, "right": 1}),
    "hard_tanh_low": (sympy.Min(sympy.Max(z, -1), 1), -1, {"min-norm": 0, "mean": sympy.S.Half, "left": 0, "right": 1}),
    "hard_tanh_high": (sympy.Min(sympy.Max(z, -1), 1), 1, {"min-norm": 0, "mean": sympy.S.Half, "left": 1, "right": 0}),
    "hinge_margin": (sympy.Max(0, 1 - z), 1, {"min-norm": 0, "mean": -sympy.S.Half, "left": -1, "right": 0}),
    "min_norm_takes_the_smaller_slope": (sympy.Max(2 * z, 3 * z) + z, 0,
                                          {"min-norm": 3, "mean": sympy.Rational(7, 2), "left": 3, "right": 4}),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("convention", kinks.CONVENTIONS)
def test_value_at_the_kink(name, convention):
    body, point, expected = CASES[name]
    value = kinks.derivative(body, z, convention).subs(z, point)
    assert abs(float(value) - float(expected[convention])) < 1e-12


@pytest.mark.parametrize("convention", kinks.CONVENTIONS)
def test_no_heaviside_leaks(convention):
    for body, _, _ in CASES.values():
        assert not kinks.derivative(body, z, convention).has(sympy.Heaviside, sympy.DiracDelta)


def test_smooth_junctions_are_not_kinks():
    huber = sympy.Min(sympy.Abs(z), 1) ** 2 / 2 + (sympy.Abs(z) - sympy.Min(sympy.Abs(z), 1))
    elu = sympy.Max(z, 0) + (sympy.exp(sympy.Min(z, 0)) - 1)
    for convention in kinks.CONVENTIONS:
        assert kinks.derivative(huber, z, convention).subs(z, 1) == 1
        assert kinks.derivative(huber, z, convention).subs(z, 0) == 0
        assert kinks.derivative(elu, z, convention).subs(z, 0) == 1


def test_catalog_hinge_in_a_derivation_uses_the_convention():
    d = symderiv.loss("hinge", symderiv.neuron("identity")).derive(convention="right")
    step = next(s for s in d.steps if s.definition.__class__.__name__ == "Apply")
    assert "right derivative" in step.explanation


def test_unknown_convention_is_named():
    with pytest.raises(ConventionError, match="unknown kink convention 'min_norm'.*did you mean 'min-norm'"):
        kinks.derivative(z, z, "min_norm")

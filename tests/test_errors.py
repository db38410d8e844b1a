"""Errors: the documented exception types with messages naming what was wrong."""

from __future__ import annotations

import pytest

import symderiv
from symderiv import ir
from symderiv.errors import MissingRuleError, ShapeError, SymderivError, UnknownNameError

w = ir.Symbol("w", ("n",))
X = ir.Symbol("X", ("N", "n"))
y = ir.Symbol("y", ("N",))


def test_shape_error_shows_both_shapes():
    with pytest.raises(ShapeError, match=r"a \+ b: left is vector\(n\), right is vector\(N\)"):
        w + y
    with pytest.raises(ShapeError, match=r"A @ B: left is matrix\(N, n\), right is vector\(N\)"):
        X @ y


def test_unknown_catalog_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="unknown activation 'rleu' \\(did you mean 'relu'\\?\\)"):
        symderiv.neuron("rleu")
    with pytest.raises(UnknownNameError, match="unknown loss 'mes' \\(did you mean 'mse'\\?\\)"):
        symderiv.loss("mes", symderiv.neuron("relu"))
    with pytest.raises(SymderivError, match="leaky_relu has no parameter 'beta'"):
        symderiv.neuron("leaky_relu(beta=2)")


def test_unknown_parameter_is_named():
    with pytest.raises(UnknownNameError, match="unknown parameter 'q'"):
        symderiv.derive(symderiv.loss("mse", symderiv.neuron("relu")), wrt=("q",))


def test_missing_rule_is_a_named_error(monkeypatch):
    from symderiv import rules

    A = ir.Symbol("A", ("N", "n"))
    x = ir.Symbol("x", ("n",))
    monkeypatch.delitem(rules.RULES, ir.MatMul)
    with pytest.raises(MissingRuleError, match="no derivative rule for the operation MatMul"):
        symderiv.derive(ir.Sum(ir.MatMul(A, x)), wrt=("A",))


def test_an_operation_without_a_rule_is_never_a_silent_zero():
    class Opaque(ir.Node):
        def __init__(self, a):
            super().__init__((a,), a.shape)

    w = ir.Symbol("w", ("n",))
    with pytest.raises(MissingRuleError, match="Opaque"):
        symderiv.derive(ir.Sum(Opaque(w)), wrt=("w",))


def test_vector_expression_needs_a_reduction():
    with pytest.raises(ShapeError, match="reduce it with sum\\(\\) or mean\\(\\)"):
        symderiv.derive(symderiv.neuron("relu").prediction)


def test_catalog_parameters_must_be_numbers_never_text():
    for bad in ("__import__('os').system('true')", "0.1", None, True, float("nan")):
        with pytest.raises(SymderivError, match="parameter 'alpha' must be a finite number"):
            symderiv.neuron("leaky_relu", alpha=bad)


def test_too_deep_an_expression_is_a_named_error_not_a_crash():
    deep = symderiv.expression("mean(X @ w)" + " + b" * 300)
    with pytest.raises(SymderivError, match="302 operations deep; symderiv derives expressions up to 150"):
        symderiv.derive(deep)
    symderiv.derive(symderiv.expression("mean(X @ w)" + " + b" * 145)).latex()

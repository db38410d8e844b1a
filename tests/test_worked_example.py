"""Oracle 3: the worked example of DESIGN.md, in closed form."""

from __future__ import annotations

import subprocess
import sys

import sympy

import symderiv
from symderiv import ir
from symderiv.functions import real
from symderiv.model import X, w, x

Z = real("z")


def relu_prime(node):
    return symderiv.neuron("relu").activation.derivative(0)(node)


def test_relu_derivative_is_zero_up_to_the_kink_and_one_after():
    d = symderiv.neuron("relu").activation.derivative(0).body
    assert d == sympy.Piecewise((0, Z <= 0), (1, True))
    assert not d.has(sympy.Heaviside)


def test_activation_gradients_in_closed_form():
    d = symderiv.neuron("relu").derive()
    assert [s.variable.name for s in d.steps] == ["u", "v", "z", "a"]
    assert d.step("u").definition == ir.Mul(w, x)
    assert d.step("u").partials[0].jacobian == ir.Diag(x)
    assert d.step("v").partials[0].jacobian == ir.Row(ir.Ones(w.shape))
    z = ir.Symbol("z")
    # ∂a/∂w = 0ᵀ if z ≤ 0, xᵀ if z > 0; ∂a/∂b = 0 if z ≤ 0, 1 if z > 0
    assert d.gradient("w").vectorized == ir.Mul(relu_prime(z), x)
    assert d.gradient("b").vectorized == relu_prime(z)
    latex = d.latex()
    assert r"\mathbf{0}^{\top} & \text{if } z \leq 0" in latex
    assert r"\mathbf{x}^{\top} & \text{if } z > 0" in latex


def test_loss_gradients_in_closed_form_with_the_indicator_inside_the_sum():
    d = symderiv.loss("mse", symderiv.neuron("relu")).derive()
    N = ir.dim("N")
    z, e = ir.Symbol("z", (N,)), ir.Symbol("e", (N,))
    assert d.step("e").definition == ir.Sub(ir.Symbol("a", (N,)), ir.Symbol("y", (N,)))
    per_sample_factor = ir.Mul(relu_prime(z), e)
    two_over_n = ir.Const(2 / N)
    # ∇_w C = (2/N) Xᵀ (1[z > 0] ⊙ e),  ∂C/∂b = (2/N) Σ_i 1[z_i > 0] e_i
    assert d.gradient("w").vectorized == ir.Mul(two_over_n, ir.MatMul(ir.Transpose(X), per_sample_factor))
    assert d.gradient("b").vectorized == ir.Mul(two_over_n, ir.Sum(per_sample_factor))
    per_sample = d.gradient("w").per_sample
    assert isinstance(per_sample, ir.Mul) and isinstance(per_sample.args[1], ir.IndexedSum)
    body = per_sample.args[1].args[0]
    assert any(isinstance(n, ir.Apply) and n.fn.name == "relu'" for n in ir.walk(body))
    text = d.text()
    assert "2/N * sum_{i=1..N} (1[z_i > 0] * e_i * x_i^T)" in text
    assert "grad_w C = 2/N * (X.T @ (1[z > 0] * e))" in text
    assert "w <- w - eta * grad_w C" in text


def test_parsed_expression_gives_the_same_derivation():
    typed = symderiv.derive(symderiv.expression("mean((relu(X @ w + b) - y)^2)"))
    built = symderiv.loss("mse", symderiv.neuron("relu")).derive()
    assert typed.gradient("w").vectorized == built.gradient("w").vectorized
    assert symderiv.expression("max(0, w . x + b)") == symderiv.neuron("relu").expression


def test_latex_is_identical_under_different_hash_seeds():
    script = (
        "import symderiv; "
        "print(symderiv.loss('mse', symderiv.neuron('relu')).derive().latex()); "
        "print(symderiv.loss('huber', symderiv.neuron('hard_tanh')).derive(convention='mean').latex())"
    )
    outputs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("0", "1", "12345")
    ]
    assert outputs[0] == outputs[1] == outputs[2]
    assert r"\frac{2}{N}" in outputs[0]

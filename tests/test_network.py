"""Networks as specs: dense layers, catalog losses on vector outputs, regularisers, the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

import symderiv
from symderiv import catalog, ir, numeric
from symderiv.cli import UsageError
from symderiv.cli.spec import build, wrt_names
from symderiv.errors import ShapeError, SymderivError, UnknownNameError
from symderiv.testing import GradientMismatch, check_expression_gradient, random_point, shapes_of

SIZES = {"N": 3, "n": 2, "h": 2, "k": 3}
KINKS = {"relu": (0,), "leaky_relu": (0,), "elu": (0,), "hard_tanh": (-1, 1)}


def _point(spec, seed=0, targets=None, sizes=SIZES):
    """Random values for every symbol, away from the activations' kinks and |W| = 0 (l1)."""
    shapes = shapes_of(spec.expression, sizes)

    def distances(point):
        out = [point[w.name] for w in spec.weights]
        for layer, z in zip(spec.layers, spec.pre_activations):
            value = numeric.evaluate(z, point)
            out += [value - kink for kink in KINKS.get(layer.activation_name, ())]
        return out

    point = random_point(shapes, seed, away_from=distances, margin=1e-2)
    if targets is not None:
        point["Y"] = targets(np.random.default_rng(seed + 1), shapes["Y"])
    return point


def _check(spec, point, wrt=None):
    derivation = symderiv.derive(spec, wrt=wrt)
    gradients = {name: derivation.expand(g.vectorized) for name, g in derivation.gradients.items()}
    return derivation, check_expression_gradient(spec.expression, gradients, point, rtol=1e-6)


def _one_hot(rng, shape):
    return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]


def _soft(rng, shape):
    weights = rng.uniform(0.1, 1.0, shape)
    return weights / weights.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- gradients


def test_dense_relu_mse_is_the_mean_over_every_element():
    spec = symderiv.network([symderiv.dense("h", "relu")], loss="mse")
    point = _point(spec, targets=lambda rng, shape: rng.standard_normal(shape))
    derivation, _ = _check(spec, point)
    assert spec.parameters == ("W_1", "b_1")
    assert set(derivation.gradients) == {"W_1", "b_1"}
    a = np.maximum(0, point["X"] @ point["W_1"] + point["b_1"])
    assert numeric.evaluate(spec.expression, point) == pytest.approx(np.mean((a - point["Y"]) ** 2))
    assert {"Z_1", "A_1"} <= {s.variable.name for s in derivation.steps}
    assert derivation.output.name == "C"


@pytest.mark.parametrize("targets", [_one_hot, _soft], ids=["one-hot", "soft"])
def test_softmax_cross_entropy(targets):
    spec = symderiv.network([symderiv.dense("k")], loss="softmax_cross_entropy")
    point = _point(spec, seed=3, targets=targets)
    _check(spec, point)
    z = point["X"] @ point["W_1"] + point["b_1"]
    log_s = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    reference = -np.mean(np.sum(point["Y"] * log_s, axis=1))
    assert numeric.evaluate(spec.expression, point) == pytest.approx(reference)
    assert any("sums to 1" in note for note in spec.notes)


def test_cross_entropy_logit_gradient_is_softmax_minus_targets():
    spec = symderiv.network([symderiv.dense("k")], loss="softmax_cross_entropy")
    point = _point(spec, seed=4, targets=_one_hot)
    derivation = symderiv.derive(spec)
    z = point["X"] @ point["W_1"] + point["b_1"]
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = point["X"].T @ (s - point["Y"]) / SIZES["N"]
    assert np.allclose(numeric.evaluate(derivation.expand(derivation.gradient("W_1").vectorized), point), expected)


def test_two_layers_relu_softmax_with_l2_on_both_weights():
    spec = symderiv.network(
        [symderiv.dense("h", "relu"), symderiv.dense("k")],
        loss="softmax_cross_entropy",
        regularizers=[symderiv.l2(0.01)],
    )
    point = _point(spec, seed=5, targets=_one_hot)
    derivation, _ = _check(spec, point)
    assert spec.parameters == ("W_1", "b_1", "W_2", "b_2")
    assert {"Z_1", "A_1", "Z_2", "L", "R", "C"} <= {s.variable.name for s in derivation.steps}
    weights = np.sum(point["W_1"] ** 2) + np.sum(point["W_2"] ** 2)
    unregularised = symderiv.network([symderiv.dense("h", "relu"), symderiv.dense("k")], "softmax_cross_entropy")
    gap = numeric.evaluate(spec.expression, point) - numeric.evaluate(unregularised.expression, point)
    assert gap == pytest.approx(0.005 * weights)


@pytest.mark.parametrize("activation", list(catalog.ACTIVATIONS))
def test_each_catalog_activation_as_a_dense_layer_with_mse(activation):
    spec = symderiv.network([symderiv.dense("h", activation), symderiv.dense("k", activation)], loss="mse")
    _check(spec, _point(spec, seed=7))


@pytest.mark.parametrize("loss", sorted(set(catalog.LOSSES) - {"mae", "huber"}))
def test_each_elementwise_catalog_loss_on_a_vector_output(loss):
    spec = symderiv.network([symderiv.dense("k", "sigmoid")], loss=loss)
    targets = {"hinge": "sign", "squared_hinge": "sign", "logistic": "binary"}.get(loss)
    convert = {"sign": lambda r, s: np.sign(r.standard_normal(s)), "binary": lambda r, s: (r.random(s) > 0.5) * 1.0}
    point = _point(spec, seed=11, targets=convert.get(targets))
    _check(spec, point)


def test_sigmoid_logistic_uses_the_stable_logit_form():
    spec = symderiv.network([symderiv.dense("k", "sigmoid")], loss="logistic")
    assert "softplus" in str(spec.expression)
    assert any("logit" in note for note in spec.notes)
    point = _point(spec, seed=2, targets=lambda r, s: (r.random(s) > 0.5) * 1.0)
    a = 1 / (1 + np.exp(-(point["X"] @ point["W_1"] + point["b_1"])))
    y = point["Y"]
    reference = -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))
    assert numeric.evaluate(spec.expression, point) == pytest.approx(reference)


def test_l1_and_l2_on_named_parameters_including_a_bias():
    spec = symderiv.network(
        [symderiv.dense("h", "tanh"), symderiv.dense("k")],
        loss="mse",
        regularizers=[symderiv.l1(0.1, on=("W_1",)), symderiv.l2(0.5, on=("b_2", "W_2"))],
    )
    point = _point(spec, seed=13)
    _check(spec, point)
    base = symderiv.network([symderiv.dense("h", "tanh"), symderiv.dense("k")], loss="mse")
    gap = numeric.evaluate(spec.expression, point) - numeric.evaluate(base.expression, point)
    expected = 0.1 * np.abs(point["W_1"]).sum() + 0.25 * ((point["b_2"] ** 2).sum() + (point["W_2"] ** 2).sum())
    assert gap == pytest.approx(expected)


def test_the_checker_rejects_a_wrong_network_gradient():
    spec = symderiv.network([symderiv.dense("h", "tanh"), symderiv.dense("k")], loss="mse")
    point = _point(spec, seed=17)
    derivation = symderiv.derive(spec)
    wrong = {name: derivation.expand(g.vectorized) for name, g in derivation.gradients.items()}
    wrong["W_1"] = ir.mul(ir.Const(2), wrong["W_1"])
    with pytest.raises(GradientMismatch, match="W_1"):
        check_expression_gradient(spec.expression, wrong, point)


def test_numeric_sizes_string_layers_and_a_formula_activation():
    spec = symderiv.network(["dense(4, max(0.1*z, z))", "dense(2)"], loss="huber(delta=0.5)", inputs=3)
    assert spec.weights[0].shape == (3, 4) and spec.Y.shape == (ir.dim("N"), 2)
    point = _point(spec, seed=19, sizes={"N": 3})
    _check(spec, point)


def test_a_custom_bias_symbol_and_a_layer_without_bias():
    h = ir.dim("h")
    spec = symderiv.network([symderiv.dense("h", "tanh", bias=ir.Symbol("c", (h,))), symderiv.dense("k", bias=False)])
    assert spec.parameters == ("W_1", "c", "W_2")
    _check(spec, _point(spec, seed=23))


def test_wrt_a_subset_and_intermediates_never_take_user_names():
    h = ir.dim("h")
    spec = symderiv.network([symderiv.dense("h", "relu", bias=ir.Symbol("Z_1", (h,))), symderiv.dense("k")])
    derivation = symderiv.derive(spec, wrt=("W_2",))
    names = [s.variable.name for s in derivation.steps]
    assert "Z_1" not in names and len(names) == len(set(names))
    assert set(derivation.gradients) == {"W_2"}


def test_derive_cost_does_not_grow_with_the_sizes():
    def timed(sizes):
        layers = [symderiv.dense(sizes[0], "relu"), symderiv.dense(sizes[1], "tanh"), symderiv.dense(sizes[2])]
        spec = symderiv.network(layers, "softmax_cross_entropy", [symderiv.l2(0.01)], inputs=sizes[0])
        start = time.perf_counter()
        derivation = symderiv.derive(spec)
        return time.perf_counter() - start, derivation

    timed(("n", "h", "k"))  # warm caches shared by every size
    symbolic, derivation = timed(("n", "h", "k"))
    small, _ = timed((10, 10, 10))
    large, _ = timed((1000, 1000, 1000))
    assert len(derivation.gradients) == 6
    assert symbolic < 1.0 and large < 1.0
    assert large < 5 * small + 0.05


@pytest.mark.parametrize(
    "text, shown",
    [
        ("dense(size=4, activation=leaky_relu(alpha=0.2))", "dense(4, leaky_relu(alpha=0.2))"),
        ("dense(h, activation=max(0.1*z, z))", "dense(h, max(0.1*z, z))"),
        ("dense( k )", "dense(k)"),
        ("l1(lambda=1e-3, on=(W_1, b_1))", "l1(lambda=0.001, on=(W_1, b_1))"),
        ("l2(0.5)", "l2(lambda=0.5)"),
    ],
)
def test_small_text_specs_round_trip(text, shown):
    from symderiv.network import parse_layer, parse_regularizer

    parsed = (parse_layer if text.startswith("dense") else parse_regularizer)(text)
    assert str(parsed) == shown
    again = (parse_layer if text.startswith("dense") else parse_regularizer)(shown)
    assert again == parsed


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: symderiv.dense(0), "positive integer"),
        (lambda: symderiv.dense(-3, "relu"), "got -3"),
        (lambda: symderiv.dense("h", "rleu"), "did you mean 'relu'"),
        (lambda: symderiv.dense(), "needs a layer size"),
        (lambda: symderiv.network(["dense()"]), "needs a layer size"),
        (lambda: symderiv.network(["dense(0, relu)"]), "positive integer"),
        (lambda: symderiv.network([symderiv.dense(1)], loss="softmax_cross_entropy"), "one-hot"),
        (lambda: symderiv.network([symderiv.dense("k")], loss="cross_entropy"), "unknown loss"),
        (lambda: symderiv.network([], loss="mse"), "at least one layer"),
        (lambda: symderiv.l2(-0.1), "lambda must be a finite number >= 0"),
        (lambda: symderiv.l2(float("nan")), "finite number"),
        (lambda: symderiv.network([symderiv.dense("k")], regularizers=[symderiv.l2(0.1, on="W_3")]), "did you mean 'W_1'"),
        (lambda: symderiv.network([symderiv.dense("k")], regularizers=["l3(0.1)"]), "unknown regularizer 'l3'"),
        (lambda: symderiv.network([symderiv.dense("k")], regularizers=["l2()"]), "needs a strength"),
        (lambda: symderiv.network(["conv(3)"]), "unknown layer 'conv'"),
        (lambda: symderiv.network(["dense(h, relu, 3)"]), "takes a size and an activation"),
        (lambda: symderiv.network(["dense(h, relu"]), "written like"),
        (lambda: symderiv.network(["dense(units=3)"]), "no argument 'units'"),
        (lambda: symderiv.network([symderiv.dense("k")], regularizers=["l2(lambda=x)"]), "lambda=NUMBER"),
        (lambda: symderiv.loss("softmax_cross_entropy", symderiv.neuron("relu")), "network"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(make, message):
    with pytest.raises(SymderivError, match=message) as caught:
        make()
    assert "\n" not in str(caught.value)


def test_a_bias_of_the_wrong_length():
    bias = ir.Symbol("c", (ir.dim("m"),))
    with pytest.raises(ShapeError, match=r"bias 'c' of layer 1 must be vector\(h\), got vector\(m\)"):
        symderiv.network([symderiv.dense("h", bias=bias)])


def test_unknown_regulariser_target_is_an_unknown_name():
    with pytest.raises(UnknownNameError):
        symderiv.network([symderiv.dense("k")], regularizers=[symderiv.l1(1, on=("w",))])


# --------------------------------------------------------------------------- command line


def _args(**options):
    defaults = dict(activation=None, loss=None, expr=None, let=[], wrt=None, kink="min-norm", layer=[], regularizer=[])
    return SimpleNamespace(**{**defaults, **options})


def test_cli_spec_builds_a_network_with_its_parameters_as_wrt():
    args = _args(layer=["dense(h, relu)", "dense(k)"], loss="softmax_cross_entropy", regularizer=["l2(lambda=0.01)"])
    spec = build(args)
    assert isinstance(spec, symderiv.Network)
    assert wrt_names(args) == ("W_1", "b_1", "W_2", "b_2")
    assert str(spec.regularizers[0]) == "l2(lambda=0.01)"


def test_cli_spec_keeps_w_b_for_neurons_and_expressions():
    neuron = _args(activation="relu", loss="mse")
    build(neuron)
    assert wrt_names(neuron) == ("w", "b")
    expression = SimpleNamespace(activation=None, loss=None, expr="max(0, w . x + b)", let=[], wrt=None, kink="min-norm")
    build(expression)  # no layer or regularizer attribute: read with defaults
    assert wrt_names(expression) == ("w", "b")


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(layer=["dense(h)"], activation="relu", loss="mse"), "--layer cannot be combined"),
        (dict(layer=["dense(h)"], expr="sum(w)", loss="mse"), "--layer cannot be combined"),
        (dict(layer=["dense(h)"]), "--layer needs --loss"),
        (dict(activation="relu", loss="mse", regularizer=["l2(0.1)"]), "--regularizer applies to a network"),
    ],
)
def test_cli_spec_usage_errors(options, message):
    with pytest.raises(UsageError, match=message):
        build(_args(**options))


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "symderiv", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )


def test_cli_derives_the_readme_network():
    result = _run(
        "derive", "--layer", "dense(h, relu)", "--layer", "dense(k)", "--loss", "softmax_cross_entropy",
        "--regularizer", "l2(lambda=0.01)", "--format", "text",
    )
    assert result.returncode == 0, result.stderr
    for name in ("Z_1", "A_1", "Z_2", "W_1", "b_2"):
        assert name in result.stdout


def test_cli_reports_bad_layers_in_one_line():
    result = _run("derive", "--layer", "dense(0, relu)", "--loss", "mse")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "positive integer" in result.stderr
    result = _run("derive", "--layer", "dense(h)", "--activation", "relu", "--loss", "mse")
    assert result.returncode == 2 and "--layer cannot be combined" in result.stderr

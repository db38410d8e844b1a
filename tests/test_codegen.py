"""Generated modules against the engine, central differences and the kink convention.

Parametrised over the whole catalog: a new activation or loss is tested automatically.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_codegen_support import (
    PAIR_IDS,
    PAIRS,
    data,
    derivation,
    import_source,
    is_finite_everywhere,
    source,
)

from symderiv import codegen, numeric, testing


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """Each generated module, imported once per test module."""
    folder = tmp_path_factory.mktemp("generated")
    cache: dict = {}

    def get(activation: str, loss: str, convention: str = "min-norm"):
        key = (activation, loss, convention)
        if key not in cache:
            name = f"{activation}_{loss}_{convention.replace('-', '_')}"
            cache[key] = import_source(source(*key), folder, name)
        return cache[key]

    return get


def call(function, point: dict, **options):
    return function(point["w"], point["b"], point["X"], point["y"], **options)


@pytest.mark.parametrize(("activation", "loss"), PAIRS, ids=PAIR_IDS)
def test_loss_and_grad_match_engine_and_central_differences(modules, activation, loss):
    module, (_, d) = modules(activation, loss), derivation(activation, loss)
    point = data(activation, loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = call(module.loss, point)
        grad_w, grad_b = call(module.grad, point)
        both = call(module.value_and_grad, point, block_size=3)
    assert testing.relative_error(value, numeric.evaluate(d.expression, point)) < 1e-12
    assert (
        testing.relative_error(grad_w, numeric.evaluate(d.expand(d.gradient("w").vectorized), point)) < 1e-12
    )
    assert (
        testing.relative_error(grad_b, numeric.evaluate(d.expand(d.gradient("b").vectorized), point)) < 1e-12
    )
    assert testing.relative_error(both[0], value) < 1e-12
    assert (
        testing.relative_error(both[1][0], grad_w) < 1e-12
        and testing.relative_error(both[1][1], grad_b) < 1e-12
    )
    testing.check_gradient(
        lambda p: call(module.loss, p),
        lambda p: dict(zip(("w", "b"), call(module.grad, p))),
        point,
        rtol=1e-6,
    )


@pytest.mark.parametrize(("activation", "loss"), PAIRS, ids=PAIR_IDS)
def test_hessian_matches_differences_of_grad(modules, activation, loss):
    module = modules(activation, loss)
    point = data(activation, loss, seed=1)
    n = point["X"].shape[1]
    hessian = call(module.hessian, point, block_size=4)
    assert hessian.shape == (n + 1, n + 1)

    def flat_grad(flat):
        w, b = flat[:n], flat[n]
        gw, gb = module.grad(w, b, point["X"], point["y"])
        return np.concatenate([gw, [gb]])

    flat, eps = np.concatenate([point["w"], [point["b"]]]), 1e-6
    columns = [(flat_grad(flat + eps * e) - flat_grad(flat - eps * e)) / (2 * eps) for e in np.eye(n + 1)]
    assert testing.relative_error(hessian, np.column_stack(columns)) < 1e-6


@pytest.mark.parametrize(("activation", "loss"), PAIRS, ids=PAIR_IDS)
def test_float32_in_float32_out(modules, activation, loss):
    module = modules(activation, loss)
    point = {k: np.asarray(v, dtype=np.float32) for k, v in data(activation, loss).items()}
    value, (grad_w, grad_b) = call(module.value_and_grad, point)
    results = [
        value,
        grad_w,
        grad_b,
        call(module.hessian, point),
        module.predict(point["w"], point["b"], point["X"]),
    ]
    assert [np.asarray(r).dtype for r in results] == [np.float32] * 5
    reference = call(module.grad, {k: np.asarray(v, dtype=np.float64) for k, v in point.items()})
    assert testing.relative_error(grad_w, reference[0]) < 1e-4


@pytest.mark.parametrize(("activation", "loss"), PAIRS, ids=PAIR_IDS)
def test_large_pre_activations_stay_finite_without_warnings(modules, activation, loss):
    if not is_finite_everywhere(activation, loss):
        pytest.skip(f"the {loss} loss of a {activation} neuron is undefined for some z (log of a value ≤ 0)")
    module = modules(activation, loss)
    y = data(activation, loss)["y"][:4]
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    for scale in (1e4, 3e3):
        for dtype in (np.float64, np.float32):
            point = {"w": np.array([scale], dtype), "b": dtype(0), "X": X.astype(dtype), "y": y.astype(dtype)}
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                value, grads = call(module.value_and_grad, point)
                hessian = call(module.hessian, point)
            assert all(np.all(np.isfinite(r)) for r in (value, *grads, hessian)), (scale, dtype)


@pytest.mark.parametrize(("activation", "loss"), PAIRS, ids=PAIR_IDS)
def test_block_size_gives_the_same_results(modules, activation, loss):
    module = modules(activation, loss)
    point = data(activation, loss, N=10)
    whole = call(module.value_and_grad, point)
    whole_hessian = call(module.hessian, point)
    for size in (1, 3, 10, 25):
        blocked = call(module.value_and_grad, point, block_size=size)
        assert testing.relative_error(blocked[0], whole[0]) < 1e-12
        assert testing.relative_error(blocked[1][0], whole[1][0]) < 1e-12
        assert testing.relative_error(blocked[1][1], whole[1][1]) < 1e-12
        assert testing.relative_error(call(module.hessian, point, block_size=size), whole_hessian) < 1e-12
    with pytest.raises(ValueError, match="block_size"):
        call(module.loss, point, block_size=0)


KINKS = {"relu": 0.0, "leaky_relu": 0.0, "elu": 0.0, "hard_tanh": 1.0}


@pytest.mark.parametrize("convention", ["min-norm", "mean", "left", "right"])
@pytest.mark.parametrize("activation", sorted(KINKS))
def test_gradient_at_a_kink_follows_the_convention(modules, activation, convention):
    module, (_, d) = modules(activation, "mse", convention), derivation(activation, "mse", convention)
    point = {"w": np.array([KINKS[activation]]), "b": 0.0, "X": np.ones((1, 1)), "y": np.array([3.0])}
    grad_w, grad_b = call(module.grad, point)
    assert grad_b == pytest.approx(numeric.evaluate(d.expand(d.gradient("b").vectorized), point))
    assert grad_w[0] == pytest.approx(grad_b)


@pytest.mark.parametrize(
    ("convention", "slope"), [("min-norm", 0.0), ("mean", 0.5), ("left", 0.0), ("right", 1.0)]
)
def test_worked_example_relu_at_zero(modules, convention, slope):
    """C = (max(0, z) - y)² at z = 0 with y = 1: ∂C/∂b = 2 relu'(0) (0 - 1) = -2 relu'(0)."""
    module = modules("relu", "mse", convention)
    grad_w, grad_b = module.grad(np.zeros(2), 0.0, np.ones((1, 2)), np.ones(1))
    assert grad_b == -2 * slope and list(grad_w) == [-2 * slope] * 2


def test_absolute_error_at_zero_residual_is_min_norm(modules):
    module = modules("identity", "mae")
    _, grad_b = module.grad(np.zeros(1), 2.0, np.ones((1, 1)), np.array([2.0]))
    assert grad_b == 0.0


def test_predict_is_the_activation(modules):
    module = modules("relu", "mse")
    X = np.array([[1.0, -2.0], [0.5, 0.5]])
    np.testing.assert_allclose(module.predict(np.array([1.0, 1.0]), -0.5, X), [0.0, 0.5])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((np.zeros(3), 0.0, np.zeros(4), np.zeros(4)), r"X must have shape \(N, n\), got shape \(4,\)"),
        (
            (np.zeros(2), 0.0, np.zeros((4, 3)), np.zeros(4)),
            r"w must have shape \(n,\) = \(3,\), got shape \(2,\)",
        ),
        (
            (np.zeros(3), 0.0, np.zeros((4, 3)), np.zeros(5)),
            r"y must have shape \(N,\) = \(4,\), got shape \(5,\)",
        ),
        (
            (np.zeros(3), np.zeros(2), np.zeros((4, 3)), np.zeros(4)),
            r"b must have shape \(\), got shape \(2,\)",
        ),
        (
            (np.zeros((3, 1)), 0.0, np.zeros((4, 3)), np.zeros(4)),
            r"w must have shape \(n,\), got shape \(3, 1\)",
        ),
    ],
)
def test_shape_errors_name_argument_and_shapes(modules, arguments, message):
    module = modules("relu", "mse")
    for function in (module.loss, module.grad, module.value_and_grad, module.hessian):
        with pytest.raises(ValueError, match=message):
            function(*arguments)


def test_hessian_docstring_says_when_it_is_zero_almost_everywhere():
    assert "Hessian is zero almost everywhere" in " ".join(source("relu", "mae").split())
    assert "Hessian is zero almost everywhere" not in " ".join(source("sigmoid", "mse").split())


def test_module_docstring_has_latex_convention_version_and_command():
    text = source("relu", "mse")
    prose = " ".join(text.split())
    import symderiv

    assert r"\max\left(0, \mathbf{X} \mathbf{w} + b\right)" in text
    assert "minimum-norm subgradient" in prose
    assert f"symderiv {symderiv.__version__}" in text
    assert "symderiv codegen --activation relu --loss mse --kink min-norm" in text
    assert "import sympy" not in text and "symderiv import" not in text and "import symderiv" not in text


def test_stable_forms_are_used():
    assert "_log_cosh(" in source("identity", "log_cosh") and "np.cosh" not in source("identity", "log_cosh")
    assert "np.logaddexp(0, z)" in source("sigmoid", "logistic") and "np.log(" not in source(
        "sigmoid", "logistic"
    )
    assert "np.select" not in "".join(source(a, loss) for a, loss in PAIRS[:20])


def test_common_subexpressions_are_computed_once():
    text = source("relu", "mse")
    block = text[text.index("def _value_and_grad_rows") : text.index("def _hvp_rows")]
    assert block.count("np.maximum(z, 0)") == 1 and block.count("X @ w") == 1
    assert block.count("- y") == 1 and block.count("z > 0") == 1


@pytest.mark.parametrize(
    "name",
    [
        "os.system",
        "x; import os",
        "_private",
        "np",
        "grad",
        "lambda",
        "class",
        "match",
        "l",
        "grad_w",
        "é",
        "",
    ],
)
def test_identifiers_are_validated(name):
    with pytest.raises(codegen.CodegenError):
        codegen.check_identifier(name)


def test_command_with_unsafe_characters_is_refused():
    _, d = derivation("relu", "mse")
    for command in ['symderiv codegen """; import os', "symderiv codegen \\", "a\nb"]:
        with pytest.raises(codegen.CodegenError):
            codegen.generate_from(d, command=command)


def test_every_expression_gets_hvp_and_hessian_unless_left_out():
    import symderiv

    d = symderiv.derive(symderiv.expression("max(0, w . x + b)"), wrt=("w", "b"))
    text = codegen.generate_from(d)
    assert "def hvp(" in text and "def hessian(" in text
    assert "def hessian(" not in codegen.generate_from(d, hessian=False)

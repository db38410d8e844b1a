"""Generated modules and hostile or unlucky input (issue 13, item 6): results are fresh arrays of
the inputs' floating dtype, bad arguments raise ValueError naming them, and constants outside
float64 are refused when the module is generated."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy
from test_codegen_support import import_source

from symderiv import codegen, ir
from symderiv.cli import main
from symderiv.errors import SymderivError

ARGV = {
    "neuron": ["--activation", "relu", "--loss", "mse"],
    "sum_product": ["--expr", "sum(w * x)", "--wrt", "w"],
    "affine": ["--expr", "w . x + b"],
    "network": ["--layer", "dense(h, relu)", "--layer", "dense(k)", "--loss", "softmax_cross_entropy"],
}


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    loaded = {}
    for name, argv in ARGV.items():
        path = folder / f"{name}.py"
        assert main(["codegen", *argv, "-o", str(path)]) == 0
        loaded[name] = import_source(path.read_text(encoding="utf-8"), folder, name)
    return loaded


def arguments(kind: str, dtype=np.float64) -> dict:
    """Good arguments for each module, by name (N = 5 rows, n = 3 columns, h = 2, k = 4)."""
    rng = np.random.default_rng(0)
    values = {
        "neuron": {"w": rng.normal(size=3), "b": 0.5, "X": rng.normal(size=(5, 3)), "y": rng.normal(size=5)},
        "sum_product": {"w": rng.normal(size=3), "x": rng.normal(size=3)},
        "affine": {"w": rng.normal(size=3), "b": 0.5, "x": rng.normal(size=3)},
        "network": {
            "W_1": rng.normal(size=(3, 2)),
            "b_1": rng.normal(size=2),
            "W_2": rng.normal(size=(2, 4)),
            "b_2": rng.normal(size=4),
            "X": rng.normal(size=(5, 3)),
            "Y": np.eye(4)[[0, 1, 2, 3, 0]],
        },
    }[kind]
    return {k: np.asarray(v, dtype) if np.ndim(v) else dtype(v) for k, v in values.items()}


def leaves(result) -> list:
    return [leaf for item in result for leaf in leaves(item)] if isinstance(result, tuple) else [result]


# --------------------------------------------------------------------------- fresh results


def test_sum_product_gradient_is_not_the_callers_array(modules):
    args = arguments("sum_product")
    grad_w = modules["sum_product"].grad(**args)
    assert grad_w is not args["x"] and not np.shares_memory(grad_w, args["x"])
    expected = args["x"].copy()
    args["x"][:] = 0.0  # the caller's later in-place change does not reach the gradient
    np.testing.assert_array_equal(grad_w, expected)


@pytest.mark.parametrize("kind", sorted(ARGV))
@pytest.mark.parametrize("function", ["grad", "value_and_grad"])
def test_results_share_no_memory_with_arguments_or_each_other(modules, kind, function):
    args = arguments(kind)
    results = [r for r in leaves(getattr(modules[kind], function)(**args)) if isinstance(r, np.ndarray)]
    for i, result in enumerate(results):
        assert not any(np.shares_memory(result, a) for a in args.values() if isinstance(a, np.ndarray))
        assert not any(np.shares_memory(result, other) for other in results[:i])


def test_affine_bias_gradient_is_a_numpy_float_not_an_int(modules):
    module = modules["affine"]
    _, grad_b = module.grad(**arguments("affine"))
    assert type(grad_b) is np.float64 and grad_b == 1.0
    _, (_, grad_b) = module.value_and_grad(**arguments("affine"))
    assert type(grad_b) is np.float64
    _, grad_b = module.grad(**arguments("affine", np.float32))
    assert type(grad_b) is np.float32


@pytest.mark.parametrize("kind", sorted(ARGV))
def test_float32_in_float32_out(modules, kind):
    module = modules[kind]
    value_name = "loss" if kind == "neuron" else "value"
    value, gradients = module.value_and_grad(**arguments(kind, np.float32))
    assert type(value) is np.float32
    assert type(getattr(module, value_name)(**arguments(kind, np.float32))) is np.float32
    assert all(np.asarray(g).dtype == np.float32 for g in gradients)
    assert all(np.asarray(g).dtype == np.float64 for g in module.grad(**arguments(kind)))


def test_neuron_prepare_passes_float64_data_through_without_a_copy(modules):
    args = arguments("neuron")
    prepared = modules["neuron"]._prepare(args["w"], args["b"], args["X"], args["y"])
    assert prepared[2] is args["X"] and prepared[3] is args["y"]


# --------------------------------------------------------------------------- rejected arguments

BAD = {
    "None": lambda good: None,
    "string": lambda good: "1.5" if np.ndim(good) == 0 else np.full(np.shape(good), "1.5"),
    "complex": lambda good: np.asarray(good) + 1j,
    "object": lambda good: np.asarray(good).astype(object),
}


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("neuron", "b"),
        ("neuron", "X"),
        ("neuron", "y"),
        ("affine", "b"),
        ("affine", "x"),
        ("sum_product", "w"),
    ]
    + [("network", "b_2"), ("network", "X"), ("network", "W_1")],
)
@pytest.mark.parametrize("bad", sorted(BAD))
def test_non_real_arguments_raise_value_error_naming_them(modules, kind, name, bad):
    args = arguments(kind)
    args[name] = BAD[bad](args[name])
    with pytest.raises(ValueError, match=rf"^{name} must be real numbers"):
        modules[kind].grad(**args)


def test_ragged_nested_lists_raise_value_error_naming_the_argument(modules):
    args = arguments("neuron")
    args["X"] = [[1.0, 2.0, 3.0], [1.0]]
    with pytest.raises(ValueError, match=r"^X is not an array of shape \(N, n\)"):
        modules["neuron"].grad(**args)


@pytest.mark.parametrize("kind", ["neuron", "network"])
def test_no_rows_raises_value_error_naming_x(modules, kind):
    args = arguments(kind)
    args["X"] = args["X"][:0]
    for data in ("y", "Y"):
        if data in args:
            args[data] = args[data][:0]
    module = modules[kind]
    functions = [module.grad, module.value_and_grad, module.loss if kind == "neuron" else module.value]
    for function in functions:
        with pytest.raises(ValueError, match=r"^X is empty: shape \(0, 3\) for \(N, n\)"):
            function(**args)


def test_empty_vector_of_a_generic_module_raises_value_error(modules):
    with pytest.raises(ValueError, match=r"^w is empty"):
        modules["sum_product"].grad(np.zeros(0), np.zeros(0))


def test_neuron_column_mismatch_names_both_x_and_w(modules):
    args = arguments("neuron")
    args["X"] = np.ones((5, 4))
    for function in (modules["neuron"].grad, modules["neuron"].loss):
        with pytest.raises(ValueError, match=r"^X has 4 columns but w has 3 elements: "):
            function(**args)


def test_network_column_mismatch_blames_x_not_the_weights(modules):
    args = arguments("network")
    args["X"] = np.ones((5, 4))
    with pytest.raises(ValueError, match=r"^W_1 has 3 rows but X has 4 columns: X must have shape \(N, n\)"):
        modules["network"].grad(**args)


def test_network_label_rows_mismatch_names_x_and_y(modules):
    args = arguments("network")
    args["Y"] = np.ones((6, 4))
    with pytest.raises(ValueError, match=r"^X has 5 rows but Y has 6 rows: Y must have shape"):
        modules["network"].value(**args)


# --------------------------------------------------------------------------- constants outside float64


def _scaled_sum(constant) -> ir.Node:
    z = ir.Symbol("z", (ir.dim("n"),))
    return ir.mul(ir.Const(constant), ir.total(z))


def _scaled_neuron(constant) -> ir.Node:
    N, n = ir.dim("N"), ir.dim("n")
    X, w, b, y = ir.Symbol("X", (N, n)), ir.Symbol("w", (n,)), ir.Symbol("b", ()), ir.Symbol("y", (N,))
    return ir.mean(ir.power(ir.sub(ir.mul(ir.Const(constant), X @ w + b), y), ir.Const(2)))


def _scaled_network(constant) -> ir.Node:
    N, n, k = ir.dim("N"), ir.dim("n"), ir.dim("k")
    X, W, Y = ir.Symbol("X", (N, n)), ir.Symbol("W", (n, k)), ir.Symbol("Y", (N, k))
    return ir.mean(ir.power(ir.sub(ir.mul(ir.Const(constant), X @ W), Y), ir.Const(2)))


CONSTANT_TARGETS = {
    "neuron": (_scaled_neuron, ("w", "b")),
    "generic": (_scaled_sum, ("z",)),
    "network": (_scaled_network, ("W",)),
}


@pytest.mark.parametrize("kind", sorted(CONSTANT_TARGETS))
def test_constant_outside_float64_is_refused_at_generation_naming_it(kind):
    build, wrt = CONSTANT_TARGETS[kind]
    # refused by the derive stage (the gradient's constant) or by the generator, naming it
    with pytest.raises(SymderivError, match=r"constant (1\.00000e\+640 is not a finite float64|about 1\.000e\+640 is too large)"):
        codegen.generate(build(sympy.Integer(10) ** 640), wrt=wrt)


@pytest.mark.parametrize("kind", sorted(CONSTANT_TARGETS))
def test_large_finite_integer_constant_gives_a_working_module(tmp_path, kind):
    build, wrt = CONSTANT_TARGETS[kind]
    text = codegen.generate(build(sympy.Integer(10) ** 20), wrt=wrt)
    code = text.split('"""\n', 1)[1]
    assert "1e20" in code and str(10**20) not in code
    module = import_source(text, tmp_path, f"large_{kind}")
    for gradient in module.grad(**_constant_arguments(kind)):
        assert np.all(np.isfinite(gradient))


def _constant_arguments(kind: str) -> dict:
    if kind == "generic":
        return {"z": np.ones(2)}
    if kind == "neuron":
        return {"w": np.full(2, 1e-20), "b": 0.0, "X": np.ones((3, 2)), "y": np.ones(3)}
    return {"W": np.full((2, 2), 1e-20), "X": np.ones((3, 2)), "Y": np.ones((3, 2))}


def test_huge_finite_integer_is_printed_as_a_float_literal(tmp_path):
    text = codegen.generate(_scaled_sum(sympy.Integer(10) ** 300), wrt=("z",))
    code = text.split('"""\n', 1)[1]  # the docstring shows the expression as written
    assert "1e300 * " in code and "0" * 30 not in code
    module = import_source(text, tmp_path, "huge_finite")
    assert module.value(np.ones(2)) == 2e300
    np.testing.assert_array_equal(module.grad(np.ones(2))[0], [1e300, 1e300])


def test_single_argument_module_unpacks_prepare_and_passes_ruff(tmp_path):
    text = codegen.generate(_scaled_sum(3), wrt=("z",))
    assert "(z,) = _prepare(z)" in text
    module = import_source(text, tmp_path, "single")
    assert module.value([1.0, 2.0]) == 9.0 and type(module.value([1, 2])) is np.float64
    _ruff_clean(tmp_path)


def test_exact_integers_up_to_two_to_the_53_stay_int_literals():
    text = codegen.generate(_scaled_sum(sympy.Integer(2) ** 53), wrt=("z",))
    assert str(2**53) in text


def test_cli_refuses_an_activation_with_a_constant_outside_float64(tmp_path, capsys):
    target = tmp_path / "huge.py"
    assert main(["codegen", "--activation", "(10000000000)^64 * z", "--loss", "mse", "-o", str(target)]) == 2
    assert not target.exists()
    assert "float64" in capsys.readouterr().err


# --------------------------------------------------------------------------- ruff


def _ruff_clean(folder) -> None:
    if importlib.util.find_spec("ruff") is None and not shutil.which("ruff"):
        pytest.skip("ruff is not installed")
    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else [shutil.which("ruff")]
    for command in (
        ["check", "--isolated", "--no-cache", "."],
        ["format", "--isolated", "--no-cache", "--check", "."],
    ):
        result = subprocess.run(
            ruff + command, cwd=folder, capture_output=True, text=True, check=False, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_generic_and_network_modules_pass_ruff(modules):
    _ruff_clean(next(iter(modules.values())).__file__.rsplit("/", 1)[0])

"""`symderiv check` is honest (issue 13, item 5): mutated modules fail with exit 1 and a FAILED line,
in a child process with a time limit; errors are relative to the gradient's own scale; --rtol is
validated; the help says that check runs the module's code. Issue 11: hvp is checked too, and a
result of the wrong shape or structure (a 1-tuple for one parameter) is a FAILED line."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from symderiv.cli import main
from symderiv.testing import check_gradient, relative_error

NEURON = ["--activation", "relu", "--loss", "mse"]
TWO_VECTORS = ["--expr", "sum(u * u * v)", "--let", "u: vector(n)", "--let", "v: vector(n)", "--wrt", "u,v"]
ONE_VECTOR = [*TWO_VECTORS[:-1], "u"]  # one parameter: grad and hvp return the array itself

# Each mutation is appended to a generated module: it redefines grad (or runs code at import).
WRAP = "\n_original_grad = grad\n\n\ndef grad(*args, **kwargs):\n    first, second = _original_grad(*args, **kwargs)\n"
HVP = "\n_original_hvp = hvp\n\n\ndef hvp(*args, **kwargs):\n    first, second = _original_hvp(*args, **kwargs)\n"
BOTH = (
    "\n_original_value_and_grad = value_and_grad\n\n\ndef value_and_grad(*args, **kwargs):\n"
    "    value, (first, second) = _original_value_and_grad(*args, **kwargs)\n"
)
MUTATIONS = {
    "sign flip": WRAP + "    return -first, second\n",
    "zeroed": WRAP + "    return 0 * first, second\n",
    "swapped order": WRAP + "    return second, first\n",
    "wrong shape": WRAP + "    return first.reshape(-1, 1), second\n",
    "too few": WRAP + "    return (first,)\n",
    "too many": WRAP + "    return first, second, second\n",
    "not a tuple": WRAP + "    return first\n",
    "not numbers": WRAP + "    return first, 'one'\n",
    "nan": WRAP + "    return first * np.nan, second\n",
    "raises in grad": "\ndef grad(*args, **kwargs):\n    raise RuntimeError('boom')\n",
    "exits in grad": "\ndef grad(*args, **kwargs):\n    raise SystemExit(0)\n",
    "exits at import": "\nimport sys\n\nsys.exit(0)\n",
    "os._exit at import": "\nimport os\n\nos._exit(0)\n",
    "raises at import": "\nraise ImportError('no such thing')\n",
    "loss raises": "\ndef loss(*args, **kwargs):\n    raise ValueError('bad')\n",
    "hessian sign": "\n_original_hessian = hessian\n\n\ndef hessian(*args, **kwargs):\n    return -_original_hessian(*args, **kwargs)\n",
    "hessian shape": "\ndef hessian(*args, **kwargs):\n    return np.zeros((2, 2))\n",
    "hvp sign": HVP + "    return -first, second\n",
    "hvp doubled": HVP + "    return 2 * first, 2 * second\n",
    "hvp wrong shape": HVP + "    return first.reshape(-1, 1), second\n",
    "hvp not a tuple": HVP + "    return first\n",
    "hvp raises": "\ndef hvp(*args, **kwargs):\n    raise RuntimeError('no hvp')\n",
    "loss not a scalar": "\n_original_loss = loss\n\n\ndef loss(w, b, X, y):\n    return _original_loss(w, b, X, y) + 0 * y\n",
    "value_and_grad sign": BOTH + "    return value, (-first, second)\n",
    "value_and_grad shape": BOTH + "    return value, (first, second.reshape(1))\n",
    "value_and_grad structure": BOTH + "    return value\n",
}
EXPECTED = {
    "sign flip": "grad w       largest relative error 2.00e+00  FAILED",
    "zeroed": "grad w       largest relative error 1.00e+00  FAILED",
    "swapped order": "FAILED: grad returned shape () for w, expected (3,) (gradients in the order w, b)",
    "wrong shape": "FAILED: grad returned shape (3, 1) for w, expected (3,)",
    "too few": "FAILED: grad returned 1 values, expected 2 gradients (w, b), in that order",
    "too many": "FAILED: grad returned 3 values, expected 2 gradients (w, b)",
    "not a tuple": "FAILED: grad returned a ndarray, expected 2 gradients",
    "not numbers": "FAILED: the gradient of b is not an array of numbers: str",
    "nan": "grad w       largest relative error inf  FAILED",
    "raises in grad": "FAILED: grad raised RuntimeError: boom",
    "exits in grad": "FAILED: the module exited (status 0) in grad",
    "exits at import": "FAILED: the module exited (status 0) in import",
    "os._exit at import": "FAILED: the check process ended with status 0 in import without a result",
    "raises at import": "FAILED: import raised ImportError: no such thing",
    "loss raises": "FAILED: loss raised ValueError: bad",
    "hessian sign": "hessian      largest relative error 2.00e+00  FAILED",
    "hessian shape": "FAILED: hessian returned shape (2, 2), expected (4, 4)",
    "hvp sign": "hvp          largest relative error 2.00e+00  FAILED",
    "hvp doubled": "hvp          largest relative error 5.00e-01  FAILED",
    "hvp wrong shape": "FAILED: hvp returned shape (3, 1) for w, expected (3,) (products in the order w, b)",
    "hvp not a tuple": "FAILED: hvp returned a ndarray, expected 2 products (w, b), in that order",
    "hvp raises": "FAILED: hvp raised RuntimeError: no hvp",
    "loss not a scalar": "FAILED: loss returned shape (6,), expected a scalar ()",
    "value_and_grad sign": "value_and_grad largest relative error 2.00e+00  FAILED",
    "value_and_grad shape": "FAILED: value_and_grad returned shape (1,) for b, expected ()",
    "value_and_grad structure": "FAILED: value_and_grad returned a float64, expected a tuple (loss, grad)",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("check")
    assert main(["codegen", *NEURON, "-o", str(folder / "relu_mse.py")]) == 0
    assert main(["codegen", *TWO_VECTORS, "-o", str(folder / "two.py")]) == 0
    assert main(["codegen", *ONE_VECTOR, "-o", str(folder / "one.py")]) == 0
    assert main(["codegen", "--activation", "identity", "--loss", "mae", "-o", str(folder / "mae.py")]) == 0
    return folder


def mutate(folder: Path, source: str, addition: str, path: Path) -> Path:
    """``path``: a copy of the generated module ``folder/source`` with ``addition`` appended."""
    path.write_text((folder / source).read_text() + addition)
    return path


def check(capsys, path: Path, *options: str) -> tuple[int, str, float]:
    start = time.monotonic()
    status = main(["check", str(path), *options])
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    return status, captured.out + captured.err, elapsed


def test_the_generated_module_passes(generated, capsys):
    status, out, _ = check(capsys, generated / "relu_mse.py")
    assert status == 0 and out.strip().endswith("OK") and "hessian" in out
    assert re.search(r"hvp +largest relative error [0-9.e+-]+  ok", out), out


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_fails_with_one_line(generated, tmp_path, capsys, mutation):
    path = mutate(generated, "relu_mse.py", MUTATIONS[mutation], tmp_path / "mutant.py")
    status, out, elapsed = check(capsys, path)
    assert status == 1, out
    assert EXPECTED[mutation] in out, out
    assert out.strip().endswith("FAILED") and "Traceback" not in out
    assert elapsed < 30


def test_a_hanging_grad_fails_after_the_timeout(generated, tmp_path, capsys):
    hang = "\nimport time\n\n\ndef grad(*args, **kwargs):\n    time.sleep(1000)\n"
    path = mutate(generated, "relu_mse.py", hang, tmp_path / "hangs.py")
    status, out, elapsed = check(capsys, path, "--timeout", "2")
    assert status == 1 and "FAILED: the module did not finish within 2 s (in grad)" in out
    assert elapsed < 15


def test_a_hanging_import_fails_after_the_timeout(generated, tmp_path, capsys):
    path = mutate(generated, "relu_mse.py", "\nwhile True:\n    pass\n", tmp_path / "spins.py")
    status, out, elapsed = check(capsys, path, "--timeout", "2")
    assert status == 1 and "did not finish within 2 s (in import)" in out
    assert elapsed < 15


def test_swapping_gradients_of_the_same_shape_fails(generated, tmp_path, capsys):
    assert check(capsys, generated / "two.py")[0] == 0
    path = mutate(generated, "two.py", WRAP + "    return second, first\n", tmp_path / "swapped.py")
    status, out, _ = check(capsys, path)
    assert status == 1 and "grad u" in out and "FAILED" in out


def test_a_slightly_wrong_hvp_fails(generated, tmp_path, capsys):
    """hvp off by 0.1% in one parameter's part: far above the 1e-5 hvp is held to."""
    path = mutate(generated, "relu_mse.py", HVP + "    return 1.001 * first, second\n", tmp_path / "hvp.py")
    status, out, _ = check(capsys, path)
    assert status == 1 and re.search(r"hvp +largest relative error [0-9.]+e-0[34]  FAILED", out), out
    assert re.search(r"grad w +largest relative error [0-9.e+-]+  ok", out), out


ONE = "\n_original_{f} = {f}\n\n\ndef {f}(*args, **kwargs):\n    result = _original_{f}(*args, **kwargs)\n"
ONE_MUTATIONS = {
    "grad 1-tuple": (
        ONE.format(f="grad") + "    return (result,)\n",
        "FAILED: grad returned a 1-tuple, expected one array shaped like u (3,)",
    ),
    "hvp 1-tuple": (
        ONE.format(f="hvp") + "    return (result,)\n",
        "FAILED: hvp returned a 1-tuple, expected one array shaped like u (3,)",
    ),
    "hvp halved": (
        ONE.format(f="hvp") + "    return 0.5 * result\n",
        "hvp          largest relative error 5.00e-01",
    ),
    "hvp shape": (
        ONE.format(f="hvp") + "    return result[:-1]\n",
        "FAILED: hvp returned shape (2,) for u, expected (3,)",
    ),
}


def test_a_one_parameter_module_passes(generated, capsys):
    status, out, _ = check(capsys, generated / "one.py")
    assert status == 0 and "grad u" in out and "hvp" in out and out.strip().endswith("OK"), out


@pytest.mark.parametrize("mutation", sorted(ONE_MUTATIONS))
def test_one_parameter_results_of_the_wrong_structure_or_value_fail(generated, tmp_path, capsys, mutation):
    addition, expected = ONE_MUTATIONS[mutation]
    status, out, _ = check(capsys, mutate(generated, "one.py", addition, tmp_path / "one_mutant.py"))
    assert status == 1 and expected in out, out
    assert out.strip().endswith("FAILED") and "Traceback" not in out


def test_an_exact_zero_gradient_is_not_failed_by_the_rounding_of_differences(generated, tmp_path, capsys):
    """identity + mae at seed 0: grad b is exactly 0 (three residuals of each sign) and central
    differences of the loss give about 1e-10; one off by 1e-6 still fails."""
    status, out, _ = check(capsys, generated / "mae.py")
    assert status == 0, out
    off = mutate(generated, "mae.py", WRAP + "    return first, second + 1e-6\n", tmp_path / "off.py")
    status, out, _ = check(capsys, off)
    assert status == 1 and re.search(r"grad b +largest relative error (9\.\d\de-01|1\.00e\+00)  FAILED", out), out


# Every function scaled by 1e-8; hessian is rebuilt from the scaled hvp (4 parameters: n = 3).
SMALL = (
    "\n_original_loss, _original_grad, _original_hvp = loss, grad, hvp\n\n\n"
    "def loss(*args, **kwargs):\n    return 1e-8 * _original_loss(*args, **kwargs)\n\n\n"
    "def hessian(*args, **kwargs):\n"
    "    return np.column_stack([np.append(*hvp(*args, (e[:-1], e[-1]))) for e in np.eye(4)])\n\n\n"
    "def hvp(*args, **kwargs):\n    first, second = _original_hvp(*args, **kwargs)\n"
    "    return 1e-8 * first, 1e-8 * second\n\n\n"
    "def grad(*args, **kwargs):\n    first, second = _original_grad(*args, **kwargs)\n"
    "    return {sign}1e-8 * first, 1e-8 * second\n\n\n"
    "def value_and_grad(*args, **kwargs):\n    return loss(*args, **kwargs), grad(*args, **kwargs)\n"
)


def test_a_small_loss_is_checked_at_its_own_scale(generated, tmp_path, capsys):
    right = mutate(generated, "relu_mse.py", SMALL.format(sign=""), tmp_path / "small.py")
    status, out, _ = check(capsys, right)
    assert status == 0, out
    flipped = mutate(generated, "relu_mse.py", SMALL.format(sign="-"), tmp_path / "flipped.py")
    status, out, _ = check(capsys, flipped)
    # |2e-8 g| against the floor 1e-6 (the step of the differences): a few percent, far above rtol
    assert status == 1 and re.search(r"grad w +largest relative error [0-9.]+e-0[12]  FAILED", out), out


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1e-6", "1", "2"])
def test_rtol_is_validated(generated, capsys, value):
    status, out, _ = check(capsys, generated / "relu_mse.py", f"--rtol={value}")
    assert status == 2
    assert out.strip() == f"symderiv: error: --rtol must be a number between 0 and 1, got {float(value)!r}"


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-2"])
def test_timeout_is_validated(generated, capsys, value):
    status, out, _ = check(capsys, generated / "relu_mse.py", f"--timeout={value}")
    assert status == 2 and "--timeout must be a positive number of seconds" in out


def test_a_module_that_is_not_generated_is_never_run(tmp_path, capsys):
    marker = tmp_path / "ran"
    path = tmp_path / "plain.py"
    path.write_text(f"open({str(marker)!r}, 'w').close()\n")
    status, out, _ = check(capsys, path)
    assert status == 2 and "is not a module generated by 'symderiv codegen'" in out
    assert not marker.exists()


def test_a_malformed_generated_module_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "odd.py"
    path.write_text("_SHAPES = {'w': ('n',)}\n_WRT = 'w'\n\n\ndef grad(w):\n    return (w,)\n")
    status, out, _ = check(capsys, path)
    assert status == 2 and "is not a module generated by 'symderiv codegen'" in out


def test_module_output_does_not_reach_the_report(generated, tmp_path, capsys):
    path = mutate(generated, "relu_mse.py", "\nprint('OK')\n", tmp_path / "chatty.py")
    status, out, _ = check(capsys, path)
    assert status == 0 and out.count("OK") == 1


def test_help_says_that_check_runs_the_module(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "check imports and runs the module's code" in out and "--timeout" in out


# --------------------------------------------------------------------------- the error measure


def test_a_sign_flip_of_a_small_gradient_is_an_error():
    gradient = np.array([3e-9, -1e-8, 2e-9])
    assert relative_error(gradient, -gradient) > 1e-2
    assert relative_error(gradient, np.zeros(3)) > 1e-3
    with pytest.raises(AssertionError, match="'w'"):
        check_gradient(
            lambda p: 1e-8 * float(np.sum(p["w"] ** 2)), lambda p: {"w": -2e-8 * p["w"]}, {"w": np.ones(3)}
        )


def test_a_right_small_gradient_passes():
    w = np.array([0.5, -1.0, 2.0])
    assert (
        check_gradient(lambda p: 1e-8 * float(np.sum(p["w"] ** 2)), lambda p: {"w": 2e-8 * p["w"]}, {"w": w})
        < 1e-6
    )

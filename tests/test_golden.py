"""Golden derivations: the text and LaTeX of the worked example and ten other derivations.

Each is regenerated and compared with the file committed under ``tests/golden/``, so a change to
what a reader sees is always a reviewed change. To accept new output after reading the diff:

    SYMDERIV_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symderiv.cli import main

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("SYMDERIV_REGENERATE_GOLDEN") == "1"

DERIVATIONS = {
    "relu_mse": ["-a", "relu", "-l", "mse"],
    "relu_mse_backprop": ["-a", "relu", "-l", "mse", "--view", "backprop"],
    "sigmoid_logistic": ["-a", "sigmoid", "-l", "logistic"],
    "leaky_relu_huber": ["-a", "leaky_relu(alpha=0.1)", "-l", "huber"],
    "tanh_log_cosh": ["-a", "tanh", "-l", "log_cosh"],
    "hard_tanh_hinge": ["-a", "hard_tanh", "-l", "hinge"],
    "sum_exp": ["--expr", "sum(exp(x))", "--wrt", "x"],
    "sqrt_norm": ["--expr", "sum(sqrt(x^2 + 1))", "--wrt", "x"],
    "rayleigh": ["--expr", "x . x / (w . w)", "--wrt", "w"],
    "dense_relu_mse": ["--layer", "dense(h, relu)", "--loss", "mse"],
    "two_layer_softmax": ["--layer", "dense(h, relu)", "--layer", "dense(k)", "--loss",
                          "softmax_cross_entropy", "--regularizer", "l2(lambda=0.01)"],
}
FORMATS = {"text": ".txt", "latex": ".tex"}


def derived(args: list, fmt: str, capsys) -> str:
    assert main(["derive", *args, "--format", fmt]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", DERIVATIONS)
def test_derivation_matches_its_golden_file(name, fmt, capsys):
    path = GOLDEN / f"{name}{FORMATS[fmt]}"
    output = derived(DERIVATIONS[name], fmt, capsys)
    if REGENERATE:
        path.write_text(output, encoding="utf-8")
    assert path.exists(), f"{path} is missing: regenerate with SYMDERIV_REGENERATE_GOLDEN=1"
    assert output == path.read_text(encoding="utf-8"), (
        f"{name} ({fmt}) differs from {path.name}; read the diff, then regenerate with SYMDERIV_REGENERATE_GOLDEN=1"
    )


def test_every_golden_file_belongs_to_a_derivation():
    expected = {f"{name}{suffix}" for name in DERIVATIONS for suffix in FORMATS.values()}
    assert {p.name for p in GOLDEN.iterdir()} <= expected

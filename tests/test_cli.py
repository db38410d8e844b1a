"""The command line, run as a user would: in subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

SYMDERIV = [sys.executable, "-m", "symderiv"]


def run(*args, cwd=None):
    return subprocess.run([*SYMDERIV, *args], capture_output=True, text=True, cwd=cwd, stdin=subprocess.DEVNULL)


def test_worked_example_latex():
    result = run("derive", "--activation", "relu", "--loss", "mse")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Numerator layout" in out
    assert r"\nabla_{\mathbf{w}} C &= \frac{2}{N} \mathbf{X}^{\top} \left(\mathbb{I}\left[\mathbf{z} > 0\right] \odot \mathbf{e}\right)" in out
    assert r"\frac{2}{N} \sum_{i=1}^{N} \mathbb{I}\left[z_{i} > 0\right] e_{i} \mathbf{x}_{i}^{\top}" in out
    assert r"\frac{\partial \mathbf{z}}{\partial \mathbf{u}} &= I \in \mathbb{R}^{N \times N}" in out
    assert r"\text{chain rule (element-wise function)}" in out
    assert out.count(r"\begin{align*}") == out.count(r"\end{align*}") == 8


def test_activation_and_expression_forms_agree():
    named = run("derive", "--activation", "relu", "--format", "text")
    typed = run("derive", "--expr", "max(0, w . x + b)", "--format", "text")
    assert named.returncode == typed.returncode == 0
    assert "grad_w a = 1[z > 0] * x" in named.stdout
    assert named.stdout.split("\n", 1)[1] == typed.stdout.split("\n", 1)[1]


def test_formula_activation_loss_and_parameters():
    result = run("derive", "--activation", "max(0.1*z, z)", "--loss", "log(cosh(a - y))", "--format", "text")
    assert result.returncode == 0, result.stderr
    assert "0.1 if z ≤ 0" in result.stdout
    result = run("derive", "--activation", "leaky_relu(alpha=0.2)", "--loss", "huber(delta=0.5)", "--format", "text")
    assert result.returncode == 0, result.stderr
    assert "0.2" in result.stdout and "0.5" in result.stdout


def test_let_declares_shapes_for_expr():
    result = run("derive", "--expr", "mean((t - X @ q)^2)", "--let", "t: vector(N)", "--let", "q: vector(n)",
                 "--wrt", "q", "--format", "text")
    assert result.returncode == 0, result.stderr
    assert "grad_q C = -(2/N * (X.T @ e))" in result.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["derive", "--activation", "rleu"], "unknown activation 'rleu' (did you mean 'relu'?)"),
        (["derive", "--activation", "relu", "--loss", "mes"], "unknown loss 'mes' (did you mean 'mse'?)"),
        (["derive", "--expr", "rleu(z)"], "unknown function 'rleu' at column 1 (did you mean 'relu'?)"),
        (["derive", "--expr", "w +"], "at column"),
        (["derive", "--expr", "sum(w + y)"], "vector(n)"),
        (["derive", "--expr", "sum(X + y)"], "matrix(N, n)"),
        (["derive", "--expr", "__import__('os').system('true')"], "symderiv: error"),
        (["derive", "--activation", "relu", "--kink", "middle"], "unknown kink convention 'middle'"),
        (["derive", "--activation", "relu", "--format", "docx"], "unknown format 'docx'"),
        (["derive", "--activation", "relu", "--wrt", "q"], "unknown parameter 'q'"),
        (["derive", "--activation", "relu", "--wrt", ","], "--wrt needs at least one parameter"),
        (["derive", "--loss", "mse"], "--loss needs --activation"),
        (["derive"], "say what to differentiate"),
        (["derive", "--expr", "relu(X @ w + b)"], "reduce it with sum() or mean()"),
        (["derive", "--expr", "mean(X @ w)" + " + b" * 2000], "operations deep"),
        (["derive", "--expr", "sum(q)", "--let", "q vector(n)"], "symderiv: error"),
        (["derive", "--activation", "leaky_relu(beta=1)"], "no parameter 'beta'"),
        (["derive", "--activation", "relu", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["derive", "--activation", "relu", "-o", "/nonexistent-folder/x.tex"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_output_file_is_written_atomically_and_never_overwritten_silently(tmp_path):
    target = tmp_path / "relu.tex"
    assert run("derive", "--activation", "relu", "-o", str(target)).returncode == 0
    first = target.read_text()
    assert r"\begin{align*}" in first
    target.write_text("my notes\n")
    refused = run("derive", "--activation", "relu", "-o", str(target))
    assert refused.returncode == 2 and "pass --force" in refused.stderr
    assert target.read_text() == "my notes\n"
    assert run("derive", "--activation", "relu", "-o", str(target), "--force").returncode == 0
    assert target.read_text() == first
    assert sorted(os.listdir(tmp_path)) == ["relu.tex"]


@pytest.mark.parametrize("command", ["derive", "list", "demo", "codegen", "check"])
def test_help_shows_examples(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert "example" in result.stdout and "symderiv" in result.stdout


def test_list_shows_the_catalog_with_formulas():
    result = run("list")
    assert result.returncode == 0
    assert "leaky_relu  max(alpha*z, z)" in result.stdout
    assert "hinge" in result.stdout and "max(0, 1 - y*a)" in result.stdout


def test_console_script_is_installed():
    script = shutil.which("symderiv")
    if script is None:
        pytest.skip("the symderiv console script is not on PATH (package not installed)")
    result = subprocess.run([script, "list"], capture_output=True, text=True)
    assert result.returncode == 0 and "relu" in result.stdout


def test_standalone_document_compiles_with_pdflatex(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (CI installs texlive-latex-base)")
    for args, name in [(("--activation", "relu", "--loss", "mse"), "relu_mse"),
                       (("--activation", "hard_tanh", "--loss", "huber"), "hard_tanh_huber")]:
        tex = tmp_path / f"{name}.tex"
        assert run("derive", *args, "--standalone", "-o", str(tex)).returncode == 0
        result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:]
        assert (tmp_path / f"{name}.pdf").stat().st_size > 1000


def test_demo_runs_the_worked_example_end_to_end():
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert "grad_w C = 2/N * (X.T @ (1[z > 0] * e))" in result.stdout
    assert "demo: all checks passed" in result.stdout

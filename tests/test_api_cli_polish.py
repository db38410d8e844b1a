"""Issue 12, item 4: the API and the command line say the same thing, and every bad input gets
one clear line (CLI: 'symderiv: error: ...', exit 2)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import symderiv
from symderiv import cli, ir
from symderiv.errors import SymderivError, did_you_mean
from symderiv.numeric import evaluate
from symderiv.parse import parse
from symderiv.sphinx import OptionError, OptionSpec, check_options, directive_words, parse_show

N, n = ir.dim("N"), ir.dim("n")


def run_cli(capsys, *args) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(capsys, *args) -> str:
    status, out, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1, (status, out, err)
    assert lines[0].startswith("symderiv: error: "), lines[0]
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- let: one word, validated


def test_let_is_the_keyword_and_lets_still_works_with_a_warning():
    by_let = symderiv.expression("log(sum(exp(z)))", let={"z": "vector(n)"})
    with pytest.warns(DeprecationWarning, match="write let="):
        by_lets = symderiv.expression("log(sum(exp(z)))", lets={"z": "vector(n)"})
    assert by_let == by_lets
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        symderiv.expression("log(sum(exp(z)))", {"z": "vector(n)"})  # positional: no warning
    with pytest.raises(SymderivError, match="both let and lets"), pytest.warns(DeprecationWarning):
        symderiv.expression("z", let={"z": "scalar"}, lets={"z": "scalar"})


@pytest.mark.parametrize(
    "shape,expected",
    [
        ("vector(n)", (n,)),
        ("matrix(N, n)", (N, n)),
        ("scalar", ()),
        ("z: vector(n)", (n,)),
        (("n",), (n,)),
        ((n,), (n,)),
        (["N", 3], (N, 3)),
        ((), ()),
        (4, (4,)),
        (np.int64(4), (4,)),
    ],
)
def test_declarations_accept_text_tuples_of_dimensions_and_ints(shape, expected):
    node = symderiv.expression("z", let={"z": shape})
    assert node.shape == tuple(ir.as_dim(d) for d in expected)


@pytest.mark.parametrize(
    "let,message",
    [
        ({"z": "vectr(n)"}, "the shape of 'z' cannot be read from 'vectr(n)': unknown shape 'vectr'"),
        ({"z": "vector(n"}, "the shape of 'z' cannot be read"),
        ({"z": "q: vector(n)"}, "is for 'q', not 'z'"),
        ({"z": 3.5}, "the shape of 'z' must be text such as 'vector(n)'"),
        ({"z": ("n", "m", "k")}, "a tuple of at most two dimensions"),
        ({"z": (0,)}, "a dimension of 'z' must be a name such as 'n' or a positive integer, got 0"),
        ({"z": ("vector(n)",)}, "a dimension of 'z' must be a name"),
        ({"z": True}, "the shape of 'z' must be"),
        ({1: "scalar"}, "a declared name must be an identifier"),
        ({"__class__": "scalar"}, "a declared name must be an identifier"),
        (["z"], "let must be a dict"),
    ],
)
def test_bad_declarations_are_one_clear_error_never_garbage(let, message):
    with pytest.raises(SymderivError) as caught:
        symderiv.expression("log(sum(exp(z)))", let=let)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- default parameters


def test_default_parameters_are_those_the_formula_holds(capsys):
    status, out, err = run_cli(capsys, "derive", "--expr", "mean(log(X @ w))", "--format", "text")
    assert status == 0, err
    assert "grad_w C" in out and "grad_b" not in out


def test_a_formula_without_w_or_b_asks_for_wrt_listing_its_symbols(capsys):
    line = one_error_line(capsys, "derive", "--expr", "sum(exp(x)) + mean(y)")
    assert "name the parameters with --wrt" in line and "(its symbols: x, y)" in line
    assert "unknown parameter" not in line


def test_default_parameters_of_the_codegen_command(capsys):
    status, out, err = run_cli(capsys, "codegen", "--expr", "mean(log(X @ w))")
    assert status == 0, err
    assert "_WRT = ('w',)" in out or '_WRT = ("w",)' in out


# --------------------------------------------------------------------------- the dot product, wᵀx


@pytest.mark.parametrize("sign", ["\u00b7", "\u22c5"])
def test_middle_dot_is_the_dot_product(sign):
    assert parse(f"w {sign} x") == parse("w . x")
    assert parse(f"sum(X @ w)*w{sign}x + b") == parse("sum(X @ w)*w . x + b")


def test_middle_dot_derives_like_the_dot():
    derivation = symderiv.derive(parse("w\u00b7x + b"), wrt=("w",))
    rng = np.random.default_rng(1)
    env = {"w": rng.normal(size=3), "x": rng.normal(size=3), "b": 0.2}
    gradient = evaluate(derivation.expand(derivation.gradient("w").vectorized), env)
    assert np.allclose(gradient, env["x"])


@pytest.mark.parametrize(
    "text,hint",
    [
        ("w^T x", "unexpected '^T' at column 2 (write w . x or w @ x for w\u1d40x)"),
        ("w^T", "(write w.T for the transpose of w)"),
        ("w**T x + b", "unexpected '**T'"),
        ("(X @ w)^T (X @ w)", "(write u . v or u @ v for u\u1d40v)"),
        ("w\u1d40x", "(write w . x or w @ x for w\u1d40x, and w.T for a transpose)"),
        ("a \u2212 y", "(write '-' for minus)"),
    ],
)
def test_transpose_written_as_a_power_gets_a_hint(text, hint):
    with pytest.raises(symderiv.ParseError) as caught:
        parse(text)
    assert hint in str(caught.value)


def test_a_declared_T_is_still_an_exponent():
    with pytest.raises(symderiv.ParseError, match="exponent must be a number"):
        symderiv.expression("sum(w^T)", let={"T": "scalar"})


def test_cli_hint_for_w_transpose_x(capsys):
    line = one_error_line(capsys, "derive", "--expr", "mean(log(X @ w)) + w^T x", "--wrt", "w")
    assert "write w . x or w @ x" in line


# --------------------------------------------------------------------------- did you mean


@pytest.mark.parametrize(
    "name,known,suggestion",
    [
        ("W", ["w", "b", "X"], "w"),
        ("w_1", ["W_1", "b_1", "W_2", "X", "Y"], "W_1"),
        ("gradiants", ["steps", "gradients", "chain"], "gradients"),
        ("rleu", ["relu", "elu"], "relu"),
    ],
)
def test_did_you_mean_ignores_case_first(name, known, suggestion):
    assert did_you_mean(name, known) == f" (did you mean '{suggestion}'?)"
    assert did_you_mean("qqq", known) == ""


def test_unknown_parameter_suggests_the_formula_s_name(capsys):
    line = one_error_line(capsys, "derive", "--expr", "mean(log(X @ w))", "--wrt", "W")
    assert line == "symderiv: error: unknown parameter 'W' (did you mean 'w'?)"


def test_unknown_parameter_of_a_network_suggests_the_layer_s_name(capsys):
    line = one_error_line(
        capsys, "derive", "--layer", "dense(h, relu)", "--layer", "dense(k)", "--loss", "mse", "--wrt", "w_1"
    )
    assert "unknown parameter 'w_1' (did you mean 'W_1'?)" in line


def test_show_suggests_the_closest_part():
    with pytest.raises(OptionError, match=r"gradiants \(did you mean 'gradients'\?\)"):
        parse_show("steps, gradiants")


def test_unknown_directive_options_pass_parsing_and_are_refused_with_a_suggestion():
    spec = OptionSpec({"show": str, "wrt": str})
    converted = spec["shwo"]("steps")
    with pytest.raises(OptionError, match=r"unknown option ':shwo:' \(did you mean 'show'\?\)"):
        check_options({"shwo": converted}, list(spec))
    with pytest.raises(OptionError, match=r"unknown option ':colour:' \(its options: show, wrt\)"):
        check_options({"colour": spec["colour"]("red")}, list(spec))
    check_options({"show": "steps"}, list(spec))
    assert "shwo" not in spec


def test_directive_messages_name_the_directive_options():
    message = "the formula has neither w nor b: name the parameters with --wrt; declare it, e.g. --let"
    assert directive_words(message).endswith("with :wrt:; declare it, e.g. :let:")
    assert directive_words("--expr cannot be combined") == ":expression: cannot be combined"


def test_sphinx_warns_about_unknown_options_at_the_directive(tmp_path):
    (tmp_path / "conf.py").write_text('extensions = ["myst_parser", "symderiv.sphinx"]\n', encoding="utf-8")
    (tmp_path / "index.rst").write_text(
        "Page\n====\n\n.. toctree::\n\n   page\n\n.. symderiv::\n   :activation: relu\n   :shwo: steps\n"
        "\n.. symderiv-catalog::\n   :kind: loses\n",
        encoding="utf-8",
    )
    (tmp_path / "page.md").write_text(
        "# MyST\n\n```{symderiv}\n:expression: sum(exp(x))\n```\n\n"
        "```{symderiv}\n:activation: relu\n:show: gradiants\n```\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(tmp_path), str(tmp_path / "_build")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    warnings_ = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert any(
        "index.rst:8" in w and "unknown option ':shwo:' (did you mean 'show'?)" in w for w in warnings_
    )
    assert any("page.md:3" in w and "name the parameters with :wrt:" in w for w in warnings_)
    assert any("page.md:7" in w and "did you mean 'gradients'?" in w for w in warnings_)
    assert any(
        "index.rst:12" in w and "unknown kind 'loses' (did you mean 'losses'?)" in w for w in warnings_
    )
    assert len(warnings_) == 4, result.stderr


# --------------------------------------------------------------------------- one error prefix


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["derive", "--let", "q: vector(n)", "--activation", "relu"],
            "--let declares symbols for --expr only",
        ),
        (["derive"], "say what to differentiate"),
        (
            ["derive", "--activation", "relu", "--format"],
            "expected one argument (see 'symderiv derive --help')",
        ),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["check", "/nonexistent/module.py"], "/nonexistent/module.py: no such file"),
        (["codegen", "--activation", "relu", "-o", "/nonexistent-folder/x.py"], "does not exist"),
        (["derive", "--expr", "sum(w\u00d7x)"], "(write '*' to multiply)"),
        (["derive", "--activation", "relu", "--loss", "mes"], "unknown loss 'mes' (did you mean 'mse'?)"),
    ],
)
def test_every_cli_error_starts_with_one_prefix(capsys, args, message):
    assert message in one_error_line(capsys, *args)


def test_an_existing_directory_as_output_is_an_error(capsys, tmp_path):
    line = one_error_line(capsys, "codegen", "--activation", "relu", "-o", str(tmp_path))
    assert line == f"symderiv: error: {tmp_path} is a directory"


# --------------------------------------------------------------------------- catalog parameter ranges


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["-a", "relu", "-l", "huber(delta=-1)"],
            "huber: parameter 'delta' must be a finite number > 0, got -1",
        ),
        (
            ["-a", "relu", "-l", "huber(delta=0)"],
            "huber: parameter 'delta' must be a finite number > 0, got 0",
        ),
        (
            ["-a", "leaky_relu(alpha=nan)"],
            "leaky_relu: parameter 'alpha' must be a finite number >= 0, got 'nan'",
        ),
        (["-a", "leaky_relu(alpha=-0.1)"], "parameter 'alpha' must be a finite number >= 0, got -0.1"),
        (["-a", "leaky_relu(alpha=1e999)"], "must be a finite number >= 0, got inf"),
        (["-a", "elu(alpha=-1)"], "elu: parameter 'alpha' must be a finite number >= 0, got -1"),
        (["-a", "leaky_relu(beta=x)"], "leaky_relu has no parameter 'beta' (its parameters: alpha)"),
        (["-a", "relu", "-l", "hinge(margin=2)"], "hinge has no parameter 'margin' (its parameters: none)"),
        (["--layer", "dense(k)", "-l", "huber(delta=-2)"], "must be a finite number > 0, got -2"),
    ],
)
def test_catalog_parameters_out_of_range_are_refused(capsys, args, message):
    assert message in one_error_line(capsys, "derive", *args)


@pytest.mark.parametrize(
    "make",
    [
        lambda: symderiv.loss("huber", symderiv.neuron("relu"), delta=-1),
        lambda: symderiv.neuron("leaky_relu", alpha=float("nan")),
        lambda: symderiv.neuron("leaky_relu", alpha="0.1"),
        lambda: symderiv.neuron("elu", alpha=True),
        lambda: symderiv.network(["dense(k)"], loss="huber", delta=0),
    ],
)
def test_catalog_parameters_are_checked_in_the_api_too(make):
    with pytest.raises(SymderivError, match="must be a finite number"):
        make()


@pytest.mark.parametrize("spec", ["huber(delta=0.5)", "huber(delta=2)"])
def test_catalog_parameters_in_range_are_accepted(spec):
    assert symderiv.loss(spec, symderiv.neuron("relu")).name == "huber"
    assert symderiv.neuron("elu(alpha=0)").name == "elu"
    assert symderiv.neuron("leaky_relu(alpha=0)").name == "leaky_relu"


def test_a_call_of_a_catalog_function_in_z_is_still_a_formula():
    assert symderiv.neuron("sigmoid(z)").name == "f"
    assert symderiv.neuron("relu(z)").name == "f"

"""Issue 13, item 2: every failure a user can cause in the formula layer is one symderiv error.

Each reproducer runs through ``symderiv.cli.main`` and must end with exit status 2 and one line
starting ``symderiv: error:`` (exit 1 means "the check failed", a traceback is a bug).
"""

from __future__ import annotations

import pytest
import sympy

from symderiv import ir, numeric, parse
from symderiv.cli import main
from symderiv.errors import ConstantError, ParseError, SymderivError
from symderiv.functions import log1p, sigmoid, softplus
from symderiv.render.latex import ScalarLatexPrinter


def fails(capsys, *argv: str) -> str:
    """The one error line of ``symderiv derive ARGV``, after checking exit 2 and one line."""
    status = main(["derive", *argv, "--format", "text"])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("symderiv: error: "), captured.err
    return lines[0]


def succeeds(capsys, *argv: str, fmt: str = "text") -> str:
    status = main(["derive", *argv, "--format", fmt])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return captured.out


# --------------------------------------------------------------------------- constants outside float64


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--expr", "exp(710)*b", "--wrt", "b"], "constant exp(710) is too large for float64"),
        (["--expr", "1e309*b", "--wrt", "b"], "constant 1e309 is too large for float64"),
        (["--expr", "-1E400 + b", "--wrt", "b"], "constant 1E400 is too large"),
        (["--activation", "1e309*z", "--loss", "mse"], "constant 1e309"),
        (["--activation", "relu", "--loss", "(a - y)^2 * exp(710)"], "constant exp(710)"),
        (["--expr", "(10000000000)^64 * b", "--wrt", "b"], "about 1.000e+640 is too large for float64"),
        (["--activation", "leaky_relu(alpha=1e309)", "--loss", "mse"], "'alpha'"),
        (["--activation", "leaky_relu(alpha=nan)", "--loss", "mse"], "'alpha'"),
    ],
)
def test_constants_outside_float64_are_refused_naming_them(capsys, argv, named):
    assert named in fails(capsys, *argv)


def test_the_largest_float64_constants_are_accepted(capsys):
    succeeds(capsys, "--expr", "1.7e308 * b", "--wrt", "b")
    succeeds(capsys, "--expr", "exp(709) * b", "--wrt", "b")


def test_a_division_whose_reciprocal_overflows_is_refused(capsys):
    line = fails(capsys, "--expr", "b / 1e-320", "--wrt", "b")
    assert "division by 1e-320: 1/(1e-320) is too large for float64" in line


def test_a_symbolic_constant_outside_float64_is_refused(capsys):
    line = fails(capsys, "--expr", "exp(b - b + 710) * b", "--wrt", "b")
    assert "exp(b - b + 710) equals exp(710) for every value of its symbols, which is too large" in line


@pytest.mark.parametrize(
    "expr, shown",
    [
        ("(b - b)^-1 * b", "(b - b)^-1 equals 1/0"),
        ("log((b - b)^2) * b", "log((b - b)^2) equals 1/0"),
        ("sqrt(b - b - 1) * b", "(it is complex)"),
    ],
)
def test_an_expression_with_one_undefined_value_is_refused(capsys, expr, shown):
    assert shown in fails(capsys, "--expr", expr, "--wrt", "b")


def test_a_smooth_function_of_a_constant_operand_without_a_derivative_is_refused(capsys):
    line = fails(capsys, "--expr", "(sqrt(b - b) + 710) * b", "--wrt", "b")
    assert "sqrt(b - b) has no derivative: its operand is always 0, where the derivative is 1/0" in line
    assert "(b-b)^0.5 has no derivative" in fails(capsys, "--expr", "(b-b)^0.5 * b", "--wrt", "b")
    succeeds(capsys, "--expr", "relu(b - b) * b + exp(b - b) * b", "--wrt", "b")  # kinks and smooth: fine


# --------------------------------------------------------------------------- division by zero


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--expr", "b / (b-b)", "--wrt", "b"], "division by zero: (b-b) is 0 at column 5"),
        (["--expr", "b / (2*b - b - b)", "--wrt", "b"], "division by zero: (2*b - b - b) is 0"),
        (["--expr", "min(c, b / (0 / c))", "--let", "c: scalar", "--wrt", "b"], "division by zero: (0 / c) is 0"),
        (["--expr", "sum(w / (x - x))", "--wrt", "w"], "division by zero: (x - x) is 0"),
        (["--activation", "z - z", "--loss", "1/a"], "division by zero: a is 0"),
        (["--expr", "b / 0", "--wrt", "b"], "division by the constant 0"),
    ],
)
def test_division_by_a_symbolic_zero_is_refused(capsys, argv, message):
    assert message in fails(capsys, *argv)


def test_a_difference_that_is_zero_is_still_allowed_outside_a_denominator():
    assert isinstance(parse.parse("b - b + b"), ir.Node)
    assert isinstance(parse.parse("0 / b"), ir.Div)


# --------------------------------------------------------------------------- printers and kinks


@pytest.mark.parametrize("fmt", ["latex", "text", "markdown", "html", "json"])
@pytest.mark.parametrize("expr", ["sigmoid(2)^2*b", "softplus(b)^2", "log1p(b)^3 * sigmoid(b)^-2"])
def test_powers_of_custom_functions_render_in_every_format(capsys, fmt, expr):
    assert succeeds(capsys, "--expr", expr, "--wrt", "b", fmt=fmt)


@pytest.mark.parametrize(
    "fn, latex",
    [
        (sigmoid, r"\sigma^{2}\left(x\right)"),
        (softplus, r"\operatorname{softplus}^{2}\left(x\right)"),
        (log1p, r"\log^{2}\left(1 + x\right)"),
    ],
)
def test_custom_function_latex_takes_the_power_as_sympy_passes_it(fn, latex):
    x = sympy.Symbol("x")
    assert sympy.latex(fn(x) ** 2) == latex
    assert ScalarLatexPrinter().doprint(fn(x) ** 2) == latex
    assert sympy.latex(fn(x)) == latex.replace("^{2}", "")


def test_a_kink_of_a_function_not_real_everywhere_is_explained(capsys):
    out = succeeds(capsys, "--activation", "relu(log(z))", "--loss", "mse")
    assert "Why:" in out
    assert "Cannot convert" not in out


# --------------------------------------------------------------------------- bounded numbers


def test_an_exponent_just_above_the_bound_is_printed_as_written(capsys):
    line = fails(capsys, "--expr", "b^64.0000000000001", "--wrt", "b")
    assert "exponent 64.0000000000001 is larger than 64" in line
    assert "exponent -64.5 is smaller than -64" in fails(capsys, "--expr", "b^-64.5", "--wrt", "b")


@pytest.mark.parametrize(
    "expr, message",
    [
        ("b^(10^100)", "exponent 100 is larger than 64"),
        ("exp(exp(exp(10))) * b", f"is too large (more than {parse.MAX_CONSTANT_BITS} bits)"),
        ("((10^64)^64)^64 * b", f"more than {parse.MAX_CONSTANT_BITS} bits"),
        ("1" * 31 + " * b", "number is longer than 30 characters"),
    ],
)
def test_numbers_are_bounded_on_every_path(capsys, expr, message):
    assert message in fails(capsys, "--expr", expr, "--wrt", "b")


# --------------------------------------------------------------------------- declarations


def test_a_name_declared_twice_is_refused():
    assert parse.parse_declarations(["c: scalar", "q: vector(n)"]) == {"c": (), "q": (ir.dim("n"),)}
    with pytest.raises(SymderivError, match=r"^'c' is declared twice: 'c: scalar' and 'c: vector\(n\)'$"):
        parse.parse_declarations(["c: scalar", "c: vector(n)"])


# --------------------------------------------------------------------------- the numeric layer


@pytest.mark.parametrize(
    "value, message",
    [
        (sympy.Float("2e308"), "is too large for float64"),
        (sympy.Integer(10) ** 400, "constant about 1.000e+400 is too large for float64"),
        (sympy.zoo, "constant 1/0 is not a finite real number"),
        (sympy.nan, "constant 0/0 is not a finite real number"),
        (sympy.oo, "constant oo is not a finite real number"),
        (1 + sympy.I, "constant 1 + I is not a finite real number"),
    ],
)
def test_finite_float_refuses_what_float64_cannot_hold(value, message):
    with pytest.raises(ConstantError, match=message.replace("+", r"\+")):
        numeric.finite_float(value)


def test_finite_float_converts_finite_constants():
    assert numeric.finite_float(sympy.Rational(1, 4)) == 0.25
    assert numeric.finite_float(-sympy.Float("1.7e308")) == -1.7e308


def test_check_constants_names_an_overflowing_derived_constant():
    b = ir.Symbol("b", ())
    numeric.check_constants(ir.mul(ir.Const(sympy.Float("1e300")), ir.power(b, ir.Const(2))))
    numeric.check_constants(ir.mul(ir.Const(1 / ir.dim("N")), b))  # dimensions are not numbers
    with pytest.raises(ConstantError, match=r"is too large for float64"):
        numeric.check_constants(ir.mul(ir.Const(sympy.Float("2e308")), b))


def test_evaluating_a_complex_constant_is_a_constant_error():
    b = ir.Symbol("b", ())
    with pytest.raises(ConstantError, match=r"^constant I is not a finite real number$"):
        numeric.evaluate(ir.mul(ir.Const(sympy.I), b), {"b": 1.0})


def test_parse_errors_for_constants_carry_the_column():
    with pytest.raises(ParseError) as error:
        parse.parse("b + 2 * 1e309")
    assert error.value.column == 9

"""Bounded work (issue 13, item 1): kinks placed by a bounded search, one depth limit for every
entry, and a wall-clock guard for the command line and the Sphinx directive."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time

import pytest
import sympy

import symderiv
from symderiv import breakpoints, ir, kinks, limits
from symderiv.cli import main
from symderiv.errors import SymderivError
from symderiv.functions import log1p, sigmoid, softplus

b = sympy.Symbol("b", real=True)
FAST = 10.0  # seconds: "a few", with room for a loaded machine


def run(capsys, *argv: str) -> tuple:
    """``symderiv ARGV`` in process: (exit status, stdout, stderr, seconds)."""
    start = time.perf_counter()
    status = main(list(argv))
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    return status, out, err, seconds


def one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symderiv: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]


# --------------------------------------------------------------------------- the hanging formulas


@pytest.mark.parametrize(
    "formula, why",
    [
        ("max(softplus(b), b)", "b − softplus(b) = 0"),
        ("min(sigmoid(b), log1p(b))", "log1p(b) − σ(b) = 0"),
        ("min(b, tanh(b^-2))^3", "b − tanh(1/b²) = 0"),
        ("max(exp(b), min(b/1e-3, b*b))", "exp(b) − 1000b = 0"),
        ("clip(min(b^1.5, b^3), -2.5, 1)", "b³ = 0"),
    ],
)
def test_formulas_that_hung_end_at_once_with_a_clear_error(capsys, formula, why):
    status, out, err, seconds = run(capsys, "--time-limit", "0", "derive", "--expr", formula, "--wrt", "b")
    assert seconds < FAST, f"{formula} took {seconds:.1f} s"
    assert status == 2 and out == ""
    one_line_error(err, "cannot be resolved", why)


@pytest.mark.parametrize("activation", ["abs(log1p(z))", "cosh(abs(log1p(z)))"])
@pytest.mark.parametrize("form", ["text", "latex"])
def test_abs_log1p_with_huber_is_fast_and_canonical(capsys, activation, form):
    status, out, err, seconds = run(
        capsys, "--time-limit", "0", "derive", "--activation", activation, "--loss", "huber", "--format", form
    )
    assert status == 0, err
    assert seconds < FAST, f"{activation} took {seconds:.1f} s"
    if form == "text" and activation == "abs(log1p(z))":
        # one piece per open interval of the domain z > -1, and the convention at the kink 0
        assert "{-1/(1 + z) if z > -1 and z < 0; 0 if z = 0; 1/(1 + z) if z > 0}" in out


def test_abs_log1p_derivative_matches_central_differences():
    derivative = kinks.derivative(sympy.Abs(log1p(b)), b)
    for point in (-0.9, -0.3, 0.4, 2.5):
        h = 1e-6
        f = lambda v: abs(math.log1p(v))  # noqa: E731
        numeric = (f(point + h) - f(point - h)) / (2 * h)
        assert float(derivative.subs(b, point)) == pytest.approx(numeric, rel=1e-5)
    assert derivative.subs(b, 0) == 0  # the minimum-norm subgradient at the kink


# --------------------------------------------------------------------------- breakpoints


@pytest.mark.parametrize(
    "body, points",
    [
        (sympy.Max(0, b), [0]),
        (sympy.Abs(b**2 - 2), [-sympy.sqrt(2), sympy.sqrt(2)]),
        (sympy.Max(0, b**5 - b), [-1, 0, 1]),
        (sympy.Max(sympy.exp(b), 1), [0]),  # exp inverted: exp(b) = 1 at b = 0
        (sympy.Max(sigmoid(b), sympy.Rational(1, 2)), [0]),
        (sympy.Max(sympy.sqrt(b), 1), [1]),
        (sympy.Min(sympy.Max(b, -1), 1), [-1, 1]),
    ],
)
def test_kinks_are_found_by_the_bounded_search(body, points):
    analysis = kinks.analyse(body, b)
    assert analysis is not None
    assert [k.point for k in analysis.kinks] == points


def test_the_domain_of_a_logarithm_bounds_the_pieces():
    analysis = kinks.analyse(sympy.Min(sympy.log(b), 0), b)
    assert analysis.derivative == sympy.Piecewise((1 / b, (b > 0) & (b < 1)), (0, b >= 1))


def test_a_pole_is_not_a_kink():
    analysis = kinks.analyse(sympy.Max(b, 1 / b), b)
    assert [k.point for k in analysis.kinks] == [-1, 1]


@pytest.mark.parametrize(
    "body, why",
    [
        (sympy.Max(softplus(b), b), "no closed-form roots"),
        (sympy.Abs(sympy.sin(b)), "no closed-form roots"),  # infinitely many kinks
        (sympy.Max(0, b**7 - 3 * b + 1), "degree above"),
        (sympy.Max(0, sum(sympy.Abs(b - k) for k in range(12)) - 40), "more than"),
    ],
)
def test_out_of_reach_kinks_are_refused_quickly(body, why):
    start = time.perf_counter()
    assert kinks.analyse(body, b) is None
    with pytest.raises(kinks.UnresolvedKinkError, match=why):
        kinks.derivative(body, b)
    assert time.perf_counter() - start < FAST


def test_conditions_on_other_symbols_are_not_searched():
    c = sympy.Symbol("c", real=True)
    with pytest.raises(breakpoints.Unresolved):
        breakpoints.breakpoints([b > c], b)


def test_functions_of_several_parameters_keep_the_structural_form():
    q = sympy.Symbol("q", real=True)
    result = kinks.derivative(sympy.Max(b, q), b, "min-norm", (b, q))
    assert isinstance(result, sympy.Piecewise)


# --------------------------------------------------------------------------- one depth limit


def long_sum(name: str, terms: int) -> str:
    return "+".join([name] * terms)


def nested(name: str, depth: int) -> str:
    return "exp(" * depth + name + ")" * depth


@pytest.mark.parametrize(
    "argv",
    [
        ["--activation", long_sum("z", 500)],
        ["--activation", nested("z", 149)],
        ["--activation", "relu", "--loss", long_sum("a", 500)],
        ["--activation", "relu", "--loss", nested("a", 149)],
        ["--layer", "dense(3)", "--loss", long_sum("a", 500)],
        ["--layer", "dense(3)", "--loss", nested("a", 149)],
        ["--expr", "mean(X @ w)" + " + b" * 400],
    ],
)
def test_every_entry_has_the_depth_limit(capsys, argv):
    status, out, err, seconds = run(capsys, "derive", *argv)
    assert status == 2 and out == ""
    one_line_error(err, "operations deep", "up to")
    assert seconds < FAST


def test_the_api_has_the_depth_limit():
    with pytest.raises(SymderivError, match="operations deep"):
        symderiv.neuron(long_sum("z", 500))
    with pytest.raises(SymderivError, match="operations deep"):
        symderiv.neuron(sympy.sympify(0) + _nested_sympy(limits.MAX_FORMULA_DEPTH + 5))
    node = ir.Symbol("b")
    for _ in range(3000):  # built by hand, far deeper than Python's recursion limit
        node = ir.Add(node, ir.Const(1))
    with pytest.raises(SymderivError, match="3000 operations deep"):
        symderiv.derive(node, wrt="b")


def _nested_sympy(depth: int) -> sympy.Expr:
    z = sympy.Symbol("z")
    expr = z
    for _ in range(depth):
        expr = sympy.exp(expr)
    return expr


def test_sympy_depth_does_not_recurse():
    assert limits.sympy_depth(_nested_sympy(3)) == 3
    assert limits.sympy_depth(_nested_sympy(5000)) == 5000


# --------------------------------------------------------------------------- the wall-clock guard


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_time_limit_stops_a_long_stage_with_a_one_line_error():
    start = time.monotonic()
    with pytest.raises(limits.TimeLimitError, match=r"^deriving took longer than 0.2 s \(the limit"):
        with limits.time_limit(0.2, "deriving"):
            spin(5)
    assert time.monotonic() - start < 2


def test_time_limit_leaves_a_fast_stage_and_the_timer_alone():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with limits.time_limit(5, "deriving"):
        spin(0.01)
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    assert signal.getsignal(signal.SIGALRM) is before


def test_a_nested_guard_leaves_the_outer_one_in_charge():
    with pytest.raises(limits.TimeLimitError, match="outer"):
        with limits.time_limit(0.2, "outer"):
            with limits.time_limit(10, "inner"):
                spin(5)


def test_time_limit_off_the_main_thread_does_nothing():
    seen: list = []

    def work():
        with limits.time_limit(0.01, "deriving"):
            spin(0.05)
        seen.append("done")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == ["done"]


@pytest.mark.parametrize("value, message", [("abc", "number of seconds, got 'abc'"), ("-1", ">= 0"),
                                            ("inf", ">= 0"), ("nan", ">= 0")])
def test_bad_time_limits_are_refused(capsys, value, message):
    status, _, err, _ = run(capsys, "--time-limit", value, "derive", "--activation", "relu")
    assert status == 2
    one_line_error(err, message)


def test_the_time_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(limits.TIME_LIMIT_VARIABLE, "7.5")
    assert limits.time_budget() == 7.5
    assert limits.time_budget("2") == 2.0
    monkeypatch.delenv(limits.TIME_LIMIT_VARIABLE)
    assert limits.time_budget() == limits.DEFAULT_TIME_LIMIT


def test_the_cli_stops_after_its_time_limit(capsys, monkeypatch):
    import symderiv.cli.derive_cmd as derive_cmd

    monkeypatch.setattr(derive_cmd, "build", lambda args: spin(5))
    status, out, err, seconds = run(capsys, "--time-limit", "0.2", "derive", "--activation", "relu")
    assert status == 2 and seconds < 3
    one_line_error(err, "'symderiv derive' took longer than 0.2 s")


CONF = 'extensions = ["symderiv.sphinx"]\nsymderiv_time_limit = 0.001\n'
INDEX = """Guarded
=======

.. symderiv::
   :activation: relu
   :loss: mse

A paragraph after the directive.
"""


def test_the_directive_warns_at_its_line_when_out_of_time(tmp_path):
    pytest.importorskip("sphinx")
    (tmp_path / "conf.py").write_text(CONF, encoding="utf-8")
    (tmp_path / "index.rst").write_text(INDEX, encoding="utf-8")
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(tmp_path), str(tmp_path / "_build")]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "index.rst:4" in warnings[0], result.stderr
    assert "took longer than 0.001 s" in warnings[0]
    assert "A paragraph after the directive." in (tmp_path / "_build" / "index.html").read_text(encoding="utf-8")

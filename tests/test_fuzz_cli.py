"""Fuzzing the command line (issue 13): formulas from the grammar of the formula language, and
junk, through ``symderiv derive --expr/--activation/--loss``. Every input ends within a few
seconds with exit status 0, or 2 and one line on stderr; never a traceback."""

from __future__ import annotations

import time

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from symderiv.cli import main  # noqa: E402

GUARD = "3"  # seconds: the command line's own time limit during the fuzz
WALL = 8.0  # seconds an input may take in all (the guard, start-up and printing)
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same inputs on every run
    # capsys is read (and so emptied) around every input
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

UNARY = ["exp", "log", "log1p", "sqrt", "tanh", "cosh", "sin", "cos", "sigmoid", "softplus", "relu", "abs", "sign"]
NUMBERS = st.sampled_from(["0", "1", "2", "0.5", "1e-3", "3.25", "1e309", "710", "-1", "1e-320", "64", "0.1"])
OPERATORS = ["+", "-", "*", "/", "^"]


def formulas(*names: str) -> st.SearchStrategy:
    """Formulas in ``names`` built from the grammar: numbers, calls, max/min/clip, operators."""
    leaves = st.one_of(st.sampled_from(names), NUMBERS)

    def extend(inner):
        return st.one_of(
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(UNARY), inner),
            st.builds(lambda f, a, c: f"{f}({a}, {c})", st.sampled_from(["max", "min"]), inner, inner),
            st.builds(lambda a, lo, hi: f"clip({a}, {lo}, {hi})", inner, NUMBERS, NUMBERS),
            st.builds(lambda a, op, c: f"({a} {op} {c})", inner, st.sampled_from(OPERATORS), inner),
            st.builds(lambda a: f"-{a}", inner),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def derive(capsys, *argv: str) -> None:
    """Run ``symderiv derive ARGV`` in process and check that it ended in a documented way."""
    capsys.readouterr()
    start = time.perf_counter()
    try:
        status = main(["--time-limit", GUARD, "derive", *argv, "--format", "text"])
    except BaseException as error:  # noqa: BLE001 - any escape is the failure under test
        pytest.fail(f"symderiv derive {argv!r} raised {type(error).__name__}: {error}")
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert seconds < WALL, f"symderiv derive {argv!r} took {seconds:.1f} s"
    assert status in (0, 2), (argv, status, err)
    if status == 0:
        assert out and not err.strip(), (argv, err)
    else:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("symderiv: error: "), (argv, err)


@FUZZ
@given(formula=formulas("b"))
def test_expr(capsys, formula):
    derive(capsys, "--expr", formula, "--wrt", "b")


@FUZZ
@given(formula=formulas("z"))
def test_activation(capsys, formula):
    derive(capsys, "--activation", formula)


@FUZZ
@given(formula=formulas("a", "y"))
def test_loss(capsys, formula):
    derive(capsys, "--activation", "relu", "--loss", formula)


JUNK = st.lists(
    st.sampled_from(list("zaby()+-*/^.,=@ 0123456789e_") + ["max", "exp", "relu", "clip", "\x00", "é", "\n"]),
    max_size=30,
).map("".join)


@settings(FUZZ, max_examples=150)
@given(text=JUNK, option=st.sampled_from(["--expr", "--activation", "--loss"]))
def test_junk(capsys, text, option):
    extra = ["--activation", "relu"] if option == "--loss" else []
    derive(capsys, *extra, option, text)

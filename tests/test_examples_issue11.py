"""The issue-11 examples run end to end: the digits network and Newton-CG with generated hvp."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HAS = {name: importlib.util.find_spec(name) is not None for name in ("sklearn", "scipy", "matplotlib")}
needs_examples_extra = pytest.mark.skipif(
    not (HAS["sklearn"] and HAS["scipy"]),
    reason="needs scikit-learn and scipy (pip install 'symderiv[examples]')",
)
NUMBER = r"([-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
# One BLAS thread: on a busy two-core machine OpenBLAS's threads make these small problems (and
# SciPy's L-BFGS-B) tens of times slower; results do not depend on it.
SINGLE_THREADED = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def run(script: str, *argv: str) -> str:
    result = subprocess.run(
        [sys.executable, script, *argv],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, **SINGLE_THREADED},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def numbers_after(label: str, text: str) -> list[float]:
    """The numbers of the table row ``label`` (the line starting with it and then a number)."""
    row = re.compile(re.escape(label) + r"\s+\d")
    line = next(line for line in text.splitlines() if row.match(line))
    return [float(n) for n in re.findall(NUMBER, line[len(label) :])]


@needs_examples_extra
def test_digits_network_reaches_95_percent_and_matches_mlp_classifier_objective(tmp_path):
    argv = ["--plot", str(tmp_path / "loss.png")] if HAS["matplotlib"] else []
    out = run("digits_network.py", *argv)
    ours = numbers_after("symderiv + L-BFGS", out)
    theirs = numbers_after("MLPClassifier (lbfgs)", out)
    assert ours[0] >= 0.95 and 0.9 <= theirs[0] <= 1.0  # test accuracies
    assert ours[-1] > 0 and theirs[-1] > 0  # final objectives
    # alpha = λ N makes the two objectives one function: the generated loss at MLPClassifier's
    # weights is its loss_.
    difference = float(re.search(r"relative difference " + NUMBER, out).group(1))
    assert difference < 1e-10
    assert "alpha = λ·N = 0.001·1347 = 1.347" in out
    if HAS["matplotlib"]:
        assert (tmp_path / "loss.png").stat().st_size > 0


@needs_examples_extra
def test_newton_cg_with_generated_hvp_beats_lbfgs_and_agrees():
    out = run("newton_cg_logistic.py")
    newton = numbers_after("Newton-CG (hvp)", out)
    quasi = numbers_after("L-BFGS", out)
    assert newton[0] < quasi[0]  # iterations
    assert newton[2] > 0  # hvp evaluations
    assert abs(newton[-2] - quasi[-2]) < 1e-9  # the same mean loss
    differences = [float(d) for d in re.findall(r"largest relative difference " + NUMBER + r" \(ok\)", out)]
    assert len(differences) == 3 and max(differences) <= 1e-4
    assert "FAILED" not in out

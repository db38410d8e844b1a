"""Issue 14: examples/dask_logistic_regression.py runs end to end at a tiny size.

It writes 20 000 rows to a zarr store, fits them with the generated module over Dask on a
two-process LocalCluster and with dask-glm, agrees to 1e-4, prints the timing table, and
reuses the store on a second run. Times are printed, never asserted.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEEDED = ("dask", "distributed", "zarr", "scipy", "dask_glm")
MISSING = [name for name in NEEDED if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"needs {', '.join(MISSING)} (pip install 'symderiv[examples,dask]')"
)
NUMBER = r"([-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
SINGLE_THREADED = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
ROWS = 20_000


def run(*argv: str) -> str:
    result = subprocess.run(
        [sys.executable, "dask_logistic_regression.py", *argv],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, **SINGLE_THREADED},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "iteration" in result.stderr  # the progress line
    return result.stdout


def test_dask_example_fits_agrees_with_dask_glm_and_reuses_its_store(tmp_path):
    store = tmp_path / "data.zarr"
    argv = ["--rows", str(ROWS), "--chunk-rows", "5000", "--repeats", "1", "--path", str(store)]
    out = run(*argv)
    assert "2 worker processes" in out and "written" in out
    difference = float(
        re.search(r"largest relative difference of the coefficients " + NUMBER + r" \(ok\)", out)[1]
    )
    assert difference <= 1e-4
    for label in ("NumPy in memory", "Dask on the cluster", "dask-glm Logistic"):
        rows, milliseconds = re.search(re.escape(label) + r".*?\s(\d+)\s+" + NUMBER, out).groups()
        assert int(rows) == ROWS and float(milliseconds) > 0
    assert re.search(rf"Dask ÷ in-memory at {ROWS} rows: " + NUMBER, out)

    again = run(*argv, "--in-memory-rows", "5000")
    assert "reused" in again and "(ok)" in again
    assert re.search(r"Dask ÷ in-memory per row \(Dask on 20000 rows, NumPy on the first 5000\)", again)


def test_dask_example_refuses_a_path_that_is_not_its_store(tmp_path):
    (tmp_path / "other.txt").write_text("not a zarr store", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "dask_logistic_regression.py", "--rows", "100", "--path", str(tmp_path)],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode != 0
    assert "is not this script's data set of 100 rows: remove it" in result.stderr
    assert (tmp_path / "other.txt").exists()

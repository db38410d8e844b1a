"""The package as Python users expect it: LICENSE, CHANGELOG and py.typed in the wheel, mypy
clean, and generated modules clean under ruff however many parameters and data vectors they take."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_codegen_cli import _build_wheel

from symderiv import ir
from symderiv.cli import main
from symderiv.codegen.layout import LINE_LIMIT
from symderiv.codegen.layout import assign_call as _assign_call
from symderiv.codegen.layout import return_lines as _return
from symderiv.errors import ShapeError

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_file_is_the_license_pyproject_declares():
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the symderiv authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_changelog_has_unreleased_and_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert PYPROJECT["project"]["version"] in headings
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        assert re.search(r"^### (Added|Changed|Deprecated|Removed|Fixed|Security)$", section, re.MULTILINE)


def test_py_typed_is_package_data():
    assert (ROOT / "symderiv" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["symderiv"]


def test_wheel_ships_license_changelog_and_py_typed(tmp_path):
    build = _build_wheel(tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    with zipfile.ZipFile(next(tmp_path.glob("symderiv-*.whl"))) as wheel:
        names = wheel.namelist()
        assert "symderiv/py.typed" in names
        licenses = [n for n in names if ".dist-info/" in n and n.endswith("LICENSE")]
        assert licenses and wheel.read(licenses[0]).decode() == (ROOT / "LICENSE").read_text(encoding="utf-8")
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License: MIT" in metadata
    assert "# Changelog" in metadata and "## [Unreleased]" in metadata  # after the README


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (the test extra)")
def test_mypy_passes_with_the_projects_configuration():
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_node_scalar_of_a_matrix_operation_is_a_shape_error():
    N, n = ir.dim("N"), ir.dim("n")
    product = ir.Symbol("X", (N, n)) @ ir.Symbol("w", (n,))
    with pytest.raises(ShapeError, match="not element-wise"):
        product.scalar([])


# --------------------------------------------------------------------------- generated modules and ruff


def test_short_statements_stay_on_one_line_and_long_ones_split_with_trailing_commas():
    assert _return("f, (a, b)") == ["return f, (a, b)"]
    names = [f"grad_parameter_{i}" for i in range(8)]
    lines = _return("value, " + "(" + ", ".join(names) + ")")
    assert lines[0] == "return value, (" and lines[-1] == ")" and lines[1:-1] == [f"    {n}," for n in names]
    assert _return("(" + ", ".join(names) + ")")[0] == "return ("
    lines = _assign_call(", ".join(names), "_prepare", ", ".join(names), 4)
    assert lines[0] == "(" and ") = _prepare(" in lines and all(4 + len(line) <= LINE_LIMIT for line in lines)


VECTORS = ["y1", "y2", "y3", "y4", "y5"]
MODULES = {
    "network": ["--layer", "dense(h, relu)", "--layer", "dense(k)", "--loss", "softmax_cross_entropy"],
    "deep_network": [
        "--layer",
        "dense(h, relu)",
        "--layer",
        "dense(h2, tanh)",
        "--layer",
        "dense(h3, sigmoid)",
        "--layer",
        "dense(k)",
        "--loss",
        "softmax_cross_entropy",
        "--regularizer",
        "l2(lambda=0.01, on=W_1)",
    ],
    "many_parameters": [
        "--expr",
        "mean((y - X @ w)^2) + sum(a*b*c*d*e*w)",
        "--let",
        "X: matrix(N, n)",
        "--let",
        "y: vector(N)",
        *[arg for name in "wabcde" for arg in ("--let", f"{name}: vector(n)")],
        "--wrt",
        "w,a,b,c,d,e",
    ],
    "five_data_vectors": [
        "--expr",
        "mean(" + "*".join(VECTORS) + "*(X @ w + b - y)^2)",
        "--let",
        "X: matrix(N, n)",
        "--let",
        "y: vector(N)",
        *[arg for name in VECTORS for arg in ("--let", f"{name}: vector(N)")],
    ],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    for name, argv in MODULES.items():
        assert main(["codegen", *argv, "-o", str(folder / f"{name}.py")]) == 0
    return folder


@pytest.mark.parametrize("name", sorted(MODULES))
def test_large_generated_modules_are_right(generated, name):
    assert main(["check", str(generated / f"{name}.py")]) == 0


def _ruff() -> list[str]:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    if shutil.which("ruff"):
        return [str(shutil.which("ruff"))]
    pytest.skip("ruff is not installed (pip install ruff)")


@pytest.mark.parametrize(
    "settings",
    [["--isolated"], ["--config", str(ROOT / "pyproject.toml")]],
    ids=["ruff-defaults", "project-settings"],
)
def test_large_generated_modules_pass_ruff_check_and_format(generated, settings):
    for command in (
        ["check", "--no-cache", *settings, "."],
        ["format", "--no-cache", "--check", *settings, "."],
    ):
        result = subprocess.run(
            _ruff() + command, cwd=generated, capture_output=True, text=True, check=False, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert any(line.endswith("(") for line in (generated / "deep_network.py").read_text().splitlines())

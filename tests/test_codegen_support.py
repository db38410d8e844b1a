"""Shared helpers of the codegen tests: generate (once), import, and pick data in the domain."""

from __future__ import annotations

import importlib.util
import itertools
from functools import cache
from pathlib import Path

import numpy as np

import symderiv
from symderiv import catalog, codegen, numeric

PAIRS = list(itertools.product(catalog.ACTIVATIONS, catalog.LOSSES))
PAIR_IDS = [f"{a}-{l}" for a, l in PAIRS]


@cache
def derivation(activation: str, loss: str, convention: str = "min-norm"):
    target = symderiv.loss(loss, symderiv.neuron(activation))
    return target, symderiv.derive(target, wrt=("w", "b"), convention=convention)


@cache
def source(activation: str, loss: str, convention: str = "min-norm") -> str:
    target, d = derivation(activation, loss, convention)
    command = f"symderiv codegen --activation {activation} --loss {loss} --kink {convention}"
    return codegen.generate_from(d, prediction=target.model.prediction, command=command)


def import_source(text: str, folder: Path, name: str):
    """Write ``text`` to ``folder/name.py`` and import it from that path."""
    path = folder / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"generated_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def targets(loss: str, rng, count: int) -> np.ndarray:
    kind = catalog.LOSSES[loss].targets
    if kind == "{-1, 1}":
        return rng.choice([-1.0, 1.0], count)
    if kind == "{0, 1}":
        return rng.integers(0, 2, count).astype(float)
    return rng.standard_normal(count)


def data(activation: str, loss: str, seed: int = 0, N: int = 7, n: int = 3) -> dict:
    """Random (w, b, X, y) where the loss is finite: some pairs (logistic on a ReLU) have a
    domain, and then z is kept near 0.25, where every catalog activation is in (0, 1)."""
    _, _d = derivation(activation, loss)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((N, n)), targets(loss, rng, N)
    point = {"w": 0.5 * rng.standard_normal(n), "b": 0.1, "X": X, "y": y}
    if not is_finite_everywhere(activation, loss):
        point.update(w=0.05 * rng.standard_normal(n), b=0.25)
    return point


@cache
def is_finite_everywhere(activation: str, loss: str) -> bool:
    """False for pairs whose loss is undefined somewhere (log of a non-positive value)."""
    _, d = derivation(activation, loss)
    z = np.linspace(-3, 3, 13)
    rng = np.random.default_rng(0)
    env = {"w": np.ones(1), "b": 0.0, "X": z[:, None], "y": targets(loss, rng, z.size)}
    with np.errstate(all="ignore"):
        return bool(np.isfinite(numeric.evaluate(d.expression, env)))

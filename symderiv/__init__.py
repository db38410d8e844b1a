"""symderiv: step-by-step symbolic gradients of neural-network building blocks.

>>> import symderiv
>>> loss = symderiv.loss("mse", symderiv.neuron("relu"))
>>> d = symderiv.derive(loss, wrt=("w", "b"))
>>> print(d.gradient("w").vectorized)
2/N * (X.T @ (1[z > 0] * e))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import catalog
from .derive import Derivation, Gradient, Step, derive
from .errors import (
    ConventionError,
    MissingRuleError,
    ParseError,
    ShapeError,
    SymderivError,
    UnknownNameError,
)
from .kinks import CONVENTIONS
from .model import Loss, Neuron, expression
from .network import Dense, Network, Regularizer, dense, l1, l2, network
from .render import text as _text  # noqa: F401  (nodes print as text in messages)

if TYPE_CHECKING:
    import sympy

__version__ = "0.1.0"


def neuron(activation: str | sympy.Expr = "relu", **params: float | sympy.Number) -> Neuron:
    """A neuron f(w·x + b) with a catalog activation (``"relu"``), a formula in z, or SymPy."""
    return Neuron(activation, **params)


def loss(spec: str | sympy.Expr = "mse", model: Neuron | None = None, **params: float | sympy.Number) -> Loss:
    """The mean over N samples of a per-sample loss (catalog name, formula in a and y, or SymPy)."""
    return Loss(spec, model, **params)


__all__ = [
    "CONVENTIONS",
    "ConventionError",
    "Dense",
    "Derivation",
    "Gradient",
    "Loss",
    "MissingRuleError",
    "Network",
    "Neuron",
    "ParseError",
    "Regularizer",
    "ShapeError",
    "Step",
    "SymderivError",
    "UnknownNameError",
    "catalog",
    "dense",
    "derive",
    "expression",
    "l1",
    "l2",
    "loss",
    "network",
    "neuron",
]

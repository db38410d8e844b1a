"""The catalog: named activations and per-sample losses, as formulas in symderiv's language.

Adding an entry is one line here; it then goes through the same parser as a user's formula,
and the tests, parametrised over this table, check it automatically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

from .errors import SymderivError, UnknownNameError


@dataclass(frozen=True)
class Entry:
    """One catalog entry: ``formula`` in z (activation) or in a and y (loss)."""

    name: str
    formula: str
    description: str
    params: dict = field(default_factory=dict)
    inline: bool = True  # show the formula itself in derivations, else the name
    targets: str = "real"  # what y may be, for losses
    logit_formula: str | None = None  # a loss's stable form in z when the activation is sigmoid
    one_hot: bool = False  # a row loss whose target rows must sum to 1 (one-hot or probabilities)
    bounds: dict = field(default_factory=dict)  # parameter -> (lowest value, whether it is excluded)

    def with_params(self, values: dict) -> dict:
        """The entry's parameters with ``values`` applied, rejecting unknown names and values
        out of range."""
        for key, value in values.items():
            if key not in self.params:
                known = ", ".join(self.params) or "none"
                raise SymderivError(f"{self.name} has no parameter '{key}' (its parameters: {known})")
            self.check(key, value)
        merged = dict(self.params)
        merged.update(values)
        return merged

    def check(self, key: str, value) -> None:
        """Refuse a value of parameter ``key`` that is not a finite number in its range."""
        low, strict = self.bounds.get(key, (-math.inf, False))
        number = float(value) if isinstance(value, Real) and not isinstance(value, bool) else None
        if number is None and hasattr(value, "is_Number") and value.is_Number:
            number = float(value)
        if number is None or not math.isfinite(number) or number < low or (strict and number == low):
            shown = f"{number:g}" if number is not None else repr(value)
            raise SymderivError(f"{self.name}: parameter '{key}' must be {self.allowed(key)}, got {shown}")

    def allowed(self, key: str) -> str:
        """The values parameter ``key`` takes, for messages: 'a finite number > 0'."""
        if key not in self.bounds:
            return "a finite number"
        low, strict = self.bounds[key]
        return f"a finite number {'>' if strict else '>='} {low}"


ACTIVATIONS = {
    e.name: e
    for e in [
        Entry("identity", "z", "the identity (linear regression)"),
        Entry("relu", "max(0, z)", "rectified linear unit"),
        Entry("leaky_relu", "max(alpha*z, z)", "leaky ReLU", {"alpha": 0.01}, bounds={"alpha": (0, False)}),
        Entry(
            "elu",
            "max(z, 0) + alpha*(exp(min(z, 0)) - 1)",
            "exponential linear unit",
            {"alpha": 1},
            inline=False,
            bounds={"alpha": (0, False)},
        ),
        Entry("sigmoid", "sigmoid(z)", "logistic sigmoid 1/(1 + e^-z)"),
        Entry("tanh", "tanh(z)", "hyperbolic tangent"),
        Entry("softplus", "softplus(z)", "log(1 + e^z), a smooth ReLU"),
        Entry("silu", "z*sigmoid(z)", "sigmoid-weighted linear unit (swish)"),
        Entry("hard_tanh", "clip(z, -1, 1)", "tanh clipped to [-1, 1]", inline=False),
    ]
}

LOSSES = {
    e.name: e
    for e in [
        Entry("mse", "(a - y)^2", "squared error"),
        Entry("mae", "abs(a - y)", "absolute error"),
        Entry(
            "huber",
            # ½r² for |r| ≤ δ, δ(|r| - ½δ) beyond; written so the two branches' kinks cancel
            "min(abs(a - y), delta)^2/2 + delta*(abs(a - y) - min(abs(a - y), delta))",
            "Huber loss: quadratic near 0, linear beyond delta",
            {"delta": 1},
            bounds={"delta": (0, True)},
        ),
        Entry("hinge", "max(0, 1 - y*a)", "hinge loss", targets="{-1, 1}"),
        Entry("squared_hinge", "max(0, 1 - y*a)^2", "squared hinge loss", targets="{-1, 1}"),
        Entry(
            "logistic",
            "-(y*log(a) + (1 - y)*log(1 - a))",
            "binary cross-entropy",
            targets="{0, 1}",
            logit_formula="softplus(z) - y*z",
        ),
        Entry("log_cosh", "log(cosh(a - y))", "log-cosh loss"),
    ]
}


# Losses of a whole output row (k logits z against a target row y), for networks only. The
# formula is the per-row form shown in documents; the network spec builds it row-wise in IR.
ROW_LOSSES = {
    e.name: e
    for e in [
        Entry(
            "softmax_cross_entropy",
            "logsumexp(z) - y . z",
            "softmax then cross-entropy, per row: -sum_j y_j log softmax(z)_j",
            targets="one-hot or probability rows",
            one_hot=True,
        ),
    ]
}


def activation(name: str) -> Entry:
    return _lookup("activation", name, ACTIVATIONS)


def loss(name: str) -> Entry:
    return _lookup("loss", name, LOSSES)


def network_loss(name: str) -> Entry:
    """A loss a network accepts: any element-wise loss or a row loss."""
    return _lookup("loss", name, {**LOSSES, **ROW_LOSSES})


def _lookup(kind: str, name: str, table: dict) -> Entry:
    if name not in table:
        raise UnknownNameError(kind, name, list(table))
    return table[name]

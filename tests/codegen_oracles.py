"""The cases of tests/test_codegen_every.py and their oracles: every derivation codegen must
handle (catalog neurons, the matrix derivations of test_matrix_gradients, networks, the issue's
expressions), a point in each one's domain away from kinks, and the engine's own values.

A new catalog entry, matrix derivation or entry of NETWORKS / EXPRESSIONS is covered by every
test of test_codegen_every automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import test_codegen_support as support
import test_matrix_gradients as matrix
from oracles import sample_point

import symderiv
from symderiv import catalog, codegen, ir, numeric
from symderiv.functions import apply
from symderiv.model import activation_function

SIZES = {"N": 5, "n": 3, "h": 4, "k": 3, "m": 2}  # the networks' and expressions' dimensions
DIRECTION = "dir_"  # prefix of the direction symbols of the engine's Hessian-vector product


@dataclass(frozen=True)
class Case:
    """How to derive, generate and sample one case; ``prediction`` is the model's output."""

    id: str
    derive: Callable[[], object]
    generate: Callable[[object], str]
    sample: Callable[[object, int], dict]
    prediction: Callable[[dict], np.ndarray] | None = None


# --------------------------------------------------------------------------- the cases


def _catalog_case(activation: str, loss: str) -> Case:
    target = symderiv.loss(loss, symderiv.neuron(activation))

    def sample(d, seed):
        return sample_point(d, catalog.LOSSES[loss], N=7, n=3, seed=seed)

    return Case(
        f"neuron-{activation}-{loss}",
        lambda: support.derivation(activation, loss)[1],
        lambda d: support.source(activation, loss),
        sample,
        lambda env: np.asarray(numeric.evaluate(target.model.prediction, env)),
    )


def _matrix_case(name: str, build: Callable, targets: str) -> Case:
    def derive():
        expression, wrt = build()
        return symderiv.derive(expression, wrt=wrt)

    return Case(f"matrix-{name}", derive, _generic_source, _sampler(targets))


def _dense_mse(activation: str):
    fn, _ = activation_function(activation)
    return lambda: matrix.dense_mse(lambda z: apply(fn, z))


NETWORKS = {  # name: (layers, loss, regularisers)
    "net1-softmax-l2": (["k"], "softmax_cross_entropy", [symderiv.l2(0.01)]),
    "net2-relu-softmax-l2": (["h:relu", "k"], "softmax_cross_entropy", [symderiv.l2(0.01)]),
    "net2-tanh-mse-l1": (["h:tanh", "k"], "mse", [symderiv.l1(0.01)]),
    "net3-relu-sigmoid-softmax-l1-l2": (
        ["h:relu", "m:sigmoid", "k"],
        "softmax_cross_entropy",
        [symderiv.l2(0.01), symderiv.l1(0.001)],
    ),
}


@cache
def network(name: str) -> symderiv.Network:
    layers, loss, regularizers = NETWORKS[name]
    dense = [symderiv.dense(*layer.split(":")) for layer in layers]
    return symderiv.network(dense, loss=loss, regularizers=regularizers)


def network_output(net: symderiv.Network, env: dict) -> np.ndarray:
    """The last layer's output; class probabilities for a softmax cross-entropy network."""
    out = np.asarray(numeric.evaluate(net.outputs[-1], env))
    if net.loss_name != "softmax_cross_entropy":
        return out
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _network_case(name: str) -> Case:
    targets = "one_hot" if NETWORKS[name][1] == "softmax_cross_entropy" else "normal"
    return Case(
        name,
        lambda: symderiv.derive(network(name), wrt=network(name).parameters),
        lambda d: codegen.generate(network(name), wrt=network(name).parameters),
        _sampler(targets, margin=1e-2),
        lambda env: network_output(network(name), env),
    )


EXPRESSIONS = {  # name: (formula, let, wrt)
    "expr-relu-hidden-mse": (
        "mean((y - relu(X @ W) @ v)^2)",
        {"W": "matrix(n, h)", "v": "vector(h)"},
        ("v",),
    ),
    "expr-dot-self": ("w . w", None, ("w",)),
    "expr-logsumexp": ("log(sum(exp(z)))", {"z": "vector(k)"}, ("z",)),
    "expr-regularised-neuron": ("mean((relu(X @ w + b) - y)^2) + 0.01 * (w . w)", None, ("w", "b")),
}


def _expression_case(name: str) -> Case:
    text, let, wrt = EXPRESSIONS[name]
    return Case(
        name,
        lambda: symderiv.derive(symderiv.expression(text, let=let), wrt=wrt),
        _generic_source,
        _sampler("normal"),
    )


def _generic_source(d) -> str:
    return codegen.generate_from(d)


def _sampler(targets: str, margin: float = 1e-3):
    def sample(d, seed):
        return matrix.sample(d, targets, SIZES, seed, margin=margin)

    return sample


def _all_cases() -> dict:
    cases = [_catalog_case(a, l) for a, l in support.PAIRS]
    cases += [_matrix_case(name, build, targets) for name, (build, targets) in matrix.CASES.items()]
    cases += [_matrix_case(f"dense_mse_{a}", _dense_mse(a), "normal") for a in catalog.ACTIVATIONS]
    cases += [_network_case(name) for name in NETWORKS]
    cases += [_expression_case(name) for name in EXPRESSIONS]
    return {case.id: case for case in cases}


CASES = _all_cases()


@cache
def derivation(case_id: str):
    return CASES[case_id].derive()


@cache
def source(case_id: str) -> str:
    """The generated module's text, generated once per case."""
    return CASES[case_id].generate(derivation(case_id))


def point(case_id: str, seed: int = 0) -> dict:
    """Values (float64) for every symbol of the case, in its domain and away from kinks."""
    env = CASES[case_id].sample(derivation(case_id), seed)
    return {name: np.asarray(value, dtype=float) for name, value in env.items()}


# --------------------------------------------------------------------------- the convention


def parameters(case_id: str) -> list[str]:
    return [p.name for p in derivation(case_id).wrt]


def arguments(case_id: str) -> list[str]:
    """Parameters in --wrt order, then the data: matrices, vectors, scalars, each by name."""
    params = parameters(case_id)
    data = [s for s in ir.symbols(derivation(case_id).expression) if s.name not in params]
    return params + [s.name for s in sorted(data, key=lambda s: (-len(s.shape), s.name))]


def direction(case_id: str, env: dict, seed: int = 1) -> dict:
    """A random direction: one standard-normal array per parameter, shaped like it."""
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(np.shape(env[name])) for name in parameters(case_id)}


# --------------------------------------------------------------------------- the engine


def engine_loss(case_id: str, env: dict) -> float:
    return float(numeric.evaluate(derivation(case_id).expression, env))


def engine_grad(case_id: str, env: dict) -> dict:
    """The derivation's vectorized gradients, evaluated with the IR evaluator."""
    d = derivation(case_id)
    dims = numeric.bind_dimensions(d.expression, env)
    return {name: numeric.evaluate(node, env, dims) for name, node in _gradients(case_id).items()}


@cache
def _gradients(case_id: str) -> dict:
    d = derivation(case_id)
    return {name: d.expand(d.gradient(name).vectorized) for name in parameters(case_id)}


@cache
def _hvp_derivation(case_id: str):
    """H·V by the engine: the gradients of ⟨∇f, V⟩ by the parameters (V: new symbols)."""
    d = derivation(case_id)
    taken = {s.name for s in ir.symbols(d.expression)}
    inner = None
    for name, gradient in _gradients(case_id).items():
        parameter = d.gradient(name).parameter
        if DIRECTION + name in taken:
            raise ValueError(f"{DIRECTION + name} is a symbol of {case_id}")
        v = ir.Symbol(DIRECTION + name, parameter.shape)
        term = ir.total(gradient * v) if parameter.shape else gradient * v
        inner = term if inner is None else inner + term
    return symderiv.derive(inner, wrt=tuple(parameters(case_id)))


def engine_hvp(case_id: str, env: dict, v: dict) -> dict:
    d2 = _hvp_derivation(case_id)
    full = {**env, **{DIRECTION + name: value for name, value in v.items()}}
    dims = numeric.bind_dimensions(derivation(case_id).expression, env)
    return {
        name: numeric.evaluate(d2.expand(d2.gradient(name).vectorized), full, dims)
        for name in parameters(case_id)
    }

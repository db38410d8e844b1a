"""Train a two-layer network on scikit-learn's digits with a module symderiv generates at run time.

    python examples/digits_network.py [--hidden 32] [--lambda 1e-3] [--plot digits_loss.png]

The network is dense(h, relu) → dense(k) with the softmax cross-entropy loss and an l2(λ)
penalty; symderiv.codegen.generate writes its NumPy module (into a temporary directory, then
imported), and SciPy's L-BFGS trains it on ``value_and_grad``. The data: the 8×8 digits,
standardised with the training rows' mean and deviation, split 75/25 stratified (seed 0).

The same model is trained with scikit-learn's ``MLPClassifier(solver="lbfgs")`` (one hidden
layer of h relu units, softmax output) and the same penalty. The two objectives:

* symderiv, ``l2(λ)`` (symderiv/network.py): C = mean_i CE_i + (λ/2)(‖W_1‖² + ‖W_2‖²), the mean
  over the N training rows, the weight matrices penalised and the biases not;
* MLPClassifier, ``alpha``: mean_i CE_i + alpha/(2 N)(‖W_1‖² + ‖W_2‖²), N the rows of one
  gradient evaluation: all training rows for lbfgs (a mini-batch for sgd/adam), biases not
  penalised either.

So they are the same function when ``alpha = λ N``; the script checks it by evaluating the
generated ``loss`` at MLPClassifier's weights against its ``loss_``. Both optimisers run with
the same options (L-BFGS-B, at most --iterations iterations, gtol 1e-4). The script prints
both test accuracies and training times; the exit status is 1 if symderiv's test accuracy is
below 0.95. Needs scikit-learn and SciPy (matplotlib for --plot): pip install "symderiv[examples]".

Times of problems this small depend on the BLAS threads: on a busy machine run with
OPENBLAS_NUM_THREADS=1 (several threads contending for few cores can be ten times slower).
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np
from _generated import from_source
from scipy.optimize import minimize
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import symderiv
import symderiv.codegen

TARGET_ACCURACY = 0.95
SEED = 0
GTOL = 1e-4  # MLPClassifier's default tol, which it passes to L-BFGS-B as gtol


def generated_network(strength: float):
    """The module symderiv generates for dense(h, relu) → dense(k), softmax cross-entropy + l2."""
    spec = symderiv.network(
        [symderiv.dense("h", "relu"), symderiv.dense("k")],
        loss="softmax_cross_entropy",
        regularizers=[symderiv.l2(strength)],
    )
    source = symderiv.codegen.generate(spec, wrt=spec.parameters)
    return from_source("digits_network", source)


def load_data():
    """(X_train, X_test, y_train, y_test): standardised by the training rows, stratified split."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=SEED)
    mean, deviation = X_train.mean(axis=0), X_train.std(axis=0)
    deviation[deviation == 0] = 1.0  # pixels that are always blank
    return (X_train - mean) / deviation, (X_test - mean) / deviation, y_train, y_test


def initial_parameters(rng, sizes: tuple[int, int, int]) -> list[np.ndarray]:
    """[W_1, b_1, W_2, b_2] drawn as MLPClassifier draws them (Glorot uniform, factor 6)."""
    parameters = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        parameters += [rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)]
    return parameters


def train(model, parameters: list[np.ndarray], X, Y, iterations: int):
    """The parameters after L-BFGS on model.value_and_grad, and the objective after each iteration."""
    shapes = [p.shape for p in parameters]
    cuts = np.cumsum([p.size for p in parameters])[:-1]

    def unpack(theta):
        return [part.reshape(shape) for part, shape in zip(np.split(theta, cuts), shapes)]

    last = {}

    def objective(theta):
        value, grads = model.value_and_grad(*unpack(theta), X, Y)
        last.update(theta=theta.copy(), value=float(value))
        return float(value), np.concatenate([g.ravel() for g in grads])

    curve = [objective(np.concatenate([p.ravel() for p in parameters]))[0]]

    def record(theta):
        same = np.array_equal(theta, last["theta"])
        curve.append(last["value"] if same else float(model.loss(*unpack(theta), X, Y)))

    result = minimize(
        objective,
        np.concatenate([p.ravel() for p in parameters]),
        jac=True,
        method="L-BFGS-B",
        callback=record,
        options={"maxiter": iterations, "maxfun": 15_000, "gtol": GTOL},
    )
    return unpack(result.x), curve, result.nit


def accuracy(model, parameters, X, y) -> float:
    probabilities = model.predict(*parameters, X)
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


def fit_mlp(hidden: int, alpha: float, iterations: int, X, y) -> MLPClassifier:
    """MLPClassifier with one hidden relu layer, trained by L-BFGS with the same options."""
    reference = MLPClassifier(
        hidden_layer_sizes=(hidden,),
        activation="relu",
        solver="lbfgs",
        alpha=alpha,
        max_iter=iterations,
        tol=GTOL,
        random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reaching max_iter is expected
        return reference.fit(X, y)


ROW = "{:24s} {:>13} {:>14} {:>10} {:>10}"


def row(name: str, accuracy: float, seconds: float, iterations: int, objective: float) -> str:
    return ROW.format(name, f"{accuracy:.4f}", f"{seconds:.2f} s", iterations, f"{objective:.6f}")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    parser.add_argument("--lambda", dest="strength", type=float, default=1e-3, help="l2 strength (1e-3)")
    parser.add_argument("--iterations", type=int, default=300, help="L-BFGS iterations at most (300)")
    parser.add_argument("--plot", metavar="PNG", help="save the loss curve (needs matplotlib)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_arguments(argv)
    X_train, X_test, y_train, y_test = load_data()
    classes = np.unique(y_train)
    Y_train = (y_train[:, None] == classes).astype(float)  # one-hot, N×k
    rows, alpha = X_train.shape[0], args.strength * X_train.shape[0]
    network = f"dense({args.hidden}, relu) → dense({classes.size})"
    print(f"digits: {rows} training rows, {X_test.shape[0]} test rows, {X_train.shape[1]} features")
    print(f"network {network}, softmax cross-entropy + l2(λ={args.strength:g})")
    print(f"MLPClassifier alpha = λ·N = {args.strength:g}·{rows} = {alpha:g}")

    start = time.perf_counter()
    model = generated_network(args.strength)
    print(f"module generated in {time.perf_counter() - start:.2f} s")
    initial = initial_parameters(np.random.default_rng(SEED), (X_train.shape[1], args.hidden, classes.size))
    start = time.perf_counter()
    parameters, curve, iterations = train(model, initial, X_train, Y_train, args.iterations)
    ours_time = time.perf_counter() - start
    ours = accuracy(model, parameters, X_test, y_test)

    start = time.perf_counter()
    reference = fit_mlp(args.hidden, alpha, args.iterations, X_train, y_train)
    theirs_time = time.perf_counter() - start
    theirs = reference.score(X_test, y_test)

    print()
    print(ROW.format("", "test accuracy", "training time", "iterations", "objective"))
    print(row("symderiv + L-BFGS", ours, ours_time, iterations, curve[-1]))
    print(row("MLPClassifier (lbfgs)", theirs, theirs_time, reference.n_iter_, reference.loss_))
    print()
    weights = [reference.coefs_[0], reference.intercepts_[0], reference.coefs_[1], reference.intercepts_[1]]
    at_theirs = float(model.loss(*weights, X_train, Y_train))
    difference = abs(at_theirs - reference.loss_) / abs(reference.loss_)
    print(
        f"generated loss at MLPClassifier's weights {at_theirs:.10f}, its loss_ {reference.loss_:.10f}"
        f" (relative difference {difference:.1e})"
    )
    if args.plot:
        plot(curve, args.plot, f"digits, {network}, l2(λ={args.strength:g})")
    ok = ours >= TARGET_ACCURACY
    verdict = f"{'>=' if ok else '<'} {TARGET_ACCURACY} ({'ok' if ok else 'FAILED'})"
    print(f"symderiv test accuracy {ours:.4f} {verdict}")
    return 0 if ok else 1


def plot(curve, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(curve)
    ax.set(xlabel="L-BFGS iteration", ylabel="training objective", title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"saved {path}")


if __name__ == "__main__":
    raise SystemExit(main())

"""Newton-CG with generated Hessian-vector products against L-BFGS, on logistic regression.

    python examples/newton_cg_logistic.py

symderiv.codegen.generate writes the module of the sigmoid neuron with the logistic loss (into
a temporary directory, then imported); SciPy minimises the loss over the breast-cancer data,
set up as examples/logistic_regression.py does (the ten "mean ..." features,
standardised, no penalty), twice: Newton-CG on ``value_and_grad`` and the exact ``hvp``
(``hvp(w, b, X, y, (v_w, v_b))`` returns ``(H v)_w, (H v)_b``), and L-BFGS on
``value_and_grad``.

Both minimise the summed loss N·C rather than the mean C (the same minimiser): SciPy's
Newton-CG ends its inner conjugate-gradient loop at an absolute curvature pᵀHp <= 3ε
(not scale-invariant, scipy/scipy#19268), which the mean's small gradients reach near the
optimum, so on C it stops early (~1e-3 relative from the optimum) with a zero step that it
reports as converged. The script prints the iterations and evaluation counts of both, and the
largest relative difference of the coefficients between them and against scikit-learn's
LogisticRegression without penalty.

The exit status is 1 unless Newton-CG needs fewer iterations than L-BFGS and all three
coefficient vectors agree to 1e-4 relative. Needs scikit-learn and SciPy
(pip install "symderiv[examples]").

Times of problems this small depend on the BLAS threads: on a busy machine run with
OPENBLAS_NUM_THREADS=1 (several threads contending for few cores can be ten times slower).
"""

from __future__ import annotations

import time

import numpy as np
from _generated import from_source
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import symderiv
import symderiv.codegen

TOLERANCE = 1e-4


def generated_logistic():
    """The module symderiv generates for the logistic loss of a sigmoid neuron, by (w, b)."""
    spec = symderiv.loss("logistic", symderiv.neuron("sigmoid"))
    return from_source("sigmoid_logistic", symderiv.codegen.generate(spec, wrt=("w", "b")))


def standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


class Objective:
    """The summed loss N·C over flat parameters θ = (w, b), counting SciPy's evaluations."""

    def __init__(self, model, X, y):
        self.model, self.X, self.y = model, X, y
        self.scale = X.shape[0]
        self.value_and_grad_calls = 0
        self.hvp_calls = 0

    def value_and_grad(self, theta):
        self.value_and_grad_calls += 1
        value, (grad_w, grad_b) = self.model.value_and_grad(theta[:-1], theta[-1], self.X, self.y)
        return self.scale * float(value), self.scale * np.append(grad_w, grad_b)

    def hvp(self, theta, vector):
        self.hvp_calls += 1
        direction = (vector[:-1], vector[-1])
        product_w, product_b = self.model.hvp(theta[:-1], theta[-1], self.X, self.y, direction)
        return self.scale * np.append(product_w, product_b)


def newton_cg(objective: Objective, start):
    return minimize(
        objective.value_and_grad,
        start,
        jac=True,
        hessp=objective.hvp,
        method="Newton-CG",
        options={"xtol": 1e-12, "maxiter": 1_000},
    )


def lbfgs(objective: Objective, start):
    return minimize(
        objective.value_and_grad,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 10_000, "ftol": 1e-15, "gtol": 1e-11},
    )


ROW = "{:16s} {:>10} {:>14} {:>5} {:>9} {:>12} {:>9}  {}"


def summary(result, objective: Objective) -> tuple:
    """The mean loss, the largest gradient component of the mean, and whether SciPy converged."""
    gradient = np.max(np.abs(result.jac)) / objective.scale
    return f"{result.fun / objective.scale:.9f}", f"{gradient:.1e}", result.success


def relative_difference(ours, theirs) -> float:
    return float(np.max(np.abs(ours - theirs) / np.maximum(1e-12, np.abs(theirs))))


def optimise(model, X, y) -> dict:
    """Newton-CG and L-BFGS from zero: name → SciPy's result; prints a row for each."""
    print(ROW.format("", "iterations", "value_and_grad", "hvp", "time", "mean loss C", "max |∇C|", "done"))
    results = {}
    for name, method in [("Newton-CG (hvp)", newton_cg), ("L-BFGS", lbfgs)]:
        objective = Objective(model, X, y)
        began = time.perf_counter()
        result = method(objective, np.zeros(X.shape[1] + 1))
        elapsed = f"{(time.perf_counter() - began) * 1e3:.1f} ms"
        hvps = objective.hvp_calls if method is newton_cg else "-"
        calls = objective.value_and_grad_calls
        print(ROW.format(name, result.nit, calls, hvps, elapsed, *summary(result, objective)))
        results[name] = result
    return results


def agree(coefficients: dict) -> bool:
    """Whether every pair of coefficient vectors agrees to TOLERANCE; prints each difference."""
    names = list(coefficients)
    ok = True
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            error = relative_difference(coefficients[first], coefficients[second])
            ok &= error <= TOLERANCE
            verdict = "ok" if error <= TOLERANCE else "FAILED"
            print(f"{first} against {second}: largest relative difference {error:.2e} ({verdict})")
    return ok


def main() -> int:
    data = load_breast_cancer()
    X, y = standardise(data.data[:, :10]), data.target.astype(float)
    print(f"breast cancer: {X.shape[0]} rows, {X.shape[1]} standardised features, sigmoid + logistic")
    print()
    results = optimise(generated_logistic(), X, y)
    print()
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(X, y)  # no penalty
    coefficients = {name: result.x for name, result in results.items()}
    coefficients["LogisticRegression"] = np.append(reference.coef_[0], reference.intercept_[0])
    ok = agree(coefficients)
    newton, quasi = results["Newton-CG (hvp)"].nit, results["L-BFGS"].nit
    fewer = newton < quasi
    verdict = f"{'<' if fewer else '>='} L-BFGS iterations {quasi} ({'ok' if fewer else 'FAILED'})"
    print(f"Newton-CG iterations {newton} {verdict}")
    return 0 if ok and fewer else 1


if __name__ == "__main__":
    raise SystemExit(main())

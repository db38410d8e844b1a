"""Fit scikit-learn's bundled data sets with generated modules and SciPy's L-BFGS.

    python examples/logistic_regression.py

* sigmoid + logistic (examples/generated/sigmoid_logistic.py) on the breast-cancer data,
  against LogisticRegression without penalty. The ten "mean ..." features are used: with all
  thirty the classes are linearly separable and the unpenalised optimum is at infinity.
* identity + mse (examples/generated/identity_mse.py) on the diabetes data, against
  LinearRegression.

Features are standardised. The coefficients must agree to 1e-4 relative; the exit status is 1
if they do not. Needs scikit-learn and SciPy (pip install "symderiv[examples]").
"""

from __future__ import annotations

import numpy as np
from _generated import load
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression

TOLERANCE = 1e-4


def standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def fit(model, X, y):
    """(w, b) minimising model.loss with L-BFGS on value_and_grad."""

    def objective(theta):
        value, (grad_w, grad_b) = model.value_and_grad(theta[:-1], theta[-1], X, y)
        return float(value), np.append(grad_w, grad_b)

    result = minimize(
        objective,
        np.zeros(X.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 10_000, "ftol": 1e-15, "gtol": 1e-11},
    )
    return result.x[:-1], result.x[-1]


def compare(name: str, ours, theirs) -> bool:
    ours, theirs = np.append(*ours), np.append(*theirs)
    error = np.max(np.abs(ours - theirs) / np.maximum(1e-12, np.abs(theirs)))
    ok = error <= TOLERANCE
    print(f"{name}: largest relative difference of the coefficients {error:.2e} ({'ok' if ok else 'FAILED'})")
    return ok


def main() -> int:
    data = load_breast_cancer()
    X, y = standardise(data.data[:, :10]), data.target.astype(float)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(X, y)  # no penalty
    ok = compare(
        "breast cancer, sigmoid + logistic",
        fit(load("sigmoid_logistic"), X, y),
        (reference.coef_[0], reference.intercept_[0]),
    )

    X, y = load_diabetes(return_X_y=True)
    X = standardise(X)
    reference = LinearRegression().fit(X, y)
    ok &= compare(
        "diabetes, identity + mse", fit(load("identity_mse"), X, y), (reference.coef_, reference.intercept_)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

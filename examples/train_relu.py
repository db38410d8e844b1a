"""Train a ReLU neuron by gradient descent with a symderiv-generated module.

    symderiv codegen --activation relu --loss mse -o examples/generated/relu_mse.py
    python examples/train_relu.py [--steps 300] [--plot relu_loss.png]

The data come from a known "teacher" neuron plus noise; the script prints the loss curve and
how close the learned parameters get to the teacher's. Needs NumPy (matplotlib for --plot).
"""

from __future__ import annotations

import argparse

import numpy as np
from _generated import load


def make_data(rng, samples: int = 2000, features: int = 5):
    X = rng.standard_normal((samples, features))
    w_true, b_true = rng.standard_normal(features), 0.5
    y = np.maximum(0, X @ w_true + b_true) + 0.05 * rng.standard_normal(samples)
    return X, y, w_true, b_true


def train(model, X, y, steps: int, rate: float, rng):
    w, b = 0.1 * rng.standard_normal(X.shape[1]), 0.1
    curve = []
    for _ in range(steps):
        value, (grad_w, grad_b) = model.value_and_grad(w, b, X, y)
        curve.append(float(value))
        w, b = w - rate * grad_w, b - rate * grad_b
    return w, b, curve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--plot", metavar="PNG", help="save the loss curve (needs matplotlib)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X, y, w_true, b_true = make_data(rng)
    w, b, curve = train(load("relu_mse"), X, y, args.steps, args.rate, rng)
    for step in [0, 1, 2, 5, 10, 20, 50, 100, 200, args.steps - 1]:
        if step < len(curve):
            print(f"step {step:4d}  loss {curve[step]:.6f}")
    error = np.max(np.abs(np.append(w - w_true, b - b_true)))
    print(f"largest parameter error against the teacher: {error:.4f}")
    if args.plot:
        plot(curve, args.plot)
    return 0 if curve[-1] < curve[0] else 1


def plot(curve, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(curve)
    ax.set(
        xlabel="gradient-descent step", ylabel="mean squared error", title="ReLU neuron, generated gradients"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"saved {path}")


if __name__ == "__main__":
    raise SystemExit(main())

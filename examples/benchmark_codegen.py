"""Time generated gradients against other ways of computing them.

    python examples/benchmark_codegen.py [--only neuron|network] [--repeats 15] [--plot benchmark.png]

The neuron part: the relu + mse gradient. Implementations (float64), each checked against the
generated module before timing:

* generated   examples/generated/relu_mse.py, ``grad``
* numpy       the gradient written by hand: 2/N Xᵀ(1[z > 0] ⊙ e)
* tuned       the fastest NumPy found by hand for this model: products over ~4 MiB blocks of
              rows, element-wise work in place in preallocated chunk buffers, max(z, 0) = z
              where z > 0 used: what a NumPy-only module could at best do here
* jax         jax.jit(jax.grad(loss)) with x64 enabled (skipped if JAX is not installed)
* torch       PyTorch autograd (skipped if PyTorch is not installed)
* lambdify    SymPy's lambdify of the scalar-expanded per-sample gradient, looped over the
              samples in Python: the naive route, timed at n = 100 on fewer samples

Sizes (N, n) are (1e6, 10), (1e5, 100) and (1e4, 1000); the implementations are interleaved
within each repeat, in an order rotated from one repeat to the next. Each implementation gets
0.15 s of quiet (OpenBLAS's workers spin for about 0.1 s after each product and would take a
core from the next implementation), then an untimed call, then the timed call: it runs as in a
training loop of its own, with its caches and thread pools warm. The script prints medians and
their ratios to JAX and to PyTorch. It also times the generation itself: ``generate()`` in
process and ``symderiv codegen`` as a whole process.

The network part (benchmark_network.py): a network 784 → 256 relu → 10 with the softmax
cross-entropy, N = 10⁴, float64 and float32: the generated ``grad`` and ``hvp`` against
hand-written NumPy, JAX (jit of grad, of jvp of grad) and PyTorch (backward, double backward),
with the same protocol; then the peak memory of the generated functions beyond their inputs
(tracemalloc) against the size of X, and the targets (grad ≤ 1.0× JAX and ≤ 0.9× PyTorch,
hvp ≤ 1.0× JAX, peak ≤ size of X), each told met or missed.

JAX and PyTorch are optional (pip install jax jaxlib; pip install torch==2.13.0, the CPU wheel):
their rows are skipped without them.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import benchmark_network
import numpy as np
from _generated import load
from benchmark_network import time_interleaved

SIZES = [(1_000_000, 10), (100_000, 100), (10_000, 1000)]
LAMBDIFY_SIZE = (1_000, 100)


def handwritten(w, b, X, y):
    z = X @ w + b
    g = (2 / len(X)) * (z > 0) * (np.maximum(z, 0) - y)
    return X.T @ g, g.sum()


def tuned(w, b, X, y, block_bytes=2**22, chunk_rows=2**14):
    N, n = X.shape
    block = min(N, max(64, block_bytes // (n * X.itemsize)))
    chunk = min(block, chunk_rows)
    z, g, positive = np.empty(block), np.empty(chunk), np.empty(chunk, dtype=bool)
    grad_w, part_w, grad_b = np.zeros(n), np.empty(n), 0.0
    for start in range(0, N, block):
        stop = min(start + block, N)
        z_block = z[: stop - start]
        np.dot(X[start:stop], w, out=z_block)
        z_block += b
        for first in range(start, stop, chunk):
            last = min(first + chunk, stop)
            zc, gc, pc = z_block[first - start : last - start], g[: last - first], positive[: last - first]
            np.greater(zc, 0, out=pc)
            np.subtract(zc, y[first:last], out=gc)  # relu(z) = z where the mask is set
            np.multiply(gc, pc, out=gc)
            np.dot(gc, X[first:last], out=part_w)
            grad_w += part_w
            grad_b += gc.sum()
    grad_w *= 2 / N
    return grad_w, 2 * grad_b / N


def jax_grad():
    try:
        import jax
    except ImportError:
        print("jax: not installed, skipped (pip install jax jaxlib)")
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss(w, b, X, y):
        return jnp.mean((jnp.maximum(0, X @ w + b) - y) ** 2)

    compiled = jax.jit(jax.grad(loss, argnums=(0, 1)))

    def call(w, b, X, y):
        gw, gb = compiled(w, b, X, y)
        return np.asarray(gw.block_until_ready()), float(gb)

    call.prepare = lambda X, y: (jax.device_put(X), jax.device_put(y))
    return call


def torch_grad():
    try:
        import torch
    except ImportError:
        print("torch: not installed, skipped (pip install torch==2.13.0, the CPU wheel)")
        return None

    def call(w, b, X, y):
        wt = torch.tensor(w, requires_grad=True)
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        loss = ((torch.relu(X @ wt + bt) - y) ** 2).mean()
        loss.backward()
        return wt.grad.numpy(), float(bt.grad)

    call.prepare = lambda X, y: (torch.from_numpy(X), torch.from_numpy(y))
    return call


def lambdify_grad(n: int):
    """The per-sample gradient as n + 1 scalar SymPy expressions, lambdified, looped in Python."""
    import sympy

    w = sympy.symbols(f"w0:{n}", real=True)
    x = sympy.symbols(f"x0:{n}", real=True)
    b, y = sympy.symbols("b y", real=True)
    z = sum(wi * xi for wi, xi in zip(w, x)) + b
    indicator = sympy.Piecewise((1, z > 0), (0, True))  # d max(0, z)/dz, min-norm at 0
    outer = 2 * (sympy.Max(0, z) - y) * indicator
    expressions = [outer * sympy.diff(z, wi) for wi in w] + [outer]
    f = sympy.lambdify([*w, b, *x, y], expressions, modules="math")

    def call(w_value, b_value, X, y_value):
        total = np.zeros(n + 1)
        for row, target in zip(X, y_value):
            total += f(*w_value, b_value, *row, target)
        total /= len(X)
        return total[:-1], total[-1]

    return call


def measure(implementations: dict, N: int, n: int, repeats: int, rng) -> dict:
    X, y = rng.standard_normal((N, n)), rng.standard_normal(N)
    w, b = rng.standard_normal(n) / np.sqrt(n), 0.1
    inputs = {name: getattr(f, "prepare", lambda X, y: (X, y))(X, y) for name, f in implementations.items()}
    reference = implementations["generated"](w, b, X, y)
    for name, f in implementations.items():
        gw, gb = f(w, b, *inputs[name])  # also warms up (JIT compilation)
        error = max(np.max(np.abs(gw - reference[0])), abs(gb - reference[1]))
        if not error < 1e-8:
            raise RuntimeError(f"{name} disagrees with the generated module by {error:.1e}")
    calls = {name: _bound(f, w, b, *inputs[name]) for name, f in implementations.items()}
    return time_interleaved(calls, repeats)


def _bound(f, *args):
    return lambda: f(*args)


def generation_times() -> tuple[float, float]:
    root = str(Path(__file__).resolve().parent.parent)
    if importlib.util.find_spec("symderiv") is None:  # running from a checkout
        sys.path.insert(0, root)
    import symderiv
    from symderiv.codegen import generate

    target = symderiv.loss("mse", symderiv.neuron("relu"))
    generate(target)  # warm caches of the engine
    start = time.perf_counter()
    generate(symderiv.loss("mse", symderiv.neuron("relu")))
    in_process = time.perf_counter() - start
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run(
        [sys.executable, "-m", "symderiv", "codegen", "--activation", "relu", "--loss", "mse", "-o", "-"],
        check=True,
        capture_output=True,
        env=env,
    )
    return in_process, time.perf_counter() - start


def report(results: list) -> list:
    lines = [
        "| N | n | implementation | median | ratio to JAX | ratio to PyTorch |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (N, n), medians in results:
        ratios = [_ratio(medians, "jax"), _ratio(medians, "torch")]
        for name, seconds in medians.items():
            cells = " | ".join(ratio(seconds) for ratio in ratios)
            lines.append(f"| {N:,} | {n} | {name} | {seconds * 1e3:.2f} ms | {cells} |")
    return lines


def _ratio(medians: dict, baseline: str):
    """A formatter of time / the baseline's time ("n/a" when the baseline was not timed)."""
    reference = medians.get(baseline)
    return lambda seconds: f"{seconds / reference:.2f}" if reference else "n/a"


def plot(groups: list, path: str) -> None:
    """A bar chart of the medians: ``groups`` as (label, {implementation: seconds})."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({name for _, medians in groups for name in medians})
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(groups)), 4.5))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        xs = [i + k * width for i, (_, m) in enumerate(groups) if name in m]
        ax.bar(xs, [m[name] * 1e3 for _, m in groups if name in m], width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(groups))], [label for label, _ in groups])
    ax.set_yscale("log")
    ax.set_ylabel("median time of one call (ms)")
    ax.set_title("generated NumPy against other implementations, " + platform.machine())
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"saved {path}")


def run_neuron(repeats: int) -> list:
    """Time the relu + mse gradients, print their table; the plot's groups."""
    module = load("relu_mse")
    implementations = {"generated": module.grad, "numpy": handwritten, "tuned": tuned}
    for name, make in (("jax", jax_grad), ("torch", torch_grad)):
        f = make()
        if f is not None:
            implementations[name] = f
    rng = np.random.default_rng(0)
    results = []
    for N, n in SIZES:
        results.append(((N, n), measure(implementations, N, n, repeats, rng)))
        print(f"measured N={N:,}, n={n}")
    naive = {k: v for k, v in implementations.items() if k in ("generated", "jax")}
    naive["lambdify"] = lambdify_grad(LAMBDIFY_SIZE[1])
    results.append((LAMBDIFY_SIZE, measure(naive, *LAMBDIFY_SIZE, max(3, repeats // 5), rng)))
    print("\nrelu + mse gradient, float64\n")
    print("\n".join(report(results)))
    in_process, whole = generation_times()
    print(
        f"\ngeneration of relu + mse: {in_process * 1e3:.0f} ms in process, {whole:.2f} s for `symderiv codegen`"
    )
    return [(f"relu+mse\nN={N:,}\nn={n}", medians) for (N, n), medians in results]


def run_network(repeats: int) -> list:
    """Time the network's grad and hvp, print their tables and targets; the plot's groups."""
    net = benchmark_network
    timings, memory, seconds = net.run(repeats, np.random.default_rng(1))
    print(
        f"\nnetwork {net.INPUTS} → {net.HIDDEN} relu → {net.CLASSES} softmax cross-entropy, N = {net.N:,}\n"
    )
    print("\n".join(net.report(timings)))
    print("\npeak memory beyond the inputs (tracemalloc)\n")
    print("\n".join(net.memory_report(memory)))
    print("\ntargets of the generated module:")
    print("\n".join("  " + line for line in net.targets(timings, memory)))
    print(f"\ngeneration of the network module: {seconds * 1e3:.0f} ms in process")
    return [(f"network {what}\n{dtype}", medians) for what, dtype, medians in timings]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=("neuron", "network"), help="run one part only")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per implementation")
    parser.add_argument("--plot", metavar="PNG", help="save a bar chart (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    groups = []
    if args.only != "network":
        groups += run_neuron(args.repeats)
    if args.only != "neuron":
        groups += run_network(args.repeats)
    versions = ", ".join(f"{name} {version}" for name, version in _versions())
    print(f"\nmachine: {platform.platform()}, {platform.processor() or platform.machine()}, {versions}")
    if args.plot:
        plot(groups, args.plot)
    return 0


def _versions() -> list:
    """(name, version) of NumPy and of JAX and PyTorch where installed."""
    found = [("NumPy", np.__version__)]
    for name, module in (("JAX", "jax"), ("PyTorch", "torch")):
        if importlib.util.find_spec(module) is not None:
            found.append((name, importlib.import_module(module).__version__))
    return found


if __name__ == "__main__":
    raise SystemExit(main())

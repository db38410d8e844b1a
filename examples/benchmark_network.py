"""The network part of benchmark_codegen.py: 784 → 256 relu → 10, softmax cross-entropy.

    python examples/benchmark_codegen.py --only network [--repeats 15]

N = 10⁴ rows, float64 and float32. Timed, with the protocol of benchmark_codegen.py (see
``time_interleaved``):

* grad: the generated module's ``grad``, hand-written NumPy (forward and backward in place in
  two (N, 256) buffers), ``jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))`` and PyTorch
  autograd (``loss.backward()``).
* hvp: the generated ``hvp`` (skipped while the module has none), hand-written NumPy (the
  R-operator forward and backward), ``jax.jit`` of ``jax.jvp(jax.grad(loss), primals,
  tangents)`` and PyTorch's double backward.

JAX gets every input placed on its device beforehand and returns device arrays (no copy back
to NumPy is timed); PyTorch gets X and Y as tensors sharing NumPy's memory. Every
implementation is checked against the hand-written NumPy result in float64 (and JAX, when
installed, checks that one) before anything is timed. The peak memory of the generated
``grad``/``hvp`` beyond their inputs is measured with tracemalloc (NumPy reports its buffers
to it) and compared with the size of X.
"""

from __future__ import annotations

import importlib.util
import inspect
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

N, INPUTS, HIDDEN, CLASSES = 10_000, 784, 256, 10
PARAMETERS = ("W_1", "b_1", "W_2", "b_2")
DTYPES = (np.float64, np.float32)
# Largest relative error (max |got - expected| / max |expected|, per gradient) accepted.
TOLERANCE = {np.float64: 1e-9, np.float32: 1e-4}
# Seconds of quiet before each implementation's calls. OpenBLAS's worker threads (NumPy) keep
# spinning for about 0.1 s after every product, taking a core from whatever runs next in the
# process: without this pause JAX and PyTorch lose a core to the NumPy implementations.
QUIET = 0.15
TARGETS = {"grad": {"jax": 1.0, "torch": 0.9}, "hvp": {"jax": 1.0}}


# --------------------------------------------------------------------------- the protocol


def time_interleaved(calls: dict, repeats: int) -> dict:
    """Median seconds of each zero-argument call: the calls interleaved within each repeat, in
    an order rotated from one repeat to the next; each gets QUIET seconds of quiet, an untimed
    call (it runs as in a loop of its own, caches and thread pools warm), then the timed call."""
    times: dict = {name: [] for name in calls}
    names = list(calls)
    for repeat in range(repeats):
        shift = repeat % len(names)  # rotated, so each implementation follows each other alike
        for name in names[shift:] + names[:shift]:
            time.sleep(QUIET)
            calls[name]()
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def peak_memory(call) -> int:
    """Bytes of the peak of memory traced during ``call()`` beyond what was allocated before."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- the problem


def problem(rng) -> tuple[dict, dict, tuple]:
    """(parameters, data, direction) by name, float64: He-initialised weights, one-hot Y."""
    X = rng.standard_normal((N, INPUTS))
    Y = np.eye(CLASSES)[rng.integers(0, CLASSES, N)]
    params = {
        "W_1": rng.standard_normal((INPUTS, HIDDEN)) * np.sqrt(2 / INPUTS),
        "b_1": 0.1 * rng.standard_normal(HIDDEN),
        "W_2": rng.standard_normal((HIDDEN, CLASSES)) * np.sqrt(2 / HIDDEN),
        "b_2": 0.1 * rng.standard_normal(CLASSES),
    }
    return params, {"X": X, "Y": Y}, tuple(rng.standard_normal(p.shape) for p in params.values())


def cast(problem_: tuple, dtype) -> tuple[dict, dict, tuple]:
    """The same problem in ``dtype`` (C-contiguous arrays)."""
    params, data, direction = problem_
    return (
        {name: np.ascontiguousarray(value, dtype) for name, value in params.items()},
        {name: np.ascontiguousarray(value, dtype) for name, value in data.items()},
        tuple(np.ascontiguousarray(value, dtype) for value in direction),
    )


def spec():
    """The network as symderiv builds it (sizes as numbers, the input width n left symbolic)."""
    root = str(Path(__file__).resolve().parent.parent)
    if importlib.util.find_spec("symderiv") is None:  # running from a checkout
        sys.path.insert(0, root)
    import symderiv

    layers = [symderiv.dense(HIDDEN, "relu"), symderiv.dense(CLASSES)]
    return symderiv.network(layers, loss="softmax_cross_entropy")


def generated_module(folder: str) -> tuple[object, float]:
    """The generated module for the network, imported from ``folder``, and generate()'s seconds."""
    from symderiv.codegen import generate

    network = spec()
    start = time.perf_counter()
    source = generate(network, wrt=network.parameters)
    seconds = time.perf_counter() - start
    path = Path(folder) / "network_softmax.py"
    path.write_text(source, encoding="utf-8")
    module_spec = importlib.util.spec_from_file_location("network_softmax", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module, seconds


def generated_hvp(module):
    """``hvp`` called by keyword (the direction's name read from its signature), or None."""
    hvp = getattr(module, "hvp", None)
    if hvp is None:
        return None
    known = {*PARAMETERS, "X", "Y", "block_size"}
    rest = [name for name in inspect.signature(hvp).parameters if name not in known]
    if len(rest) != 1:
        raise RuntimeError(f"generated hvp: cannot tell its direction argument among {rest}")
    return lambda params, data, direction: hvp(**params, **data, **{rest[0]: direction})


# --------------------------------------------------------------------------- hand-written NumPy


def numpy_grad(W_1, b_1, W_2, b_2, X, Y):
    """Forward and backward by hand, in place: two (N, h) buffers, softmax computed once."""
    scale = X.dtype.type(1 / len(X))
    A = X @ W_1  # Z_1, then A_1 = relu(Z_1) in place
    A += b_1
    np.maximum(A, 0, out=A)
    G = A @ W_2  # Z_2, then softmax(Z_2), then the adjoint of Z_2: (softmax - Y) / N
    G += b_2
    _softmax_in_place(G)
    G -= Y
    G *= scale
    grad_W_2, grad_b_2 = A.T @ G, G.sum(axis=0)
    mask = A > 0  # relu'(Z_1) (relu'(0) = 0): a bool buffer of N×h bytes
    np.matmul(G, W_2.T, out=A)  # the adjoint of Z_1, written over A_1
    A *= mask
    return X.T @ A, A.sum(axis=0), grad_W_2, grad_b_2


def numpy_hvp(W_1, b_1, W_2, b_2, X, Y, direction):
    """H·V by hand: the R-operator (directional derivative) of the forward and backward passes
    (relu'' = 0 almost everywhere, so the mask does not move)."""
    V_1, v_1, V_2, v_2 = direction
    scale = X.dtype.type(1 / len(X))
    A = X @ W_1
    A += b_1
    np.maximum(A, 0, out=A)
    mask = A > 0
    RA = X @ V_1  # R(Z_1), then R(A_1) = mask * R(Z_1)
    RA += v_1
    RA *= mask
    P = A @ W_2
    P += b_2
    _softmax_in_place(P)
    RZ = RA @ W_2 + A @ V_2 + v_2  # R(Z_2)
    RG = P * (RZ - np.sum(P * RZ, axis=1, keepdims=True))  # R(softmax) / N below
    RG *= scale
    P -= Y  # G = (softmax - Y) / N
    P *= scale
    h_W_2 = RA.T @ P + A.T @ RG
    h_b_2 = RG.sum(axis=0)
    # R(G_1) = mask * (R(G) W_2ᵀ + G V_2ᵀ), one product [R(G) G] [W_2 V_2]ᵀ written over R(A_1)
    np.matmul(np.hstack([RG, P]), np.hstack([W_2, V_2]).T, out=RA)
    RA *= mask
    return X.T @ RA, RA.sum(axis=0), h_W_2, h_b_2


def _softmax_in_place(Z) -> None:
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- JAX and PyTorch


def jax_functions():
    """{"grad": make, "hvp": make}, each make(params, data, direction) → a zero-argument call."""
    try:
        import jax
    except ImportError:
        print("jax: not installed, skipped (pip install jax jaxlib)")
        return {}
    jax.config.update("jax_enable_x64", True)  # float32 inputs stay float32
    import jax.numpy as jnp

    def loss(W_1, b_1, W_2, b_2, X, Y):
        Z_2 = jax.nn.relu(X @ W_1 + b_1) @ W_2 + b_2  # jax.nn.relu: relu'(0) = 0
        return jnp.mean(jax.nn.logsumexp(Z_2, axis=1) - jnp.sum(Y * Z_2, axis=1))

    gradient = jax.grad(loss, argnums=(0, 1, 2, 3))
    grad = jax.jit(gradient)

    @jax.jit
    def hvp(params, X, Y, direction):
        return jax.jvp(lambda *p: gradient(*p, X, Y), params, direction)[1]

    def placed(params, data, direction):
        put = jax.device_put
        return (
            tuple(put(p) for p in params.values()),
            put(data["X"]),
            put(data["Y"]),
            tuple(put(d) for d in direction),
        )

    def make_grad(params, data, direction):
        p, X, Y, _ = placed(params, data, direction)
        return lambda: jax.block_until_ready(grad(*p, X, Y))

    def make_hvp(params, data, direction):
        p, X, Y, v = placed(params, data, direction)
        return lambda: jax.block_until_ready(hvp(p, X, Y, v))

    return {"grad": make_grad, "hvp": make_hvp}


def torch_functions():
    """As jax_functions, with PyTorch autograd: backward() for grad, double backward for hvp."""
    try:
        import torch
    except ImportError:
        print("torch: not installed, skipped (pip install torch==2.13.0, the CPU wheel)")
        return {}
    import torch.nn.functional as F

    def forward(params, X, Y):
        leaves = [torch.from_numpy(p).requires_grad_() for p in params.values()]
        W_1, b_1, W_2, b_2 = leaves
        logits = torch.relu(X @ W_1 + b_1) @ W_2 + b_2
        return leaves, F.cross_entropy(logits, Y)  # Y as class probabilities (one-hot)

    def make_grad(params, data, direction):
        X, Y = torch.from_numpy(data["X"]), torch.from_numpy(data["Y"])

        def call():
            leaves, loss = forward(params, X, Y)
            loss.backward()
            return tuple(leaf.grad for leaf in leaves)

        return call

    def make_hvp(params, data, direction):
        X, Y = torch.from_numpy(data["X"]), torch.from_numpy(data["Y"])
        v = tuple(torch.from_numpy(d) for d in direction)

        def call():
            leaves, loss = forward(params, X, Y)
            first = torch.autograd.grad(loss, leaves, create_graph=True)
            return torch.autograd.grad(first, leaves, grad_outputs=v)

        return call

    return {"grad": make_grad, "hvp": make_hvp}


# --------------------------------------------------------------------------- the run


def implementations(module) -> dict:
    """{"grad": {name: make}, "hvp": {name: make}}: make(params, data, direction) → a call."""
    grad = {
        "generated": lambda p, d, v: lambda: module.grad(**p, **d),
        "numpy": lambda p, d, v: lambda: numpy_grad(*p.values(), d["X"], d["Y"]),
    }
    hvp = {"numpy": lambda p, d, v: lambda: numpy_hvp(*p.values(), d["X"], d["Y"], v)}
    generated = generated_hvp(module)
    if generated is None:
        print("generated: the module has no hvp yet, its hvp is skipped")
    else:
        hvp = {"generated": lambda p, d, v: lambda: generated(p, d, v), **hvp}
    for name, functions in (("jax", jax_functions()), ("torch", torch_functions())):
        for what, table in (("grad", grad), ("hvp", hvp)):
            if what in functions:
                table[name] = functions[what]
    return {"grad": grad, "hvp": hvp}


def check(calls: dict, expected: tuple, dtype, what: str) -> None:
    """Each call's result against ``expected`` (float64), to TOLERANCE; a wrong dtype is told."""
    for name, call in calls.items():
        got = call()  # also warms up (JIT compilation)
        if len(got) != len(expected):
            raise RuntimeError(f"{what} {name}: {len(got)} results, expected {len(expected)}")
        for parameter, value, reference in zip(PARAMETERS, got, expected):
            value = np.asarray(value)
            error = np.max(np.abs(value - reference)) / max(np.max(np.abs(reference)), 1e-300)
            if not error <= TOLERANCE[dtype]:
                raise RuntimeError(f"{what} {name}: its {parameter} part is off by {error:.1e} (relative)")
            if value.dtype != dtype:
                print(f"warning: {what} {name} returns {value.dtype} for {np.dtype(dtype).name} inputs")


def run(repeats: int, rng) -> tuple[list, list, float]:
    """(timings, memory, generate()'s seconds): timings as (function, dtype, medians) and
    memory as (function, dtype, peak bytes, bytes of X)."""
    with tempfile.TemporaryDirectory() as folder:
        module, seconds = generated_module(folder)
    makers = implementations(module)
    base = problem(rng)
    problems = {dtype: cast(base, dtype) for dtype in DTYPES}  # one problem, in both dtypes
    p64, d64, v64 = problems[np.float64]
    references = {
        "grad": numpy_grad(*p64.values(), d64["X"], d64["Y"]),
        "hvp": numpy_hvp(*p64.values(), d64["X"], d64["Y"], v64),
    }
    timings, memory = [], []
    for what, table in makers.items():
        for dtype, (params, data, direction) in problems.items():
            calls = {name: make(params, data, direction) for name, make in table.items()}
            check(calls, references[what], dtype, what)
            timings.append((what, np.dtype(dtype).name, time_interleaved(calls, repeats)))
            print(f"measured network {what}, {np.dtype(dtype).name}")
            for name in ("generated", "numpy"):
                if name in calls:
                    label = f"{what} ({name})"
                    memory.append((label, np.dtype(dtype).name, peak_memory(calls[name]), data["X"].nbytes))
    return timings, memory, seconds


def report(timings: list) -> list:
    """The table of medians and their ratios to JAX and PyTorch."""
    lines = [
        "| function | dtype | implementation | median | ratio to JAX | ratio to PyTorch |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for what, dtype, medians in timings:
        for name, seconds in medians.items():
            ratios = " | ".join(_ratio(seconds, medians.get(baseline)) for baseline in ("jax", "torch"))
            lines.append(f"| {what} | {dtype} | {name} | {seconds * 1e3:.1f} ms | {ratios} |")
    return lines


def memory_report(memory: list) -> list:
    """The table of peak memory beyond the inputs, against the size of X."""
    lines = [
        "| function | dtype | peak beyond inputs | size of X | ratio to X |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, dtype, peak, x_bytes in memory:
        lines.append(
            f"| {label} | {dtype} | {peak / 2**20:.1f} MiB | {x_bytes / 2**20:.1f} MiB | {peak / x_bytes:.2f} |"
        )
    return lines


def targets(timings: list, memory: list) -> list:
    """One line per target of the generated module: met or missed."""
    lines = []
    for what, dtype, medians in timings:
        mine = medians.get("generated")
        for baseline, limit in TARGETS[what].items():
            if mine is not None and baseline in medians:
                ratio = mine / medians[baseline]
                lines.append(_verdict(f"{what} {dtype}: {ratio:.2f}× {baseline}", ratio, limit))
    for label, dtype, peak, x_bytes in memory:
        if "generated" in label:
            lines.append(
                _verdict(f"{label} {dtype} peak: {peak / x_bytes:.2f}× size of X", peak / x_bytes, 1.0)
            )
    return lines


def _verdict(text: str, ratio: float, limit: float) -> str:
    return f"{text} (target ≤ {limit}: {'met' if ratio <= limit else 'MISSED'})"


def _ratio(seconds: float, reference: float | None) -> str:
    return f"{seconds / reference:.2f}" if reference else "n/a"

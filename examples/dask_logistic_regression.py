"""Logistic regression on data larger than the workers' memory: a generated module over Dask.

    python examples/dask_logistic_regression.py [--rows 10000000] [--path data.zarr]

1. Writes a data set of --rows rows (default 10⁷) × 20 standard normal features to a zarr store
   on disk (--path; default a temporary directory removed at the end), chunk by chunk in Dask
   tasks, so it never sits in memory: y = [X·w* + b* + ε > 0] with known coefficients (w*, b*)
   and logistic noise ε, so y is Bernoulli(sigmoid(X·w* + b*)) and the fit has a well-defined
   answer (the maximum-likelihood estimate, close to (w*, b*)). An existing --path written by
   this script with the same sizes is reused. The store is uncompressed (random floats do not
   compress).
2. Starts a LocalCluster of two worker processes (one thread each) with a memory limit per
   worker (--memory-limit, default 600 MB): at 10⁷ rows the data (1.6 GB) is larger than the
   workers' memory together. (The operating system's page cache may still hold the files.)
3. Generates the module of the sigmoid neuron with the logistic loss at run time
   (symderiv.codegen.generate) and minimises its mean loss with SciPy's L-BFGS on
   ``value_and_grad(w, b, X, y)``, X and y the Dask arrays read with ``da.from_zarr``: each
   evaluation is one task per chunk of rows and a tree of sums on the cluster, returning NumPy;
   it reads the whole store again (at 10⁷ rows about two thirds of its time on a 2-core machine).
   A progress line on stderr shows the iteration, the loss and |grad| (a tqdm bar if installed).
4. Fits the same model with dask-glm (``dask_glm.algorithms.lbfgs``, family Logistic, no
   regulariser, an intercept column from ``dask_glm.utils.add_intercept``, ``normalize=False``:
   the features are standard normal already) and compares the coefficients: they must agree to
   1e-4 relative, else the exit status is 1.
5. Times one evaluation of the loss and gradient (median of --repeats after one warm-up) at
   the fitted coefficients: the generated module on NumPy arrays in memory (the first
   --in-memory-rows rows, default up to 10⁶: the whole data only if --in-memory-rows covers
   it), the same module on the Dask arrays, and dask-glm's evaluation as its lbfgs does it
   (the Logistic family's pointwise loss and gradient in one dask.compute, β scattered to the
   workers). It prints them as a table and the ratio Dask ÷ in-memory, per row when the sizes
   differ.

To run the same code on a real cluster, connect a client before fitting, e.g.
``Client("tcp://scheduler:8786")`` in place of the LocalCluster, with the store on storage
every worker can read (a shared file system or object store: ``da.from_zarr("s3://...")``).

Needs SciPy, Dask with distributed, zarr and dask-glm (pip install "symderiv[examples,dask]").
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import zarr
from _generated import from_source
from dask.distributed import Client, LocalCluster
from scipy.optimize import minimize

import symderiv
import symderiv.codegen

TOLERANCE = 1e-4
FEATURES = 20
SEED = 14
# The true coefficients: alternating signs, magnitudes from 0.3 to 0.5 (none near zero, so the
# relative comparison is meaningful; a moderate signal keeps the problem well conditioned, see
# fit_dask_glm), and the intercept.
TRUE_W = np.array([(-1) ** k * (0.3 + 0.2 * k / (FEATURES - 1)) for k in range(FEATURES)])
TRUE_B = 0.25


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of data (default 10⁷)")
    parser.add_argument("--path", type=Path, help="the zarr store (default: a temporary directory)")
    parser.add_argument("--chunk-rows", type=int, default=250_000, help="rows per zarr/Dask chunk")
    parser.add_argument("--memory-limit", default="600MB", help="memory limit per worker")
    parser.add_argument("--in-memory-rows", type=int, default=1_000_000, help="rows timed in memory")
    parser.add_argument("--repeats", type=int, default=5, help="timed evaluations per path")
    arguments = parser.parse_args(argv)
    for name in ("rows", "chunk_rows", "in_memory_rows", "repeats"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    return arguments


# The data set ------------------------------------------------------------------------------


def write_chunk(path: str, start: int, stop: int) -> int:
    """Rows start:stop of X and y, drawn from a generator seeded by (SEED, start), written."""
    rng = np.random.default_rng([SEED, start])
    X = rng.standard_normal((stop - start, FEATURES))
    y = (X @ TRUE_W + TRUE_B + rng.logistic(size=stop - start) > 0).astype(np.float64)
    group = zarr.open_group(path, mode="r+")
    group["X"][start:stop] = X
    group["y"][start:stop] = y
    return stop - start


def create_array(group, name: str, shape: tuple, chunks: tuple):
    """An uncompressed float64 array in ``group`` (zarr 3's create_array, zarr 2's create_dataset)."""
    if hasattr(group, "create_array"):
        return group.create_array(name, shape=shape, chunks=chunks, dtype="float64", compressors=None)
    return group.create_dataset(name, shape=shape, chunks=chunks, dtype="float64", compressor=None)


def dataset_attributes(rows: int, chunk_rows: int) -> dict:
    return {"rows": rows, "features": FEATURES, "chunk_rows": chunk_rows, "seed": SEED, "complete": True}


def store_exists(path: Path, rows: int, chunk_rows: int) -> bool:
    """Whether ``path`` holds this data set already; SystemExit if it holds anything else."""
    if not path.exists() or not any(path.iterdir()):
        return False
    try:
        found = dict(zarr.open_group(str(path), mode="r").attrs)
    except Exception:  # noqa: BLE001 - anything unreadable is not our store
        found = None
    if found != dataset_attributes(rows, chunk_rows):
        raise SystemExit(f"{path} exists and is not this script's data set of {rows} rows: remove it")
    return True


def write_dataset(path: Path, rows: int, chunk_rows: int) -> None:
    """Write the data set to ``path`` in one Dask task per chunk (on the active scheduler)."""
    group = zarr.open_group(str(path), mode="w")
    create_array(group, "X", (rows, FEATURES), (chunk_rows, FEATURES))
    create_array(group, "y", (rows,), (chunk_rows,))
    starts = range(0, rows, chunk_rows)
    tasks = [dask.delayed(write_chunk)(str(path), s, min(s + chunk_rows, rows)) for s in starts]
    (written,) = dask.compute(dask.delayed(sum)(tasks))
    if written != rows:
        raise RuntimeError(f"wrote {written} rows, expected {rows}")
    group.attrs.update(dataset_attributes(rows, chunk_rows))


def open_dataset(path: Path) -> tuple:
    """X and y as Dask arrays over the store's chunks (nothing is read yet)."""
    return da.from_zarr(str(path), component="X"), da.from_zarr(str(path), component="y")


# The fits ----------------------------------------------------------------------------------


def generated_logistic():
    """The module symderiv generates for the logistic loss of a sigmoid neuron, by (w, b)."""
    spec = symderiv.loss("logistic", symderiv.neuron("sigmoid"))
    return from_source("sigmoid_logistic", symderiv.codegen.generate(spec, wrt=("w", "b")))


class Progress:
    """Iteration, loss and |grad| on stderr: a tqdm bar if tqdm is installed, else a text line."""

    def __init__(self, label: str):
        self.label, self.began = label, time.perf_counter()
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(desc=label, unit=" it", file=sys.stderr)

    def update(self, iteration: int, value: float, gradient_norm: float, evaluations: int):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{value:.10f}", grad=f"{gradient_norm:.1e}", evaluations=evaluations)
            return
        elapsed = time.perf_counter() - self.began
        line = f"{self.label}: iteration {iteration:3d}  loss {value:.10f}  |grad| {gradient_norm:.1e}"
        end = "\r" if sys.stderr.isatty() else "\n"
        print(f"{line}  evaluations {evaluations}  {elapsed:.1f} s", end=end, file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif sys.stderr.isatty():
            print(file=sys.stderr)


class Objective:
    """The mean loss over flat θ = (w, b) for SciPy, counting evaluations and reporting progress."""

    def __init__(self, model, X, y, progress: Progress):
        self.model, self.X, self.y, self.progress = model, X, y, progress
        self.evaluations = self.iterations = 0
        self.last = {}  # θ's bytes → (value, gradient) of the latest evaluations

    def __call__(self, theta):
        self.evaluations += 1
        value, (grad_w, grad_b) = self.model.value_and_grad(theta[:-1], theta[-1], self.X, self.y)
        gradient = np.append(grad_w, grad_b)
        self.last = {theta.tobytes(): (float(value), gradient), **self.last}
        return float(value), gradient

    def callback(self, intermediate_result):
        self.iterations += 1
        value, gradient = self.last.get(intermediate_result.x.tobytes(), (intermediate_result.fun, None))
        norm = np.nan if gradient is None else float(np.linalg.norm(gradient))
        self.progress.update(self.iterations, value, norm, self.evaluations)
        self.last = {intermediate_result.x.tobytes(): (value, gradient)}


def fit_symderiv(model, X, y):
    """SciPy's L-BFGS on the generated value_and_grad over the Dask arrays: (θ, result, seconds)."""
    progress = Progress("symderiv + L-BFGS")
    objective = Objective(model, X, y, progress)
    began = time.perf_counter()
    result = minimize(
        objective,
        np.zeros(X.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
        callback=objective.callback,
        options={"maxiter": 1_000, "ftol": 1e-15, "gtol": 1e-10},
    )
    progress.close()
    return result, objective.evaluations, time.perf_counter() - began


def fit_dask_glm(X, y):
    """dask-glm's L-BFGS logistic regression with an intercept column: (θ, seconds).

    Its lbfgs passes only pgtol (``tol``) and maxiter to SciPy's fmin_l_bfgs_b, so it also stops
    at SciPy's default factr = 1e7 (a relative decrease of the loss below ~2e-9 in one step):
    with a stronger signal (magnitudes up to 1, a worse-conditioned Hessian) it stopped ~1e-4
    relative from the optimum; with TRUE_W here, within 2e-6 at 2·10⁴ to 10⁷ rows."""
    from dask_glm.algorithms import lbfgs
    from dask_glm.families import Logistic
    from dask_glm.utils import add_intercept

    print("dask-glm lbfgs: fitting (no progress output) ...", file=sys.stderr, flush=True)
    began = time.perf_counter()
    with warnings.catch_warnings():  # dask-glm sets a Dask configuration key renamed since
        warnings.filterwarnings("ignore", message=".*fuse_ave_width.*", category=FutureWarning)
        # tol is L-BFGS-B's pgtol on dask-glm's summed (not mean) loss: 1e-10 on the mean.
        beta = lbfgs(
            add_intercept(X),
            y,
            family=Logistic,
            regularizer=None,
            max_iter=1_000,
            tol=1e-10 * len(y),
            normalize=False,
        )
    return np.asarray(beta), time.perf_counter() - began


def relative_difference(ours, theirs) -> float:
    return float(np.max(np.abs(ours - theirs) / np.maximum(1e-12, np.abs(theirs))))


# The timings -------------------------------------------------------------------------------


def median_seconds(function, repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``function`` after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def dask_glm_evaluation(theta, X, y):
    """One loss-and-gradient evaluation as dask-glm's lbfgs does it (compute_loss_grad there):
    β scattered to the workers, then the Logistic family's loss and gradient in one compute.

    dask_glm.utils.scatter_array scatters with hash=True: the same β every call gets the same
    key, and releasing the previous call's future can race the next scatter ("lost
    dependencies", a few calls in a hundred), so β is scattered here with hash=False."""
    from dask_glm.families import Logistic
    from dask_glm.utils import add_intercept, get_distributed_client

    Xi = add_intercept(X)

    def evaluate():
        client = get_distributed_client()
        beta = theta
        if client is not None:
            future = client.scatter(theta, hash=False)
            beta = da.from_delayed(future, shape=theta.shape, dtype=theta.dtype, meta=theta[:0])
        with dask.config.set({"optimization.fuse.ave-width": 0}):
            return dask.compute(
                Logistic.pointwise_loss(beta, Xi, y), Logistic.pointwise_gradient(beta, Xi, y)
            )

    return evaluate


def time_evaluations(model, theta, path: Path, repeats: int, in_memory_rows: int) -> list:
    """(label, rows, seconds) for NumPy in memory, the Dask path and dask-glm's evaluation."""
    w, b = theta[:-1], theta[-1]
    X, y = open_dataset(path)
    rows = min(in_memory_rows, len(y))
    group = zarr.open_group(str(path), mode="r")  # read here, not through the workers' memory
    X_memory, y_memory = group["X"][:rows], group["y"][:rows]
    timings = [
        ("NumPy in memory (generated module)", rows, lambda: model.value_and_grad(w, b, X_memory, y_memory)),
        ("Dask on the cluster (generated module)", len(y), lambda: model.value_and_grad(w, b, X, y)),
        ("dask-glm Logistic loss + gradient", len(y), dask_glm_evaluation(theta, X, y)),
    ]
    measured = []
    for label, count, function in timings:
        print(f"timing: {label} ...", file=sys.stderr, flush=True)
        measured.append((label, count, median_seconds(function, repeats)))
    return measured


def print_timings(measured: list, repeats: int, total_rows: int) -> None:
    print(f"Time per loss-and-gradient evaluation at the fitted coefficients (median of {repeats}):")
    row = "  {:40s} {:>10} {:>12} {:>16}"
    print(row.format("", "rows", "ms", "ms per 10⁶ rows"))
    for label, rows, seconds in measured:
        print(row.format(label, rows, f"{seconds * 1e3:.1f}", f"{seconds * 1e3 * 1e6 / rows:.1f}"))
    (_, memory_rows, memory), (_, dask_rows, dask_seconds), (_, _, glm) = measured
    per_row = (dask_seconds / dask_rows) / (memory / memory_rows)
    if memory_rows == dask_rows:
        print(f"Dask ÷ in-memory at {dask_rows} rows: {dask_seconds / memory:.2f}")
    else:
        print(
            f"Dask ÷ in-memory per row (Dask on {dask_rows} rows, NumPy on the first {memory_rows}): {per_row:.2f}"
        )
    print(f"dask-glm ÷ Dask (generated module) at {total_rows} rows: {glm / dask_seconds:.2f}")


# The script --------------------------------------------------------------------------------


def describe_cluster(client: Client, limit: str, data_bytes: int) -> None:
    workers = client.scheduler_info()["workers"].values()
    limits = [w["memory_limit"] for w in workers]
    threads = sum(w["nthreads"] for w in workers)
    total = sum(limits)
    relation = "smaller than" if total < data_bytes else "not smaller than"
    print(f"LocalCluster: {len(limits)} worker processes, {threads} threads, memory limit {limit} each")
    print(f"  workers' memory together {total / 1e9:.2f} GB, {relation} the data ({data_bytes / 1e9:.2f} GB)")


def fit_and_compare(model, X, y) -> tuple:
    """Both fits, printed: (symderiv's θ, whether dask-glm's agrees to TOLERANCE)."""
    result, evaluations, seconds = fit_symderiv(model, X, y)
    print(f"symderiv + L-BFGS on Dask: {result.nit} iterations, {evaluations} evaluations, {seconds:.1f} s")
    print(
        f"  {seconds / evaluations * 1e3:.0f} ms per evaluation; mean loss {result.fun:.10f}; {result.message}"
    )
    theirs, glm_seconds = fit_dask_glm(X, y)
    print(f"dask-glm lbfgs: {glm_seconds:.1f} s")
    print()
    truth = np.append(TRUE_W, TRUE_B)
    print(
        f"largest |coefficient - true coefficient|: symderiv {np.max(np.abs(result.x - truth)):.2e}", end=""
    )
    print(f", dask-glm {np.max(np.abs(theirs - truth)):.2e}")
    error = relative_difference(result.x, theirs)
    verdict = "ok" if error <= TOLERANCE else "FAILED"
    print(
        f"symderiv against dask-glm: largest relative difference of the coefficients {error:.2e} ({verdict})"
    )
    print()
    return result.x, error <= TOLERANCE


def run(arguments, path: Path) -> int:
    rows, chunk_rows = arguments.rows, min(arguments.chunk_rows, arguments.rows)
    data_bytes = rows * (FEATURES + 1) * 8
    reuse = store_exists(path, rows, chunk_rows)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=arguments.memory_limit,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        describe_cluster(client, arguments.memory_limit, data_bytes)
        began = time.perf_counter()
        if not reuse:
            write_dataset(path, rows, chunk_rows)
        print(f"data: {rows} rows × {FEATURES} features + y, {data_bytes / 1e9:.2f} GB in {path}")
        state = "reused" if reuse else f"written in {time.perf_counter() - began:.1f} s"
        print(f"  {state}, chunks of {chunk_rows} rows")
        model = generated_logistic()
        theta, ok = fit_and_compare(model, *open_dataset(path))
        measured = time_evaluations(model, theta, path, arguments.repeats, arguments.in_memory_rows)
        print_timings(measured, arguments.repeats, rows)
    return 0 if ok else 1


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    if arguments.path is not None:
        return run(arguments, arguments.path)
    directory = Path(tempfile.mkdtemp(prefix="symderiv-dask-"))
    try:
        return run(arguments, directory / "data.zarr")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

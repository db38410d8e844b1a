"""Issue 14: generated gradients over row blocks and Dask.

partial_sums over any split of the rows (one row per block, empty blocks, shuffled rows) plus
penalty equal the in-memory loss and gradients, for every catalog pair and regularised models;
loss, grad, value_and_grad and hvp on Dask arrays equal NumPy on a two-process distributed
cluster (uneven, column-split and misaligned chunks), on the threaded and the process
schedulers, and when a worker is killed in the middle of a computation; the module still
imports and runs where Dask cannot be imported.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import codegen_oracles as oracle
import dask_support
import numpy as np
import pytest
import test_codegen_support as support

import symderiv
from symderiv import codegen
from symderiv.testing import relative_error

NEEDS = "the Dask tests need dask[array,distributed] (pip install -e '.[test]')"
dask = pytest.importorskip("dask", reason=NEEDS)
da = pytest.importorskip("dask.array", reason=NEEDS)
distributed = pytest.importorskip("distributed", reason=NEEDS)

TOLERANCE = 1e-12  # relative, against the in-memory NumPy result
ROWS = 13  # rows of the catalog pairs' and the expression's data
PENALTY = "expr-penalty"  # the expression with a penalty, generated here
PENALTY_TEXT = "mean((X @ w + b - y)^2) + 0.1 * sum(w^2)"
REGULARISED = [*oracle.NETWORKS, "expr-regularised-neuron", PENALTY]
ON_DASK = ["sigmoid-logistic", "net2-relu-softmax-l2", PENALTY]  # one of each kind
CHUNKINGS = ["uneven", "columns", "misaligned"]


# --------------------------------------------------------------------------- the cases


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """``build(case_id)``: (module, arguments in its order), generated and imported once."""
    folder = tmp_path_factory.mktemp("dask")
    loaded: dict = {}

    def get(case_id: str):
        if case_id not in loaded:
            module = dask_support.load(_source(case_id), folder, re.sub(r"\W", "_", case_id))
            env = _env(case_id, module)
            loaded[case_id] = module, [env[name] for name in names(module)]
        return loaded[case_id]

    return get


def _pair(case_id: str) -> tuple | None:
    return support.PAIRS[support.PAIR_IDS.index(case_id)] if case_id in support.PAIR_IDS else None


@cache
def _source(case_id: str) -> str:
    if _pair(case_id):
        return support.source(*_pair(case_id))
    if case_id == PENALTY:
        return codegen.generate_from(symderiv.derive(symderiv.expression(PENALTY_TEXT), wrt=("w", "b")))
    return oracle.source(case_id)


def _env(case_id: str, module) -> dict:
    """Values of every argument: the catalog's data, or the oracle's points of three seeds
    with their rows stacked (more rows than one point has)."""
    if _pair(case_id):
        return support.data(*_pair(case_id), N=ROWS)
    if case_id == PENALTY:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((ROWS, 3))
        return {"w": rng.standard_normal(3), "b": 0.3, "X": X, "y": rng.standard_normal(ROWS)}
    points = [oracle.point(case_id, seed) for seed in range(3)]
    stacked = {name: np.concatenate([p[name] for p in points]) for name in row_names(module)}
    return {**points[0], **stacked}


def names(module) -> list[str]:
    """The module's arguments in order: the parameters, then the data."""
    return [name for name in inspect.signature(module.loss).parameters if name != "block_size"]


def row_names(module) -> set[str]:
    """The data arguments with a row per sample (first dimension N)."""
    return {name for name, shape in module._SHAPES.items() if shape[:1] == ("N",)}


def direction(module, arguments: list, seed: int = 1):
    """A random direction for hvp: one array per parameter (a tuple unless there is one)."""
    rng = np.random.default_rng(seed)
    parts = tuple(rng.standard_normal(np.shape(p)) for p in arguments[: len(module._WRT)])
    return parts[0] if len(parts) == 1 else parts


# --------------------------------------------------------------------------- comparing


def flat(result) -> list:
    """The arrays of a (nested) result, in order, each checked to be NumPy (not Dask)."""
    if isinstance(result, tuple):
        return [array for part in result for array in flat(part)]
    assert isinstance(result, (np.ndarray, np.generic)), f"{type(result).__name__} is not NumPy"
    return [result]


def assert_close(actual, expected, what: str) -> None:
    actual, expected = flat(actual), flat(expected)
    assert len(actual) == len(expected), f"{what}: {len(actual)} values, expected {len(expected)}"
    for k, (a, e) in enumerate(zip(actual, expected)):
        assert np.shape(a) == np.shape(e), f"{what}[{k}]: shape {np.shape(a)}, expected {np.shape(e)}"
        error = relative_error(a, e)
        assert error < TOLERANCE, f"{what}[{k}]: relative error {error:.2e}"


def _parts(gradient) -> tuple:
    return gradient if isinstance(gradient, tuple) else (gradient,)


# --------------------------------------------------------------------------- partial sums


def summed_shares(module, arguments: list, blocks: list) -> tuple:
    """(rows, value, grad): partial_sums over the blocks of rows, plus penalty once."""
    k, rows = len(module._WRT), row_names(module)
    sliced = [name in rows for name in names(module)]
    total = len(next(a for a, cut in zip(arguments, sliced) if cut))
    count, value, gradient = 0, 0.0, None
    for index in blocks:
        block = [a[index] if cut else a for a, cut in zip(arguments, sliced)]
        n, share, shares = module.partial_sums(*block, total_rows=total, block_size=2)
        count, value = count + n, value + share
        shares = _parts(shares)
        gradient = shares if gradient is None else tuple(g + s for g, s in zip(gradient, shares))
    extra, extra_grad = module.penalty(*arguments[:k])
    return count, value + extra, tuple(g + p for g, p in zip(gradient, _parts(extra_grad)))


def summed_hessian_shares(module, arguments: list, blocks: list):
    """hessian_partial_sums over the blocks of rows, plus hessian_penalty once."""
    k, rows = len(module._WRT), row_names(module)
    sliced = [name in rows for name in names(module)]
    total = len(next(a for a, cut in zip(arguments, sliced) if cut))
    summed = module.hessian_penalty(*arguments[:k])
    for index in blocks:
        block = [a[index] if cut else a for a, cut in zip(arguments, sliced)]
        summed = summed + module.hessian_partial_sums(*block, total_rows=total)[1]
    return summed


def check_shares(module, arguments: list) -> None:
    hessian = module.hessian(*arguments)
    for number, blocks in enumerate(dask_support.splits(len(arguments[len(module._WRT)]))[:2]):
        assert_close(summed_hessian_shares(module, arguments, blocks), hessian, f"Hessian, split {number}")
    value, gradient = module.value_and_grad(*arguments)
    assert_close(module.loss(*arguments), value, "loss against value_and_grad")
    assert_close(_parts(module.grad(*arguments)), _parts(gradient), "grad against value_and_grad")
    total = len(arguments[len(module._WRT)])
    for number, blocks in enumerate(dask_support.splits(total)):
        count, shares, share_grads = summed_shares(module, arguments, blocks)
        assert count == total, f"split {number}: {count} rows counted of {total}"
        assert_close((shares, share_grads), (value, _parts(gradient)), f"split {number}")


@pytest.mark.parametrize("case_id", support.PAIR_IDS)
def test_partial_sums_of_any_split_add_up_for_every_catalog_pair(build, case_id):
    module, arguments = build(case_id)
    check_shares(module, arguments)
    value, gradient = module.penalty(*arguments[: len(module._WRT)])
    assert value == 0 and all(not np.any(g) for g in _parts(gradient)), "a neuron has no penalty"


@pytest.mark.parametrize("case_id", REGULARISED)
def test_partial_sums_plus_penalty_add_up_for_regularised_models(build, case_id):
    module, arguments = build(case_id)
    check_shares(module, arguments)
    value, _ = module.penalty(*arguments[: len(module._WRT)])
    assert value > 0, "the penalty should hold the regulariser"


def test_partial_sums_refuse_fewer_total_rows_than_given(build):
    module, arguments = build(ON_DASK[0])
    with pytest.raises(ValueError, match="total_rows"):
        module.partial_sums(*arguments, total_rows=ROWS - 1)


# --------------------------------------------------------------------------- Dask


def chunks(shape: tuple, chunking: str, first: bool) -> tuple:
    """uneven: rows (1, 3, N-6, 2); columns: every column its own chunk too; misaligned: the
    first row array in rows of 4, the others in one chunk (rechunked to the first's)."""
    rows = shape[0]
    if chunking == "uneven":
        by_row = (1, 3, rows - 6, 2)
    elif chunking == "columns":
        by_row = (5, rows - 5)
    else:
        by_row = (4, 4, rows - 8) if first else (rows,)
    return (by_row, *[1 if chunking == "columns" else -1 for _ in shape[1:]])


def on_dask(module, arguments: list, chunking: str) -> list:
    """The arguments with the row data as Dask arrays chunked as ``chunking`` says."""
    rows, result, first = row_names(module), [], True
    for name, value in zip(names(module), arguments):
        if name in rows:
            value = da.from_array(value, chunks=chunks(np.shape(value), chunking, first))
            first = False
        result.append(value)
    return result


def check_on_dask(module, arguments: list, chunking: str) -> None:
    lazy = on_dask(module, arguments, chunking)
    for function in ("loss", "grad", "value_and_grad"):
        call = getattr(module, function)
        assert_close(call(*lazy), call(*arguments), f"{function} ({chunking})")
    v = direction(module, arguments)
    assert_close(module.hvp(*lazy, v), module.hvp(*arguments, v), f"hvp ({chunking})")


@pytest.fixture(scope="module")
def client():
    """A cluster of two worker processes (one thread each), not the default scheduler: a test
    runs on it inside ``client.as_current()`` (not ``dask.config.set(scheduler=client)``: a
    nanny restarting a worker pickles the config, and a Client in it cannot be pickled)."""
    dask_support.pickle_by_value()
    with dask.config.set({"distributed.scheduler.allowed-failures": 10}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("case_id", ON_DASK)
def test_on_a_distributed_cluster_equals_numpy(build, client, case_id, chunking):
    module, arguments = build(case_id)
    with client.as_current(), distributed.get_task_stream(client) as tasks:
        check_on_dask(module, arguments, chunking)
    assert tasks.data, "the work should have run on the cluster's workers"


@pytest.mark.parametrize("case_id", ON_DASK)
def test_on_the_default_threaded_scheduler_equals_numpy(build, case_id):
    module, arguments = build(case_id)
    with pytest.raises(ValueError):
        distributed.get_client()  # no Client: Dask's default scheduler runs the tasks
    started = []
    callbacks = importlib.import_module("dask.callbacks")
    with callbacks.Callback(pretask=lambda key, dsk, state: started.append(key)):
        check_on_dask(module, arguments, "uneven")
    assert len(started) >= 4, "the work should have run as tasks of the local scheduler"


def test_on_the_process_scheduler_equals_numpy(build):
    module, arguments = build(ON_DASK[1])
    lazy = on_dask(module, arguments, "uneven")
    with dask.config.set(scheduler="processes", num_workers=2):
        assert_close(module.value_and_grad(*lazy), module.value_and_grad(*arguments), "value_and_grad")


def test_a_worker_killed_mid_computation_is_retried_and_the_result_is_exact(build, client):
    """Every chunk's task is held on its worker until one worker has been killed (os._exit)
    and the scheduler has noticed: its tasks run again, the result is unchanged."""
    module, arguments = build(ON_DASK[1])
    rows = row_names(module)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    started = distributed.Queue(f"started-{tag}", client=client)
    release = distributed.Event(f"release-{tag}", client=client)
    plain, held, tasks = [], [], 0
    for name, value in zip(names(module), arguments):
        if name in rows:
            value = da.from_array(value, chunks=(2, *[-1] * (np.ndim(value) - 1)))
            meta = np.empty((0,) * value.ndim, value.dtype)
            held.append(value.map_blocks(dask_support.held, started.name, release.name, meta=meta))
            tasks += value.numblocks[0]
        else:
            held.append(value)
        plain.append(value)
    with client.as_current():
        undisturbed = module.value_and_grad(*plain)
    with ThreadPoolExecutor(1) as thread:
        running = thread.submit(_on, client, module.value_and_grad, *held)
        try:
            victim = started.get(timeout=60)  # a worker now runs (holds) a chunk's task
            client.run(dask_support.exit_now, workers=[victim], wait=False)
            _wait_until(lambda: victim not in client.scheduler_info()["workers"], "the worker's loss")
        finally:
            release.set()
        result = running.result(timeout=120)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert victim not in client.scheduler_info()["workers"]
    assert started.qsize() + 1 > tasks, "the killed worker's held task should have run again"
    assert_close(result, module.value_and_grad(*arguments), "value_and_grad after the kill")
    for k, (a, b) in enumerate(zip(flat(result), flat(undisturbed))):
        assert np.array_equal(a, b), f"value {k} differs from the run without a kill"


def _on(client, function, *arguments):
    """``function(*arguments)`` with ``client`` as the scheduler (in this thread)."""
    with client.as_current():
        return function(*arguments)


def _wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


# --------------------------------------------------------------------------- without Dask


CHILD = r"""
import sys
for name in ("dask", "distributed", "cloudpickle"):
    sys.modules[name] = None  # importing any of these now raises ImportError
import importlib.util, json
from pathlib import Path
import numpy as np

def flat(result):
    if isinstance(result, tuple):
        return [x for part in result for x in flat(part)]
    return [float(x) for x in np.ravel(result)]

results = {}
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    data = np.load(path.with_suffix(".npz"))
    values = [data[f"arr_{i}"] for i in range(len(data.files))]
    values = [a[()] if a.ndim == 0 else a for a in values]
    k = len(m._WRT)
    arguments, v = values[:-k], values[-k:]
    v = v[0] if k == 1 else tuple(v)
    outputs = (m.loss(*arguments), m.grad(*arguments), m.value_and_grad(*arguments),
               m.hvp(*arguments, v), m.partial_sums(*arguments)[1:], m.penalty(*arguments[:k]))
    results[path.stem] = flat(outputs)
print(json.dumps(results))
"""


def test_the_module_runs_on_numpy_where_dask_cannot_be_imported(build, tmp_path):
    expected = {}
    for case_id in ON_DASK:
        module, arguments = build(case_id)
        stem = re.sub(r"\W", "_", case_id)
        (tmp_path / f"{stem}.py").write_text(_source(case_id), encoding="utf-8")
        v = direction(module, arguments)
        np.savez(tmp_path / f"{stem}.npz", *arguments, *_parts(v))
        k = len(module._WRT)
        outputs = (
            module.loss(*arguments),
            module.grad(*arguments),
            module.value_and_grad(*arguments),
            module.hvp(*arguments, v),
            module.partial_sums(*arguments)[1:],
            module.penalty(*arguments[:k]),
        )
        expected[stem] = np.concatenate([np.ravel(a) for a in flat(outputs)])
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for stem, values in expected.items():
        assert relative_error(np.array(results[stem]), values) < TOLERANCE, stem

"""Helpers of tests/test_dask.py: import a generated module under a unique name, split rows into
blocks, and a chunk function a test holds on a worker until it releases it.

Dask, Distributed and cloudpickle are imported inside the functions, so importing this file
needs none of them (test_dask.py skips itself first when they are missing).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from pathlib import Path

import numpy as np

_NUMBERS = itertools.count()


def load(text: str, folder: Path, stem: str):
    """Write ``text`` to ``folder`` and import it under a new name, registered in sys.modules
    (the workers never see the file: the module is pickled by value)."""
    name = f"symderiv_dask_{stem}_{next(_NUMBERS)}"
    path = folder / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def splits(count: int, randoms: int = 3) -> list[list[np.ndarray]]:
    """Partitions of ``range(count)`` into blocks of row indices: one row per block; empty
    blocks around all the rows; then ``randoms`` shuffled orders cut at random places, some
    cuts repeated (empty blocks in the middle and at the ends)."""
    empty = np.arange(0)
    result = [[np.array([i]) for i in range(count)], [empty, np.arange(count), empty]]
    for seed in range(randoms):
        rng = np.random.default_rng(seed)
        cuts = np.concatenate([rng.integers(0, count + 1, 4), [0, count // 2, count // 2, count]])
        result.append(np.split(rng.permutation(count), np.sort(cuts)))
    return result


def held(block: np.ndarray, started: str, release: str) -> np.ndarray:
    """``block`` unchanged, once the test sets the Event ``release``; first, the worker's
    address is put on the Queue ``started`` (the test kills that worker meanwhile)."""
    from distributed import Event, Queue, get_worker

    Queue(started).put(get_worker().address)
    Event(release).wait(timeout=120)
    return block


async def exit_now() -> None:
    """End this worker's process at once (``client.run`` without waiting needs a coroutine)."""
    os._exit(1)


def pickle_by_value() -> None:
    """Ship this module's functions by value: the workers cannot import this file."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])

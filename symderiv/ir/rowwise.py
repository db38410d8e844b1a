"""Row-wise functions of the typed graph: softmax, log_softmax and logsumexp of a vector, or of
each row of a matrix. Evaluated stably (the row maximum subtracted first)."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .node import Node


class _RowWise(Node):
    """A function of each row of a matrix (or of a whole vector)."""

    reduces = False

    def __init__(self, a):
        if not a.shape:
            raise ShapeError(f"{type(self).__name__.lower()}() needs a vector or a matrix, got a scalar")
        shape = a.shape[:-1] if self.reduces else a.shape
        super().__init__((a,), shape)

    def sample_row(self, rows):
        sampled = len(self.args[0].shape) == 2 and rows[0] is not self.args[0]
        return type(self)(rows[0]) if sampled else None

    @staticmethod
    def _shifted(z):
        z = np.asarray(z, dtype=float)
        return z - np.max(z, axis=-1, keepdims=True)


class Softmax(_RowWise):
    """softmax(z)_j = exp(z_j) / Σ_k exp(z_k), row by row."""

    def evaluate(self, values, ctx):
        e = np.exp(self._shifted(values[0]))
        return e / np.sum(e, axis=-1, keepdims=True)


class LogSoftmax(_RowWise):
    """log softmax(z) = z − logsumexp(z), row by row."""

    def evaluate(self, values, ctx):
        s = self._shifted(values[0])
        return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


class LogSumExp(_RowWise):
    """logsumexp(z) = log Σ_k exp(z_k): a scalar per row."""

    reduces = True

    def evaluate(self, values, ctx):
        z = np.asarray(values[0], dtype=float)
        m = np.max(z, axis=-1, keepdims=True)
        return np.squeeze(m, -1) + np.log(np.sum(np.exp(z - m), axis=-1))

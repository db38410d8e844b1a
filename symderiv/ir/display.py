"""Display-only nodes: what derivation steps show but code never computes.

Local Jacobians (diag, I, rows), chains of Jacobians, per-sample and index sums, differentials
dX, adjoints ∇_X C and the inner product ⟨A, B⟩ that justifies each adjoint.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .node import Node
from .shapes import dim_json, mismatch


class Diag(Node):
    """diag(v): the square matrix with v on its diagonal."""

    display_only = True

    def __init__(self, v):
        super().__init__((v,), (v.shape[0], v.shape[0]))

    def evaluate(self, values, ctx):
        return np.diag(values[0])


class Identity(Node):
    display_only = True

    def __init__(self, m):
        super().__init__((), (m, m))

    def data(self):
        return (self.shape,)

    def evaluate(self, values, ctx):
        return np.eye(ctx.shape(self.shape)[0])

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(shape[0])


class Row(Node):
    """vᵀ: a column vector shown as a row (numerator layout)."""

    display_only = True

    def __init__(self, v):
        super().__init__((v,), (1, v.shape[0]) if v.shape else ())

    def evaluate(self, values, ctx):
        return values[0]


class Chain(Node):
    """A product of Jacobians written left to right, shown unsimplified."""

    precedence, display_only = 20, True

    def __init__(self, factors: tuple[Node, ...], shape):
        super().__init__(tuple(factors), shape)

    def rebuild(self, args):
        return Chain(args, self.shape)

    with_args = rebuild  # display nodes never simplify

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(tuple(args), shape)


class IndexedSum(Node):
    """Σ_{index=1}^{upper} body."""

    __slots__ = ("index", "upper")
    precedence, display_only = 15, True

    def __init__(self, index: str, upper, body: Node):
        self.index, self.upper = index, upper
        super().__init__((body,), body.shape)

    def data(self):
        return (self.index, self.upper)

    def rebuild(self, args):
        return IndexedSum(self.index, self.upper, args[0])

    with_args = rebuild  # display nodes never simplify

    def to_json(self):
        return {"index": self.index, "upper": dim_json(self.upper)}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(reader.name(data["index"]), reader.dim(data["upper"]), args[0])


class Elem(Node):
    """Element (or row, as a column) ``index`` of a symbol: z_i, or x_i for row i of X."""

    __slots__ = ("index",)
    display_only = True

    def __init__(self, of, index: str):
        self.index = index
        super().__init__((of,), of.shape[1:])

    def data(self):
        return (self.index,)

    def rebuild(self, args):
        return Elem(args[0], self.index)

    with_args = rebuild  # display nodes never simplify

    def to_json(self):
        return {"index": self.index}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(args[0], reader.name(data["index"]))


class Entry(Node):
    """A scalar entry of a vector or matrix symbol: X_ij, z_i."""

    __slots__ = ("indices",)
    display_only = True

    def __init__(self, of, indices: tuple):
        if len(indices) != len(of.shape):
            raise ShapeError(f"{len(of.shape)} indices needed, got {len(indices)}")
        self.indices = tuple(indices)
        super().__init__((of,), ())

    def data(self):
        return (self.indices,)

    def rebuild(self, args):
        return Entry(args[0], self.indices)

    with_args = rebuild  # display nodes never simplify

    def to_json(self):
        return {"indices": list(self.indices)}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(args[0], tuple(reader.name(i) for i in data["indices"]))


class Differential(Node):
    """dX: an infinitesimal change of X, shaped like X."""

    display_only = True

    def __init__(self, of):
        super().__init__((of,), of.shape)


class Adjoint(Node):
    """∇_X C: the gradient of the output by X, shaped like X (gradient layout)."""

    __slots__ = ("output",)
    display_only = True

    def __init__(self, of, output: str):
        self.output = output
        super().__init__((of,), of.shape)

    def data(self):
        return (self.output,)

    def rebuild(self, args):
        return Adjoint(args[0], self.output)

    with_args = rebuild  # display nodes never simplify

    def to_json(self):
        return {"output": self.output}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(args[0], reader.name(data["output"]))


class Inner(Node):
    """⟨A, B⟩ = Σ A ⊙ B: the Frobenius inner product (a scalar)."""

    display_only = True

    def __init__(self, a, b):
        if a.shape != b.shape:
            raise mismatch("⟨A, B⟩", a, b)
        super().__init__((a, b), ())

    def evaluate(self, values, ctx):
        return float(np.sum(np.asarray(values[0]) * np.asarray(values[1])))

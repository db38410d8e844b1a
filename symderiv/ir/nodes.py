"""The operations of the typed graph. Each class states its shape rule, precedence, evaluation
and JSON content; the smart constructors in :mod:`.build` add the algebraic identities."""

from __future__ import annotations

import re

import numpy as np
import sympy

from ..errors import ShapeError
from .node import Node
from .shapes import Shape, as_dim, common_shape, elementwise_shape, mismatch, shape_str

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# --------------------------------------------------------------------------- leaves


class Symbol(Node):
    """A named scalar, vector or matrix."""

    __slots__ = ("name",)

    def __init__(self, name: str, shape: Shape = ()):
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ShapeError(f"a symbol's name must be an identifier (letters, digits, _), not {name!r:.60}")
        self.name = name
        super().__init__((), tuple(as_dim(d) for d in shape))

    def data(self):
        return (self.name, self.shape)

    def evaluate(self, values, ctx):
        return np.array(ctx.lookup(self.name), dtype=float)  # a copy: results never alias env

    def to_json(self):
        return {"name": self.name}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(reader.name(data["name"]), shape)


class Const(Node):
    """A scalar constant: a SymPy number or an expression in dimensions (1/N)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = sympy.sympify(value, strict=True) if isinstance(value, (int, float)) else value
        super().__init__((), ())

    def data(self):
        return (self.value,)

    @property
    def precedence(self):
        if self.value.could_extract_minus_sign():
            return 10
        return 100 if self.value.is_Atom else 20

    def evaluate(self, values, ctx):
        return ctx.number(self.value)

    def to_json(self):
        return {"value": sympy.srepr(self.value, order="none")}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(reader.sympy(data["value"]))


class _Filled(Node):
    """A vector or matrix of one repeated value."""

    fill = 0.0

    def __init__(self, shape: Shape):
        super().__init__((), tuple(shape))

    def data(self):
        return (self.shape,)

    def evaluate(self, values, ctx):
        return np.full(ctx.shape(self.shape), self.fill)

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(shape)


class Ones(_Filled):
    """The vector (or matrix) of ones of a shape."""

    fill = 1.0


class Zero(_Filled):
    """The zero scalar, vector or matrix of a shape."""


# --------------------------------------------------------------------------- element-wise


class _Elementwise(Node):
    elementwise = True
    symbol = "?"

    def __init__(self, a, b):
        super().__init__((a, b), elementwise_shape(f"a {self.symbol} b", a, b))

    def sample_row(self, rows):
        return self.rebuild(tuple(rows))


class Add(_Elementwise):
    symbol, precedence = "+", 10

    def rebuild(self, args):
        from .build import add

        return add(*args)

    def scalar(self, args):
        return args[0] + args[1]

    def evaluate(self, values, ctx):
        return values[0] + values[1]


class Sub(_Elementwise):
    symbol, precedence = "-", 10

    def rebuild(self, args):
        from .build import sub

        return sub(*args)

    def scalar(self, args):
        return args[0] - args[1]

    def evaluate(self, values, ctx):
        return values[0] - values[1]


class Mul(_Elementwise):
    """Element-wise (Hadamard) product; with a scalar operand, scaling."""

    symbol, precedence = "*", 20

    def rebuild(self, args):
        from .build import mul

        return mul(*args)

    def scalar(self, args):
        return args[0] * args[1]

    def evaluate(self, values, ctx):
        return values[0] * values[1]


class Div(_Elementwise):
    symbol, precedence = "/", 20

    def rebuild(self, args):
        from .build import div

        return div(*args)

    def scalar(self, args):
        return args[0] / args[1]

    def evaluate(self, values, ctx):
        return np.divide(values[0], values[1])


class Neg(Node):
    precedence, elementwise = 25, True

    def __init__(self, a):
        super().__init__((a,), a.shape)

    def rebuild(self, args):
        from .build import neg

        return neg(*args)

    def scalar(self, args):
        """The operation on scalar SymPy operands."""
        return -args[0]

    def evaluate(self, values, ctx):
        return -values[0]

    def sample_row(self, rows):
        return self.rebuild(tuple(rows))


class Pow(Node):
    """Element-wise power with a scalar exponent."""

    precedence, elementwise = 30, True

    def __init__(self, base, exponent):
        if exponent.shape != ():
            raise ShapeError(f"exponent must be a scalar, got {shape_str(exponent.shape)}")
        super().__init__((base, exponent), base.shape)

    def rebuild(self, args):
        from .build import power

        return power(*args)

    def scalar(self, args):
        """The operation on scalar SymPy operands."""
        return args[0] ** args[1]

    def evaluate(self, values, ctx):
        return np.power(values[0], values[1])

    def sample_row(self, rows):
        return self.rebuild(tuple(rows))


class Apply(Node):
    """Element-wise application of a scalar function to one or more operands."""

    __slots__ = ("fn",)
    elementwise = True

    def __init__(self, fn, args: tuple[Node, ...]):
        self.fn = fn
        shape = common_shape(f"{fn.name}(...)", [a.shape for a in args])
        super().__init__(tuple(args), shape)

    def data(self):
        return (self.fn,)

    def with_args(self, args):
        return Apply(self.fn, tuple(args))

    @property
    def precedence(self):
        from ..notation import function_precedence

        return function_precedence(self.fn)

    def rebuild(self, args):
        from ..functions import apply

        return apply(self.fn, *args)

    def scalar(self, args):
        """The operation on scalar SymPy operands."""
        return self.fn.evaluate_at(*args)

    def evaluate(self, values, ctx):
        return ctx.apply(self.fn, values, self.shape)

    def to_json(self):
        fn = self.fn
        return {
            "function": {
                "name": fn.name,
                "params": [sympy.srepr(p, order="none") for p in fn.params],
                "body": sympy.srepr(fn.body, order="none"),
                "inline": fn.inline,
            }
        }

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(reader.function(data["function"]), tuple(args))

    def sample_row(self, rows):
        return self.rebuild(tuple(rows))


# --------------------------------------------------------------------------- linear algebra


def matmul_shape(a: Node, b: Node) -> Shape:
    if len(a.shape) == 2 and len(b.shape) >= 1 and a.shape[1] == b.shape[0]:
        return (a.shape[0],) + b.shape[1:]
    raise mismatch("A @ B", a, b)


class MatMul(Node):
    """Matrix-vector or matrix-matrix product."""

    precedence = 20

    def __init__(self, a, b):
        super().__init__((a, b), matmul_shape(a, b))

    def rebuild(self, args):
        from .build import matmul

        return matmul(*args)

    def evaluate(self, values, ctx):
        return values[0] @ values[1]

    def sample_row(self, rows):
        from .build import matmul, transpose

        a_row, b = rows
        if a_row is self.args[0] or b is not self.args[1]:
            return None  # only the left operand may run over the samples
        return matmul(transpose(b), a_row) if len(b.shape) == 2 else None


class Transpose(Node):
    def __init__(self, a):
        if len(a.shape) != 2:
            raise ShapeError(f"only a matrix has a transpose here, got {shape_str(a.shape)}")
        super().__init__((a,), (a.shape[1], a.shape[0]))

    def rebuild(self, args):
        from .build import transpose

        return transpose(*args)

    def evaluate(self, values, ctx):
        return np.transpose(values[0])


class Outer(Node):
    """The outer product u vᵀ of two column vectors: an m×n matrix."""

    precedence = 20

    def __init__(self, u, v):
        if len(u.shape) != 1 or len(v.shape) != 1:
            raise mismatch("outer(u, v)", u, v, " (both must be vectors)")
        super().__init__((u, v), (u.shape[0], v.shape[0]))

    def evaluate(self, values, ctx):
        return np.outer(values[0], values[1])


# --------------------------------------------------------------------------- axes


def check_axis(a: Node, axis, what: str):
    if axis is None:
        return None
    if axis not in (0, 1) or isinstance(axis, bool):
        raise ShapeError(f"{what}: axis must be 0 or 1, got {axis!r}")
    if axis >= max(len(a.shape), 1):
        raise ShapeError(f"{what}: a {shape_str(a.shape)} has no axis {axis}")
    return axis


def reduced_shape(shape: Shape, axis) -> Shape:
    if axis is None or len(shape) <= 1:
        return ()
    return (shape[1],) if axis == 0 else (shape[0],)


class _Reduction(Node):
    __slots__ = ("axis",)
    word = "sum"

    def __init__(self, a, axis=None):
        self.axis = check_axis(a, axis, f"{self.word}(A, axis)")
        super().__init__((a,), reduced_shape(a.shape, self.axis))

    def data(self):
        return (self.axis,)

    def rebuild(self, args):
        return type(self)(args[0], self.axis)

    def with_args(self, args):
        return type(self)(args[0], self.axis)

    def to_json(self):
        return {} if self.axis is None else {"axis": self.axis}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        return cls(args[0], reader.axis(data.get("axis")))

    def count(self) -> sympy.Expr:
        """How many elements each result element sums."""
        shape = self.args[0].shape
        if self.axis is None or len(shape) <= 1:
            return sympy.Mul(*shape) if shape else sympy.Integer(1)
        return shape[self.axis]

    def sample_row(self, rows):
        from .build import total

        if self.axis == 1:
            return total(rows[0])
        return None


class Sum(_Reduction):
    """Sum of all elements, or along an axis (0: down the columns, 1: along each row)."""

    def rebuild(self, args):
        from .build import total

        return total(args[0], self.axis)

    def evaluate(self, values, ctx):
        return np.sum(values[0], axis=self.axis if np.ndim(values[0]) == 2 else None)


class Mean(_Reduction):
    """Mean of all elements, or along an axis."""

    word = "mean"

    def rebuild(self, args):
        from .build import mean

        return mean(args[0], self.axis)

    def evaluate(self, values, ctx):
        return np.mean(values[0], axis=self.axis if np.ndim(values[0]) == 2 else None)

    def sample_row(self, rows):
        from .build import mean

        return mean(rows[0]) if self.axis == 1 else None


class Broadcast(Node):
    """A vector repeated along an axis: axis 0 gives 1bᵀ (b on every row), axis 1 gives g1ᵀ."""

    __slots__ = ("axis",)
    precedence = 20  # printed as a product: 1bᵀ, g1ᵀ

    def __init__(self, a, axis: int, count):
        if len(a.shape) != 1 or axis not in (0, 1):
            raise ShapeError(f"only a vector is broadcast along axis 0 or 1, got {shape_str(a.shape)}")
        self.axis = axis
        count = as_dim(count)
        super().__init__((a,), (count, a.shape[0]) if axis == 0 else (a.shape[0], count))

    def data(self):
        return (self.axis,)

    def evaluate(self, values, ctx):
        rows, cols = ctx.shape(self.shape)
        v = np.asarray(values[0], dtype=float)
        return np.broadcast_to(v, (rows, cols)).copy() if self.axis == 0 else np.repeat(v[:, None], cols, 1)

    def rebuild(self, args):
        return Broadcast(args[0], self.axis, self.shape[self.axis])

    with_args = rebuild

    def to_json(self):
        return {"axis": self.axis}

    @classmethod
    def from_json(cls, data, args, shape, reader):
        axis = reader.axis(data.get("axis"))
        return cls(args[0], axis, shape[axis])

    def sample_row(self, rows):
        from .build import mul

        if self.axis == 0:
            return self.args[0]
        return mul(rows[0], Ones((self.shape[1],))) if rows[0] is not self.args[0] else None

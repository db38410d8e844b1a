"""Dimensions and shapes: ``()`` a scalar, ``(m,)`` a column vector, ``(m, k)`` a matrix.

Dimensions are SymPy symbols (n, N, ...) or integers, so deriving with n = 10 or n = 10 000
costs the same.
"""

from __future__ import annotations

from functools import cache

import sympy

from ..errors import ShapeError

Shape = tuple


@cache
def dim(name: str) -> sympy.Symbol:
    """The dimension symbol called ``name`` (a positive integer)."""
    return sympy.Symbol(name, integer=True, positive=True)


def as_dim(value) -> sympy.Expr:
    """A dimension from a name, an int or a SymPy expression."""
    if isinstance(value, str):
        return dim(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ShapeError(f"dimension must be a positive integer, got {value}")
        return sympy.Integer(value)
    if isinstance(value, sympy.Expr):
        if value.is_Integer and value < 1:
            raise ShapeError(f"dimension must be a positive integer, got {value}")
        return value
    raise ShapeError(f"not a dimension: {value!r}")


def shape_str(shape: Shape) -> str:
    """``scalar``, ``vector(n)`` or ``matrix(N, n)``."""
    if shape == ():
        return "scalar"
    if len(shape) == 1:
        return f"vector({shape[0]})"
    return f"matrix({shape[0]}, {shape[1]})"


def size(shape: Shape) -> sympy.Expr:
    """The number of elements of a shape."""
    return sympy.Mul(*shape) if shape else sympy.Integer(1)


def mismatch(op: str, a, b, hint: str = "") -> ShapeError:
    """The shape error of a binary operation, naming both operands' shapes."""
    return ShapeError(
        f"shape mismatch in {op}: left is {shape_str(a.shape)}, right is {shape_str(b.shape)}{hint}"
    )


def elementwise_shape(op: str, a, b) -> Shape:
    """The shape of an element-wise operation: equal shapes, a scalar expanded to the other's
    shape, or a vector of length h spread over every row of an N×h matrix."""
    if a.shape == b.shape or b.shape == () or row_broadcastable(a.shape, b.shape):
        return a.shape
    if a.shape == () or row_broadcastable(b.shape, a.shape):
        return b.shape
    raise mismatch(op, a, b)


def common_shape(what: str, shapes: list) -> Shape:
    """The shape of an element-wise function of operands of these shapes."""
    result: Shape = ()
    for shape in shapes:
        if shape == () or shape == result or row_broadcastable(result, shape):
            continue
        if result == () or row_broadcastable(shape, result):
            result = shape
            continue
        raise ShapeError(f"shape mismatch in {what}: {shape_str(result)} and {shape_str(shape)}")
    return result


def row_broadcastable(matrix_shape: Shape, vector_shape: Shape) -> bool:
    """A vector of length h added to every row of an N×h matrix (NumPy's trailing-axis rule)."""
    return len(matrix_shape) == 2 and len(vector_shape) == 1 and matrix_shape[1] == vector_shape[0]


def dim_json(d):
    """A dimension as JSON: an int, a name, or SymPy ``srepr`` text for anything else."""
    d = sympy.sympify(d, strict=True)
    if d.is_Integer:
        return int(d)
    if d.is_Symbol:
        return d.name
    return sympy.srepr(d, order="none")

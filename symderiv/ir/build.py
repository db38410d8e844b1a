"""Smart constructors: the operations with the few identities that keep gradients readable
(constant coefficients first, ``1 * x = x``, ones dropped from products, ``(Aᵀ)ᵀ = A``), and
NumPy's broadcasting of a vector over the rows of a matrix made explicit as ``1bᵀ``."""

from __future__ import annotations

import sympy

from ..errors import ShapeError
from .display import Identity
from .node import Node
from .nodes import (
    Add,
    Broadcast,
    Const,
    Div,
    MatMul,
    Mean,
    Mul,
    Neg,
    Ones,
    Outer,
    Pow,
    Sub,
    Sum,
    Transpose,
    Zero,
    check_axis,
    matmul_shape,
)
from .rowwise import LogSoftmax, LogSumExp, Softmax
from .shapes import Shape, elementwise_shape, mismatch, size


def as_node(value) -> Node:
    """Wrap Python and SymPy numbers as :class:`Const`."""
    if isinstance(value, Node):
        return value
    if isinstance(value, (int, float, sympy.Basic)) and not isinstance(value, bool):
        return const(value)
    raise TypeError(f"cannot use {type(value).__name__} in a symderiv expression")


def const(value) -> Const:
    return Const(sympy.sympify(value, strict=True) if not isinstance(value, sympy.Basic) else value)


def is_const(node: Node, value=None) -> bool:
    if not isinstance(node, Const):
        return False
    return value is None or node.value == value


def zeros(shape: Shape) -> Node:
    return Const(sympy.Integer(0)) if shape == () else Zero(shape)


def ones(shape: Shape) -> Node:
    return Const(sympy.Integer(1)) if shape == () else Ones(shape)


def is_zero(node: Node) -> bool:
    return isinstance(node, Zero) or is_const(node, 0)


# --------------------------------------------------------------------------- broadcasting


def broadcast(v: Node, axis: int, count) -> Node:
    """``v`` repeated along ``axis`` (0: on every row, 1: on every column); a scalar stays."""
    if v.shape == ():
        return v
    if isinstance(v, Ones):
        return Ones((count, v.shape[0]) if axis == 0 else (v.shape[0], count))
    coefficient, factors = split_coefficient(v)
    if coefficient != 1 and factors:
        return mul(Const(coefficient), broadcast(product(1, factors, v.shape), axis, count))
    return Broadcast(v, axis, count)


# --------------------------------------------------------------------------- products


def split_coefficient(node: Node) -> tuple[sympy.Expr, list[Node]]:
    """A product as (constant coefficient, non-constant factors in order)."""
    if isinstance(node, Const):
        return node.value, []
    if isinstance(node, Mul):
        ca, fa = split_coefficient(node.args[0])
        cb, fb = split_coefficient(node.args[1])
        return ca * cb, fa + fb
    if isinstance(node, Neg):
        c, f = split_coefficient(node.args[0])
        return -c, f
    return sympy.Integer(1), [node]


def product(coefficient, factors: list[Node], shape: Shape) -> Node:
    """Rebuild ``coefficient * f1 * f2 ...`` of the given shape, dropping redundant ones."""
    coefficient = sympy.sympify(coefficient, strict=True)
    if coefficient == 0:
        return zeros(shape)
    kept = [f for f in factors if not (isinstance(f, Ones) and _covered(shape, factors, f))]
    kept.sort(key=lambda f: f.shape != ())  # scalars first: c(z) x, not x c(z)
    if not kept:
        kept = [Ones(shape)] if shape else []
    if not kept:
        return Const(coefficient)
    if coefficient.could_extract_minus_sign():  # −(c·x), never (−c)·x
        return Neg(product(-coefficient, kept, shape))
    scalars = [f for f in kept if f.shape == ()]
    if coefficient != 1 and scalars and len(scalars) < len(kept):
        kept = [Const(coefficient)] + kept  # 2u·1: the constant joins the scalar factors
        coefficient = sympy.Integer(1)
    body = kept[0]
    for factor in kept[1:]:
        body = Mul(body, factor)
    return body if coefficient == 1 else Mul(Const(coefficient), body)


def _covered(shape: Shape, factors: list[Node], ones_node: Node) -> bool:
    return any(f is not ones_node and f.shape == shape for f in factors)


def mul(a: Node, b: Node) -> Node:
    shape = elementwise_shape("a * b", a, b)
    ca, fa = split_coefficient(a)
    cb, fb = split_coefficient(b)
    if any(isinstance(f, Zero) for f in fa + fb):
        return zeros(shape)
    return product(ca * cb, fa + fb, shape)


def add(a: Node, b: Node) -> Node:
    shape = elementwise_shape("a + b", a, b)
    if is_zero(a) and a.shape == shape:
        return b if b.shape == shape else Add(a, b)
    if is_zero(b):
        return a if a.shape == shape else Add(a, b)
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(a.value + b.value)
    if isinstance(b, Neg):
        return sub(a, b.args[0])
    common = _common_factor(a, b)
    return common if common is not None and a.shape == b.shape else Add(a, b)


def _common_factor(a: Node, b: Node, negate_b: bool = False):
    """c·p + (−c)·q as c·(p − q) and c·p + c·q as c·(p + q), with c written positive: (1/N)(s − y)."""
    ca, fa = split_coefficient(a)
    cb, fb = split_coefficient(b)
    cb = -cb if negate_b else cb
    if not (fa and fb) or ca in (1, -1) or (ca != cb and ca != -cb):
        return None
    p, q = product(1, fa, a.shape), product(1, fb, b.shape)
    inner = Add(p, q) if ca == cb else Sub(p, q)
    if ca.could_extract_minus_sign():
        return mul(Const(-ca), neg(inner) if ca == cb else Sub(q, p))
    return mul(Const(ca), inner)


def sub(a: Node, b: Node) -> Node:
    shape = elementwise_shape("a - b", a, b)
    if is_zero(b):
        return a if a.shape == shape else Sub(a, b)
    if is_zero(a) and b.shape == shape:
        return neg(b)
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(a.value - b.value)
    common = _common_factor(a, b, negate_b=True)
    return common if common is not None and a.shape == b.shape else Sub(a, b)


def neg(a: Node) -> Node:
    if isinstance(a, Neg):
        return a.args[0]
    coefficient, factors = split_coefficient(a)
    if not factors or coefficient != 1:
        return product(-coefficient, factors, a.shape)
    return Neg(a)


def div(a: Node, b: Node) -> Node:
    shape = elementwise_shape("a / b", a, b)
    if isinstance(b, Const):
        if b.value == 0:
            raise ShapeError("division by the constant 0")
        return mul(Const(1 / b.value), a) if shape == a.shape else Div(a, b)
    return Div(a, b)


def power(base: Node, exponent: Node) -> Node:
    if is_const(exponent, 1):
        return base
    if is_const(exponent, 0):
        return ones(base.shape)
    if isinstance(base, Const) and isinstance(exponent, Const):
        return Const(base.value**exponent.value)
    return Pow(base, exponent)


def matmul(a: Node, b: Node) -> Node:
    """``a @ b`` with NumPy's rules for vectors: vector @ vector is the dot product."""
    if a.shape == () or b.shape == ():
        raise mismatch("A @ B", a, b, " (use * to scale by a scalar)")
    if len(a.shape) == 1 and len(b.shape) == 1:
        return dot(a, b)
    if len(a.shape) == 1:
        if len(b.shape) != 2 or a.shape[0] != b.shape[0]:
            raise mismatch("A @ B", a, b)
        return matmul(transpose(b), a)
    matmul_shape(a, b)
    if isinstance(a, Identity):
        return b
    ca, fa = split_coefficient(a)
    cb, fb = split_coefficient(b)
    if (ca != 1 and fa) or (cb != 1 and fb):
        return mul(Const(ca * cb), MatMul(product(1, fa, a.shape), product(1, fb, b.shape)))
    if is_zero(a) or is_zero(b):
        return zeros(matmul_shape(a, b))
    return MatMul(a, b)


def outer(u: Node, v: Node) -> Node:
    """u vᵀ, with constant factors pulled out."""
    cu, fu = split_coefficient(u)
    cv, fv = split_coefficient(v)
    if (cu != 1 and fu) or (cv != 1 and fv):
        return mul(Const(cu * cv), Outer(product(1, fu, u.shape), product(1, fv, v.shape)))
    return Outer(u, v)


def dot(a: Node, b: Node) -> Node:
    """The dot product, as the sum of the element-wise product (u = a ⊗ b, v = sum(u))."""
    if len(a.shape) != 1 or a.shape != b.shape:
        raise mismatch("dot(a, b)", a, b)
    return Sum(Mul(a, b))


def transpose(a: Node) -> Node:
    """Matrix transpose; a vector or scalar is returned unchanged (NumPy's convention)."""
    if len(a.shape) < 2:
        return a
    if isinstance(a, Transpose):
        return a.args[0]
    if isinstance(a, (Ones, Zero)):
        return type(a)((a.shape[1], a.shape[0]))
    coefficient, factors = split_coefficient(a)
    if coefficient != 1 and factors:
        return mul(Const(coefficient), Transpose(product(1, factors, a.shape)))
    return Transpose(a)


# --------------------------------------------------------------------------- reductions


def total(a: Node, axis=None) -> Node:
    """sum(a) of all elements, or along ``axis``, with constant factors pulled out."""
    axis = check_axis(a, axis, "sum(A, axis)")
    if a.shape == ():
        return a
    if len(a.shape) == 1:
        axis = None
    coefficient, factors = split_coefficient(a)
    if coefficient != 1 and factors:
        return mul(Const(coefficient), total(product(1, factors, a.shape), axis))
    if isinstance(a, Ones):
        return Const(size(a.shape)) if axis is None else mul(Const(a.shape[axis]), Ones(_kept(a, axis)))
    if axis is None and _scaled_ones(factors):  # sum(u 1) = n u
        return mul(Const(size(a.shape)), product(1, [f for f in factors if f.shape == ()], ()))
    if isinstance(a, Broadcast) and axis == a.axis:
        return mul(Const(a.shape[axis]), a.args[0])
    return Sum(a, axis)


def _scaled_ones(factors: list[Node]) -> bool:
    """Scalars times a vector (or matrix) of ones."""
    filled = [f for f in factors if f.shape]
    return len(filled) == 1 and isinstance(filled[0], Ones) and len(factors) > 1


def _kept(a: Node, axis: int) -> Shape:
    return (a.shape[1 - axis],)


def mean(a: Node, axis=None) -> Node:
    axis = check_axis(a, axis, "mean(A, axis)")
    if a.shape == ():
        return a
    coefficient, factors = split_coefficient(a)
    if axis is None and _scaled_ones(factors):  # mean(u 1) = u
        return product(coefficient, [f for f in factors if f.shape == ()], ())
    return Mean(a, None if len(a.shape) == 1 else axis)


# --------------------------------------------------------------------------- row-wise functions


def softmax(a: Node) -> Node:
    return Softmax(a)


def log_softmax(a: Node) -> Node:
    return LogSoftmax(a)


def logsumexp(a: Node) -> Node:
    return LogSumExp(a)

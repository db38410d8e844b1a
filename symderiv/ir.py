"""The typed expression graph.

Nodes are immutable. A shape is ``()`` for a scalar, ``(m,)`` for a column vector and ``(m, k)``
for a matrix; dimensions are SymPy symbols (n, N, ...) or integers, so deriving with n = 10 or
n = 10 000 costs the same. Constructors check shapes and raise :class:`ShapeError` naming both
operands; they also apply the few algebraic identities that keep gradients readable
(constant coefficients first, ``1 * x = x``, ones vectors dropped from products).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

import sympy

from .errors import ShapeError

Shape = tuple


# --------------------------------------------------------------------------- dimensions & shapes


@lru_cache(maxsize=None)
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


def broadcast(op: str, a: "Node", b: "Node") -> Shape:
    """The shape of an element-wise operation, with scalar expansion."""
    if a.shape == b.shape or b.shape == ():
        return a.shape
    if a.shape == ():
        return b.shape
    raise ShapeError(
        f"shape mismatch in {op}: left is {shape_str(a.shape)}, right is {shape_str(b.shape)}"
    )


# --------------------------------------------------------------------------- nodes


class Node:
    """Base class of every IR node: ``args`` are child nodes, ``shape`` the result shape."""

    __slots__ = ("args", "shape", "_key", "_hash")

    def __init__(self, args: tuple["Node", ...], shape: Shape):
        self.args = args
        self.shape = shape
        # children are compared as nodes, whose hashes are cached: equality and hashing stay
        # linear in the size of the graph however deep it is
        self._key = (type(self).__name__, self.data(), args)
        self._hash = hash((type(self).__name__, self.data(), tuple(a._hash for a in args)))

    def data(self) -> tuple:
        """Non-node content that takes part in equality (names, values, functions)."""
        return ()

    @property
    def key(self) -> "Node":
        """A dictionary key for the node's structure (the node itself: equality is structural)."""
        return self

    def __eq__(self, other) -> bool:
        return self is other or (
            isinstance(other, Node) and self._hash == other._hash and self._key == other._key
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        from .render.text import to_text

        return to_text(self)

    # operator sugar for the Python API
    def __add__(self, other):
        return add(self, as_node(other))

    def __radd__(self, other):
        return add(as_node(other), self)

    def __sub__(self, other):
        return sub(self, as_node(other))

    def __rsub__(self, other):
        return sub(as_node(other), self)

    def __mul__(self, other):
        return mul(self, as_node(other))

    def __rmul__(self, other):
        return mul(as_node(other), self)

    def __truediv__(self, other):
        return div(self, as_node(other))

    def __rtruediv__(self, other):
        return div(as_node(other), self)

    def __pow__(self, other):
        return power(self, as_node(other))

    def __matmul__(self, other):
        return matmul(self, as_node(other))

    def __neg__(self):
        return neg(self)

    @property
    def T(self):
        return transpose(self)


class Symbol(Node):
    """A named scalar, vector or matrix."""

    __slots__ = ("name",)

    def __init__(self, name: str, shape: Shape = ()):
        self.name = name
        super().__init__((), tuple(as_dim(d) for d in shape))

    def data(self):
        return (self.name, self.shape)


class Const(Node):
    """A scalar constant: a SymPy number or an expression in dimensions (1/N)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = sympy.sympify(value, strict=True) if isinstance(value, (int, float)) else value
        super().__init__((), ())

    def data(self):
        return (self.value,)


class Ones(Node):
    """The vector (or matrix) of ones of a shape."""

    def __init__(self, shape: Shape):
        super().__init__((), tuple(shape))

    def data(self):
        return (self.shape,)


class Zero(Node):
    """The zero scalar, vector or matrix of a shape."""

    def __init__(self, shape: Shape):
        super().__init__((), tuple(shape))

    def data(self):
        return (self.shape,)


class Add(Node):
    def __init__(self, a, b):
        super().__init__((a, b), broadcast("a + b", a, b))


class Sub(Node):
    def __init__(self, a, b):
        super().__init__((a, b), broadcast("a - b", a, b))


class Mul(Node):
    """Element-wise (Hadamard) product; with a scalar operand, scaling."""

    def __init__(self, a, b):
        super().__init__((a, b), broadcast("a * b", a, b))


class Div(Node):
    def __init__(self, a, b):
        super().__init__((a, b), broadcast("a / b", a, b))


class Neg(Node):
    def __init__(self, a):
        super().__init__((a,), a.shape)


class Pow(Node):
    """Element-wise power with a scalar exponent."""

    def __init__(self, base, exponent):
        if exponent.shape != ():
            raise ShapeError(f"exponent must be a scalar, got {shape_str(exponent.shape)}")
        super().__init__((base, exponent), base.shape)


class MatMul(Node):
    """Matrix-vector or matrix-matrix product."""

    def __init__(self, a, b):
        super().__init__((a, b), _matmul_shape(a, b))


class Transpose(Node):
    def __init__(self, a):
        super().__init__((a,), (a.shape[1], a.shape[0]))


class Sum(Node):
    """Sum of all elements."""

    def __init__(self, a):
        super().__init__((a,), ())


class Mean(Node):
    """Mean of all elements."""

    def __init__(self, a):
        super().__init__((a,), ())


class Apply(Node):
    """Element-wise application of a scalar function to one or more operands."""

    __slots__ = ("fn",)

    def __init__(self, fn, args: tuple[Node, ...]):
        self.fn = fn
        shape: Shape = ()
        for arg in args:
            if arg.shape != () and shape not in ((), arg.shape):
                raise ShapeError(
                    f"shape mismatch in {fn.name}(...): {shape_str(shape)} and {shape_str(arg.shape)}"
                )
            shape = arg.shape or shape
        super().__init__(tuple(args), shape)

    def data(self):
        return (self.fn,)


# Display-only nodes: the local Jacobians shown in derivation steps.


class Diag(Node):
    """diag(v): the square matrix with v on its diagonal."""

    def __init__(self, v):
        super().__init__((v,), (v.shape[0], v.shape[0]))


class Identity(Node):
    def __init__(self, m):
        super().__init__((), (m, m))

    def data(self):
        return (self.shape,)


class Row(Node):
    """vᵀ: a column vector shown as a row (numerator layout)."""

    def __init__(self, v):
        super().__init__((v,), (1, v.shape[0]) if v.shape else ())


class Chain(Node):
    """A product of Jacobians written left to right, shown unsimplified."""

    def __init__(self, factors: tuple[Node, ...], shape: Shape):
        super().__init__(tuple(factors), shape)


# Per-sample forms: sums over the sample index.


class IndexedSum(Node):
    """Σ_{index=1}^{upper} body."""

    __slots__ = ("index", "upper")

    def __init__(self, index: str, upper, body: Node):
        self.index, self.upper = index, upper
        super().__init__((body,), body.shape)

    def data(self):
        return (self.index, self.upper)


class Elem(Node):
    """The element (or row, for a matrix) ``index`` of a symbol: z_i, or x_i for row i of X."""

    __slots__ = ("index",)

    def __init__(self, of: Symbol, index: str):
        self.index = index
        super().__init__((of,), of.shape[1:])

    def data(self):
        return (self.index,)


ELEMENTWISE = (Add, Sub, Mul, Div, Neg, Pow, Apply)


def _matmul_shape(a: Node, b: Node) -> Shape:
    if len(a.shape) == 2 and len(b.shape) >= 1 and a.shape[1] == b.shape[0]:
        return (a.shape[0],) + b.shape[1:]
    raise ShapeError(
        f"shape mismatch in A @ B: left is {shape_str(a.shape)}, right is {shape_str(b.shape)}"
    )


# --------------------------------------------------------------------------- smart constructors


def as_node(value) -> Node:
    """Wrap Python and SymPy numbers as :class:`Const`."""
    if isinstance(value, Node):
        return value
    if isinstance(value, (int, float, sympy.Basic)) and not isinstance(value, bool):
        return Const(sympy.sympify(value, strict=True) if not isinstance(value, sympy.Basic) else value)
    raise TypeError(f"cannot use {type(value).__name__} in a symderiv expression")


def const(value) -> Const:
    return Const(sympy.sympify(value, strict=True) if not isinstance(value, sympy.Basic) else value)


def is_const(node: Node, value=None) -> bool:
    if not isinstance(node, Const):
        return False
    return value is None or node.value == value


def zeros(shape: Shape) -> Node:
    return Const(sympy.Integer(0)) if shape == () else Zero(shape)


def is_zero(node: Node) -> bool:
    return isinstance(node, Zero) or is_const(node, 0)


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
    body = None
    for factor in kept:
        body = factor if body is None else Mul(body, factor)
    if body is None:
        return Const(coefficient)
    if coefficient == 1:
        return body
    if coefficient == -1:
        return Neg(body)
    return Mul(Const(coefficient), body)


def _covered(shape: Shape, factors: list[Node], ones: Node) -> bool:
    return any(f is not ones and f.shape == shape for f in factors)


def mul(a: Node, b: Node) -> Node:
    shape = broadcast("a * b", a, b)
    ca, fa = split_coefficient(a)
    cb, fb = split_coefficient(b)
    if any(isinstance(f, Zero) for f in fa + fb):
        return zeros(shape)
    return product(ca * cb, fa + fb, shape)


def add(a: Node, b: Node) -> Node:
    shape = broadcast("a + b", a, b)
    if is_zero(a) and a.shape == shape:
        return b if b.shape == shape else Add(a, b)
    if is_zero(b):
        return a if a.shape == shape else Add(a, b)
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(a.value + b.value)
    if isinstance(b, Neg):
        return sub(a, b.args[0])
    return Add(a, b)


def sub(a: Node, b: Node) -> Node:
    shape = broadcast("a - b", a, b)
    if is_zero(b):
        return a if a.shape == shape else Sub(a, b)
    if is_zero(a) and b.shape == shape:
        return neg(b)
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(a.value - b.value)
    return Sub(a, b)


def neg(a: Node) -> Node:
    if isinstance(a, Neg):
        return a.args[0]
    coefficient, factors = split_coefficient(a)
    if not factors or coefficient != 1:
        return product(-coefficient, factors, a.shape)
    return Neg(a)


def div(a: Node, b: Node) -> Node:
    shape = broadcast("a / b", a, b)
    if isinstance(b, Const):
        if b.value == 0:
            raise ShapeError("division by the constant 0")
        return mul(Const(1 / b.value), a) if shape == a.shape else Div(a, b)
    return Div(a, b)


def power(base: Node, exponent: Node) -> Node:
    if is_const(exponent, 1):
        return base
    if is_const(exponent, 0):
        return Ones(base.shape) if base.shape else Const(sympy.Integer(1))
    if isinstance(base, Const) and isinstance(exponent, Const):
        return Const(base.value**exponent.value)
    return Pow(base, exponent)


def matmul(a: Node, b: Node) -> Node:
    """``a @ b`` with NumPy's rules for vectors: vector @ vector is the dot product."""
    if a.shape == () or b.shape == ():
        raise ShapeError(
            f"shape mismatch in A @ B: left is {shape_str(a.shape)}, right is {shape_str(b.shape)}"
            " (use * to scale by a scalar)"
        )
    if len(a.shape) == 1 and len(b.shape) == 1:
        return dot(a, b)
    if len(a.shape) == 1:
        if a.shape[0] != b.shape[0]:
            _matmul_shape(Transpose(b), a)
        return matmul(transpose(b), a)
    coefficient, factors = split_coefficient(b)
    if coefficient != 1 and factors:
        return mul(Const(coefficient), MatMul(a, product(1, factors, b.shape)))
    return MatMul(a, b)


def dot(a: Node, b: Node) -> Node:
    """The dot product, as the sum of the element-wise product (u = a ⊗ b, v = sum(u))."""
    if len(a.shape) != 1 or a.shape != b.shape:
        raise ShapeError(
            f"shape mismatch in dot(a, b): left is {shape_str(a.shape)}, right is {shape_str(b.shape)}"
        )
    return Sum(Mul(a, b))


def transpose(a: Node) -> Node:
    """Matrix transpose; a vector or scalar is returned unchanged (NumPy's convention)."""
    if len(a.shape) < 2:
        return a
    if isinstance(a, Transpose):
        return a.args[0]
    return Transpose(a)


def total(a: Node) -> Node:
    """sum(a): the sum of all elements, with constant factors pulled out."""
    if a.shape == ():
        return a
    coefficient, factors = split_coefficient(a)
    if coefficient != 1 and factors:
        return mul(Const(coefficient), total(product(1, factors, a.shape)))
    if isinstance(a, Ones):
        return Const(size(a.shape))
    return Sum(a)


def mean(a: Node) -> Node:
    return a if a.shape == () else Mean(a)


# --------------------------------------------------------------------------- traversal


def walk(node: Node) -> Iterator[Node]:
    """Every distinct node below and including ``node``, children before parents."""
    seen: set = set()
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            if current.key not in seen:
                seen.add(current.key)
                yield current
            continue
        if current.key in seen:
            continue
        stack.append((current, True))
        for child in reversed(current.args):
            stack.append((child, False))


def depth(node: Node) -> int:
    """The number of operations on the longest path from ``node`` down to a leaf."""
    levels: dict = {}
    for current in walk(node):
        levels[current] = 1 + max((levels[a] for a in current.args), default=-1)
    return levels[node]


def symbols(node: Node) -> list[Symbol]:
    """The symbols of an expression, in order of first appearance."""
    return [n for n in walk(node) if isinstance(n, Symbol)]


def depends_on(node: Node, names: set[str]) -> bool:
    return any(s.name in names for s in symbols(node))


def rebuild(node: Node, args: tuple[Node, ...]) -> Node:
    """The same operation on new arguments, through the smart constructors."""
    return REBUILD[type(node)](node, args)


def substitute(node: Node, mapping: dict) -> Node:
    """Replace sub-expressions by key: ``mapping`` maps node keys to replacement nodes."""
    memo: dict = {}
    for current in walk(node):
        if current.key in mapping:
            memo[current.key] = mapping[current.key]
        elif current.args:
            new_args = tuple(memo[a.key] for a in current.args)
            memo[current.key] = current if new_args == current.args else rebuild(current, new_args)
        else:
            memo[current.key] = current
    return memo[node.key]


def _apply_again(node, args):
    from .functions import apply

    return apply(node.fn, *args)


REBUILD = {
    Add: lambda n, a: add(*a),
    Sub: lambda n, a: sub(*a),
    Mul: lambda n, a: mul(*a),
    Div: lambda n, a: div(*a),
    Neg: lambda n, a: neg(*a),
    Pow: lambda n, a: power(*a),
    MatMul: lambda n, a: matmul(*a),
    Transpose: lambda n, a: transpose(*a),
    Sum: lambda n, a: total(*a),
    Mean: lambda n, a: mean(*a),
    Apply: _apply_again,
    Diag: lambda n, a: Diag(*a),
    Row: lambda n, a: Row(*a),
    Elem: lambda n, a: Elem(a[0], n.index),
    IndexedSum: lambda n, a: IndexedSum(n.index, n.upper, a[0]),
    Chain: lambda n, a: Chain(a, n.shape),
}

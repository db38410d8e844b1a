"""The typed expression graph.

Nodes are immutable. A shape is ``()`` for a scalar, ``(m,)`` for a column vector and ``(m, k)``
for a matrix; dimensions are SymPy symbols (n, N, ...) or integers. Constructors check shapes and
raise :class:`~symderiv.errors.ShapeError` naming both operands. Each node class carries what is
about itself (:mod:`.node`); the smart constructors (:mod:`.build`) keep results readable.
"""

from __future__ import annotations

from collections.abc import Iterator

from .build import (
    add,
    as_node,
    broadcast,
    const,
    div,
    dot,
    is_const,
    is_zero,
    log_softmax,
    logsumexp,
    matmul,
    mean,
    mul,
    neg,
    ones,
    outer,
    power,
    product,
    softmax,
    split_coefficient,
    sub,
    total,
    transpose,
    zeros,
)
from .display import Adjoint, Chain, Diag, Differential, Elem, Entry, Identity, IndexedSum, Inner, Row
from .node import ATOM, FORMATTER, Node
from .nodes import (
    Add,
    Apply,
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
    Symbol,
    Transpose,
    Zero,
)
from .rowwise import LogSoftmax, LogSumExp, Softmax
from .shapes import Shape, as_dim, dim, dim_json, elementwise_shape, shape_str, size

__all__ = [
    "ATOM",
    "ELEMENTWISE",
    "FORMATTER",
    "Add",
    "Adjoint",
    "Apply",
    "Broadcast",
    "Chain",
    "Const",
    "Diag",
    "Differential",
    "Div",
    "Elem",
    "Entry",
    "Identity",
    "IndexedSum",
    "Inner",
    "LogSoftmax",
    "LogSumExp",
    "MatMul",
    "Mean",
    "Mul",
    "Neg",
    "Node",
    "Ones",
    "Outer",
    "Pow",
    "Row",
    "Shape",
    "Softmax",
    "Sub",
    "Sum",
    "Symbol",
    "Transpose",
    "Zero",
    "add",
    "as_dim",
    "as_node",
    "broadcast",
    "const",
    "depends_on",
    "depth",
    "dim",
    "dim_json",
    "div",
    "dot",
    "elementwise_shape",
    "is_const",
    "is_zero",
    "log_softmax",
    "logsumexp",
    "matmul",
    "mean",
    "mul",
    "neg",
    "node_classes",
    "ones",
    "outer",
    "power",
    "product",
    "rebuild",
    "shape_str",
    "size",
    "softmax",
    "split_coefficient",
    "sub",
    "substitute",
    "symbols",
    "total",
    "transpose",
    "walk",
    "zeros",
]

ELEMENTWISE = (Add, Sub, Mul, Div, Neg, Pow, Apply)


def node_classes() -> dict:
    """Every node class by name (for readers of serialised trees)."""
    found: dict = {}
    stack = [Node]
    while stack:
        cls = stack.pop()
        for sub_cls in cls.__subclasses__():
            if not sub_cls.__name__.startswith("_"):
                found[sub_cls.__name__] = sub_cls
            stack.append(sub_cls)
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------- traversal


def walk(node: Node) -> Iterator[Node]:
    """Every distinct node below and including ``node``, children before parents."""
    seen: set = set()
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            if current not in seen:
                seen.add(current)
                yield current
            continue
        if current in seen:
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
    return node.rebuild(args)


def substitute(node: Node, mapping: dict) -> Node:
    """Replace sub-expressions: ``mapping`` maps nodes to replacement nodes."""
    memo: dict = {}
    for current in walk(node):
        if current in mapping:
            memo[current] = mapping[current]
        elif current.args:
            new_args = tuple(memo[a] for a in current.args)
            memo[current] = current if new_args == current.args else current.rebuild(new_args)
        else:
            memo[current] = current
    return memo[node]

"""The node base class: what every operation of the typed graph knows about itself.

A node class carries its own facts, so a new operation is its class, its rule and its notation:

* ``precedence`` — how tightly it binds when printed (a looser child is parenthesised);
* ``rebuild(args)`` — the same operation on new operands, through the smart constructors;
* ``evaluate(values, ctx)`` — its NumPy value from its operands' values;
* ``to_json()`` / ``from_json()`` — its non-node content, for the JSON tree format;
* ``elementwise`` — whether it acts element by element (with scalar expansion);
* ``sample_row(rows)`` — row i of its value from row i of its operands, for operations that act
  row by row over the samples (None otherwise).
"""

from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from .shapes import Shape

ATOM = 100


def _structural(node: Node) -> str:
    inner = ", ".join([repr(d) for d in node.data()] + [repr(a) for a in node.args])
    return f"{type(node).__name__}({inner})"


# How nodes print in messages: the text printer installs itself here when it is imported, so the
# engine never imports a printer.
FORMATTER = [_structural]


class Node:
    """Base class of every IR node: ``args`` are child nodes, ``shape`` the result shape."""

    __slots__ = ("_hash", "_key", "args", "shape")
    _hash: int
    _key: tuple
    args: tuple[Node, ...]
    shape: Shape
    precedence = ATOM
    elementwise = False
    display_only = False

    def __init__(self, args: tuple[Node, ...], shape: Shape):
        self.args = args
        self.shape = shape
        # children are compared as nodes, whose hashes are cached: equality and hashing stay
        # linear in the size of the graph however deep it is
        self._key = (type(self).__name__, self.data(), args)
        self._hash = hash((type(self).__name__, self.data(), tuple(a._hash for a in args)))

    def data(self) -> tuple:
        """Non-node content that takes part in equality (names, values, functions)."""
        return ()

    # ------------------------------------------------------------------ facts about the operation

    def rebuild(self, args: tuple[Node, ...]) -> Node:
        """The same operation on new operands (through the smart constructors where they exist)."""
        return self._construct(args)

    def with_args(self, args: tuple[Node, ...]) -> Node:
        """The same operation on new operands, exactly as written (no simplification)."""
        return self._construct(args)

    def _construct(self, args: tuple[Node, ...]) -> Node:
        """``type(self)(*args)``: subclasses take their operands (and data) positionally."""
        constructor: Any = type(self)
        return constructor(*args)

    def scalar(self, args: list) -> Any:
        """The scalar SymPy expression of an element-wise operation on scalar ``args``."""
        raise ShapeError(f"'{self!r}' is not element-wise, so it has no scalar form")

    def evaluate(self, values: list, ctx):
        """The NumPy value from the operands' ``values``; ``ctx`` binds dimensions and symbols."""
        raise TypeError(f"{type(self).__name__} is a display-only node and cannot be evaluated")

    def to_json(self) -> dict:
        """Non-node content for the JSON tree (names, values, axes)."""
        return {}

    @classmethod
    def from_json(cls, data: dict, args: list, shape: Shape, reader) -> Node:
        """The node from its JSON content; ``reader`` turns SymPy text and dimensions back safely."""
        return cls(*args)

    def sample_row(self, rows: list):
        """Row i of this node from row i of each operand (None: not row by row in the samples)."""
        return

    # ------------------------------------------------------------------ Python protocol

    @property
    def key(self) -> Node:
        """A dictionary key for the node's structure (the node itself: equality is structural)."""
        return self

    def __eq__(self, other) -> bool:
        return self is other or (
            isinstance(other, Node) and self._hash == other._hash and self._key == other._key
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return FORMATTER[0](self)

    # operator sugar for the Python API
    def __add__(self, other):
        from .build import add, as_node

        return add(self, as_node(other))

    def __radd__(self, other):
        from .build import add, as_node

        return add(as_node(other), self)

    def __sub__(self, other):
        from .build import as_node, sub

        return sub(self, as_node(other))

    def __rsub__(self, other):
        from .build import as_node, sub

        return sub(as_node(other), self)

    def __mul__(self, other):
        from .build import as_node, mul

        return mul(self, as_node(other))

    def __rmul__(self, other):
        from .build import as_node, mul

        return mul(as_node(other), self)

    def __truediv__(self, other):
        from .build import as_node, div

        return div(self, as_node(other))

    def __rtruediv__(self, other):
        from .build import as_node, div

        return div(as_node(other), self)

    def __pow__(self, other):
        from .build import as_node, power

        return power(self, as_node(other))

    def __matmul__(self, other):
        from .build import as_node, matmul

        return matmul(self, as_node(other))

    def __neg__(self):
        from .build import neg

        return neg(self)

    @property
    def T(self):
        from .build import transpose

        return transpose(self)

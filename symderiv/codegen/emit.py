"""Statements of a program printed as NumPy source lines.

Temporaries that one statement reads once are put back into it (so the source reads like the
derivation: ``grad_W_1 = X.T @ grad_Z_1 + 0.01 * W_1``); the derivation's own variables, the
adjoints ``grad_V`` and the tangents ``d_V`` keep their names. Element-wise work with scalar
functions is fused and printed through :class:`~.elementwise.Block` (stable forms, masks).
"""

from __future__ import annotations

import re
from collections import Counter

import sympy

from .. import functions, ir
from .elementwise import Block
from .layout import LINE_LIMIT
from .names import Names
from .printer import Printer


class Emitter:
    """Lines for a list of statements; ``keep`` are names read after them (never inlined)."""

    def __init__(self, names: Names, dims: dict, temps: set, rows=None, helpers: set | None = None):
        self.names = names
        self.dims = dims  # dimension -> the Python name holding its size
        self.temps = temps  # targets that may be put back into their one reader
        self.rows = rows
        self.helpers: set = set() if helpers is None else helpers  # helper functions used

    def lines(self, statements: list, keep: set) -> list[str]:
        uses = Counter(s.name for a in statements for s in ir.symbols(a.value))
        pending: dict = {}
        kept: list = []
        for a in statements:
            value = ir.substitute(a.value, pending) if pending else a.value
            movable = a.target.name in self.temps or _overflows(value)
            inline = movable and a.target.name not in keep and uses[a.target.name] == 1
            if inline and self._inlinable(value):
                pending[a.target] = value
                continue
            kept.append([a.target.name, value, "="])
        out: list[str] = []
        for name, value, op in _in_place(kept, keep):
            out += self.assign(name, value, op)
        return out

    @staticmethod
    def _inlinable(value: ir.Node) -> bool:
        return sum(1 for _ in ir.walk(value)) <= 12

    # ------------------------------------------------------------------ one statement

    def assign(self, name: str, value: ir.Node, op: str = "=") -> list[str]:
        """``name = value`` (or ``name += value`` and the like, for ``op``)."""
        lines: list[str] = []
        fused = isinstance(value, ir.ELEMENTWISE) and any(isinstance(n, ir.Apply) for n in ir.walk(value))
        if fused and op == "=":
            return self._elementwise(name, value, lines)
        printer = self._printer(lines)
        if op != "=":  # the right side spreads over name's shape
            if isinstance(value, ir.Apply) and op == "*=":  # a 0/1 mask may stay boolean
                mask = self.names.fresh("m")
                return self._elementwise(mask, value, lines, boolean=True) + [f"{name} *= {mask}"]
            return lines + [f"{name} {op} {printer._spread(value, 0)}"]
        text = self._short(value, printer, lines, LINE_LIMIT - 9 - len(name))
        return lines + [f"{name} {op} {text}"]

    def _printer(self, lines: list) -> Printer:
        printer = Printer(self.dims, self.rows, hoist=lambda node: self._hoist(node, lines))
        return printer

    def _text(self, printer: Printer, node: ir.Node) -> str:
        text = printer.doprint(node)
        self.helpers |= printer.helpers
        return text

    def _short(self, node: ir.Node, printer: Printer, lines: list, limit: int) -> str:
        """``node`` printed in at most ``limit`` characters where it can be: its longest operands
        are first assigned to temporaries."""
        text = self._text(printer, node)
        while len(text) > limit:
            operands = [a for a in node.args if not isinstance(a, (ir.Symbol, ir.Const, ir.Ones, ir.Zero))]
            if not operands:
                break
            part = max(operands, key=lambda a: len(self._text(printer, a)))
            name = self.names.fresh("t")
            lines += self.assign(name, part)
            node = node.with_args(tuple(ir.Symbol(name, part.shape) if a == part else a for a in node.args))
            text = self._text(printer, node)
        return text

    def _hoist(self, node: ir.Node, lines: list) -> str:
        name = self.names.fresh("t")
        self._elementwise(name, node, lines)
        return name

    def _elementwise(self, name: str, node: ir.Node, lines: list, boolean: bool = False) -> list[str]:
        """``name = node`` for an element-wise ``node``, fused into one scalar expression."""
        symbols: dict = {}
        for leaf in functions.elementwise_leaves(node):
            if isinstance(leaf, (ir.Ones, ir.Zero)):
                continue
            if isinstance(leaf, ir.Symbol):
                symbols[leaf] = functions.real(leaf.name)
            else:
                temporary = self.names.fresh("t")
                lines += self.assign(temporary, leaf)
                symbols[leaf] = functions.real(temporary)
        for sub in ir.walk(node):
            if isinstance(sub, (ir.Ones, ir.Zero)):
                symbols[sub] = sympy.Integer(1 if isinstance(sub, ir.Ones) else 0)
        expr = functions.to_sympy(node, symbols)
        expr = expr.xreplace({d: functions.real(n) for d, n in self.dims.items()})
        reference = _reference(node, symbols, name)
        block = Block(self.names, reference)
        more, _ = block.compile([expr], [name], exact=True, boolean=boolean)
        self.helpers |= block.helpers
        lines += _without_alias(more, name)
        return lines


IN_PLACE = {ir.Add: "+=", ir.Sub: "-=", ir.Mul: "*=", ir.Div: "/="}
FRESH = (ir.MatMul, ir.Add, ir.Sub, ir.Mul, ir.Div, ir.Neg)  # values that are new float arrays


def _in_place(statements: list, keep: set) -> list:
    """``A = ...; T = A + B`` (A read only there, a new array shaped like T) as
    ``T = ...; T += B``: one array fewer to allocate and to fill. Chains continue: the
    statements that wrote A (``A = ...``, ``A += ...``) all write T."""
    uses = Counter(s.name for _, value, _ in statements for s in ir.symbols(value))
    writes: dict = {}  # name -> the indices of the statements writing it, the first an assignment
    fresh: set = set()  # names whose array the function made (safe to change in place)
    for k, (name, value, _) in enumerate(statements):
        writes[name] = [k]
        if isinstance(value, FRESH) and value.shape:
            fresh.add(name)
        if type(value) not in IN_PLACE:
            continue
        sides = (0, 1) if isinstance(value, (ir.Add, ir.Mul)) else (0,)
        for side in sides:
            operand = value.args[side]
            if not isinstance(operand, ir.Symbol) or operand.name not in fresh or operand.name in keep:
                continue
            source, other = operand.name, value.args[1 - side]
            if uses[source] != 1 or source in {s.name for s in ir.symbols(other)} or operand.shape != value.shape:
                continue
            for j in writes.pop(source):
                statements[j][0] = name
            writes[name] = [j for j in range(k + 1) if statements[j][0] == name]
            statements[k] = [name, other, IN_PLACE[type(value)]]
            fresh.add(name)
            break
    return statements


def _without_alias(lines: list, name: str) -> list:
    """``x = ...; name = x`` as ``name = ...`` (x is the block's own fresh name)."""
    last = lines[-1] if lines else ""
    alias = last[len(name) + 3 :] if last.startswith(f"{name} = ") else ""
    if not alias.isidentifier() or not any(line.startswith(f"{alias} = ") for line in lines[:-1]):
        return lines
    pattern = re.compile(rf"(?<![\w.]){alias}(?!\w)")
    return [pattern.sub(name, line) for line in lines[:-1]]




def _overflows(value: ir.Node) -> bool:
    """An element-wise function that overflows for large arguments (cosh, exp): computed inside
    its one reader, where the stable forms (log cosh, tanh) can replace it."""
    return isinstance(value, ir.Apply) and value.fn.body.has(sympy.cosh, sympy.sinh, sympy.exp)


def _reference(node: ir.Node, symbols: dict, name: str) -> sympy.Symbol:
    """An array shaped like ``node`` among its inputs (for full_like and empty_like)."""
    for leaf, symbol in symbols.items():
        if isinstance(symbol, sympy.Symbol) and leaf.shape == node.shape:
            return symbol
    return functions.real(name)

"""Row blocking: which statements of a flat program run once and which per block of rows.

A program is blocked over its rows (the first axis of the largest data array, N) when every
statement is one of: *global* (no row in it: parameters, regularisers), *row-wise* (row i of the
result from row i of its operands: element-wise work, products with a parameter on the right,
row-wise softmax, sums along a row), a *reduction* over the rows (a sum over rows, Xᵀ G), or
*post* (from reductions and globals). Then the row-wise statements and the reductions run per
block of rows and the reductions' partial sums add up; anything else runs as one block.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .. import ir
from .program import Program

ROWWISE_LAST_AXIS = (ir.Softmax, ir.LogSoftmax, ir.LogSumExp)


@dataclass
class Plan:
    rows: sympy.Symbol  # the dimension blocked over
    pre: list  # statements run once, before the blocks
    block: list  # row-wise statements and reductions, per block
    post: list  # statements run once, on the summed reductions
    sliced: tuple  # data arguments cut into blocks of rows
    partials: tuple  # the reductions' targets the post statements and outputs read
    pre_used: tuple  # pre statements' targets the block statements read


class _NotBlockable(Exception):
    pass


def row_dimension(program: Program):
    """The dimension of the rows: the first axis of the largest data array (None: no such)."""
    arrays = [s for s in program.data if s.shape and isinstance(s.shape[0], sympy.Symbol)]
    if not arrays:
        return None
    return max(arrays, key=lambda s: (len(s.shape), s.name)).shape[0]


def plan(program: Program) -> Plan | None:
    """The blocked form of ``program``, or None where it is not row-separable."""
    rows = row_dimension(program)
    if rows is None or any(rows in p.shape for p in program.params):
        return None
    try:
        return _plan(program, rows)
    except _NotBlockable:
        return None


def _plan(program: Program, rows) -> Plan:
    kinds: dict = {}
    for s in program.arguments:
        kinds[s.name] = _input_kind(s, rows)
    pre: list = []
    block: list = []
    post: list = []
    for a in program.body:
        kind = _kind(a.value, kinds, rows)
        kinds[a.target.name] = kind
        {"global": pre, "row": block, "rowT": block, "reduced": block, "post": post}[kind].append(a)
    for vs in program.outputs.values():
        for v in vs:
            if _leaf_kind(v, kinds, rows) in ("row", "rowT"):
                raise _NotBlockable
    if not any(kinds[a.target.name] == "reduced" for a in block):
        raise _NotBlockable
    read_after = {s.name for a in post for s in ir.symbols(a.value)}
    read_after |= {s.name for vs in program.outputs.values() for v in vs for s in ir.symbols(v)}
    partials = tuple(a.target for a in block if kinds[a.target.name] == "reduced" and a.target.name in read_after)
    read_in_block = {s.name for a in block for s in ir.symbols(a.value)}
    pre_used = tuple(a.target for a in pre if a.target.name in read_in_block)
    sliced = tuple(s for s in program.data if kinds[s.name] == "row")
    return Plan(rows, pre, block, post, sliced, partials, pre_used)


def _input_kind(symbol: ir.Symbol, rows) -> str:
    if symbol.shape and symbol.shape[0] == rows:
        if rows in symbol.shape[1:]:
            raise _NotBlockable
        return "row"
    if rows in symbol.shape:
        raise _NotBlockable
    return "global"


def _leaf_kind(node: ir.Node, kinds: dict, rows) -> str:
    if isinstance(node, ir.Symbol):
        return kinds.get(node.name, "global")
    if isinstance(node, ir.Transpose) and isinstance(node.args[0], ir.Symbol):  # a view of an argument
        inner = kinds.get(node.args[0].name, "global")
        return "rowT" if inner == "row" else inner
    if node.shape and node.shape[0] == rows:
        return "row"  # ones or zeros over the rows: made per block
    if rows in node.shape:
        raise _NotBlockable
    return "global"


def _kind(value: ir.Node, kinds: dict, rows) -> str:
    args = [_leaf_kind(a, kinds, rows) for a in value.args]
    if any(k == "rowT" for k in args) and not _contraction(value, args):
        raise _NotBlockable
    if value.shape and value.shape[0] == rows:
        if any(k in ("reduced", "post") for k in args) or not _row_wise(value, args, rows):
            raise _NotBlockable
        return "row"
    if isinstance(value, ir.Transpose) and args == ["row"]:
        return "rowT"
    if "row" in args or "rowT" in args:
        if _contraction(value, args) or _sum_over_rows(value, args):
            return "reduced"
        raise _NotBlockable
    return "post" if any(k in ("reduced", "post") for k in args) else "global"


def _row_wise(value: ir.Node, args: list, rows) -> bool:
    """Row i of ``value`` (shaped (rows, ...)) depends only on row i of its row-wise operands."""
    if isinstance(value, ir.ELEMENTWISE):
        return all(k == "row" or rows not in a.shape for k, a in zip(args, value.args))
    if isinstance(value, ir.MatMul):
        return args == ["row", "global"] and len(value.args[0].shape) == 2
    if isinstance(value, ROWWISE_LAST_AXIS):
        return args == ["row"] and len(value.args[0].shape) == 2
    if isinstance(value, (ir.Sum, ir.Mean)):
        return args == ["row"] and value.axis == 1
    if isinstance(value, ir.Broadcast):
        return (value.axis == 0 and args == ["global"]) or (value.axis == 1 and args == ["row"])
    if isinstance(value, ir.Outer):
        return args[0] == "row" and args[1] == "global"
    return False


def _contraction(value: ir.Node, args: list) -> bool:
    """Xᵀ G or u·v over the rows: a sum over the rows of per-row products."""
    if not isinstance(value, ir.MatMul):
        return False
    if args == ["rowT", "row"]:
        return True
    return args == ["row", "row"] and len(value.args[0].shape) == 1 and len(value.args[1].shape) == 1


def _sum_over_rows(value: ir.Node, args: list) -> bool:
    return isinstance(value, ir.Sum) and args == ["row"] and value.axis in (None, 0)

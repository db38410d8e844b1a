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


# --------------------------------------------------------------------------- data term and penalty

LINEAR = (ir.Add, ir.Sub, ir.Neg, ir.Mul, ir.MatMul, ir.Transpose, ir.Sum, ir.Broadcast, ir.Outer)


@dataclass
class Split:
    """The post statements as two programs: the data term (the partial sums carried through,
    every parameter-only value zero) and the penalty (every partial sum zero)."""

    data: list
    penalty: list
    data_outputs: dict
    penalty_outputs: dict


def split(plan: Plan, outputs: dict) -> Split | None:
    """The data term and the penalty of each output, where the outputs are a term linear in the
    partial sums plus a term in the parameters only (None otherwise): then shares of any split
    of the rows add up to the data term, and the penalty is added once."""
    kinds = {s.name: "data" for s in plan.partials}
    for a in plan.post:
        kind = _term_kind(a.value, kinds)
        if kind is None:
            return None
        kinds[a.target.name] = kind
    zero_pre = {a.target: ir.zeros(a.target.shape) for a in plan.pre}
    zero_data = {s: ir.zeros(s.shape) for s in plan.partials}
    data, penalty = _substituted(plan.post, zero_pre), _substituted(plan.pre + plan.post, zero_data)
    return Split(
        data[0],
        penalty[0],
        {k: [ir.substitute(v, {**zero_pre, **data[1]}) for v in vs] for k, vs in outputs.items()},
        {k: [ir.substitute(v, {**zero_data, **penalty[1]}) for v in vs] for k, vs in outputs.items()},
    )


def _term_kind(node: ir.Node, kinds: dict) -> str | None:
    """"data" (linear in the partial sums), "pre" (no partial sum), "split" (a sum of both), or
    None where a partial sum enters non-linearly or times another."""
    if isinstance(node, ir.Symbol):
        return kinds.get(node.name, "pre")
    if not node.args:
        return "pre"
    args = [_term_kind(a, kinds) for a in node.args]
    if None in args:
        return None
    moving = [k for k in args if k != "pre"]
    if not moving:
        return "pre"
    if isinstance(node, (ir.Add, ir.Sub)):
        return "split" if "pre" in args or "split" in args else "data"
    if isinstance(node, ir.Div) and args[1] == "pre":
        return args[0]
    if isinstance(node, LINEAR) and len(moving) == 1:
        return moving[0]
    return None


def _substituted(statements: list, zeros: dict) -> tuple:
    """The statements with ``zeros`` put in; statements that became zero are dropped."""
    mapping = dict(zeros)
    kept = []
    for a in statements:
        value = ir.substitute(a.value, mapping)
        if ir.is_zero(value) or isinstance(value, (ir.Const, ir.Symbol)):  # zeros and aliases
            mapping[a.target] = value
            continue
        kept.append(type(a)(a.target, value))
    return kept, {k: v for k, v in mapping.items() if k not in zeros}

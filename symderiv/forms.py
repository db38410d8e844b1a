"""Other forms of a gradient: numerator layout (for display) and per-sample sums.

A gradient is computed in gradient layout (shaped like its parameter). Derivations show it in
numerator layout — the derivative of a scalar by a column vector is a row vector — and, where
the gradient is a product with the data matrix, as a sum over samples with every per-sample
factor (the kink indicator included) inside the sum.
"""

from __future__ import annotations

from . import ir
from .ir import Elem, IndexedSum, MatMul, Row, Symbol, Transpose

SAMPLE_INDEX = "i"


def numerator(expr: ir.Node) -> ir.Node:
    """The gradient ``expr`` transposed for display: a column vector becomes a row."""
    if expr.shape == ():
        return expr
    kind = type(expr)
    if kind is ir.Mul:
        coefficient, factors = ir.split_coefficient(expr)
        vectors = [f for f in factors if f.shape]
        if len(vectors) == 1:
            flipped = [numerator(f) if f.shape else f for f in factors]
            return ir.product(coefficient, flipped, _row_shape(expr))
        return Row(expr) if coefficient == 1 else ir.mul(ir.Const(coefficient), Row(ir.product(1, factors, expr.shape)))
    if kind is MatMul and isinstance(expr.args[0], Transpose):
        return MatMul(Row(expr.args[1]), expr.args[0].args[0])
    if kind in (ir.Add, ir.Sub):
        return kind(numerator(expr.args[0]), numerator(expr.args[1]))
    if kind is ir.Neg:
        return ir.Neg(numerator(expr.args[0]))
    if kind is IndexedSum:
        return IndexedSum(expr.index, expr.upper, numerator(expr.args[0]))
    if kind is ir.Zero:
        return ir.Zero(_row_shape(expr))
    return Row(expr)


def _row_shape(expr: ir.Node) -> tuple:
    return (1, expr.shape[0])


def per_sample(expr: ir.Node):
    """``expr`` as sums over the sample index, or None when it is not of that form."""
    kind = type(expr)
    if kind is ir.Mul:
        coefficient, factors = ir.split_coefficient(expr)
        if coefficient != 1 and len(factors) >= 1:
            inner = per_sample(ir.product(1, factors, expr.shape))
            return None if inner is None else ir.mul(ir.Const(coefficient), inner)
    if kind is MatMul and _is_data_transpose(expr.args[0]):
        data = expr.args[0].args[0]
        weight = _indexed(expr.args[1], data.shape[0])
        if weight is not None:
            return IndexedSum(SAMPLE_INDEX, data.shape[0], ir.mul(weight, Elem(data, SAMPLE_INDEX)))
    if kind is ir.Sum and len(expr.args[0].shape) == 1:
        body = _indexed(expr.args[0], expr.args[0].shape[0])
        if body is not None:
            return IndexedSum(SAMPLE_INDEX, expr.args[0].shape[0], body)
    if kind in (ir.Add, ir.Sub):
        parts = [per_sample(a) for a in expr.args]
        return None if None in parts else ir.rebuild(expr, tuple(parts))
    if kind is ir.Neg:
        inner = per_sample(expr.args[0])
        return None if inner is None else ir.neg(inner)
    return None


def _is_data_transpose(node: ir.Node) -> bool:
    return isinstance(node, Transpose) and isinstance(node.args[0], Symbol)


def _indexed(vector: ir.Node, samples) -> ir.Node | None:
    """An element-wise expression over sample vectors, at sample i (a scalar), or None."""
    mapping = {}
    for node in ir.walk(vector):
        if isinstance(node, Symbol) and node.shape == (samples,):
            mapping[node.key] = Elem(node, SAMPLE_INDEX)
        elif isinstance(node, ir.Ones) and node.shape == (samples,):
            mapping[node.key] = ir.Const(1)
        elif node.shape and not isinstance(node, ir.ELEMENTWISE):
            return None
    result = ir.substitute(vector, mapping)
    return result if result.shape == () else None

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
    if kind is ir.Div and expr.args[1].shape == ():
        return ir.Div(numerator(expr.args[0]), expr.args[1])
    if kind is MatMul and isinstance(expr.args[0], Transpose):
        return MatMul(Row(expr.args[1]), expr.args[0].args[0])
    if kind in (ir.Add, ir.Sub):
        return kind(numerator(expr.args[0]), numerator(expr.args[1]))
    if kind is ir.Neg:
        return ir.Neg(numerator(expr.args[0]))
    if type(expr) is IndexedSum:
        return IndexedSum(expr.index, expr.upper, numerator(expr.args[0]))
    if kind is ir.Zero:
        return ir.Zero(_row_shape(expr))
    return Row(expr)


def _row_shape(expr: ir.Node) -> tuple:
    return (1, expr.shape[0])


def per_sample(expr: ir.Node):
    """``expr`` as sums over the sample index, or None when it is not of that form.

    A product with a data matrix's transpose becomes Σ_i x_i g_iᵀ (an outer product per sample,
    or g_i x_i for a vector gradient), a sum down the rows Σ_i g_i; terms without a sum over the
    samples (a regulariser's λW) stay as they are.
    """
    kind = type(expr)
    if kind is ir.Mul:
        coefficient, factors = ir.split_coefficient(expr)
        if coefficient != 1 and len(factors) >= 1:
            inner = per_sample(ir.product(1, factors, expr.shape))
            return None if inner is None else ir.mul(ir.Const(coefficient), inner)
    data = _transposed_data(expr.args[0]) if kind is MatMul else None
    if data is not None:
        return _contraction(data, expr.args[1])
    if type(expr) is ir.Sum and expr.args[0].shape and expr.axis in (None, 0):
        samples = expr.args[0].shape[0]
        body = sample_row(expr.args[0], samples)
        if body is not None and (expr.axis == 0 or len(expr.args[0].shape) == 1):
            return IndexedSum(SAMPLE_INDEX, samples, body)
    if kind in (ir.Add, ir.Sub):
        parts = [per_sample(a) for a in expr.args]
        if all(p is None for p in parts):
            return None
        kept = [a if p is None and _sample_free(a) else p for a, p in zip(expr.args, parts)]
        return None if None in kept else ir.rebuild(expr, tuple(kept))
    if kind is ir.Neg:
        inner = per_sample(expr.args[0])
        return None if inner is None else ir.neg(inner)
    return None


def _contraction(data: Symbol, weights: ir.Node):
    """Xᵀ G as Σ_i x_i g_iᵀ (G a matrix) or Σ_i g_i x_i (G a vector)."""
    samples = data.shape[0]
    weight = sample_row(weights, samples)
    if weight is None:
        return None
    x_i = Elem(data, SAMPLE_INDEX)
    body = ir.mul(weight, x_i) if weight.shape == () else ir.outer(x_i, weight)
    return IndexedSum(SAMPLE_INDEX, samples, body)


def _sample_free(node: ir.Node) -> bool:
    return not any(isinstance(n, (ir.Sum, ir.Mean, Transpose, MatMul)) for n in ir.walk(node))


def _transposed_data(node: ir.Node) -> Symbol | None:
    """The data matrix X when ``node`` is Xᵀ (the transpose of a symbol), else None."""
    if isinstance(node, Transpose) and isinstance(node.args[0], Symbol):
        return node.args[0]
    return None


def sample_row(node: ir.Node, samples) -> ir.Node | None:
    """Row i of ``node`` (a scalar for a vector over the samples), or None if it is not row-wise."""
    rows: dict = {}
    for current in ir.walk(node):
        if isinstance(current, Symbol):
            rows[current] = Elem(current, SAMPLE_INDEX) if _over(current, samples) else current
        elif isinstance(current, ir.Ones) and _over(current, samples):
            rows[current] = ir.ones(current.shape[1:])
        elif all(rows[a] is a for a in current.args) and not _over(current, samples):
            rows[current] = current
        else:
            row = current.sample_row([rows[a] for a in current.args])
            if row is None:
                return None
            rows[current] = row
    return rows[node] if rows[node] is not node or not _over(node, samples) else None


def _over(node: ir.Node, samples) -> bool:
    return bool(node.shape) and node.shape[0] == samples


def index_form(sums: ir.Node | None, param: Symbol):
    """One element of a per-sample gradient: Σ_i X_ij G_ik for ∂C/∂W_jk, where element-wise."""
    if sums is None or not param.shape:
        return None
    indices = PARAMETER_INDICES[: len(param.shape)]
    try:
        return _entry(sums, indices)
    except _NotElementwise:
        return None


PARAMETER_INDICES = ("j", "k")


class _NotElementwise(Exception):
    pass


def _entry(node: ir.Node, indices: tuple) -> ir.Node:
    """Element ``indices`` of a per-sample expression, as scalars X_ij, z_i, W_jk."""
    if isinstance(node, IndexedSum):
        return IndexedSum(node.index, node.upper, _entry(node.args[0], indices))
    if isinstance(node, ir.Outer):
        return ir.mul(_entry(node.args[0], indices[:1]), _entry(node.args[1], indices[1:]))
    if isinstance(node, Elem):
        of = node.args[0]
        return ir.Entry(of, (node.index, *indices)) if len(of.shape) == 2 else ir.Entry(of, (node.index,))
    if isinstance(node, Symbol):
        return ir.Entry(node, indices[: len(node.shape)]) if node.shape else node
    if isinstance(node, ir.Ones):
        return ir.Const(1)
    if isinstance(node, ir.Const):
        return node
    if not node.elementwise:
        raise _NotElementwise
    return node.rebuild(tuple(_entry(a, indices) for a in node.args))

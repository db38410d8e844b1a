"""Closed forms of scalar SymPy expressions, and their way back into the typed graph.

:data:`CLOSED_FORMS` lists the recognisers tried, in order, on a fused element-wise body; a new
closed form joins with one entry. Each returns an expression equal to the body for every real
input, or None: ``sinh(e)/cosh(e)`` is ``tanh(e)`` (SymPy's simplification), and the Huber
gradient's piecewise body is ``clip(e, -δ, δ)``, proved equal piece by piece between its kinks.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

import sympy

from . import ir
from .functions import BUILTINS

MAX_SIMPLIFY_OPS = 20  # sympy.simplify is tried on bodies of one input up to this size


def _saturation(body: sympy.Expr, symbols: tuple):
    """c·clip(x, lo, hi): a piecewise-linear function of one input that saturates (Huber's)."""
    if len(symbols) != 1 or not body.has(sympy.Piecewise, sympy.Min, sympy.Max, sympy.Abs, sympy.sign):
        return None
    x = symbols[0]
    far, near = sympy.Integer(10**6), sympy.Rational(1, 10**6)
    slope = sympy.simplify(body.subs(x, near) / near)
    if slope == 0 or slope.has(x) or not slope.is_finite:
        return None
    lo, hi = (sympy.simplify(body.subs(x, v) / slope) for v in (-far, far))
    if not (lo.is_number and hi.is_number and lo < hi):
        return None
    candidate = slope * sympy.Min(sympy.Max(x, lo), hi)
    return candidate if _equal(body, candidate, x) else None


def _equal(f: sympy.Expr, g: sympy.Expr, x: sympy.Symbol) -> bool:
    """Whether f = g for every real x, for piecewise functions whose kinks are at numbers:
    equal at every kink, and with identical analytic pieces between (and beyond) them."""
    f_kinks, g_kinks = _kinks(f, x), _kinks(g, x)
    if f_kinks is None or g_kinks is None:
        return False
    points = _sorted(f_kinks | g_kinks)
    if any(not _zero(f.subs(x, p) - g.subs(x, p)) for p in points):
        return False
    bounds = [-sympy.oo] + points + [sympy.oo]
    samples = [_inside(low, high) for low, high in pairwise(bounds)]
    return all(_zero(_piece(f, x, p) - _piece(g, x, p)) for p in samples)


_KINKED = (sympy.Piecewise, sympy.Min, sympy.Max, sympy.Abs, sympy.sign)


def _kinks(expr: sympy.Expr, x: sympy.Symbol) -> set | None:
    """The real numbers where a piece of ``expr`` may change (None: not only numbers)."""
    differences = [r.lhs - r.rhs for r in expr.atoms(sympy.Rel)]
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (sympy.Abs, sympy.sign)):
            differences.append(node.args[0])
        elif isinstance(node, (sympy.Min, sympy.Max)):
            differences += [a - b for k, a in enumerate(node.args) for b in node.args[k + 1 :]]
    points: set = set()
    for difference in differences:
        roots = _roots(difference, x) if difference.has(x) else set()
        if roots is None:
            return None
        points.update(roots)
    return points


def _roots(expr: sympy.Expr, x: sympy.Symbol) -> set | None:
    """The real zeros of a piecewise polynomial (degree ≤ 2) and its kinks (None: not numbers)."""
    if not expr.has(*_KINKED):
        if not expr.is_polynomial(x) or sympy.degree(expr, x) > 2:
            return None
        zeros = list(sympy.roots(sympy.Poly(expr, x))) if sympy.degree(expr, x) > 0 else []
        if not all(r.is_number for r in zeros):
            return None
        return {r for r in zeros if r.is_real}
    kinks = _kinks(expr, x)
    if kinks is None:
        return None
    ordered = _sorted(kinks)
    found = set(ordered)
    bounds = [-sympy.oo] + ordered + [sympy.oo]
    for low, high in pairwise(bounds):
        sample = _inside(low, high)
        roots = _roots(_piece(expr, x, sample), x)
        if roots is None:
            return None
        found.update(r for r in roots if low <= r <= high)
    return found


def _sorted(points) -> list:
    return sorted(points, key=lambda r: (sympy.Float(r, 30), sympy.srepr(r)))


def _inside(low, high):
    if low == -sympy.oo:
        return high - 1 if high != sympy.oo else sympy.Integer(0)
    return low + 1 if high == sympy.oo else (low + high) / 2


def _piece(expr: sympy.Expr, x: sympy.Symbol, point) -> sympy.Expr:
    """The analytic piece of ``expr`` around ``point`` (a point between kinks)."""
    if not expr.has(*_KINKED):
        return expr
    args = [_piece(a, x, point) if isinstance(a, sympy.Expr) else a for a in expr.args]
    if isinstance(expr, sympy.Piecewise):
        for value, condition in expr.args:
            if condition.subs(x, point) in (True, sympy.true):
                return _piece(value, x, point)
        return sympy.nan
    if isinstance(expr, (sympy.Abs, sympy.sign)):
        sign = sympy.sign(args[0].subs(x, point))
        return sign * args[0] if isinstance(expr, sympy.Abs) else sign
    if isinstance(expr, (sympy.Min, sympy.Max)):
        pick = min if isinstance(expr, sympy.Min) else max
        return pick(args, key=lambda a: a.subs(x, point))
    return expr.func(*args)


def _zero(expr: sympy.Expr) -> bool:
    return expr == 0 or sympy.expand(expr) == 0 or sympy.simplify(expr) == 0


def _simplified(body: sympy.Expr, symbols: tuple):
    """SymPy's simplification (trigonometric and hyperbolic identities), if it is shorter."""
    if len(symbols) > 1 or sympy.count_ops(body) > MAX_SIMPLIFY_OPS or body.has(*_KINKED):
        return None
    result = sympy.simplify(body)
    return result if sympy.count_ops(result) < sympy.count_ops(body) else None


def _as_written(body: sympy.Expr, symbols: tuple):
    """SymPy's own canonical form (constants cancelled: 2x/(2√z) = x/√z), kept if it reads shorter."""
    return body


CLOSED_FORMS: list = [("saturation", _saturation), ("simplified", _simplified), ("as written", _as_written)]


@lru_cache(maxsize=512)
def closed_form(body: sympy.Expr, symbols: tuple):
    """The first closed form of :data:`CLOSED_FORMS` that applies to ``body``, or None."""
    for _, recognise in CLOSED_FORMS:
        try:
            form = recognise(body, symbols)
        except (TypeError, ValueError, ArithmeticError, NotImplementedError):
            continue  # SymPy could not decide (a NaN comparison, b^1.5 off its domain): not this form
        if form is not None:
            return form
    return None


# --------------------------------------------------------------------------- back to the graph


def _unary_functions() -> dict:
    table = {}
    for fn in BUILTINS.values():
        body = fn.body
        if len(fn.params) == 1 and isinstance(body, sympy.Function) and body.args == fn.params:
            table[type(body)] = fn
    return table


UNARY = _unary_functions()


def from_sympy(expr: sympy.Expr, leaves: dict):
    """A scalar SymPy expression in the leaves' symbols as an element-wise IR node (None: no way)."""
    if expr in leaves:
        return leaves[expr]
    if not expr.free_symbols & set(leaves):
        return ir.Const(expr)
    converter = _CONVERTERS.get(type(expr))
    if converter is None:
        converter = _function if type(expr) in UNARY else None
    return converter(expr, leaves) if converter else None


def _add(expr, leaves):
    plus, minus = [], []
    for term in expr.as_ordered_terms():
        (minus if term.could_extract_minus_sign() else plus).append(term)
    nodes = [from_sympy(t, leaves) for t in plus] + [from_sympy(-t, leaves) for t in minus]
    if any(n is None for n in nodes):
        return None
    total = nodes[0] if plus else ir.neg(nodes[0])
    for k, node in enumerate(nodes[1:], start=1):
        total = ir.add(total, node) if k < len(plus) else ir.sub(total, node)
    return total


def _mul(expr, leaves):
    constant, variable = expr.as_independent(*leaves, as_Add=False)
    numerator, denominator = sympy.fraction(variable)
    if denominator != 1:
        top, bottom = from_sympy(numerator, leaves), from_sympy(denominator, leaves)
        node = None if top is None or bottom is None else ir.div(top, bottom)
    else:
        factors = [from_sympy(f, leaves) for f in variable.as_ordered_factors()]
        node = None if any(f is None for f in factors) else _product(factors)
    return node if node is None or constant == 1 else ir.mul(ir.Const(constant), node)


def _product(factors: list) -> ir.Node:
    total = factors[0]
    for factor in factors[1:]:
        total = ir.mul(total, factor)
    return total


def _pow(expr, leaves):
    base, exponent = expr.as_base_exp()
    if exponent.is_negative:
        inner = from_sympy(base**-exponent, leaves)
        return None if inner is None else ir.div(ir.Const(1), inner)
    inner = from_sympy(base, leaves)
    if inner is None:
        return None
    if exponent == sympy.S.Half:
        return BUILTINS["sqrt"](inner)
    return ir.power(inner, ir.Const(exponent))


def _function(expr, leaves):
    inner = from_sympy(expr.args[0], leaves)
    return None if inner is None else UNARY[type(expr)](inner)


def _min(expr, leaves):
    """min(max(x, lo), hi) with constant bounds is clip; other two-argument min and max stay."""
    args = expr.args
    if len(args) == 2 and isinstance(expr, sympy.Min):
        inner = next((a for a in args if isinstance(a, sympy.Max) and len(a.args) == 2), None)
        bound = next((a for a in args if a is not inner), None)
        if inner is not None and bound.is_number:
            low = next((a for a in inner.args if a.is_number), None)
            x = next((a for a in inner.args if a is not low), None)
            if low is not None and (node := from_sympy(x, leaves)) is not None:
                return BUILTINS["clip"](node, ir.Const(low), ir.Const(bound))
    nodes = [from_sympy(a, leaves) for a in args]
    if len(nodes) != 2 or None in nodes:
        return None
    return BUILTINS["min" if isinstance(expr, sympy.Min) else "max"](*nodes)


_CONVERTERS = {sympy.Add: _add, sympy.Mul: _mul, sympy.Pow: _pow, sympy.Min: _min, sympy.Max: _min}

"""Derivatives of scalar functions with kinks, as explicit ``Piecewise`` under a convention.

SymPy differentiates the smooth parts. Each non-smooth primitive (Max, Min, Abs, sign,
Heaviside, Piecewise) is swapped for a placeholder first, so SymPy never produces
``Heaviside`` (which is 1/2 at 0) or ``DiracDelta``; the primitive's derivative is then built
here as a Piecewise of its branches. For a function of one variable the result is put in
canonical form: the real line is cut at the kinks, each open interval gets its derivative, and
each kink gets the value of the convention applied to the one-sided derivatives there:

* ``min-norm`` (default): the point of [min(l, r), max(l, r)] closest to 0;
* ``mean``: (l + r) / 2, SymPy's Heaviside(0) = 1/2 and NumPy's ``maximum`` tie;
* ``left`` / ``right``: the one-sided derivative l or r.

Jumps (sign, Heaviside) have derivative 0 on both sides and so 0 at the jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from .errors import ConventionError, MissingRuleError, did_you_mean

CONVENTIONS = ("min-norm", "mean", "left", "right")
DEFAULT_CONVENTION = "min-norm"

_KINKS = (sympy.Max, sympy.Min, sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Piecewise)


def check_convention(name: str) -> str:
    """Return ``name`` if it is a known convention, else raise :class:`ConventionError`."""
    if name not in CONVENTIONS:
        raise ConventionError(
            f"unknown kink convention '{name}' (choose from {', '.join(CONVENTIONS)})"
            f"{did_you_mean(str(name), list(CONVENTIONS))}"
        )
    return name


@dataclass(frozen=True)
class Kink:
    """A point where the one-sided derivatives differ, and the value the convention takes."""

    point: sympy.Expr
    left: sympy.Expr
    right: sympy.Expr
    value: sympy.Expr


@dataclass(frozen=True)
class Analysis:
    """A univariate derivative in canonical form: open pieces, kinks, and the Piecewise."""

    pieces: tuple  # ((derivative, sympy.Set), ...) in order along the real line
    kinks: tuple  # (Kink, ...)
    derivative: sympy.Expr


# --------------------------------------------------------------------------- public entry points


@lru_cache(maxsize=None)
def derivative(expr: sympy.Expr, var: sympy.Symbol, convention: str = DEFAULT_CONVENTION):
    """d expr / d var with every kink resolved by ``convention``."""
    analysis = analyse(expr, var, convention)
    return analysis.derivative if analysis else _tidy(_diff(expr, var, convention))


@lru_cache(maxsize=None)
def analyse(expr: sympy.Expr, var: sympy.Symbol, convention: str = DEFAULT_CONVENTION):
    """The canonical form of d expr / d var for a function of ``var`` alone, else None."""
    check_convention(convention)
    raw = _diff(expr, var, convention)
    if not expr.free_symbols <= {var} or not raw.has(sympy.Piecewise):
        return None
    try:
        return _canonical(sympy.piecewise_fold(raw), var, convention)
    except (NotImplementedError, TypeError, ValueError):
        return None  # conditions SymPy cannot solve: keep the structural result


def one_sided_values(left, right, convention: str) -> sympy.Expr:
    """The convention's value at a kink with one-sided derivatives ``left`` and ``right``."""
    if convention == "mean":
        return sympy.nsimplify((left + right) / 2) if _is_rational(left, right) else (left + right) / 2
    if convention == "left":
        return left
    if convention == "right":
        return right
    low, high = sympy.Min(left, right), sympy.Max(left, right)
    return sympy.Min(sympy.Max(0, low), high)


def _is_rational(*values) -> bool:
    return all(v.is_Rational for v in values)


# --------------------------------------------------------------------------- structural rules


def _diff(expr: sympy.Expr, x: sympy.Symbol, convention: str) -> sympy.Expr:
    if not expr.has(x):
        return sympy.Integer(0)
    kinks = _outermost_kinks(expr, x)
    if not kinks:
        return _check_smooth(sympy.diff(expr, x))
    holders = [sympy.Function(f"_kink{i}")(x) for i in range(len(kinks))]
    swapped = expr.xreplace(dict(zip(kinks, holders)))
    result = sympy.diff(swapped, x)
    result = result.subs(
        {sympy.Derivative(h, x): _kink_diff(k, x, convention) for h, k in zip(holders, kinks)}
    )
    return _check_smooth(result.xreplace(dict(zip(holders, kinks))))


def _check_smooth(result: sympy.Expr) -> sympy.Expr:
    if result.has(sympy.Heaviside, sympy.DiracDelta, sympy.Derivative, sympy.Subs):
        raise MissingRuleError(f"no kink rule for a function in the derivative {result}")
    return result


def _outermost_kinks(expr: sympy.Expr, x: sympy.Symbol) -> list:
    found: list = []

    def visit(node):
        if isinstance(node, _KINKS) and node.has(x):
            if node not in found:
                found.append(node)
            return
        for arg in node.args:
            visit(arg)

    visit(expr)
    return found


def _kink_diff(node, x, convention):
    d = lambda e: _diff(e, x, convention)  # noqa: E731
    if isinstance(node, (sympy.Max, sympy.Min)):
        p = node.args[0]
        q = type(node)(*node.args[1:]) if len(node.args) > 2 else node.args[1]
        kind = "max" if isinstance(node, sympy.Max) else "min"
        dp, dq = d(p), d(q)
        first, second = (p > q, p < q) if kind == "max" else (p < q, p > q)
        return sympy.Piecewise((dp, first), (dq, second), (_tie(kind, dp, dq, convention), True))
    if isinstance(node, sympy.Abs):
        p = node.args[0]
        dp = d(p)
        return sympy.Piecewise((dp, p > 0), (-dp, p < 0), (_tie("max", dp, -dp, convention), True))
    if isinstance(node, (sympy.sign, sympy.Heaviside)):
        return sympy.Integer(0)
    return sympy.Piecewise(*[(d(e), c) for e, c in node.args])


def _tie(kind: str, dp, dq, convention: str):
    """The derivative where the two branches of a max/min meet, from their derivatives."""
    low, high = sympy.Min(dp, dq), sympy.Max(dp, dq)
    if convention == "mean":
        return (dp + dq) / 2
    if convention in ("left", "right"):
        # max(p, q) grows like the larger slope to the right and the smaller to the left
        take_high = (convention == "right") == (kind == "max")
        return high if take_high else low
    if dp == 0 or dq == 0:
        return sympy.Integer(0)
    if dp.is_number and dq.is_number:
        return one_sided_values(dp, dq, "min-norm")
    return sympy.Piecewise(
        (0, dp * dq <= 0), (dp, sympy.Abs(dp) <= sympy.Abs(dq)), (dq, True)
    )


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """Fold nested Piecewise and drop impossible pieces (for functions of several variables)."""
    folded = sympy.piecewise_fold(expr)
    if not isinstance(folded, sympy.Piecewise):
        return folded
    pieces = [(e, c) for e, c in folded.args if c is not sympy.false]
    merged: list = []
    for e, c in pieces:
        if merged and merged[-1][0] == e:
            merged[-1] = (e, sympy.Or(merged[-1][1], c))
        else:
            merged.append((e, c))
    return merged[0][0] if len(merged) == 1 else sympy.Piecewise(*merged)


# --------------------------------------------------------------------------- canonical form


def _canonical(folded, x, convention) -> Analysis:
    pairs = folded.as_expr_set_pairs() if isinstance(folded, sympy.Piecewise) else [(folded, sympy.Reals)]
    points = _boundary_points(pairs)
    segments = _open_segments(points)
    values = [_branch_on(pairs, segment, x) for segment in segments]

    pieces: list = []  # (expr, set)
    kinks: list = []
    for i, (segment, value) in enumerate(zip(segments, values)):
        _add_piece(pieces, value, segment)
        if i == len(points):
            break
        point, right_value = points[i], values[i + 1]
        left = _limit(value, x, point, "-")
        right = _limit(right_value, x, point, "+")
        if sympy.simplify(left - right) == 0:
            _add_piece(pieces, value, sympy.FiniteSet(point))
            continue
        chosen = _simplify(one_sided_values(left, right, convention))
        kinks.append(Kink(point, left, right, chosen))
        owner = value if chosen == left else right_value if chosen == right else chosen
        _add_piece(pieces, owner, sympy.FiniteSet(point))

    groups = _group(pieces)
    if len(groups) == 1:
        result = groups[0][0]
    elif _is_sign(groups):
        result = sympy.sign(x)
    else:
        result = sympy.Piecewise(*[(e, s.as_relational(x)) for e, s in groups])
    return Analysis(tuple(groups), tuple(kinks), result)


def _is_sign(groups: list) -> bool:
    expected = [(-1, sympy.Interval.open(-sympy.oo, 0)), (0, sympy.FiniteSet(0)), (1, sympy.Interval.open(0, sympy.oo))]
    return len(groups) == 3 and all((sympy.Integer(v), s) in groups for v, s in expected)


def _boundary_points(pairs) -> list:
    points = set()
    for _, region in pairs:
        for point in region.boundary:
            if point.is_finite and point.is_real:
                points.add(point)
    return sorted(points, key=lambda p: (float(p), sympy.default_sort_key(p)))


def _open_segments(points: list) -> list:
    edges = [sympy.S.NegativeInfinity, *points, sympy.S.Infinity]
    return [sympy.Interval.open(a, b) for a, b in zip(edges, edges[1:])]


def _inside(segment: sympy.Interval) -> sympy.Expr:
    a, b = segment.start, segment.end
    if a.is_infinite and b.is_infinite:
        return sympy.Integer(0)
    if a.is_infinite:
        return b - 1
    if b.is_infinite:
        return a + 1
    return (a + b) / 2


def _branch_on(pairs, segment, x) -> sympy.Expr:
    point = _inside(segment)
    return _simplify(active_branch(_value_on(pairs, point), x, point))


def _value_on(pairs, point) -> sympy.Expr:
    for expr, region in pairs:
        if region.contains(point) is sympy.true:
            return expr
    raise ValueError(f"no piece covers {point}")


def _limit(expr, x, point, direction):
    value = expr.subs(x, point)
    if value.has(sympy.nan, sympy.zoo) or not value.is_finite:
        value = sympy.limit(expr, x, point, direction)
    return _simplify(value)


def _simplify(expr):
    if expr.is_number:
        return sympy.nsimplify(expr) if expr.is_Rational else expr
    return sympy.simplify(expr) if sympy.count_ops(expr) < 40 else expr


def _add_piece(pieces: list, expr, region) -> None:
    if pieces and pieces[-1][0] == expr:
        pieces[-1] = (expr, sympy.Union(pieces[-1][1], region))
    else:
        pieces.append((expr, region))


def _group(pieces: list) -> list:
    """Merge pieces with the same expression, keeping the order of first appearance."""
    groups: list = []
    for expr, region in pieces:
        for i, (e, r) in enumerate(groups):
            if e == expr:
                groups[i] = (e, sympy.Union(r, region))
                break
        else:
            groups.append((expr, region))
    return groups


# --------------------------------------------------------------------------- explanations


def active_branch(expr: sympy.Expr, x: sympy.Symbol, at) -> sympy.Expr:
    """The smooth branch of ``expr`` that is active at the point ``x = at``."""

    def pick(node):
        if isinstance(node, (sympy.Max, sympy.Min)):
            args = [pick(a) for a in node.args]
            values = [float(a.subs(x, at)) for a in args]
            best = max(values) if isinstance(node, sympy.Max) else min(values)
            return args[values.index(best)]
        if isinstance(node, sympy.Abs):
            inner = pick(node.args[0])
            return inner if float(inner.subs(x, at)) >= 0 else -inner
        if isinstance(node, sympy.Piecewise):
            for e, c in node.args:
                if c.subs(x, at) is sympy.true:
                    return pick(e)
        if not node.args:
            return node
        return node.func(*[pick(a) for a in node.args])

    return pick(expr)


def interior_point(region: sympy.Set):
    """A point inside an interval (or union of intervals) to read its branch at."""
    intervals = region.args if isinstance(region, sympy.Union) else (region,)
    for interval in intervals:
        if isinstance(interval, sympy.Interval) and interval.measure != 0:
            return _inside(sympy.Interval.open(interval.start, interval.end))
    return None

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

Kinks of several parameters (``params``) take one subgradient for the whole step under
``min-norm``: at a tie of ``max(a, b)`` or ``min(a, b)`` the value is the minimum-norm point of
the segment between the branch gradients ∇a and ∇b in parameter space, so ``max(p, q)`` at
p = q gives (½, ½); ``abs(u)`` gives 0 (its segment [∇u, −∇u] holds 0). With more than two
arguments the ties are taken pairwise, as ``max(a, max(b, c))``; a kink inside a smooth outer
function gets the chain rule applied to the kink's own minimum-norm subgradient. Where the branch
gradients cannot be split into plain vectors, the per-parameter rule above is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from .breakpoints import (
    KINKS,
    MAX_FOLDED_PIECES,
    Unresolved,
    breakpoints,
    domain_edges,
    fold_size,
    is_real_at,
    shown,
)
from .errors import ConventionError, MissingRuleError, SymderivError, did_you_mean

CONVENTIONS = ("min-norm", "mean", "left", "right")
DEFAULT_CONVENTION = "min-norm"


_KINKS = KINKS


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


class UnresolvedKinkError(SymderivError):
    """A function of one variable whose kinks symderiv cannot place (bounded search failed)."""


# --------------------------------------------------------------------------- public entry points


@lru_cache(maxsize=None)
def derivative(expr: sympy.Expr, var: sympy.Symbol, convention: str = DEFAULT_CONVENTION, params=()):
    """d expr / d var with every kink resolved by ``convention``, jointly over ``params``."""
    try:
        analysis = _analyse(expr, var, convention)
    except Unresolved as why:
        raise UnresolvedKinkError(f"the pieces of {shown(expr)} cannot be resolved: {why}") from None
    return analysis.derivative if analysis else _tidy(_diff(expr, var, convention, tuple(params)))


def analyse(expr: sympy.Expr, var: sympy.Symbol, convention: str = DEFAULT_CONVENTION):
    """The canonical form of d expr / d var for a function of ``var`` alone, else None."""
    try:
        return _analyse(expr, var, convention)
    except Unresolved:
        return None


@lru_cache(maxsize=None)
def _analyse(expr: sympy.Expr, var: sympy.Symbol, convention: str):
    """:func:`analyse`, or :class:`Unresolved` for one variable whose kinks are out of reach."""
    check_convention(convention)
    raw = _diff(expr, var, convention)
    if not expr.free_symbols <= {var} or not raw.has(sympy.Piecewise):
        return None
    if fold_size(raw) > MAX_FOLDED_PIECES:
        raise Unresolved(f"more than {MAX_FOLDED_PIECES} combinations of pieces")
    try:
        return _canonical(sympy.piecewise_fold(raw), var, convention, expr)
    except (NotImplementedError, TypeError, ValueError) as error:
        raise Unresolved(f"SymPy cannot compare its pieces ({error})") from None


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


def _diff(expr: sympy.Expr, x: sympy.Symbol, convention: str, params: tuple = ()) -> sympy.Expr:
    if not expr.has(x):
        return sympy.Integer(0)
    kinks = _outermost_kinks(expr, x)
    if not kinks:
        return _check_smooth(sympy.diff(expr, x))
    holders = [sympy.Function(f"_kink{i}")(x) for i in range(len(kinks))]
    swapped = expr.xreplace(dict(zip(kinks, holders)))
    result = sympy.diff(swapped, x)
    result = result.subs(
        {sympy.Derivative(h, x): _kink_diff(k, x, convention, params) for h, k in zip(holders, kinks)}
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


def _kink_diff(node, x, convention, params=()):
    d = lambda e: _diff(e, x, convention, params)  # noqa: E731
    joint = _is_joint(node, convention, params)
    if isinstance(node, (sympy.Max, sympy.Min)):
        p, q = _split(node)
        kind = "max" if isinstance(node, sympy.Max) else "min"
        dp, dq = d(p), d(q)
        first, second = (p > q, p < q) if kind == "max" else (p < q, p > q)
        point = _joint_point(node, params) if joint else None
        tie = point[params.index(x)] if point else _tie(kind, dp, dq, convention)
        return sympy.Piecewise((dp, first), (dq, second), (tie, True))
    if isinstance(node, sympy.Abs):
        p = node.args[0]
        dp = d(p)
        tie = sympy.Integer(0) if joint else _tie("max", dp, -dp, convention)
        return sympy.Piecewise((dp, p > 0), (-dp, p < 0), (tie, True))
    if isinstance(node, (sympy.sign, sympy.Heaviside)):
        return sympy.Integer(0)
    return sympy.Piecewise(*[(d(e), c) for e, c in node.args])


def _split(node):
    """max(a, b, c, ...) as the pair (a, max(b, c, ...))."""
    rest = node.args[1:]
    return node.args[0], type(node)(*rest) if len(rest) > 1 else rest[0]


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
    if fold_size(expr) > MAX_FOLDED_PIECES:
        return expr  # folding would multiply out too many pieces: keep them nested
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


# --------------------------------------------------------------------------- joint subgradients


def _is_joint(node, convention: str, params: tuple) -> bool:
    """Whether a kink is resolved jointly: min-norm, and at least two parameters inside."""
    return convention == "min-norm" and sum(1 for p in params if node.has(p)) >= 2


@lru_cache(maxsize=None)
def _joint_point(node, params: tuple):
    """The min-norm point of [∇a, ∇b] at a tie of ``node`` = max/min(a, b), or None."""
    p, q = _split(node)
    gradients = [_diff(e, y, "min-norm", params) for e in (p, q) for y in params]
    branches = _vector_branches(gradients)
    if branches is None:
        return None
    n = len(params)
    pieces = [(_min_norm_pair(v[:n], v[n:]), c) for v, c in branches]
    if len(pieces) == 1:
        return pieces[0][0]
    return tuple(sympy.Piecewise(*[(v[i], c) for v, c in pieces]) for i in range(n))


def _vector_branches(values: list):
    """``values`` as [(vector, condition), ...] with no Piecewise left inside, else None."""
    folded = sympy.piecewise_fold(sympy.Tuple(*values))
    pairs = folded.args if isinstance(folded, sympy.Piecewise) else [(folded, sympy.true)]
    if any(not isinstance(v, sympy.Tuple) or v.has(sympy.Piecewise) for v, _ in pairs):
        return None
    return [(tuple(v), c) for v, c in pairs]


def _min_norm_pair(a: tuple, b: tuple) -> tuple:
    """The point of the segment [a, b] closest to 0: b − t (b − a), t = clamp(b·(b−a)/|b−a|², 0, 1)."""
    if a == b or all(v == 0 for v in a):
        return a
    if all(v == 0 for v in b):
        return b
    d = [bi - ai for ai, bi in zip(a, b)]
    dd = sympy.expand(sum(di**2 for di in d))
    if dd.is_zero:
        return a
    t = sympy.Min(1, sympy.Max(0, sympy.cancel(sum(bi * di for bi, di in zip(b, d)) / dd)))
    if dd.is_number:
        return tuple(sympy.expand(bi - t * di) for bi, di in zip(b, d))
    point = [_simplify(bi - t * di) for bi, di in zip(b, d)]
    if dd.is_positive:
        return tuple(point)
    return tuple(sympy.Piecewise((ai, sympy.Eq(dd, 0)), (pi, True)) for ai, pi in zip(a, point))


# --------------------------------------------------------------------------- canonical form


def _canonical(folded, x, convention, function) -> Analysis:
    """Cut the line at the breakpoints of the conditions and of ``function``'s domain; one
    derivative per open segment (none where ``function`` is undefined), the convention at kinks."""
    pairs = folded.args if isinstance(folded, sympy.Piecewise) else [(folded, sympy.true)]
    points = breakpoints([c for _, c in pairs], x, domain_edges(function, x))
    segments = _open_segments(points)
    values = [_branch_on(pairs, segment, x, function) for segment in segments]
    if all(value is None for value in values):
        raise Unresolved(f"{function} is real nowhere")

    pieces: list = []  # (expr, set)
    kinks: list = []
    for i, (segment, value) in enumerate(zip(segments, values)):
        if value is not None:
            _add_piece(pieces, value, segment)
        if i == len(points):
            break
        point, right_value = points[i], values[i + 1]
        if value is None or right_value is None or not is_real_at(function, x, point):
            continue  # an end of the domain, or a pole: no derivative there
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


def _branch_on(pairs, segment, x, function) -> sympy.Expr | None:
    """The derivative's branch on an open segment, or None where ``function`` is not real."""
    point = _inside(segment)
    if not is_real_at(function, x, point):
        return None
    return _simplify(active_branch(_value_on(pairs, x, point), x, point))


def _value_on(pairs, x, point) -> sympy.Expr:
    for expr, condition in pairs:
        holds = condition.subs(x, point) if isinstance(condition, sympy.Basic) else condition
        if holds is sympy.true:
            return expr
        if holds is not sympy.false:
            raise Unresolved(f"cannot decide {shown(condition)} at {x} = {point}")
    raise Unresolved(f"no piece covers {x} = {point}")


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

"""Where a function of one variable can change branch: its breakpoints, found by a bounded search.

The kink canonicaliser (:mod:`symderiv.kinks`) cuts the real line at these points. Instead of
general set algebra (whose cost has no bound), each comparison ``u > v`` of a Piecewise is solved
for ``u - v = 0`` only where that is cheap and exact: polynomials of degree at most
:data:`MAX_DEGREE` (and rational functions of them), strictly monotone functions inverted
(exp, log, log1p, tanh, sigmoid, softplus, sinh, asinh, atan, powers), and max/min/abs inside a
comparison followed branch by branch, at most :data:`MAX_BRANCHES` of them. Anything else raises
:class:`Unresolved` at once. The ends of the real domain (log, log1p, roots, poles) are
breakpoints too.
"""

from __future__ import annotations

import sympy

MAX_DEGREE = 6  # kink conditions solved exactly: polynomials up to this degree
MAX_BREAKPOINTS = 24  # kinks of one function put in canonical form
MAX_CONDITION_OPS = 200  # operations in one comparison worth trying to solve
MAX_BRANCHES = 64  # branches of max/min/abs inside conditions followed while finding kinks
MAX_FOLDED_PIECES = 1000  # pieces a nest of Piecewise may multiply out to when folded into one

KINKS = (sympy.Max, sympy.Min, sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Piecewise)


class Unresolved(Exception):
    """The pieces' conditions have no breakpoints found within budget."""


def shown(expr) -> str:
    """An expression in messages, as the formula language writes it: max(b, softplus(b))."""
    from .notation import scalar_unicode

    return scalar_unicode(expr)


def fold_size(expr: sympy.Expr) -> int:
    """A bound on the pieces of ``piecewise_fold(expr)``: the product of the distinct Piecewise's counts."""
    size = 1
    for node in expr.atoms(sympy.Piecewise):  # each distinct one (a repeated one folds once)
        size *= len(node.args)
        if size > MAX_FOLDED_PIECES:
            break
    return size


def domain_edges(function: sympy.Expr, x: sympy.Symbol) -> list:
    """Expressions whose roots end the real domain of ``function`` (log, log1p, roots, poles)."""
    edges = (_domain_edge(node, x) for node in sympy.preorder_traversal(function))
    return [edge for edge in edges if edge is not None]


def _domain_edge(node, x: sympy.Symbol):
    """For log(h), log1p(h) and h**p (p not a positive integer): the expression whose root ends the domain."""
    from .functions import log1p

    if isinstance(node, sympy.log) and node.has(x):
        return node.args[0]
    if isinstance(node, log1p) and node.has(x):
        return node.args[0] + 1
    if isinstance(node, sympy.Pow) and node.base.has(x) and not (node.exp.is_integer and node.exp > 0):
        return node.base
    return None


def breakpoints(conditions: list, x: sympy.Symbol, edges: tuple | list = ()) -> list:
    """The sorted real points where any condition can change, or :class:`Unresolved`.

    ``edges`` are expressions whose roots are breakpoints too (the ends of the domain). Bounded:
    see the module's docstring; at most :data:`MAX_BREAKPOINTS` points.
    """
    points: set = set()
    budget = [MAX_BRANCHES, set()]  # branches left, expressions already searched
    for edge in edges:
        _candidates(edge, x, points, budget)
    for condition in conditions:
        if condition in (sympy.true, sympy.false):
            continue
        if not isinstance(condition, sympy.logic.boolalg.Boolean) or condition.atoms(sympy.Symbol) - {x}:
            raise Unresolved(f"{shown(condition)} is not a condition on {x} alone")
        for atom in condition.atoms(sympy.core.relational.Relational):
            _candidates(atom.lhs - atom.rhs, x, points, budget)
    return sorted(points, key=lambda p: (float(p), sympy.default_sort_key(p)))


def _candidates(expr: sympy.Expr, x: sympy.Symbol, points: set, budget: list) -> None:
    """Add to ``points`` every real root of ``expr`` and every kink inside it, branch by branch."""
    if expr in budget[1]:
        return
    budget[1].add(expr)
    kink = next((n for n in sympy.preorder_traversal(expr) if isinstance(n, KINKS) and n.has(x)), None)
    if kink is None:
        points.update(_real_roots(expr, x))
    else:
        budget[0] -= 1
        if budget[0] < 0:
            raise Unresolved(f"more than {MAX_BRANCHES} branches to follow")
        switches, branches = _switches(kink)
        for part in switches:
            _candidates(part, x, points, budget)
        for branch in branches:
            _candidates(expr.xreplace({kink: branch}), x, points, budget)
    if len(points) > MAX_BREAKPOINTS:
        raise Unresolved(f"more than {MAX_BREAKPOINTS} breakpoints")


def _switches(kink) -> tuple:
    """Where a kink switches branch (expressions whose roots they are) and its branches."""
    if isinstance(kink, (sympy.Max, sympy.Min)):
        args = kink.args
        return [a - b for i, a in enumerate(args) for b in args[i + 1:]], list(args)
    if isinstance(kink, sympy.Abs):
        return [kink.args[0]], [kink.args[0], -kink.args[0]]
    if isinstance(kink, (sympy.sign, sympy.Heaviside)):  # the value at the switch is a root already
        low = -1 if isinstance(kink, sympy.sign) else 0
        return [kink.args[0]], [sympy.Integer(low), sympy.Integer(1)]
    raise Unresolved(f"a piecewise inside the condition {shown(kink)}")


def _real_roots(expr: sympy.Expr, x: sympy.Symbol) -> list:
    if sympy.count_ops(expr) > MAX_CONDITION_OPS:
        raise Unresolved(f"{shown(expr)} = 0 is too large to solve")
    if not expr.is_rational_function(x):
        return _inverted_roots(expr, x)
    numerator, denominator = sympy.fraction(sympy.together(expr))
    roots: list = []
    for part in (numerator, denominator):
        if not part.has(x):
            continue
        if not part.is_polynomial(x):
            raise Unresolved(f"{shown(expr)} = 0 has no closed-form roots symderiv can find")
        poly = sympy.Poly(part, x)
        if poly.degree() > MAX_DEGREE or not all(c.is_number for c in poly.all_coeffs()):
            raise Unresolved(f"{shown(expr)} = 0 is a polynomial of degree above {MAX_DEGREE}")
        roots.extend(_poly_real_roots(poly))
    return roots


def _inverted_roots(expr: sympy.Expr, x: sympy.Symbol) -> list:
    """Roots of ``k f(h(x)) + c`` for a strictly monotone ``f``: the roots of h(x) = f⁻¹(−c/k)."""
    const, rest = expr.as_independent(x, as_Add=True)
    coeff, core = rest.as_independent(x, as_Add=False)
    if not (const.is_number and coeff.is_number and coeff != 0):
        raise Unresolved(f"{shown(expr)} = 0 has no closed-form roots symderiv can find")
    value = sympy.nsimplify(-const / coeff) if (-const / coeff).is_Rational else -const / coeff
    targets = _inverse(core, value)
    if targets is None:
        raise Unresolved(f"{shown(expr)} = 0 has no closed-form roots symderiv can find")
    inner = core.args[0] if not isinstance(core, sympy.Pow) else core.base
    roots: list = []
    for target in targets:
        roots.extend(_real_roots(inner - target, x))
    return roots


def _inverse(core, value):
    """The values of the argument where ``core`` equals ``value`` (a list), or None if unknown."""
    from .functions import log1p, sigmoid, softplus

    if not value.is_extended_real:
        return None
    if isinstance(core, sympy.Pow) and core.exp.is_number and core.exp.is_real and core.exp != 0:
        return _root_of_power(core.exp, value)
    inverses = {
        sympy.exp: (value > 0, lambda c: sympy.log(c)),
        sympy.log: (True, sympy.exp),
        log1p: (True, lambda c: sympy.exp(c) - 1),
        sympy.sinh: (True, sympy.asinh),
        sympy.asinh: (True, sympy.sinh),
        sympy.tanh: (abs(value) < 1, sympy.atanh),
        sigmoid: ((value > 0) & (value < 1), lambda c: sympy.log(c / (1 - c))),
        softplus: (value > 0, lambda c: sympy.log(sympy.exp(c) - 1)),
        sympy.atan: (abs(value) < sympy.pi / 2, sympy.tan),
    }
    if type(core) not in inverses or len(core.args) != 1:
        return None
    in_range, inverse = inverses[type(core)]
    if in_range not in (True, False, sympy.true, sympy.false):
        return None
    return [inverse(value)] if in_range else []


def _root_of_power(exponent, value) -> list | None:
    """Real h with h**exponent == value (h >= 0 for a non-integer exponent)."""
    if exponent.is_integer:
        if exponent % 2:
            return [sympy.real_root(value, exponent)] if exponent > 0 or value != 0 else []
        return [] if value < 0 or (value == 0 and exponent < 0) else sorted({value ** (1 / exponent), -value ** (1 / exponent)}, key=float)
    if value < 0 or (value == 0 and exponent < 0):
        return []
    return [value ** (1 / exponent)]


def _poly_real_roots(poly: sympy.Poly) -> list:
    if poly.degree() <= 2:
        return list(sympy.roots(poly, filter="R"))
    return list(dict.fromkeys(sympy.real_roots(poly)))


def is_real_at(function: sympy.Expr, x: sympy.Symbol, point) -> bool:
    """Whether every logarithm, root and power inside ``function``, and itself, is real at x = point."""
    parts = [n for n in sympy.preorder_traversal(function) if _domain_edge(n, x) is not None]
    for part in [*reversed(parts), function]:  # inner parts first: sqrt(-1) inside max() cannot be built
        value = part.subs(x, point).evalf()
        if not (value.is_extended_real and value.is_finite):
            return False
    return True

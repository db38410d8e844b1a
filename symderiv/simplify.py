"""The simplifier: a table of named rewrite rules applied bottom-up to a fixed point.

Each rule is a small function ``(node, context) -> node | None``; :data:`RULES` lists them in the
order they are tried, so a new identity or closed form joins with one entry. Rewrites are exact
(SymPy rational arithmetic, no floating-point evaluation) and deterministic. Element-wise
sub-expressions in few inputs are fused into one scalar SymPy expression, given the definitions
of the intermediates they use (``v = cosh(e)``), and replaced by a closed form where one is
recognised (:data:`symderiv.closed_forms.CLOSED_FORMS`): ``sinh(e)/v`` with ``v = cosh(e)``
becomes ``tanh(e)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, overload

import sympy

from . import ir
from .closed_forms import closed_form, from_sympy
from .functions import elementwise_leaves, real, to_sympy

MAX_PASSES = 4
MAX_REWRITES = 8  # rules applied to one node in one pass


class Rule(NamedTuple):
    name: str
    rewrite: Callable  # (node, context) -> node | None


@dataclass
class Context:
    """What rules may use: the definitions of intermediate variables, by name."""

    definitions: dict = field(default_factory=dict)
    fusion: bool = True


@overload
def simplify(node: ir.Node, definitions: dict | None = None, fusion: bool = True) -> ir.Node: ...


@overload
def simplify(node: None, definitions: dict | None = None, fusion: bool = True) -> None: ...


def simplify(node: ir.Node | None, definitions: dict | None = None, fusion: bool = True) -> ir.Node | None:
    """``node`` rewritten by :data:`RULES` until nothing changes (at most MAX_PASSES passes)."""
    if node is None:
        return None
    context = Context(dict(definitions or {}), fusion)
    for _ in range(MAX_PASSES):
        result = _pass(node, context, {})
        if result == node:
            return result
        node = result
    return node


def _pass(node: ir.Node, context: Context, memo: dict) -> ir.Node:
    if node in memo:
        return memo[node]
    args = tuple(_pass(a, context, memo) for a in node.args)
    current = node if all(a is b for a, b in zip(args, node.args)) else node.rebuild(args)
    for _ in range(MAX_REWRITES):
        rewritten = _rewrite_once(current, context)
        if rewritten is None or rewritten == current:
            break
        current = rewritten
    memo[node] = current
    return current


def _rewrite_once(node: ir.Node, context: Context):
    for rule in RULES:
        result = rule.rewrite(node, context)
        if result is not None and result != node:
            return _same_shape(result, node)
    return None


def _same_shape(result: ir.Node, node: ir.Node) -> ir.Node:
    if result.shape == node.shape:
        return result
    if result.shape == ():
        return ir.mul(result, ir.Ones(node.shape))
    return node


# --------------------------------------------------------------------------- sums


def _terms(node: ir.Node, sign: int = 1) -> list:
    """A chain of + and − as signed terms (sign, term), left to right."""
    if isinstance(node, ir.Add) and node.args[0].shape == node.args[1].shape == node.shape:
        return _terms(node.args[0], sign) + _terms(node.args[1], sign)
    if isinstance(node, ir.Sub) and node.args[0].shape == node.args[1].shape == node.shape:
        return _terms(node.args[0], sign) + _terms(node.args[1], -sign)
    if isinstance(node, ir.Neg):
        return _terms(node.args[0], -sign)
    return [(sign, node)]


def collect_like_terms(node: ir.Node, context: Context):
    """p + p → 2p, c·p + d·p → (c + d)·p, p − p → 0 (over a whole chain of + and −)."""
    if not isinstance(node, (ir.Add, ir.Sub)):
        return None
    terms = _terms(node)
    if len(terms) < 2:
        return None
    groups: dict = {}
    for sign, term in terms:
        coefficient, factors = ir.split_coefficient(term)
        key = frozenset(Counter(factors).items())
        if key in groups:
            groups[key][0] += sign * coefficient
        else:
            groups[key] = [sign * coefficient, factors, term.shape]
    if len(groups) == len(terms):
        return None
    total = None
    for coefficient, factors, shape in groups.values():
        if coefficient == 0:
            continue
        term = ir.product(coefficient, factors, shape)
        total = term if total is None else ir.add(total, term)
    return total if total is not None else ir.zeros(node.shape)


def diagonal_sum(node: ir.Node, context: Context):
    """diag(a) + diag(b) → diag(a + b) and c·diag(a) → diag(c·a): one local derivative."""
    if isinstance(node, (ir.Add, ir.Sub)) and all(isinstance(a, ir.Diag) for a in node.args):
        a, b = (d.args[0] for d in node.args)
        return ir.Diag(ir.add(a, b) if isinstance(node, ir.Add) else ir.sub(a, b))
    if isinstance(node, ir.Mul) and isinstance(node.args[1], ir.Diag) and node.args[0].shape == ():
        return ir.Diag(ir.mul(node.args[0], node.args[1].args[0]))
    if isinstance(node, ir.Neg) and isinstance(node.args[0], ir.Diag):
        return ir.Diag(ir.neg(node.args[0].args[0]))
    return None


# --------------------------------------------------------------------------- constants


def cancel_constants(node: ir.Node, context: Context):
    """(c·p) / (d·q) → (c/d)·(p/q): constant factors of a quotient folded into its coefficient."""
    if not isinstance(node, ir.Div):
        return None
    cb, fb = ir.split_coefficient(node.args[1])
    if cb == 1 or not fb:
        return None
    denominator = ir.product(1, fb, node.args[1].shape)
    return ir.mul(ir.Const(1 / cb), ir.div(node.args[0], denominator))


def merge_quotients(node: ir.Node, context: Context):
    """c · (p/q) · x → (c·p·x)/q: one fraction bar for a product (2x/t, not 2 · (1/t) · x)."""
    if not isinstance(node, ir.Mul):
        return None
    coefficient, factors = ir.split_coefficient(node)
    quotients = [f for f in factors if isinstance(f, ir.Div)]
    if not quotients or len(factors) < 2 and coefficient == 1:
        return None
    others = [f for f in factors if not isinstance(f, ir.Div)]
    tops = [q.args[0] for q in quotients if not ir.is_const(q.args[0], 1)]
    numerator = ir.product(coefficient, others + tops, _shape(others + tops))
    denominator = ir.product(1, [q.args[1] for q in quotients], _shape([q.args[1] for q in quotients]))
    return ir.div(numerator, denominator)


def refold(node: ir.Node, context: Context):
    """A raw node the smart constructors would write otherwise (ones dropped, signs out)."""
    if isinstance(node, (ir.Mul, ir.Neg, ir.Add, ir.Sub)):
        return node.rebuild(node.args)
    return None


# --------------------------------------------------------------------------- fusion

MAX_LEAVES = 3  # inputs of a fused element-wise expression
MAX_OPS = 60  # SymPy operations of a fused body that simplification is tried on
MAX_DEPTH = 6  # definitions followed when expanding an intermediate


def fuse_closed_form(node: ir.Node, context: Context):
    """An element-wise expression in few inputs replaced by its closed form (tanh, clip, ...).

    Intermediates defined by the other inputs are expanded first (``v = cosh(e)`` next to e);
    a product is split into groups of factors over separate inputs, each fused on its own.
    """
    if not context.fusion or not node.elementwise or isinstance(node, ir.Neg):
        return None
    leaves = _inputs(node)
    expansions = _expansions(leaves, context.definitions)
    whole = _fuse(node, ir.substitute(node, expansions) if expansions else node)
    if whole is not None or not isinstance(node, ir.Mul):
        return whole
    coefficient, factors = ir.split_coefficient(node)
    expanded = [ir.substitute(f, expansions) if expansions else f for f in factors]
    changed, out = False, []
    for group in _groups(list(zip(factors, expanded))):
        original = ir.product(1, [f for f, _ in group], _shape([f for f, _ in group]))
        fused = (
            _fuse(original, ir.product(1, [e for _, e in group], original.shape)) if len(group) > 1 else None
        )
        changed = changed or fused is not None
        out.append(fused if fused is not None else original)
    return ir.product(coefficient, out, node.shape) if changed else None


def _inputs(node: ir.Node) -> list:
    return [leaf for leaf in elementwise_leaves(node) if not isinstance(leaf, (ir.Ones, ir.Zero))]


def _shape(factors: list) -> tuple:
    shapes = [f.shape for f in factors if f.shape]
    return max(shapes, key=len) if shapes else ()


def _groups(pairs: list) -> list:
    """(original, expanded) factors in groups connected by shared inputs, in order."""
    groups: list = []  # [inputs, indices]
    for index, (_, expanded) in enumerate(pairs):
        inputs = set(_inputs(expanded))
        hit = [g for g in groups if g[0] & inputs]
        if not hit:
            groups.append([inputs, [index]])
            continue
        for other in hit[1:]:
            hit[0][0] |= other[0]
            hit[0][1] += other[1]
            groups.remove(other)
        hit[0][0] |= inputs
        hit[0][1].append(index)
    return [[pairs[i] for i in sorted(indices)] for _, indices in groups]


def _expansions(leaves: list, definitions: dict) -> dict:
    """Intermediates among ``leaves`` written in the other leaves: {s: min(1, v), v: |e|} → |e|."""
    found: dict = {}
    current = list(leaves)
    for leaf in leaves:
        others = [x for x in current if x != leaf]
        expansion = _expansion(leaf, others, definitions, MAX_DEPTH)
        if expansion is not None:
            found[leaf] = expansion
            current = others
    for _ in range(len(found)):
        found = {k: ir.substitute(v, found) for k, v in found.items()}
    return found


def _expansion(leaf: ir.Node, others: list, definitions: dict, depth: int):
    definition = definitions.get(leaf.name) if isinstance(leaf, ir.Symbol) else None
    if definition is None or not definition.elementwise or depth == 0:
        return None
    mapping = {}
    for inner in _inputs(definition):
        if inner in others:
            continue
        sub = _expansion(inner, others, definitions, depth - 1)
        if sub is None:
            return None
        mapping[inner] = sub
    return ir.substitute(definition, mapping) if mapping else definition


def _fuse(original: ir.Node, expanded: ir.Node):
    """``expanded`` as one SymPy expression, put in closed form; None if that is not shorter."""
    leaves = _inputs(expanded)
    if not 0 < len(leaves) <= MAX_LEAVES or not _worth_trying(expanded, leaves):
        return None
    symbols = {leaf: real(f"_s{i}") for i, leaf in enumerate(leaves)}
    fills = {n: sympy.Integer(1) for n in _walk(expanded) if isinstance(n, ir.Ones)}
    body = to_sympy(expanded, {**symbols, **fills})
    floats = body.has(sympy.Float)
    if floats:  # exact arithmetic while simplifying: 0.1 as 1/10
        body = sympy.nsimplify(body, rational=True)
    if sympy.count_ops(body) > MAX_OPS:
        return None
    form = closed_form(body, tuple(symbols.values()))
    if form is None:
        return None
    if floats:  # and back as the user wrote them: clip(e, -0.1, 0.1), not -1/10
        form = form.xreplace({r: sympy.Float(r) for r in form.atoms(sympy.Rational) if not r.is_Integer})
    node = from_sympy(form, {s: leaf for leaf, s in symbols.items()})
    if node is None or _size(node) >= _size(expanded):
        return None
    return _same_shape(node, original) if node.shape != original.shape else node


def _worth_trying(node: ir.Node, leaves: list) -> bool:
    """Some input occurs twice and a non-linear operation is involved (sinh(e)/cosh(e))."""
    nodes = list(_walk(node))
    repeated = any(sum(1 for n in nodes if n == leaf) > 1 for leaf in leaves)
    return repeated and any(isinstance(n, (ir.Apply, ir.Div, ir.Pow)) for n in nodes)


def _walk(node: ir.Node):
    """Every node of the tree, repeats included (for counting)."""
    yield node
    for arg in node.args:
        yield from _walk(arg)


def _size(node: ir.Node) -> int:
    return sum(1 for _ in _walk(node))


RULES: list[Rule] = [
    Rule("refold", refold),
    Rule("like terms", collect_like_terms),
    Rule("diagonal sum", diagonal_sum),
    Rule("constant quotient", cancel_constants),
    Rule("one fraction", merge_quotients),
    Rule("closed form", fuse_closed_form),
]


def rule_names() -> list[str]:
    return [rule.name for rule in RULES]

"""A derivation as a straight-line program, and the programs derived from it.

:func:`lower` turns a Derivation into statements ``target = value`` over the arguments: the
forward steps (the derivation's own variables, z, a, e, ...), then the adjoints of the backward
pass (``grad_V`` from ``derivation.backward``), the gradients being the adjoints of the
parameters. :func:`flatten` splits every value into one operation per statement, sharing equal
sub-expressions; :func:`tangent` differentiates a flat program along a direction by the rules'
JVPs (forward mode), which applied to the gradient program gives the Hessian-vector product
H·V = d/dε ∇C(θ + εV) with the same kink convention. :func:`prune` keeps what outputs need.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy

from .. import ir
from ..rules import Context, rule_for
from ..simplify import simplify

LEAVES = (ir.Symbol, ir.Const, ir.Ones, ir.Zero)


@dataclass(frozen=True)
class Assign:
    target: ir.Symbol
    value: ir.Node


@dataclass
class Program:
    """Statements in order; ``outputs`` maps a result's name to its nodes (in order)."""

    params: tuple
    data: tuple
    body: list
    outputs: dict
    convention: str = "min-norm"
    named: set = field(default_factory=set)  # targets that are the derivation's own variables
    temps: set = field(default_factory=set)  # targets made by flatten (may be put back inline)

    @property
    def arguments(self) -> tuple:
        return self.params + self.data

    def definitions(self) -> dict:
        return {a.target.name: a.value for a in self.body}


# --------------------------------------------------------------------------- lowering


def lower(derivation, names) -> Program:
    """Forward steps, then adjoints; outputs ``loss`` and ``grad`` (one per parameter).

    ``names`` (a :class:`~symderiv.codegen.names.Names`) gives each variable its Python name.
    """
    rename: dict = {}  # the derivation's variables, by their Python names
    for step in derivation.steps:
        rename[step.variable] = ir.Symbol(names.fresh(step.variable.name), step.variable.shape)
    body = [Assign(rename[s.variable], ir.substitute(s.definition, rename)) for s in derivation.steps]
    output = rename.get(derivation.output, derivation.output)
    adjoints: dict = {}  # ∇_V C -> grad_V
    by_param: dict = {}
    for a in derivation.backward:
        value = fold_ones(ir.substitute(a.adjoint, {**rename, **adjoints}))
        target = ir.Symbol(names.fresh(f"grad_{a.variable.name}"), a.variable.shape)
        adjoints[ir.Adjoint(a.variable, derivation.output.name)] = target
        body.append(Assign(target, value))
        if a.is_parameter:
            by_param[a.variable.name] = target
    grads = [by_param.get(p.name, ir.zeros(p.shape)) for p in derivation.wrt]
    body = fuse_elementwise_adjoints(body, set(adjoints.values()), grads)
    params = tuple(derivation.wrt)
    data = data_arguments(derivation)
    named = {a.target.name for a in body}
    program = Program(params, data, body, {"loss": [output], "grad": grads}, derivation.convention, named)
    return propagate(program)


def fuse_elementwise_adjoints(body: list, adjoints: set, outputs: list) -> list:
    """An element-wise adjoint read once, by another element-wise adjoint, put into it and the
    result simplified with the forward definitions: sinh(e) · 1/(N cosh(e)) becomes tanh(e)/N,
    which stays finite where cosh overflows."""
    uses: dict = {}
    for a in body:
        for s in ir.symbols(a.value):
            uses[s] = uses.get(s, 0) + 1
    for node in outputs:
        for s in ir.symbols(node):
            uses[s] = uses.get(s, 0) + 2
    definitions = {a.target.name: a.value for a in body if a.target not in adjoints}
    fused: dict = {}
    out = []
    for a in body:
        if a.target not in adjoints:
            out.append(a)
            continue
        value = ir.substitute(a.value, fused) if fused else a.value
        if value is not a.value:
            value = simplify(value, definitions)
        if isinstance(value, ir.ELEMENTWISE) and uses.get(a.target, 0) == 1 and _read_elementwise(a.target, body):
            fused[a.target] = value
            continue
        out.append(Assign(a.target, value))
    return out


def _read_elementwise(symbol: ir.Symbol, body: list) -> bool:
    readers = [a for a in body if symbol in ir.symbols(a.value)]
    return len(readers) == 1 and isinstance(readers[0].value, ir.ELEMENTWISE)


def stable_expression(node: ir.Node) -> ir.Node:
    """``log(sum(exp(x)))`` (of a vector, or along the rows of a matrix) as ``logsumexp(x)``,
    whose code subtracts the maximum first and whose gradient is a stable softmax."""
    mapping: dict[ir.Node, ir.Node] = {}
    for current in ir.walk(node):
        args = tuple(mapping.get(a, a) for a in current.args)
        rebuilt = current if args == current.args else current.rebuild(args)
        x = _log_sum_exp_argument(rebuilt)
        if x is not None:
            mapping[current] = ir.logsumexp(x)
        elif rebuilt is not current:
            mapping[current] = rebuilt
    return mapping.get(node, node)


def _log_sum_exp_argument(node: ir.Node) -> ir.Node | None:
    if not (_is_function(node, sympy.log) and isinstance(node.args[0], ir.Sum)):
        return None
    total = node.args[0]
    inner = total.args[0]
    if not _is_function(inner, sympy.exp):
        return None
    x = inner.args[0]
    vector = len(x.shape) == 1 and total.axis is None
    rows = len(x.shape) == 2 and total.axis == 1
    return x if vector or rows else None


def _is_function(node: ir.Node, function) -> bool:
    """``node`` applies the plain scalar ``function`` (exp, log) to its one operand."""
    if not isinstance(node, ir.Apply) or len(node.fn.params) != 1:
        return False
    return node.fn.body == function(node.fn.params[0])


def data_arguments(derivation) -> tuple:
    """The data symbols in the documented order: matrices, vectors, scalars, each by name."""
    params = {p.name for p in derivation.wrt}
    data = {s.name: s for s in ir.symbols(derivation.expression) if s.name not in params}
    return tuple(sorted(data.values(), key=lambda s: (-len(s.shape), s.name)))


def propagate(program: Program) -> Program:
    """Substitute statements whose value is a constant or an alias into their uses, simplify
    what they land in, and drop what nothing uses (adjoints of 1/N · 1 and such fold away)."""
    known: dict = {}
    body = []
    for a in program.body:
        value = ir.substitute(a.value, known) if known else a.value
        if known and value is not a.value:
            value = simplify(fold_ones(value), fusion=False)
        if _trivial(value):
            known[a.target] = value
            continue
        body.append(Assign(a.target, value))
    outputs = {k: [ir.substitute(v, known) for v in vs] for k, vs in program.outputs.items()}
    return prune(replace(program, body=body, outputs=outputs))


def fold_ones(node: ir.Node) -> ir.Node:
    """Outer products and broadcasts of constant vectors as constants times ones, which the
    product constructor then drops: softmax(Z) * ((1/N) 1 1ᵀ) becomes (1/N) softmax(Z)."""
    mapping: dict[ir.Node, ir.Node] = {}
    for current in ir.walk(node):
        args = tuple(mapping.get(a, a) for a in current.args)
        if isinstance(current, (ir.Outer, ir.Broadcast)) and all(_scaled_ones(a) for a in args):
            scale = sympy.Mul(*[c for a in args for c in [_scale(a)]])
            mapping[current] = ir.mul(ir.Const(scale), ir.Ones(current.shape))
        elif args != current.args:
            mapping[current] = current.rebuild(args)
    return mapping.get(node, node)


def _scaled_ones(node: ir.Node) -> bool:
    if isinstance(node, (ir.Ones, ir.Const)):
        return True
    return isinstance(node, (ir.Mul, ir.Neg)) and all(_scaled_ones(a) for a in node.args)


def _scale(node: ir.Node):
    if isinstance(node, ir.Const):
        return node.value
    if isinstance(node, ir.Ones):
        return sympy.Integer(1)
    if isinstance(node, ir.Neg):
        return -_scale(node.args[0])
    return sympy.Mul(*[_scale(a) for a in node.args])


def _trivial(node: ir.Node) -> bool:
    """A value cheaper to repeat than to name: no array argument, or just another name."""
    if isinstance(node, ir.Symbol):
        return True
    return not any(isinstance(n, ir.Symbol) and n.shape for n in ir.walk(node)) and not any(
        isinstance(n, ir.Symbol) for n in ir.walk(node)
    )


def prune(program: Program, keep: tuple | None = None) -> Program:
    """Only the statements the outputs (those named in ``keep``, default all) need."""
    outputs = {k: v for k, v in program.outputs.items() if keep is None or k in keep}
    needed = {s.name for vs in outputs.values() for v in vs for s in ir.symbols(v)}
    body = []
    for a in reversed(program.body):
        if a.target.name in needed:
            body.append(a)
            needed |= {s.name for s in ir.symbols(a.value)}
    return replace(program, body=body[::-1], outputs=outputs)


# --------------------------------------------------------------------------- one operation a statement


def flatten(program: Program, names) -> Program:
    """Every value one operation on names and constants; equal sub-expressions computed once.

    Means become sums times a constant, so that every reduction over rows is a sum.
    """
    flat: list = []
    seen: dict = {}  # node -> the symbol holding it
    temps = set(program.temps)

    def emit(node: ir.Node, target: ir.Symbol | None = None) -> ir.Node:
        node = _sum_of_mean(node)
        if isinstance(node, LEAVES) and target is None:
            return node
        if node in seen and target is None:
            return seen[node]
        args = tuple(emit(a) for a in node.args)
        value = node.with_args(args) if args != node.args else node
        if value in seen and target is None:
            return seen[value]
        symbol = target or ir.Symbol(names.fresh("t"), node.shape)
        if target is None:
            temps.add(symbol.name)
        flat.append(Assign(symbol, value))
        seen.setdefault(value, symbol)
        seen.setdefault(node, symbol)
        return symbol

    for a in program.body:
        emit(a.value, a.target)
    outputs = {k: [emit(v) for v in vs] for k, vs in program.outputs.items()}
    return replace(program, body=flat, outputs=outputs, temps=temps)


def inline_views(program: Program) -> Program:
    """Transposes of inputs put back where they are read (``W.T`` is a view, not worth a name)."""
    targets = {a.target.name for a in program.body}
    views: dict = {}
    body = []
    for a in program.body:
        value = ir.substitute(a.value, views) if views else a.value
        x = value.args[0] if isinstance(value, ir.Transpose) else None
        if a.target.name in program.temps and isinstance(x, ir.Symbol) and x.name not in targets:
            views[a.target] = value
            continue
        body.append(Assign(a.target, value))
    outputs = {k: [ir.substitute(v, views) for v in vs] for k, vs in program.outputs.items()}
    return replace(program, body=body, outputs=outputs)


def in_terms_of(node: ir.Node, program: Program) -> ir.Node:
    """``node`` (over the arguments) rewritten in the program's variables where it contains
    their values: the network's softmax(A_1 @ W_2 + b_2) becomes softmax(Z_2)."""
    expanded: dict = {}
    names: dict = {}
    for a in program.body:
        full = ir.substitute(a.value, expanded)
        expanded[a.target] = full
        names.setdefault(full, a.target)

    def rewrite(current: ir.Node) -> ir.Node:
        if current in names:
            return names[current]
        args = tuple(rewrite(x) for x in current.args)
        return current if args == current.args else current.with_args(args)

    return rewrite(node)


def _sum_of_mean(node: ir.Node) -> ir.Node:
    if not isinstance(node, ir.Mean):
        return node
    (x,) = node.args
    axes = range(len(x.shape)) if node.axis is None else (node.axis,)
    count = sympy.Mul(*[x.shape[i] for i in axes])
    return ir.Mul(ir.Const(1 / count), ir.Sum(x, node.axis)) if count != 1 else ir.Sum(x, node.axis)


# --------------------------------------------------------------------------- forward mode


def tangent(program: Program, directions: dict, names, output: str = "grad", result: str = "hvp") -> Program:
    """The flat ``program`` followed by its tangent along ``directions`` (parameter name ->
    direction symbol), flattened; ``result``: the tangents of the ``output`` nodes."""
    dots: dict = dict(directions)  # variable name -> the symbol (or leaf) holding its tangent
    statements: list = []
    temps = set(program.temps)
    for a in program.body:
        positions = [k for k, x in enumerate(a.value.args) if isinstance(x, ir.Symbol) and x.name in dots]
        if not positions:
            continue
        varying = frozenset(a.value.args[k].name for k in positions)
        context = Context(program.convention, result=a.target, varying=varying)
        rule = rule_for(a.value)
        change = _total([rule.jvp(a.value, k, dots[a.value.args[k].name], context) for k in positions])
        change = simplify(change, fusion=False)
        if ir.is_zero(change):
            continue
        if isinstance(change, LEAVES):
            dots[a.target.name] = change
            continue
        symbol = ir.Symbol(names.fresh(f"d_{a.target.name}"), a.target.shape)
        if a.target.name in program.temps:
            temps.add(symbol.name)
        statements.append(Assign(symbol, change))
        dots[a.target.name] = symbol
    results = [dots.get(v.name, ir.zeros(v.shape)) if isinstance(v, ir.Symbol) else ir.zeros(v.shape)
               for v in program.outputs[output]]
    extended = replace(program, body=list(program.body) + statements,
                       outputs={**program.outputs, result: results}, temps=temps)
    return flatten(extended, names)


def _total(nodes: list) -> ir.Node:
    total = nodes[0]
    for node in nodes[1:]:
        total = ir.add(total, node)
    return total

"""The derive stage: name intermediate variables, record each step, accumulate the gradients.

``derive(expression, wrt=("w", "b"))`` walks the graph children-first. Every operation that
depends on a parameter becomes a step ``variable = definition`` with the local derivative of each
operand (from the rule registry), and the gradients are accumulated in reverse through the rules'
vector-Jacobian products, so they come out in terms of the intermediates: for the worked example
∇_w C = (2/N) Xᵀ(1[z > 0] ⊙ e).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from . import backprop, forms, ir, limits, naming
from .errors import ShapeError, SymderivError, UnknownNameError
from .explain import join
from .kinks import DEFAULT_CONVENTION, check_convention
from .numeric import check_constants
from .rules import Context, local_derivative_shape, rule_for
from .simplify import simplify

if TYPE_CHECKING:
    from .model import _Spec

VIEWS = ("jacobian", "backprop")

MAX_CHAIN_PATHS = 8
MAX_DEPTH = limits.MAX_DEPTH  # operations on the longest path; deeper graphs would exhaust recursion
LEARNING_RATE = ir.Symbol("eta")


@dataclass(frozen=True)
class Partial:
    """The local derivative of a step's variable by one operand (numerator layout)."""

    operand: ir.Symbol
    jacobian: ir.Node | None  # None where it would be a 4-way array (matrix operations)
    shape: tuple  # (rows, columns)
    explanation: str


@dataclass(frozen=True)
class Step:
    """``variable = definition``, by ``rule``, with its local derivatives."""

    variable: ir.Symbol
    definition: ir.Node
    rule: str
    partials: tuple
    differential: ir.Node  # dV from the operands' differentials (the backprop view's forward line)

    @property
    def operand_names(self) -> set:
        return {p.operand.name for p in self.partials}

    def context(self, context: Context) -> Context:
        """The rules' context for this step: its variable and its varying operands."""
        return replace(context, result=self.variable, varying=frozenset(self.operand_names))

    @property
    def explanation(self) -> str:
        """Why, in plain text: each operand's sentence, each said once."""
        return str(join([p.explanation for p in self.partials]))


@dataclass(frozen=True)
class Gradient:
    """The derivative of the output by one parameter, in every form a derivation shows."""

    parameter: ir.Symbol
    vectorized: ir.Node  # gradient layout: shaped like the parameter
    derivative: ir.Node | None  # numerator layout: a row for a vector parameter (None: a matrix)
    per_sample: ir.Node | None  # Σ_i ... with every per-sample factor inside the sum
    index_form: ir.Node | None  # one element: ∂C/∂W_jk = Σ_i ..., where it is element-wise
    paths: tuple  # chains of variable names from the output down to the parameter
    chain: ir.Node | None  # the product of local Jacobians along the paths
    update: ir.Node  # one gradient-descent step: p - η ∇_p


@dataclass
class Derivation:
    """A recorded derivation: steps in order, and a :class:`Gradient` per parameter."""

    expression: ir.Node
    output: ir.Symbol
    wrt: tuple
    convention: str
    steps: list
    gradients: dict
    title: str = ""
    backward: list = field(default_factory=list)  # backprop.AdjointStep, output first
    view: str = "jacobian"  # how documents show it: "jacobian" (numerator layout) or "backprop"
    _expansions: dict = field(default_factory=dict, repr=False)

    @property
    def has_jacobians(self) -> bool:
        """Whether every local Jacobian is a matrix (no matrix operation): the Jacobian view exists."""
        return all(p.jacobian is not None for s in self.steps for p in s.partials)

    def with_view(self, view: str) -> Derivation:
        """The same derivation shown in ``view`` ("jacobian" or "backprop")."""
        return replace(self, view=_check_view(view, self))

    def gradient(self, name: str) -> Gradient:
        if name not in self.gradients:
            raise UnknownNameError("parameter", name, list(self.gradients))
        return self.gradients[name]

    def step(self, variable: str) -> Step:
        for step in self.steps:
            if step.variable.name == variable:
                return step
        raise UnknownNameError("variable", variable, [s.variable.name for s in self.steps])

    @property
    def variables(self) -> dict:
        """Each intermediate variable's name and its definition."""
        return {s.variable.name: s.definition for s in self.steps}

    def expand(self, node: ir.Node) -> ir.Node:
        """``node`` with every intermediate variable replaced by its definition."""
        if not self._expansions:
            for step in self.steps:
                self._expansions[step.variable.key] = ir.substitute(step.definition, self._expansions)
        return ir.substitute(node, self._expansions)

    # rendering: the render stage installs the presenters (the engine imports no printer)
    def latex(self) -> str:
        return _present(self, "latex")

    def text(self) -> str:
        return _present(self, "text")

    def _repr_latex_(self) -> str:
        return _present(self, "notebook")

    def _repr_markdown_(self) -> str:
        return _present(self, "markdown")

    def _repr_html_(self) -> str:
        return _present(self, "html")

    def __str__(self) -> str:
        return self.text()


# How a derivation shows itself (LaTeX, text, notebook reprs): filled in by the render stage when
# it is imported (``import symderiv`` does), so this module never imports a printer.
PRESENTERS: dict = {}


def _present(derivation: Derivation, kind: str) -> str:
    if kind not in PRESENTERS:
        raise SymderivError("no renderer is loaded: import symderiv.render to show a derivation")
    return PRESENTERS[kind](derivation)


# --------------------------------------------------------------------------- the stage


def derive(
    expression: ir.Node | _Spec,
    wrt: str | Iterable[str] | None = None,
    convention: str = DEFAULT_CONVENTION,
    title: str = "",
    hints: dict | None = None,
    view: str | None = None,
) -> Derivation:
    """Differentiate a scalar expression by the parameters ``wrt`` (names), step by step.

    ``expression`` is an IR node or a spec object (a neuron, loss or network, which supplies
    its title and the names of its intermediates). ``view`` chooses how documents show it:
    ``"jacobian"`` (numerator-layout Jacobian chain; the default for scalar and vector
    parameters) or ``"backprop"`` (differentials forward, adjoints backward; the default, and the
    only view, where a matrix is involved).
    """
    if wrt is None:
        wrt = getattr(expression, "parameters", None)  # a spec's own: w, b or every W_l, b_l
    if hasattr(expression, "naming_hints") and hints is None and not isinstance(expression, ir.Node):
        hints = expression.naming_hints()
        title = title or expression.title()
    expression = getattr(expression, "expression", expression)
    if not isinstance(expression, ir.Node):
        raise SymderivError(f"derive() needs a symderiv expression, got {type(expression).__name__}")
    check_convention(convention)
    if expression.shape != ():
        raise ShapeError(
            f"a gradient needs a scalar expression, this one is {ir.shape_str(expression.shape)}:"
            " reduce it with sum() or mean()"
        )
    limits.check_depth(ir.depth(expression))
    params = _parameters(expression, wrt)
    context = Context(convention)
    nodes = _dependent_nodes(expression, {p.name for p in params})
    if not nodes:
        raise SymderivError(f"the expression does not depend on {', '.join(p.name for p in params)}")
    names = naming.assign(expression, nodes, hints)
    variables = {node.key: ir.Symbol(names[node.key], node.shape) for node in nodes}
    param_keys = {p.key for p in params}
    steps = [_step(node, variables, param_keys, context) for node in nodes]
    output = variables[expression.key]
    adjoints = _accumulate(steps, output, context)
    gradients = {p.name: _gradient(p, adjoints, steps, output) for p in params}
    derivation = Derivation(expression, output, tuple(params), convention, steps, gradients, title)
    derivation.backward = backprop.backward(steps, output, params, context)
    derivation.view = _check_view(view, derivation) if view else _default_view(derivation)
    return derivation


def _default_view(derivation: Derivation) -> str:
    return "jacobian" if derivation.has_jacobians else "backprop"


def _check_view(view: str, derivation: Derivation) -> str:
    if view not in VIEWS:
        raise UnknownNameError("view", str(view), list(VIEWS))
    if view == "jacobian" and not derivation.has_jacobians:
        raise SymderivError(
            "the Jacobian view needs scalar and vector operations only (a matrix operation's Jacobian "
            "is a 4-way array): use the backprop view"
        )
    return view


def _parameters(expression: ir.Node, wrt) -> list:
    symbols = {s.name: s for s in ir.symbols(expression)}
    if wrt is None:
        wrt = [name for name in ("w", "b") if name in symbols] or list(symbols)[:1]
    if isinstance(wrt, str):
        wrt = [part.strip() for part in wrt.split(",") if part.strip()]
    if not wrt:
        raise SymderivError("no parameter to differentiate by: name one with wrt")
    params = []
    for name in wrt:
        if name not in symbols:
            raise UnknownNameError("parameter", name, list(symbols))
        if symbols[name] not in params:
            params.append(symbols[name])
    return params


def _dependent_nodes(expression: ir.Node, names: set) -> list:
    """Operations that depend on a parameter, children before parents."""
    depends: dict = {}
    out = []
    for node in ir.walk(expression):
        if isinstance(node, ir.Symbol):
            depends[node.key] = node.name in names
        else:
            depends[node.key] = any(depends[a.key] for a in node.args)
            if depends[node.key]:
                out.append(node)
    return out


def _definition(node: ir.Node, variables: dict) -> ir.Node:
    """The node with its computed operands replaced by their variables (structure kept)."""
    return node.with_args(tuple(variables.get(a, a) for a in node.args))


def _step(node: ir.Node, variables: dict, param_keys: set, context: Context) -> Step:
    definition = _definition(node, variables)
    rule = rule_for(definition)
    variable = variables[node.key]
    # a computed operand is its step's variable and a parameter is itself: a symbol either way
    moving = {k: a for k, (a, original) in enumerate(zip(definition.args, node.args))
              if isinstance(a, ir.Symbol) and (original.key in variables or original.key in param_keys)}
    varying = frozenset(a.name for a in moving.values())
    local = replace(context, result=variable, varying=varying)
    positions: dict = {}  # operand name -> its positions: an operand used twice gets one derivative
    for k, operand in moving.items():
        positions.setdefault(operand.name, []).append(k)
    partials = tuple(_partial(definition, ks, rule, local) for ks in positions.values())
    differential = simplify(backprop.differential(definition, set(positions), local), fusion=False)
    return Step(variable, definition, rule.title(definition), partials, differential)


def _partial(definition: ir.Node, positions: list, rule, local: Context) -> Partial:
    """The local derivative by the operand at ``positions``: the sum over them, simplified."""
    operand = definition.args[positions[0]]
    jacobian = None
    if rule.jacobian:
        jacobians = [rule.jacobian(definition, k, local) for k in positions]
        jacobian = None if None in jacobians else simplify(_sum(jacobians), fusion=False)
    # the rule explains one position; the prose of a repeated operand is the explanation stage's
    explanation = rule.explain(definition, positions[0], local)
    return Partial(operand, jacobian, local_derivative_shape(definition, operand), explanation)


def _accumulate(steps: list, output: ir.Symbol, context: Context) -> dict:
    """Reverse accumulation: the adjoint of every variable and parameter, by name."""
    adjoints: dict = {output.name: ir.Const(1)}
    for step in reversed(steps):
        g = adjoints.get(step.variable.name)
        if g is None:
            continue
        rule = rule_for(step.definition)
        operands = {p.operand.name for p in step.partials}
        for k, operand in enumerate(step.definition.args):
            if isinstance(operand, ir.Symbol) and operand.name in operands:
                contribution = rule.vjp(step.definition, g, k, step.context(context))
                previous = adjoints.get(operand.name)
                adjoints[operand.name] = contribution if previous is None else ir.add(previous, contribution)
    return adjoints


def _gradient(param: ir.Symbol, adjoints: dict, steps: list, output: ir.Symbol) -> Gradient:
    definitions = {s.variable.name: s.definition for s in steps}
    vectorized = simplify(adjoints.get(param.name, ir.zeros(param.shape)), definitions)
    check_constants(vectorized)  # a derivative's constant can overflow where the formula's did not
    paths = _paths(steps, output.name, param.name)
    per_sample = simplify(forms.per_sample(vectorized), fusion=False)
    derivative = forms.numerator(vectorized) if len(param.shape) < 2 else None
    return Gradient(
        parameter=param,
        vectorized=vectorized,
        derivative=simplify(derivative, fusion=False),
        per_sample=per_sample,
        index_form=simplify(forms.index_form(per_sample, param), fusion=False),
        paths=paths,
        chain=_chain(steps, paths, output, param),
        update=ir.Sub(param, ir.Mul(LEARNING_RATE, vectorized)),
    )


def _paths(steps: list, top: str, target: str) -> tuple:
    edges = {s.variable.name: [p.operand.name for p in s.partials] for s in steps}
    found: list = []

    def walk(name, path):
        if len(found) > MAX_CHAIN_PATHS:
            return
        if name == target:
            found.append(tuple(path))
            return
        for child in dict.fromkeys(edges.get(name, ())):
            walk(child, path + [child])

    walk(top, [top])
    return tuple(found) if len(found) <= MAX_CHAIN_PATHS else ()


def _chain(steps: list, paths: tuple, output: ir.Symbol, param: ir.Symbol):
    if not paths or any(p.jacobian is None for s in steps for p in s.partials):
        return None
    by_name = {s.variable.name: s for s in steps}
    shape = (ir.size(output.shape), ir.size(param.shape))
    products = []
    for path in paths:
        factors = []
        for upper, lower in zip(path, path[1:]):
            local = [p.jacobian for p in by_name[upper].partials if p.operand.name == lower]
            factors.append(local[0] if len(local) == 1 else _sum(local))
        products.append(ir.Chain(tuple(factors), shape) if len(factors) > 1 else factors[0])
    return products[0] if len(products) == 1 else _sum(products)


def _sum(nodes: list) -> ir.Node:
    total = nodes[0]
    for node in nodes[1:]:
        total = ir.Add(total, node) if total.shape == node.shape else ir.Chain((total, node), total.shape)
    return total

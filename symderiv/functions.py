"""Scalar functions applied element-wise: SymPy bodies, their kink-aware derivatives, fusion.

A :class:`ScalarFunction` is a SymPy expression of one or more real parameters. Applying it to IR
nodes makes an :class:`~symderiv.ir.Apply` node. Constant arguments are folded into the body, and
when several arguments vary with the same input (``max(0.1*z, z)``) they are fused into one
function of that input, so the kink convention sees the whole one-dimensional function.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import sympy

from . import ir
from .errors import ShapeError, SymderivError

# --------------------------------------------------------------------------- SymPy function classes


def _latex_call(head: str, printer, arg, exp=None, prefix: str = "") -> str:
    """``head(prefix arg)`` in LaTeX; SymPy's printer passes ``exp`` for a power, as in sin^2(x)."""
    power = "" if exp is None else f"^{{{exp}}}"
    return rf"{head}{power}\left({prefix}{printer._print(arg)}\right)"


class sigmoid(sympy.Function):
    """The logistic function 1 / (1 + e^{-x}), with derivative σ(x)(1 - σ(x))."""

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sympy.S.Half

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return self.rewrite(sympy.exp)._eval_evalf(prec)

    def _latex(self, printer, exp=None):
        return _latex_call(r"\sigma", printer, self.args[0], exp)


class softplus(sympy.Function):
    """log(1 + e^x), with derivative σ(x)."""

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sympy.log(1 + sympy.exp(x))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return self.rewrite(sympy.exp)._eval_evalf(prec)

    def _latex(self, printer, exp=None):
        return _latex_call(r"\operatorname{softplus}", printer, self.args[0], exp)


class log1p(sympy.Function):
    """log(1 + x), with derivative 1 / (1 + x)."""

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sympy.log(1 + x)

    def _eval_evalf(self, prec):
        return self.rewrite(sympy.log)._eval_evalf(prec)

    def _latex(self, printer, exp=None):
        return _latex_call(r"\log", printer, self.args[0], exp, "1 + ")


CUSTOM_SYMPY_FUNCTIONS = (sigmoid, softplus, log1p)


def expand_custom(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite symderiv's own SymPy functions in terms of exp and log (for SymPy's diff)."""
    return expr.replace(sigmoid, lambda x: 1 / (1 + sympy.exp(-x))).replace(
        softplus, lambda x: sympy.log(1 + sympy.exp(x))
    ).replace(log1p, lambda x: sympy.log(1 + x))


def real(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


# --------------------------------------------------------------------------- ScalarFunction


@dataclass(frozen=True, eq=False)
class ScalarFunction:
    """A named scalar function: ``body`` in terms of ``params``.

    ``inline`` functions are shown by their body (``max(0, z)``), the others by name with
    their definition given once (``elu(z)``). Equality is up to renaming the parameters, so
    ``relu(t)`` typed by a user and the catalog's ``max(0, z)`` are the same function.
    """

    name: str
    params: tuple
    body: sympy.Expr
    inline: bool = True

    @cached_property
    def canonical(self) -> tuple:
        positions = {p: sympy.Symbol(f"_{i}", real=True) for i, p in enumerate(self.params)}
        return (self.inline, None if self.inline else self.name, self.body.xreplace(positions))

    def __eq__(self, other) -> bool:
        return isinstance(other, ScalarFunction) and self.canonical == other.canonical

    def __hash__(self) -> int:
        return hash(self.canonical)

    def __call__(self, *args):
        return apply(self, *args)

    def derivative(self, index: int = 0, convention: str = "min-norm", varying=None) -> "ScalarFunction":
        """∂f/∂(param ``index``) as a ScalarFunction, kinks resolved by ``convention``.

        Under ``min-norm`` a kink of several parameters takes the minimum-norm element of the
        joint subdifferential (``max(p, q)`` at p = q: ½ each), see :mod:`symderiv.kinks`.
        ``varying`` lists the indices of the parameters that move with the differentiation
        variables (default: all); the others are held fixed, as data are.
        """
        varying = tuple(range(len(self.params))) if varying is None else tuple(sorted(varying))
        # keyed by the exact function, not up to renaming: the result uses this function's parameters
        return _derivative((self.name, self.params, self.body, self.inline), index, convention, varying)

    def evaluate_at(self, *values) -> sympy.Expr:
        return self.body.xreplace(dict(zip(self.params, values)))


@lru_cache(maxsize=None)
def _derivative(spec: tuple, index: int, convention: str, varying: tuple) -> ScalarFunction:
    from .kinks import derivative

    fn = ScalarFunction(*spec)
    param = fn.params[index]
    joint = tuple(fn.params[i] for i in varying)
    body = derivative(fn.body, param, convention, joint)  # kinks of several varying params: jointly
    suffix = "'" if len(fn.params) == 1 else f"_{param.name}"
    return ScalarFunction(fn.name + suffix, fn.params, body, fn.inline)


# --------------------------------------------------------------------------- application


def apply(fn: ScalarFunction, *args) -> ir.Node:
    """``fn(*args)`` element-wise, folding constants and fusing arguments with shared inputs."""
    nodes = [ir.as_node(a) for a in args]
    if len(nodes) != len(fn.params):
        raise SymderivError(
            f"{fn.name}() takes {len(fn.params)} argument(s), got {len(nodes)}"
        )
    folded = {p: a.value for p, a in zip(fn.params, nodes) if isinstance(a, ir.Const)}
    kept = [(p, a) for p, a in zip(fn.params, nodes) if not isinstance(a, ir.Const)]
    if not kept:
        return ir.Const(sympy.simplify(fn.body.xreplace(folded)))
    if folded:
        fn = ScalarFunction(fn.name, tuple(p for p, _ in kept), fn.body.xreplace(folded), fn.inline)
    if len(kept) == 1 and fn.body == fn.params[0]:
        return kept[0][1]  # the identity
    if len(kept) > 1 and _share_inputs([a for _, a in kept]):
        return _fuse(fn, [a for _, a in kept])
    return ir.Apply(fn, tuple(a for _, a in kept))


def _share_inputs(nodes: list[ir.Node]) -> bool:
    seen: list = []
    for node in nodes:
        leaves = [leaf.key for leaf in elementwise_leaves(node)]
        if any(key in seen for key in leaves):
            return True
        seen.extend(leaves)
    return False


def elementwise_leaves(node: ir.Node) -> list[ir.Node]:
    """The inputs of an element-wise expression: symbols and non-element-wise sub-expressions."""
    out: list[ir.Node] = []

    def visit(current):
        if isinstance(current, ir.Const):
            return
        if isinstance(current, ir.ELEMENTWISE):
            for child in current.args:
                visit(child)
        elif current not in out:
            out.append(current)

    visit(node)
    return out


def _fuse(fn: ScalarFunction, args: list[ir.Node]) -> ir.Node:
    leaves = []
    for arg in args:
        leaves += [leaf for leaf in elementwise_leaves(arg) if leaf not in leaves]
    names = leaf_names(leaves)
    symbols = {leaf.key: real(name) for leaf, name in zip(leaves, names)}
    body = fn.body.xreplace({p: to_sympy(a, symbols) for p, a in zip(fn.params, args)})
    fused = ScalarFunction(fn.name, tuple(symbols[leaf.key] for leaf in leaves), body, fn.inline)
    return ir.Apply(fused, tuple(leaves))


def leaf_names(leaves: list[ir.Node]) -> list[str]:
    names = []
    for index, leaf in enumerate(leaves):
        names.append(leaf.name if isinstance(leaf, ir.Symbol) else f"t{index}")
    return names


def to_sympy(node: ir.Node, symbols: dict) -> sympy.Expr:
    """An element-wise IR expression as a scalar SymPy expression; ``symbols`` maps leaves."""
    if node in symbols:
        return symbols[node]
    if isinstance(node, ir.Const):
        return node.value
    if not node.elementwise:
        raise ShapeError(f"'{node!r}' is not element-wise, so it cannot be part of a scalar function")
    args = [to_sympy(a, symbols) for a in node.args]
    return node.scalar(args)


MAX_FORM_SIZE = 200  # ScalarForms gives up (None) on element-wise trees with more IR nodes


class ScalarForms:
    """Memoised scalar SymPy forms of element-wise IR expressions, for checks while parsing.

    Leaves (symbols, non-element-wise sub-expressions) become real symbols ``t0, t1, ...``; a
    tree of more than :data:`MAX_FORM_SIZE` nodes, or one SymPy cannot form, has no form (None).
    """

    def __init__(self) -> None:
        self.memo: dict = {}  # node key -> (form or None, tree size)
        self.leaves: dict = {}

    def form(self, node: ir.Node) -> sympy.Expr | None:
        stack = [node]
        while stack:  # children first, without recursion: chains such as z+z+...+z are long
            current = stack[-1]
            pending = [a for a in current.args if a.key not in self.memo] if _is_formed(current) else []
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current.key not in self.memo:
                self.memo[current.key] = self._form(current)
        return self.memo[node.key][0]

    def _form(self, node: ir.Node) -> tuple:
        if isinstance(node, ir.Const):
            return node.value, 1
        if not _is_formed(node):
            symbol = self.leaves.setdefault(node.key, real(f"t{len(self.leaves)}"))
            return symbol, 1
        parts = [self.memo[a.key] for a in node.args]
        size = 1 + sum(part[1] for part in parts)
        if size > MAX_FORM_SIZE or any(part[0] is None for part in parts):
            return None, size
        try:
            return node.scalar([part[0] for part in parts]), size
        except (SymderivError, TypeError, ValueError, ArithmeticError):
            return None, size


    def constant_slope(self, node: ir.Node) -> tuple | None:
        """``(v, f'(v))`` when ``node`` is a smooth f (a power, log, sqrt, ...) of one operand whose
        value is the constant v for every input (``sqrt(b - b)``), else None."""
        if isinstance(node, ir.Pow) and isinstance(node.args[1], ir.Const):
            body, param, operand = _z ** node.args[1].value, _z, node.args[0]
        elif isinstance(node, ir.Apply) and len(node.args) == 1 and not node.fn.body.has(*_KINKS):
            body, param, operand = node.fn.body, node.fn.params[0], node.args[0]
        else:
            return None
        value = None if isinstance(operand, ir.Const) else self.form(operand)
        if value is None or not value.is_number:
            return None
        try:
            return value, sympy.diff(body, param).xreplace({param: value})
        except (TypeError, ValueError, ArithmeticError):
            return None


_KINKS = (sympy.Max, sympy.Min, sympy.Abs, sympy.sign, sympy.Piecewise, sympy.Heaviside)


def _is_formed(node: ir.Node) -> bool:
    return node.elementwise and not isinstance(node, ir.Const)


def scalar_function(name: str, expression: ir.Node, variables: list[str], inline=True) -> ScalarFunction:
    """A ScalarFunction from an element-wise IR expression in scalar symbols ``variables``."""
    symbols = {ir.Symbol(v).key: real(v) for v in variables}
    body = to_sympy(expression, symbols)
    return ScalarFunction(name, tuple(real(v) for v in variables), body, inline)


# --------------------------------------------------------------------------- the built-in table

_z, _x, _lo, _hi = real("z"), real("x"), real("lo"), real("hi")
_p, _q = real("p"), real("q")


def _unary(name, body, inline=True):
    return ScalarFunction(name, (_x,), body.xreplace({_z: _x}) if body.has(_z) else body, inline)


BUILTINS: dict[str, ScalarFunction] = {
    "exp": _unary("exp", sympy.exp(_x)),
    "log": _unary("log", sympy.log(_x)),
    "log1p": _unary("log1p", log1p(_x)),
    "sqrt": _unary("sqrt", sympy.sqrt(_x)),
    "tanh": _unary("tanh", sympy.tanh(_x)),
    "cosh": _unary("cosh", sympy.cosh(_x)),
    "sin": _unary("sin", sympy.sin(_x)),
    "cos": _unary("cos", sympy.cos(_x)),
    "sigmoid": _unary("sigmoid", sigmoid(_x)),
    "softplus": _unary("softplus", softplus(_x)),
    "relu": _unary("relu", sympy.Max(0, _x)),
    "abs": _unary("abs", sympy.Abs(_x)),
    "sign": _unary("sign", sympy.sign(_x)),
    "max": ScalarFunction("max", (_p, _q), sympy.Max(_p, _q)),
    "min": ScalarFunction("min", (_p, _q), sympy.Min(_p, _q)),
    "clip": ScalarFunction("clip", (_x, _lo, _hi), sympy.Min(sympy.Max(_x, _lo), _hi)),
}

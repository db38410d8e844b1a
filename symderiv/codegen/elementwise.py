"""Element-wise statements: a fused element-wise expression as NumPy, via SymPy.

An element-wise part of a statement (functions with kinks, several operations on the same
rows) becomes one scalar SymPy expression; :class:`Block` prints it with stable forms
(softplus, sigmoid, log1p), piecewise values computed with masks that evaluate each branch
only where it is taken, and 0/1 indicators kept as boolean arrays where they multiply an array.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from .. import functions
from ..numpy_printer import ScalarPrinter, is_safe, stabilize
from .names import Names

LINE_LIMIT = 88  # ruff format's default: generated lines never need rewrapping


@dataclass
class Block:
    """Statements computing element-wise outputs over arrays (the body of a block function).

    ``known`` are (expression, symbol) pairs in step order: a subexpression equal to a known
    expression is replaced by its symbol, whose definition is emitted once before its use.
    """

    names: Names
    reference: sympy.Symbol  # an array of the block's shape and dtype (the pre-activation z)
    known: list = field(default_factory=list)
    helpers: set = field(default_factory=set)

    def compile(
        self, outputs: list, hints: list | None = None, exact: bool = False, boolean: bool = False
    ) -> tuple[list, list]:
        """(statements, output names) for ``outputs``, a list of SymPy expressions.

        An output that is not already a variable is assigned to a fresh one named from ``hints``
        (or to exactly the names ``hints`` with ``exact``).
        """
        outputs, self._definitions = self._name_intermediates([stabilize(e) for e in outputs])
        self._booleans = _boolean_masks(self._definitions, [] if boolean else outputs)
        self._emitted = set[sympy.Symbol]()
        lines: list[str] = []
        names: list[str] = []
        for expr, hint in zip(outputs, hints or ["out"] * len(outputs)):
            lines += self._dependencies(expr)
            if isinstance(expr, sympy.Symbol) and not exact:
                names.append(self._print(expr))
                continue
            names.append(hint if exact else self.names.fresh(hint))
            lines += [f"{names[-1]} = {self._output(expr)}"] if expr.is_number else self._fit(names[-1], expr)
        return lines, names

    def _name_intermediates(self, outputs: list) -> tuple[list, dict]:
        """Outputs in terms of named intermediates, and each intermediate's definition: the
        known steps, then every Piecewise (so it can be computed with masks)."""
        definitions: dict = {}
        for expr, symbol in reversed(self.known):
            expr = stabilize(expr)
            outputs = [_name_known(e, expr, symbol) for e in outputs]
            definitions = {s: _name_known(d, expr, symbol) for s, d in definitions.items()}
            definitions[symbol] = expr
        pieces: dict = {}
        outputs = [self._hoist_piecewise(e, pieces) for e in outputs]
        definitions = {s: self._hoist_piecewise(d, pieces) for s, d in definitions.items()}
        return outputs, {**definitions, **pieces}

    # piecewise values become their own variables
    def _hoist_piecewise(self, expr, pieces: dict):
        def hoist(node):
            if not isinstance(node, sympy.Piecewise):
                return node
            args = [
                (self._hoist_piecewise(v, pieces), self._hoist_piecewise(c, pieces)) for v, c in node.args
            ]
            node = sympy.Piecewise(*args)
            for symbol, existing in pieces.items():
                if existing == node:
                    return symbol
            symbol = functions.real(self.names.fresh("m" if _is_indicator(node) else "t"))
            pieces[symbol] = node
            return symbol

        if isinstance(expr, sympy.Piecewise):
            return hoist(expr)
        return (
            expr.replace(lambda e: isinstance(e, sympy.Piecewise), hoist)
            if expr.has(sympy.Piecewise)
            else expr
        )

    def _dependencies(self, expr) -> list:
        """Statements defining the intermediates ``expr`` reads that are not defined yet."""
        lines: list = []
        for symbol in sorted(expr.free_symbols, key=sympy.default_sort_key):
            if symbol in self._definitions and symbol not in self._emitted:
                self._emitted.add(symbol)
                definition = self._definitions[symbol]
                if isinstance(definition, sympy.Piecewise):
                    lines += self._dependencies(sympy.Tuple(*[sympy.Tuple(*p) for p in definition.args]))
                    lines += self._piecewise(symbol.name, definition, symbol in self._booleans)
                else:
                    lines += self._dependencies(definition) + self._fit(symbol.name, definition)
        return lines

    def _fit(self, name: str, expr) -> list:
        """``name = expr``, first splitting off subexpressions while the line is too long."""
        lines: list = []
        while True:
            text = f"        {name} = {self._print(expr)}"
            if len(text) <= LINE_LIMIT:
                return lines + [text.strip()]
            part = max((a for a in expr.args if not a.is_Atom), key=lambda a: len(str(a)), default=None)
            if part is None:
                return lines + [text.strip()]
            temporary = functions.real(self.names.fresh("t"))
            lines += self._fit(temporary.name, part)
            expr = expr.xreplace({part: temporary})

    def _piecewise(self, name: str, expr: sympy.Piecewise, boolean: bool) -> list:
        pieces = list(expr.args)
        if pieces[-1][1] is not sympy.true:
            pieces.append((sympy.nan, sympy.true))
        ref = self._print(self.reference)
        if _is_indicator(expr):
            lines, text = self._condition(_indicator_condition(pieces))
            return lines + [f"{name} = {text}" if boolean else f"{name} = ({text}).astype({ref}.dtype)"]
        values = [v for v, _ in pieces]
        if all(v.is_number for v in values):
            lines = [f"{name} = np.full_like({ref}, {self._value(values[-1])})"]
            for value, condition in reversed(pieces[:-1]):
                more, text = self._condition(condition)
                lines += more + [f"{name}[{text}] = {self._value(value)}"]
            return lines
        if all(is_safe(v) for v in values):
            text = self._print(values[-1])
            for value, condition in reversed(pieces[:-1]):
                text = f"np.where({self._print(condition)}, {self._print(value)}, {text})"
            if len(f"        {name} = {text}") <= LINE_LIMIT:
                return [f"{name} = {text}"]
        return self._masked(name, pieces, ref)

    def _masked(self, name: str, pieces: list, ref: str) -> list:
        """Each branch evaluated only on the elements where it is the one taken."""
        mask, rest = self.names.fresh("mask"), self.names.fresh("rest")
        lines = [f"{name} = np.empty_like({ref})", f"{rest} = np.ones({ref}.shape, dtype=bool)"]
        for value, condition in pieces[:-1]:
            more, text = self._condition(condition)
            lines += more + [f"{mask} = {rest} & " + (text if text.isidentifier() else f"({text})")]
            lines += self._masked_value(name, value, mask, set())
            lines.append(f"{rest} &= ~{mask}")
        return lines + self._masked_value(name, pieces[-1][0], rest, set())

    def _masked_value(self, name: str, value, mask: str, masked: set) -> list:
        """``name[mask] = value`` on the masked elements, split while the line is too long.

        ``masked`` are temporaries already holding masked elements (printed without [mask]).
        """
        target = name if name in {s.name for s in masked} else f"{name}[{mask}]"
        lines: list = []
        while True:
            text = f"{target} = {self._value(value, mask, masked)}"
            parts = [a for a in value.args if not a.is_Atom] if value is not sympy.nan else []
            if len(text) + 8 <= LINE_LIMIT or not parts:
                return lines + [text]
            part = max(parts, key=lambda a: len(str(a)))
            temporary = functions.real(self.names.fresh("u"))
            lines += self._masked_value(temporary.name, part, mask, masked | {temporary})
            value, masked = value.xreplace({part: temporary}), masked | {temporary}

    def _condition(self, condition) -> tuple[list, str]:
        """(lines, text) of a condition; a long conjunction is built up one term a line."""
        text = self._print(condition)
        if len(text) <= LINE_LIMIT // 2:
            return [], text
        if isinstance(condition, sympy.core.relational.Relational):
            lines, sides = [], []
            for side in (condition.lhs, condition.rhs):
                if not side.is_Atom:
                    temporary = functions.real(self.names.fresh("u"))
                    lines += self._fit(temporary.name, side)
                    side = temporary
                sides.append(side)
            return lines, self._print(type(condition)(*sides))
        if isinstance(condition, sympy.Not):
            lines, inner = self._condition(condition.args[0])
            return lines, f"~{inner}" if inner.isidentifier() else f"~({inner})"
        if not isinstance(condition, (sympy.And, sympy.Or)):
            return [], text
        name, op = self.names.fresh("cond"), "&" if isinstance(condition, sympy.And) else "|"
        lines, terms = [], []
        for term in sorted(condition.args, key=sympy.default_sort_key):
            more, text = self._condition(term)
            lines += more
            terms.append(text)
        return lines + [f"{name} = {terms[0]}"] + [f"{name} {op}= {t}" for t in terms[1:]], name

    def _value(self, value, mask: str | None = None, masked: frozenset | set = frozenset()) -> str:
        if value is sympy.nan:
            return "np.nan"
        return self._print(value, mask, masked)

    def _output(self, expr) -> str:
        if expr.is_number:
            return f"np.full_like({self._print(self.reference)}, {self._value(expr)})"
        return self._print(expr)

    def _print(self, expr, mask: str | None = None, masked: frozenset | set = frozenset()) -> str:
        printer = ScalarPrinter(mask=mask, arrays=set(expr.free_symbols) - set(masked) if mask else set())
        text = printer.doprint(expr)
        self.helpers |= printer.helpers
        return text


def _name_known(expr: sympy.Expr, known: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """``expr`` with ``known`` (or its negation, or, for a sum, its terms inside a larger sum)
    replaced by ``symbol``."""
    expr = expr.xreplace({known: symbol, -known: -symbol})
    if isinstance(known, sympy.Add) and expr.has(*known.args):
        expr = expr.subs(known, symbol)
    return expr


def _is_indicator(pw) -> bool:
    values = {v for v, _ in pw.args}
    return values <= {sympy.Integer(0), sympy.Integer(1)} and sympy.Integer(1) in values


def _indicator_condition(pieces: list):
    """Where a 0/1 Piecewise is 1, as one condition (first matching piece wins)."""
    condition, before = sympy.false, sympy.false
    for value, cond in pieces:
        if value == 1:
            condition = sympy.Or(condition, sympy.And(cond, sympy.Not(before)))
        before = sympy.Or(before, cond)
    return sympy.simplify_logic(condition) if sympy.count_ops(condition) < 12 else condition


def _boolean_masks(definitions: dict, outputs: list) -> set:
    """Indicators used only as factors of products with an array: kept as boolean arrays."""
    candidates = {s for s, d in definitions.items() if isinstance(d, sympy.Piecewise) and _is_indicator(d)}
    bad: set = set()
    for expr in list(definitions.values()) + outputs:
        if expr in candidates:
            bad.add(expr)
        for node in sympy.preorder_traversal(expr):
            for arg in node.args:
                if arg in candidates and not _array_factor(node, arg, candidates):
                    bad.add(arg)
    return candidates - bad


def _array_factor(node, arg, masks: set) -> bool:
    """``arg`` is a factor of the product ``node`` next to a factor that is a float array."""
    if not isinstance(node, sympy.Mul) or node.could_extract_minus_sign():  # -mask fails on booleans
        return False
    return any(f is not arg and not f.is_number and f not in masks for f in node.args)

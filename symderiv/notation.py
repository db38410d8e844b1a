"""SymPy-only helpers shared by the engine and every printer: indicators, explicit pieces,
orientation of comparisons, and scalar bodies as plain text. Imports no printer of the IR."""

from __future__ import annotations

import re
from functools import cache

import sympy
from sympy.printing.str import StrPrinter

ATOM = 100


def printable(name: str) -> str:
    """A name for plain text: control characters (a terminal's escape sequences, line breaks) as ``?``."""
    return name if name.isprintable() else "".join(c if c.isprintable() else "?" for c in name)


def is_indicator(body: sympy.Expr) -> bool:
    """A Piecewise whose values are all 0 or 1: printed as the indicator of where it is 1."""
    return isinstance(body, sympy.Piecewise) and all(e in (0, 1) for e, _ in body.args) and any(
        e == 1 for e, _ in body.args
    )


def indicator_condition(body: sympy.Piecewise) -> sympy.Basic:
    """Where an indicator Piecewise is 1, as one condition."""
    conditions = [c for e, c in explicit_pieces(body) if e == 1]
    return conditions[0] if len(conditions) == 1 else sympy.Or(*conditions)


@cache
def explicit_pieces(body: sympy.Piecewise) -> tuple:
    """(value, condition) pairs with each condition standing alone (no 'otherwise')."""
    pieces, before = [], sympy.false
    variables = sorted(body.free_symbols, key=sympy.default_sort_key)
    for value, condition in body.args:
        alone = sympy.And(condition, sympy.Not(before))
        try:
            if len(variables) == 1:
                alone = alone.as_set().as_relational(variables[0])
            elif sympy.count_ops(alone) < 20:
                alone = alone.simplify()  # u ≤ v and u < v → u < v; not (u > v or u < v) → u = v
        except (NotImplementedError, TypeError, ValueError):
            pass
        pieces.append((value, orient(alone)))
        before = sympy.Or(before, condition)
    return tuple(pieces)


def orient(condition):
    """Write comparisons with the variable on the left: z > 0 rather than 0 < z."""
    return condition.replace(
        lambda e: isinstance(e, sympy.core.relational.Relational) and e.lhs.is_number and not e.rhs.is_number,
        lambda e: e.reversed,
    )


def bare_arguments(body: sympy.Expr) -> set[sympy.Symbol]:
    """Parameters that appear only as whole arguments of functions (no parentheses needed)."""
    bare: set[sympy.Symbol] = set()
    wrapped: set[sympy.Symbol] = set()

    def visit(node, parent):
        if isinstance(node, sympy.Symbol):
            direct = isinstance(parent, (sympy.Function, sympy.Max, sympy.Min, sympy.Abs)) or _is_root(parent)
            (bare if direct else wrapped).add(node)
            return
        for arg in node.args:
            visit(arg, node)

    visit(body, None)
    return bare - wrapped


def _is_root(node) -> bool:
    """sqrt(x) or 1/sqrt(x): printed √x, its argument grouped by the radical itself."""
    return isinstance(node, sympy.Pow) and node.exp in (sympy.S.Half, -sympy.S.Half)


def number_text(value) -> str:
    """A number as a person writes it: 0.1 (not 0.100000000000000), 2 for 2.0, 1/2 for a rational."""
    if isinstance(value, (sympy.Float, float)):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(value)


def clip_parts(expr):
    """(x, lo, hi) when ``expr`` is min(hi, max(lo, x)) (in any argument order) with numbers
    lo < hi: printed as clip(x, lo, hi), as the Huber gradient reads. Else None."""
    if not isinstance(expr, sympy.Min) or len(expr.args) != 2:
        return None
    inner = [a for a in expr.args if isinstance(a, sympy.Max) and len(a.args) == 2]
    if len(inner) != 1:
        return None
    hi = next(a for a in expr.args if a is not inner[0])
    lows = [a for a in inner[0].args if a.is_number]
    if not hi.is_number or len(lows) != 1:
        return None
    x = next(a for a in inner[0].args if a is not lows[0])
    return (x, lows[0], hi) if bool(lows[0] < hi) else None


def function_precedence(fn) -> int:
    """How tightly an applied scalar function binds when printed (inline bodies like SymPy's)."""
    if not fn.inline or is_indicator(fn.body):
        return ATOM
    from sympy.printing.precedence import PRECEDENCE as SP
    from sympy.printing.precedence import precedence as sympy_precedence

    body = fn.body
    if isinstance(body, sympy.Pow) and body.exp.is_number and body.exp.is_negative:
        return 20  # printed as a fraction 1/z, which binds like a division
    level = sympy_precedence(body)
    if level <= SP["Add"]:
        return 10
    if level <= SP["Mul"]:
        return 20
    if level <= SP["Pow"]:
        return 30
    return ATOM


class ScalarTextPrinter(StrPrinter):
    """SymPy's str printer with ``^``, max/min/abs in lower case and named parameters."""

    def __init__(self, names: dict | None = None):
        super().__init__({"order": "none"})
        self.names = names or {}

    def _print_Symbol(self, expr):
        return self.names[expr] if expr in self.names else printable(expr.name)

    def _print_Float(self, expr):
        return number_text(expr)

    def _print_Pow(self, expr, rational=False):
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        parts = clip_parts(expr)
        if parts:
            return f"clip({', '.join(self._print(a) for a in parts)})"
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Relational(self, expr):
        op = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return " and ".join(self._print(a) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self._print(a) for a in expr.args)

    def _print_Piecewise(self, expr):
        if is_indicator(expr):
            return f"1[{self._print(indicator_condition(expr))}]"
        pieces = [f"{self._print(e)} if {self._print(c)}" for e, c in explicit_pieces(expr)]
        return "{" + "; ".join(pieces) + "}"


def scalar_text(expr: sympy.Expr, names: dict | None = None) -> str:
    return ScalarTextPrinter(names).doprint(expr)


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SYMBOL_NAMES = {"sigmoid": "σ"}


def superscript(text: str) -> str | None:
    """``text`` in superscript digits (``-2`` → ``⁻²``), or None if it has other characters."""
    return text.translate(_SUPERSCRIPT) if text.lstrip("-").isdigit() else None


def unicode_minus(text: str) -> str:
    """ASCII minus signs as the typographic −."""
    return text.replace("-", "−")


class ScalarUnicodePrinter(ScalarTextPrinter):
    """Scalar bodies as a textbook prints them in plain text: σ(z)(1 − σ(z)), tanh(z)², √x, 𝟙[z > 0]."""

    def _print_Float(self, expr):
        return number_text(expr)

    def _print_Add(self, expr, order=None):
        terms = sorted(expr.args, key=lambda t: (t.could_extract_minus_sign(), t.is_number))
        out = self._print(terms[0])
        for term in terms[1:]:
            negative = term.could_extract_minus_sign()
            out += f" - {self._print(-term)}" if negative else f" + {self._print(term)}"
        return out

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            return "-" + self._print(-expr)
        coefficient, factors = expr.as_coeff_mul()
        top_factors = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
        bottom_factors = [1 / f for f in factors if f.is_Pow and f.exp.is_negative]
        p, q = sympy.fraction(coefficient) if coefficient.is_Rational else (coefficient, 1)
        top = self._product(p, top_factors)
        if q == 1 and not bottom_factors:
            return top
        bottom = self._product(q, bottom_factors)
        single = q == 1 and len(bottom_factors) == 1 and self._atomic(bottom_factors[0])
        return f"{top}/{bottom}" if single or not bottom_factors else f"{top}/({bottom})"

    def _product(self, coefficient, factors) -> str:
        """Factors side by side, sums last and in parentheses: 2x, σ(z)(1 − σ(z))."""
        ordered = sorted(factors, key=lambda f: isinstance(f, sympy.Add))
        parts = [self._factor(f) for f in ordered]
        if coefficient != 1 or not parts:
            parts.insert(0, self._print(coefficient))
        out = parts[0]
        for part in parts[1:]:
            joint = out.endswith(")") or part.startswith("(") or out[-1:].isdigit() and not part[:1].isdigit()
            out += part if joint else "·" + part
        return out

    def _factor(self, factor) -> str:
        text = self._print(factor)
        return f"({text})" if isinstance(factor, sympy.Add) else text

    @staticmethod
    def _atomic(expr) -> bool:
        if expr.is_Pow:
            return expr.exp == sympy.S.Half or (expr.exp.is_Integer and expr.exp > 0 and expr.base.is_Atom)
        return (expr.is_Atom and not (expr.is_number and expr < 0)) or isinstance(expr, sympy.Function)

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp == sympy.S.Half:
            inner = self._print(base)
            return f"√{inner}" if self._atomic(base) and _simple(inner) else f"√({inner})"
        if exp.is_negative:
            inverse = 1 / expr
            return f"1/{self._print(inverse)}" if self._atomic(inverse) else f"1/({self._print(inverse)})"
        shown = self._print(base)
        if not (base.is_Atom or isinstance(base, sympy.Function)) or (base.is_number and base < 0) or not _simple(shown):
            shown = f"({shown})"
        raised = superscript(str(exp)) if exp.is_Integer else None
        return f"{shown}{raised}" if raised else f"{shown}^({self._print(exp)})"

    def _print_Function(self, expr):
        name = _SYMBOL_NAMES.get(type(expr).__name__, type(expr).__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Piecewise(self, expr):
        if is_indicator(expr):
            return f"𝟙[{self._print(indicator_condition(expr))}]"
        pieces = [f"{self._print(e)} if {self._print(c)}" for e, c in explicit_pieces(expr)]
        return "{" + "; ".join(pieces) + "}"


def _simple(text: str) -> bool:
    """A printed operand that needs no parentheses: a name, a number or a call like σ(z)."""
    return re.fullmatch(r"[\w.′'ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹𝟏]+(\([^()]*\))?", text) is not None


def scalar_unicode(expr: sympy.Expr, names: dict | None = None) -> str:
    """``expr`` in Unicode text (− for minus), its parameters printed as ``names``."""
    return unicode_minus(ScalarUnicodePrinter(names).doprint(expr))

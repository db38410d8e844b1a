"""Printers from symderiv expressions to NumPy source.

* :class:`ScalarPrinter` prints an element-wise SymPy expression (a function body) as NumPy
  array code. It is a ``NumPyPrinter`` that dispatches on the class name (``_print_<Class>``),
  writes operators the way ``ruff format`` does, prints every constant as a Python literal (so
  float32 arrays stay float32), and records the helpers it used, so the module template writes
  only those.
* :class:`symderiv.codegen.printer.Printer` prints IR nodes (matrix products, sums, element-wise
  applications) in the same style, through this one for element-wise bodies.

Expressions reach the printers after :func:`stabilize` has rewritten the forms that overflow
(``log(cosh(r))``, ``sinh/cosh``, ``log(sigmoid)``) into stable ones.
"""

from __future__ import annotations

import math

import sympy
from sympy.printing.numpy import NumPyPrinter

from . import functions
from .errors import SymderivError

# Integers up to 2**53 are exact in float64 and printed as int literals; larger ones as floats.
EXACT_INTEGER_LIMIT = 2**53


class CodegenError(SymderivError):
    """The expression cannot be turned into a module (or not the part asked for)."""


# --------------------------------------------------------------------------- stable forms


class log_cosh(sympy.Function):
    """log(cosh(x)), printed as |x| + log1p(exp(-2|x|)) - log 2 (finite for every finite x)."""

    def fdiff(self, argindex=1):
        return sympy.tanh(self.args[0])


HELPERS = {
    "_sigmoid": '''def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-x)), without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)''',
    "_logsumexp": '''def _logsumexp(z: np.ndarray) -> np.ndarray:
    """log Σ exp(z) of a vector or of each row of a matrix, with the maximum subtracted first."""
    m = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(m, -1) + np.log(np.sum(np.exp(z - m), axis=-1))''',
    "_log_softmax": '''def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) = z - logsumexp(z), row by row, never as the log of a softmax."""
    s = z - np.max(z, axis=-1, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))''',
    "_softmax": '''def _softmax(z: np.ndarray) -> np.ndarray:
    """exp(z) / Σ exp(z), row by row, with the row maximum subtracted first."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)''',
    "_log_cosh": '''def _log_cosh(x: np.ndarray) -> np.ndarray:
    """log(cosh(x)) as |x| + log1p(exp(-2|x|)) - log(2), finite for every finite x."""
    a = np.abs(x)
    return a + np.log1p(np.exp(-2 * a)) - 0.6931471805599453''',
}


def stabilize(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite forms that overflow or lose precision into stable equivalents."""
    expr = expr.replace(
        lambda e: isinstance(e, sympy.log) and isinstance(e.args[0], sympy.cosh),
        lambda e: log_cosh(e.args[0].args[0]),
    )
    expr = expr.replace(lambda e: isinstance(e, sympy.Mul), _tanh_ratio)
    expr = expr.replace(lambda e: isinstance(e, sympy.Pow), _inverse_cosh_squared)
    expr = expr.replace(
        lambda e: isinstance(e, sympy.log) and isinstance(e.args[0], functions.sigmoid),
        lambda e: -functions.softplus(-e.args[0].args[0]),
    )
    return expr.replace(
        lambda e: isinstance(e, sympy.log) and isinstance(e.args[0], sympy.Add) and 1 in e.args[0].args,
        lambda e: functions.log1p(e.args[0] - 1),
    )


def _tanh_ratio(mul: sympy.Mul) -> sympy.Expr:
    """sinh(x)^k cosh(x)^-m → tanh(x)^k cosh(x)^(k-m) for m ≥ k > 0."""
    powers = mul.as_powers_dict()
    out = mul
    for base, exponent in list(powers.items()):
        if isinstance(base, sympy.sinh) and exponent.is_Integer and exponent > 0:
            cosh = sympy.cosh(base.args[0])
            power = sympy.sympify(powers.get(cosh, 0), strict=True)
            if power.is_Integer and power <= -exponent:
                out = out / (base**exponent * cosh**power)
                out = out * sympy.tanh(base.args[0]) ** exponent * cosh ** (power + exponent)
    return out


def _inverse_cosh_squared(expr: sympy.Expr) -> sympy.Expr:
    """cosh(x)^-2 → 1 - tanh(x)^2 (cosh overflows where tanh saturates)."""
    if isinstance(expr, sympy.Pow) and isinstance(expr.base, sympy.cosh) and expr.exp == -2:
        return 1 - sympy.tanh(expr.base.args[0]) ** 2
    return expr


# --------------------------------------------------------------------------- scalar printer

_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_REL = 10, 20, 25, 30
_PREC_ADD, _PREC_MUL, _PREC_NEG, _PREC_POW, _PREC_ATOM = 40, 50, 60, 70, 100

_NUMPY_FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "log1p": "log1p",
    "tanh": "tanh",
    "cosh": "cosh",
    "sinh": "sinh",
    "sin": "sin",
    "cos": "cos",
    "Abs": "abs",
    "sign": "sign",
}
UNSAFE_FUNCTIONS = ("exp", "log", "log1p", "cosh", "sinh")  # may warn outside their branch


class ScalarPrinter(NumPyPrinter):
    """Element-wise SymPy expressions as NumPy code over arrays named by their symbols.

    ``names`` maps SymPy symbols to the source names of their arrays; ``mask`` (a name) prints
    every array as ``name[mask]``; ``helpers`` collects the helper functions used.
    """

    printmethod = "_symderiv_numpy"

    def __init__(self, names: dict | None = None, arrays: set | None = None, mask: str | None = None):
        super().__init__({"fully_qualified_modules": False})
        self.names = names or {}
        self.arrays = arrays if arrays is not None else set(self.names)
        self.mask = mask
        self.helpers: set = set()

    def doprint(self, expr, assign_to=None) -> str:
        return self._print(sympy.sympify(expr, strict=True))

    def _print(self, expr, **kwargs) -> str:
        if isinstance(expr, sympy.Expr) and expr.is_number:
            return self._literal(expr)
        return super()._print(expr, **kwargs)

    # precedence-aware printing
    def prec(self, expr) -> int:
        handler = getattr(self, f"_prec_{type(expr).__name__}", None)
        if handler is not None:
            return handler(expr)
        if expr.is_number:
            return _PREC_ATOM if self._literal(expr)[0] != "-" else _PREC_NEG
        if isinstance(expr, sympy.Add):
            return _PREC_ADD
        if isinstance(expr, sympy.Mul):
            return _PREC_NEG if expr.could_extract_minus_sign() else _PREC_MUL
        if isinstance(expr, sympy.Pow):
            return _PREC_MUL if expr.exp.is_negative else _PREC_POW
        if isinstance(expr, sympy.core.relational.Relational):
            return _PREC_REL
        if isinstance(expr, sympy.Or):
            return _PREC_OR
        if isinstance(expr, sympy.And):
            return _PREC_AND
        if isinstance(expr, sympy.Not):
            return _PREC_NOT
        return _PREC_ATOM

    def wrap(self, expr, level: int, strict: bool = False) -> str:
        text = self._print(expr)
        own = self.prec(expr)
        return f"({text})" if own < level or (strict and own == level) else text

    def is_simple(self, expr) -> bool:
        """ruff format hugs ** only between names and numeric literals."""
        if isinstance(expr, sympy.Symbol):
            return self.mask is None or expr not in self.arrays
        return expr.is_number and self._literal(expr)[0] != "-"

    # atoms
    def _print_Symbol(self, expr):
        name = self.names.get(expr, expr.name)
        return f"{name}[{self.mask}]" if self.mask and expr in self.arrays else name

    _print_Dummy = _print_Symbol

    def _literal(self, expr) -> str:
        if expr.is_Integer and abs(int(expr)) <= EXACT_INTEGER_LIMIT:
            return str(int(expr))
        return float_literal(expr)

    def _print_Number(self, expr):
        return self._literal(expr)

    _print_Integer = _print_Rational = _print_Float = _print_Number
    _print_Half = _print_One = _print_Zero = _print_NegativeOne = _print_Number

    def _print_NumberSymbol(self, expr):
        return self._literal(expr)

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    # arithmetic
    def _print_Add(self, expr):
        if expr.is_number:
            return self._literal(expr)
        terms = self._as_ordered_terms(expr, order=None)
        out = self.wrap(terms[0], _PREC_ADD)
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                out += " - " + self.wrap(-term, _PREC_ADD, strict=True)
            else:
                out += " + " + self.wrap(term, _PREC_ADD, strict=True)
        return out

    def _print_Mul(self, expr):
        if expr.is_number:
            return self._literal(expr)
        if expr.could_extract_minus_sign():  # -(a * b) == (-a) * b exactly in floating point
            text = self.wrap(-expr, _PREC_MUL)
            first = next((f for f in sympy.Mul.make_args(-expr) if not _is_reciprocal(f)), None)
            if isinstance(first, sympy.Pow) and not first.exp.is_negative and not text.startswith("("):
                power = self._print(first)  # ruff format writes -(a**2), not -a**2
                text = f"({power})" + text[len(power) :] if text.startswith(power) else text
            return "-" + text
        coefficient, rest = expr.as_coeff_Mul()
        numerator, denominator = [], []
        for factor in sympy.Mul.make_args(rest):
            if isinstance(factor, sympy.Pow) and factor.exp.is_number and factor.exp.is_negative:
                denominator.append(sympy.Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        if coefficient != 1:
            if coefficient.is_Rational and coefficient.p == 1:
                denominator.insert(0, sympy.Integer(coefficient.q))
            else:
                numerator.insert(0, coefficient)
        top = " * ".join(self.wrap(f, _PREC_MUL) for f in numerator) if numerator else "1"
        if not denominator:
            return top
        bottom = " * ".join(self.wrap(f, _PREC_MUL) for f in denominator)
        return f"{top} / " + (
            f"({bottom})" if len(denominator) > 1 else self.wrap(denominator[0], _PREC_MUL, True)
        )

    def _print_Pow(self, expr):
        base, exponent = expr.base, expr.exp
        if exponent == sympy.S.Half:
            return f"np.sqrt({self._print(base)})"
        if exponent.is_number and exponent.is_negative:
            inverse = base if exponent == -1 else sympy.Pow(base, -exponent, evaluate=False)
            return "1 / " + self.wrap(inverse, _PREC_MUL, strict=True)
        op = "**" if self.is_simple(base) and self.is_simple(exponent) else " ** "
        return self.wrap(base, _PREC_POW, strict=True) + op + self.wrap(exponent, _PREC_POW)

    # functions
    def _print_Function(self, expr):
        name = type(expr).__name__
        if name in _NUMPY_FUNCTIONS:
            return f"np.{_NUMPY_FUNCTIONS[name]}({self._print(expr.args[0])})"
        raise ValueError(f"no NumPy translation for the function {name}")

    _print_exp = _print_log = _print_tanh = _print_cosh = _print_sinh = _print_Function
    _print_sin = _print_cos = _print_Abs = _print_sign = _print_Function

    def _print_log1p(self, expr):
        return f"np.log1p({self._print(expr.args[0])})"

    def _print_sigmoid(self, expr):
        self.helpers.add("_sigmoid")
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"np.logaddexp(0, {self._print(expr.args[0])})"

    def _print_log_cosh(self, expr):
        self.helpers.add("_log_cosh")
        return f"_log_cosh({self._print(expr.args[0])})"

    def _print_MinMax(self, expr, function: str):
        args = sorted(expr.args, key=lambda a: (a.is_number, sympy.default_sort_key(a)))
        out = self._print(args[0])
        for arg in args[1:]:
            out = f"np.{function}({out}, {self._print(arg)})"
        return out

    def _print_Max(self, expr):
        return self._print_MinMax(expr, "maximum")

    def _print_Min(self, expr):
        return self._print_MinMax(expr, "minimum")

    def _print_Piecewise(self, expr):
        raise ValueError("a Piecewise is printed as masked statements, not inline")

    # conditions
    def _print_Relational(self, expr):
        from .notation import orient

        expr = orient(expr)
        return f"{self.wrap(expr.lhs, _PREC_ADD)} {expr.rel_op} {self.wrap(expr.rhs, _PREC_ADD)}"

    _print_StrictGreaterThan = _print_StrictLessThan = _print_Relational
    _print_GreaterThan = _print_LessThan = _print_Relational
    _print_Equality = _print_Unequality = _print_Relational

    def _print_And(self, expr):
        return " & ".join(self.wrap(a, _PREC_ATOM) for a in self._ordered(expr))

    def _print_Or(self, expr):
        return " | ".join(self.wrap(a, _PREC_ATOM) for a in self._ordered(expr))

    def _print_Not(self, expr):
        return "~" + self.wrap(expr.args[0], _PREC_ATOM)

    def _ordered(self, expr):
        return sorted(expr.args, key=sympy.default_sort_key)


def float_literal(expr: sympy.Expr) -> str:
    """A constant as a float literal, CodegenError naming it when it is outside float64's range."""
    try:
        value = float(expr)
    except (OverflowError, TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise CodegenError(
            f"the constant {_abbreviated(expr)} is not a finite float64 (|x| ≤ 1.8e308): "
            "a generated module cannot compute with it"
        )
    return repr(value).replace("e+", "e")  # as ruff format writes it


def _abbreviated(expr: sympy.Expr) -> str:
    """``expr`` as text of at most about 30 characters (huge integers in scientific notation)."""
    text = str(expr)
    if len(text) <= 30:
        return text
    try:
        return str(sympy.Float(expr, 6))
    except (TypeError, ValueError):
        return text[:24] + "…"


def _is_reciprocal(factor: sympy.Expr) -> bool:
    """A factor printed in the denominator (a power with a negative exponent)."""
    return isinstance(factor, sympy.Pow) and factor.exp.is_number and bool(factor.exp.is_negative)


def is_safe(expr: sympy.Expr) -> bool:
    """True when evaluating ``expr`` everywhere cannot overflow or divide by zero."""
    for node in sympy.preorder_traversal(expr):
        if type(node).__name__ in UNSAFE_FUNCTIONS:
            return False
        if isinstance(node, sympy.Pow) and not (node.exp.is_Integer and node.exp >= 0):
            return False
    return True

"""LaTeX printing of IR expressions (vectors bold, ⊙ for the element-wise product)."""

from __future__ import annotations

import re

import sympy
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter, translate

from .. import ir
from ..notation import clip_parts
from .base import (
    ATOM,
    MathPrinter,
    explicit_pieces,
    indicator_condition,
    is_axis_reduction,
    is_dot,
    is_indicator,
    sample_name,
    scaled_without_parentheses,
    spread,
)
from .linebreak import (  # noqa: F401  (re-exported)
    QUAD,
    TEXT_WIDTH,
    break_lines,
    breakable_inline,
    ends_with_superscript,
    estimate_width,
)

SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # names printed as they are
_NAME_SPECIAL = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%",
                 "&": r"\&", "_": r"\_", "^": r"\hat{}", "~": r"\sim{}", "<": "{<}", ">": "{>}"}


def escaped_name(name: str) -> str:
    """A name that is not an identifier as upright text with every character TeX (or HTML)
    could act on escaped, so no name reaches a document as a command."""
    chars = [
        _NAME_SPECIAL.get(c, c if c.isprintable() and not c.isspace() else r"\ " if c.isspace() else "?")
        for c in name
    ]
    return rf"\mathrm{{{''.join(chars)}}}"


def safe_index(index: str) -> str:
    """An index (i, ik) as it is, or escaped when it is not an identifier."""
    return index if SAFE_NAME.match(index) else escaped_name(index)


class ScalarLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with named parameters and 0/1 Piecewise as an indicator."""

    def __init__(self, names: dict | None = None, order: str | None = "none"):
        super().__init__({"order": order})
        self.names = names or {}

    def _print_Symbol(self, expr, style="plain"):
        if expr in self.names:
            return self.names[expr]
        if not SAFE_NAME.match(expr.name):
            return escaped_name(expr.name)
        return super()._print_Symbol(expr, style)

    def _hprint_Function(self, func: str) -> str:
        return super()._hprint_Function(func) if SAFE_NAME.match(func) else escaped_name(func)

    def _print_Min(self, expr, exp=None):
        parts = clip_parts(expr)
        if not parts:
            return super()._print_Min(expr, exp)
        text = r"\operatorname{clip}\left(%s\right)" % ", ".join(self._print(a) for a in parts)
        return text if exp is None else f"{text}^{{{exp}}}"

    def _print_Piecewise(self, expr):
        if is_indicator(expr):
            return r"\mathbb{I}\left[%s\right]" % self._print(indicator_condition(expr))
        rows = [rf"{self._print(e)} & \text{{if }} {self._print(c)}" for e, c in explicit_pieces(expr)]
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def scalar_latex(expr: sympy.Expr, names: dict | None = None) -> str:
    return ScalarLatexPrinter(names).doprint(expr)


def dim_latex(expr) -> str:
    """A dimension (N, n + 1) as ``sympy.latex`` prints it, names that are not identifiers escaped."""
    return ScalarLatexPrinter(order=None).doprint(sympy.sympify(expr, strict=True))


def symbol_latex(name: str, shape: tuple, index: str = "") -> str:
    """A symbol's LaTeX: Greek names spelled out, vectors and matrices bold, the subscript of a
    name (Z_1) upright after the bold letter and joined with an ``index``: Z_{1,ik}, not Z_{1}_{ik}."""
    if not SAFE_NAME.match(name):
        base, subs, letter = name, [], escaped_name(name)
    else:
        base, supers, subs = split_super_sub(name)
        if supers:  # x^2: kept whole, any index outside it
            base, subs = name, []
        letter = sympy.latex(sympy.Symbol(base))
    index = safe_index(index) if index else index
    letter = rf"\mathbf{{{letter}}}" if shape else letter
    subscript = ",".join(part for part in (" ".join(translate(s) for s in subs), index) if part)
    return f"{letter}_{{{subscript}}}" if subscript else letter


def shape_latex(rows, cols) -> str:
    """The set a Jacobian lives in: ℝ, ℝ^n or ℝ^{m×n}."""
    rows, cols = sympy.sympify(rows, strict=True), sympy.sympify(cols, strict=True)
    if rows == 1 and cols == 1:
        return r"\mathbb{R}"
    if rows == 1 or cols == 1:
        other = cols if rows == 1 else rows
        layout = r"1 \times " + dim_latex(other) if rows == 1 else dim_latex(other) + r" \times 1"
        return rf"\mathbb{{R}}^{{{layout}}}"
    return rf"\mathbb{{R}}^{{{dim_latex(rows)} \times {dim_latex(cols)}}}"


class LatexIRPrinter(MathPrinter):
    """IR expressions as LaTeX math (no surrounding delimiters)."""

    def parenthesize(self, text: str) -> str:
        return rf"\left({text}\right)"

    def _print_Symbol(self, node):
        return symbol_latex(node.name, node.shape)

    def _print_Const(self, node):
        return scalar_latex(node.value)

    def _print_Ones(self, node):
        return r"\mathbf{1}"

    def _print_Zero(self, node):
        return r"\mathbf{0}^{\top}" if len(node.shape) == 2 and node.shape[0] == 1 else r"\mathbf{0}"

    def _print_Identity(self, node):
        return "I"

    def _print_Add(self, node):
        a, b = (spread(node, x) for x in node.args)
        return f"{self.wrap(a, 10)} + {self.wrap(b, 10)}"

    def _print_Sub(self, node):
        a, b = (spread(node, x) for x in node.args)
        return f"{self.wrap(a, 10)} - {self.wrap(b, 10, strict=True)}"

    def _print_Mul(self, node):
        piecewise = _scalar_piecewise_factor(node)
        if piecewise is not None:
            return self._cases_product(node, piecewise)
        a, b = node.args
        if scaled_without_parentheses(a, b):
            return rf"{self.wrap(a, 20)} {self._print(b)}"
        if a.shape and b.shape:
            a, b = spread(node, a), spread(node, b)
            return rf"{self.wrap(a, 20, strict=a is not node.args[0])} \odot {self.wrap(b, 20, strict=True)}"
        return rf"{self.wrap(a, 20)} {self.wrap(b, 20, strict=True)}"

    def _print_Div(self, node):
        return rf"\frac{{{self._print(node.args[0])}}}{{{self._print(node.args[1])}}}"

    def _print_MatMul(self, node):
        return f"{self.wrap(node.args[0], 20)} {self.wrap(node.args[1], 20, strict=True)}"

    def _print_Neg(self, node):
        return f"-{self.wrap(node.args[0], 25, strict=True)}"

    def _print_Pow(self, node):
        return f"{self.script_base(node.args[0], 30, strict=True)}^{{{self._print(node.args[1])}}}"

    def _print_Transpose(self, node):
        return rf"{self.script_base(node.args[0], 99)}^{{\top}}"

    def _print_Row(self, node):
        return rf"{self.script_base(node.args[0], 99)}^{{\top}}"

    def script_base(self, child, parent_precedence: int, strict: bool = False) -> str:
        """``child`` printed to carry a superscript: in parentheses if it already ends with one
        (``\\left(e^{x}\\right)^{\\top}``, never the double superscript ``e^{x}^{\\top}``)."""
        text = self.wrap(child, parent_precedence, strict)
        return self.parenthesize(text) if ends_with_superscript(text) else text

    def _print_Sum(self, node):
        if is_dot(node):
            a, b = node.args[0].args
            return rf"{self.wrap(a, 21)} \cdot {self.wrap(b, 21)}"
        if is_axis_reduction(node):
            return self._along_axis(node)
        return rf"\operatorname{{sum}}\left({self._print(node.args[0])}\right)"

    def _print_Mean(self, node):
        if is_axis_reduction(node):
            return rf"\frac{{1}}{{{dim_latex(node.count())}}}{self._along_axis(node)}"
        return rf"\operatorname{{mean}}\left({self._print(node.args[0])}\right)"

    def _along_axis(self, node):
        """Column sums Aᵀ1 (axis 0) or row sums A1 (axis 1) of a matrix."""
        a = node.args[0]
        if node.axis == 0:
            return juxtapose(rf"{self.script_base(a, 99)}^{{\top}}", r"\mathbf{1}")
        return juxtapose(self.wrap(a, 20), r"\mathbf{1}")

    def _print_Broadcast(self, node):
        if node.axis == 0:
            return juxtapose(r"\mathbf{1}", rf"{self.script_base(node.args[0], 99)}^{{\top}}")
        return juxtapose(self.wrap(node.args[0], 20), r"\mathbf{1}^{\top}")

    def _print_Outer(self, node):
        u, v = node.args
        return juxtapose(self.wrap(u, 20), rf"{self.script_base(v, 99)}^{{\top}}")

    def _print_Softmax(self, node):
        return self.call("softmax", 0, [self._print(node.args[0])])

    def _print_LogSoftmax(self, node):
        return r"\log" + self.call("softmax", 0, [self._print(node.args[0])])

    def _print_LogSumExp(self, node):
        return self.call("logsumexp", 0, [self._print(node.args[0])])

    def _print_Differential(self, node):
        return juxtapose("d", self.wrap(node.args[0], ATOM))

    def _print_Adjoint(self, node):
        return rf"\nabla_{{{self._print(node.args[0])}}} {symbol_latex(node.output, ())}"

    def _print_Inner(self, node):
        a, b = (self._print(x) for x in node.args)
        return rf"\langle {a}, {b} \rangle"

    def _print_Entry(self, node):
        of = node.args[0]
        index = "".join(node.indices)
        if isinstance(of, ir.Symbol):
            return symbol_latex(of.name, (), index)
        return f"{self.parenthesize(self._print(of))}_{{{safe_index(index)}}}"

    def _print_Diag(self, node):
        return rf"\operatorname{{diag}}\left({self._print(node.args[0])}\right)"

    def _print_Chain(self, node):
        return r" \, ".join(self.chain_factors(node.args))

    def _print_IndexedSum(self, node):
        upper = dim_latex(node.upper)
        return rf"\sum_{{{safe_index(node.index)}=1}}^{{{upper}}} {self.wrap(node.args[0], 16)}"

    def _print_Elem(self, node):
        of = node.args[0]
        if isinstance(of, ir.Symbol):
            return symbol_latex(sample_name(of), of.shape[1:], node.index)
        return f"{self.parenthesize(self._print(of))}_{{{safe_index(node.index)}}}"

    def scalar(self, body, names):
        return scalar_latex(body, names)

    def call(self, name, primes, args):
        if SAFE_NAME.match(name):
            head = r"\operatorname{" + name.replace("_", r"\_") + "}"
        else:
            head = escaped_name(name)
        return head + "'" * primes + rf"\left({', '.join(args)}\right)"

    def _cases_product(self, node, piecewise):
        """c(z) · v with a scalar piecewise c: one case per piece, as textbooks write it."""
        coefficient, factors = ir.split_coefficient(node)
        rest = [f for f in factors if f is not piecewise]
        names = {p: self._print(a) for p, a in zip(piecewise.fn.params, piecewise.args)}
        rows = []
        for value, condition in explicit_pieces(piecewise.fn.body):
            term = ir.product(coefficient * value, rest, node.shape)
            rows.append(rf"{self._print(term)} & \text{{if }} {scalar_latex(condition, names)}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def juxtapose(left: str, right: str) -> str:
    """A product written without a sign: 1bᵀ, u vᵀ, dW (a space only where letters would merge)."""
    return f"{left} {right}" if left[-1:].isalpha() and right[:1].isalpha() else left + right


def _scalar_piecewise_factor(node: ir.Mul):
    _, factors = ir.split_coefficient(node)
    for factor in factors:
        if (
            isinstance(factor, ir.Apply)
            and factor.shape == ()
            and isinstance(factor.fn.body, sympy.Piecewise)
            and all(isinstance(a, ir.Symbol) and a.shape == () for a in factor.args)
        ):
            return factor
    return None


def to_latex(node: ir.Node) -> str:
    return LatexIRPrinter().doprint(node)

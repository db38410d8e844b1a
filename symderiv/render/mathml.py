"""Presentation MathML printing of IR expressions: math that browsers render with no script.

Vectors and matrices are printed in mathematical bold letters (MathML Core renders no
``mathvariant="bold"``), 0/1 Piecewise bodies as the indicator 𝟙[z > 0], other Piecewise bodies as
cases. Scalar SymPy bodies go through SymPy's presentation printer, subclassed here.
"""

from __future__ import annotations

import re
from html import escape, unescape
from html.entities import html5
from typing import ClassVar

import sympy
from sympy.printing.conventions import split_super_sub
from sympy.printing.mathml import MathMLPresentationPrinter

from .. import ir
from ..notation import clip_parts
from .base import (
    ATOM,
    MathPrinter,
    explicit_pieces,
    indicator_condition,
    is_axis_reduction,
    is_indicator,
    sample_name,
    scaled_without_parentheses,
    spread,
)
from .latex import SAFE_NAME, _scalar_piecewise_factor

MATH_NAMESPACE = "http://www.w3.org/1998/Math/MathML"
INVISIBLE_TIMES = "<mo>&#x2062;</mo>"
APPLY_FUNCTION = "<mo>&#x2061;</mo>"
INDICATOR = "<mi>&#x1D7D9;</mi>"  # 𝟙, as \mathbb{1}
ONE = "<mn>\U0001D7CF</mn>"  # 𝟏: the vector of ones, in bold
_SLOT = "SYMDERIVSLOT{}X"
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}

# Mathematical bold (upright) letters and digits, as \mathbf{} prints them.
_BOLD = {
    **{chr(ord("A") + k): chr(0x1D400 + k) for k in range(26)},
    **{chr(ord("a") + k): chr(0x1D41A + k) for k in range(26)},
    **{chr(ord("0") + k): chr(0x1D7CE + k) for k in range(10)},
    **{chr(0x391 + k): chr(0x1D6A8 + k) for k in range(25) if k != 17},
    **{chr(0x3B1 + k): chr(0x1D6C2 + k) for k in range(25)},
}


def bold(text: str) -> str:
    """``text`` in mathematical bold characters (others kept)."""
    return "".join(_BOLD.get(char, char) for char in text)


def text(value: str) -> str:
    """Text for an element's content: ``&``, ``<`` and ``>`` escaped, so a name is never markup."""
    return escape(value, quote=False)


def element(tag: str, *children: str, **attributes) -> str:
    """``<tag attributes>children</tag>``."""
    attrs = "".join(f' {k.rstrip("_")}="{v}"' for k, v in attributes.items())
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>"


def row(*children: str) -> str:
    return element("mrow", *children)


def op(symbol: str, **attributes) -> str:
    return element("mo", symbol, **attributes)


def fenced(text: str, left: str = "(", right: str = ")") -> str:
    return row(op(left), text, op(right))


def numeric_entities(markup: str) -> str:
    """Named entities (``&InvisibleTimes;``) as numeric ones, valid in XML and HTML alike."""

    def replace(match):
        name = match.group(1)
        if name in _XML_ENTITIES or f"{name};" not in html5:
            return match.group(0)
        return "".join(f"&#x{ord(c):X};" for c in html5[f"{name};"])

    return _ENTITY.sub(replace, markup)


def math(markup: str, display: bool = True) -> str:
    """A whole ``<math>`` element."""
    mode = "block" if display else "inline"
    return element("math", markup, xmlns=MATH_NAMESPACE, display=mode)


def aligned(equations: list) -> str:
    """Equations aligned at their relation: ``(left, relation, right)`` triples (see MathMLNotation)."""
    cells = [
        element(
            "mtr",
            element("mtd", row(left), class_="sd-left"),
            element("mtd", row(op(MathMLNotation.relations[rel]), right), class_="sd-right"),
        )
        for left, rel, right in equations
    ]
    return element("mtable", *cells, columnalign="right left", displaystyle="true", class_="sd-align")


def cases(rows: list) -> str:
    """A brace of cases: ``rows`` are (value, condition) markup pairs."""
    cells = [
        element("mtr", element("mtd", value), element("mtd", row(element("mtext", "if&#xA0;"), condition)))
        for value, condition in rows
    ]
    table = element("mtable", *cells, columnalign="left left", class_="sd-cases")
    return row(op("{", stretchy="true"), table)


class MathMLNotation:
    """Derivative notation in MathML (the counterpart of markdown.LatexNotation)."""

    relations: ClassVar[dict] = {"=": "=", "+": "+", "<-": "←"}

    def partial(self, numerator: str, denominator: str) -> str:
        d = element("mi", "∂", mathvariant="normal")
        return element("mfrac", row(d, numerator), row(d, denominator))

    def product(self, factors: list) -> str:
        return row(*factors)

    def member(self, value: str, space: str) -> str:
        return row(value, op("∈"), space)

    def nabla(self, parameter: str, output: str) -> str:
        return row(element("msub", element("mi", "∇", mathvariant="normal"), parameter), output)

    def descent(self, parameter: str, output: str) -> str:
        return row(parameter, op("−"), element("mi", "η"), INVISIBLE_TIMES, self.nabla(parameter, output))


# --------------------------------------------------------------------------- scalar bodies


class ScalarMathMLPrinter(MathMLPresentationPrinter):
    """SymPy's presentation MathML with named parameters, σ, e and 0/1 Piecewise as an indicator.

    ``names`` maps parameters to MathML markup that replaces them after printing.
    """

    def __init__(self, names: dict | None = None):
        super().__init__({"order": "none"})
        self.names = dict(names or {})

    def doprint(self, expr) -> str:
        slots = {sym: _SLOT.format(k) for k, sym in enumerate(self.names)}
        self._slots = slots
        markup = numeric_entities(super().doprint(expr))
        for sym, token in slots.items():
            markup = markup.replace(f"<mi>{token}</mi>", row(self.names[sym]))
        return markup

    def _text(self, tag: str, markup: str):
        node = self.dom.createElement(tag)
        node.appendChild(self.dom.createTextNode(markup))
        return node

    def _raw(self, markup: str):
        """A DOM element parsed from MathML markup this printer made."""
        from xml.dom.minidom import parseString

        return parseString(markup).documentElement

    def _print_Symbol(self, sym, style="plain"):
        slots = getattr(self, "_slots", {})
        if sym in slots:
            return self._text("mi", slots[sym])
        if not SAFE_NAME.match(sym.name):  # SymPy writes text unescaped
            return self._text("mi", text(sym.name))
        return super()._print_Symbol(sym, style)

    def mathml_tag(self, e):
        tag = super().mathml_tag(e)
        return tag if SAFE_NAME.match(tag) else text(tag)

    def _print_Relational(self, expr):
        node = super()._print_Relational(expr)
        relation = node.childNodes[1].firstChild  # SymPy writes text unescaped: escape < and >
        relation.data = relation.data.replace("<", "&lt;").replace(">", "&gt;")
        return node

    def _print_Exp1(self, expr):
        return self._text("mi", "e")

    def _print_sigmoid(self, expr):
        return self._function("σ", expr.args)

    def _print_softplus(self, expr):
        return self._function("softplus", expr.args)

    def _print_Max(self, expr):
        return self._function("max", expr.args)

    def _print_Min(self, expr):
        parts = clip_parts(expr)
        return self._function("clip", parts) if parts else self._function("min", expr.args)

    def _print_log1p(self, expr):
        return self._function("log", [1 + expr.args[0]])

    def _function(self, name: str, args):
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(self._text("mi", text(name)))
        mrow.appendChild(self._text("mo", "\u2061"))
        mrow.appendChild(self._paren_comma_separated(*args))
        return mrow

    def _print_Piecewise(self, expr):
        if is_indicator(expr):
            condition = self._markup(indicator_condition(expr))
            return self._raw(row(INDICATOR, fenced(condition, "[", "]")))
        pieces = [(self._markup(v), self._markup(c)) for v, c in explicit_pieces(expr)]
        return self._raw(cases(pieces))

    def _markup(self, expr) -> str:
        """``expr`` printed to a string by this printer (parameters still as slots)."""
        return numeric_entities(self._print(expr).toxml())


def scalar_mathml(expr: sympy.Expr, names: dict | None = None) -> str:
    return ScalarMathMLPrinter(names).doprint(expr)


def symbol_mathml(name: str, shape: tuple, index: str = "") -> str:
    """A symbol's MathML: Greek names as letters, vectors and matrices bold; with an ``index``,
    one subscript joining the name's own (Z_1) and the index: Z_{1,ik}."""
    if index and SAFE_NAME.match(name):
        return _indexed_mathml(name, shape, index)
    if index:
        return element("msub", symbol_mathml(name, shape), _index_mathml(index))
    markup = scalar_mathml(sympy.Symbol(name))
    if not shape:
        return markup
    return re.sub(r"<mi>([^<]*)</mi>", lambda m: f"<mi>{text(bold(unescape(m.group(1))))}</mi>", markup, count=1)


def _indexed_mathml(name: str, shape: tuple, index: str) -> str:
    base, supers, subs = split_super_sub(name)
    if supers:
        base, subs = name, []
    parts = [element("mn", text(s)) if s.isdigit() else scalar_mathml(sympy.Symbol(s)) for s in subs]
    parts.append(_index_mathml(index))
    subscript = row(*_commas(parts)) if len(parts) > 1 else parts[0]
    return element("msub", symbol_mathml(base, shape), subscript)


def shape_mathml(rows, cols) -> str:
    """The set a Jacobian lives in: ℝ, ℝ^{1×n} or ℝ^{m×n}."""
    reals = element("mi", "ℝ")
    rows, cols = sympy.sympify(rows, strict=True), sympy.sympify(cols, strict=True)
    if rows == 1 and cols == 1:
        return reals
    dims = row(scalar_mathml(rows), op("×"), scalar_mathml(cols))
    return element("msup", reals, dims)


# --------------------------------------------------------------------------- IR expressions


class MathMLIRPrinter(MathPrinter):
    """IR expressions as presentation MathML (the inside of a ``<math>`` element)."""

    def parenthesize(self, text: str) -> str:
        return fenced(text)

    def _print_Symbol(self, node):
        return symbol_mathml(node.name, node.shape)

    def _print_Const(self, node):
        return scalar_mathml(node.value)

    def _print_Ones(self, node):
        return ONE

    def _print_Zero(self, node):
        zero = element("mn", bold("0"))
        return _transposed(zero) if len(node.shape) == 2 and node.shape[0] == 1 else zero

    def _print_Identity(self, node):
        return element("mi", "I", mathvariant="normal")

    def _print_Add(self, node):
        a, b = (spread(node, x) for x in node.args)
        return row(self.wrap(a, 10), op("+"), self.wrap(b, 10))

    def _print_Sub(self, node):
        a, b = (spread(node, x) for x in node.args)
        return row(self.wrap(a, 10), op("−"), self.wrap(b, 10, strict=True))

    def _print_Mul(self, node):
        piecewise = _scalar_piecewise_factor(node)
        if piecewise is not None:
            return self._cases_product(node, piecewise)
        a, b = node.args
        if scaled_without_parentheses(a, b):
            return row(self.wrap(a, 20), INVISIBLE_TIMES, self._print(b))
        if a.shape and b.shape:
            a, b = spread(node, a), spread(node, b)
            return row(self.wrap(a, 20, strict=a is not node.args[0]), op("⊙"), self.wrap(b, 20, strict=True))
        return row(self.wrap(a, 20), INVISIBLE_TIMES, self.wrap(b, 20, strict=True))

    def _print_Div(self, node):
        return element("mfrac", row(self._print(node.args[0])), row(self._print(node.args[1])))

    def _print_MatMul(self, node):
        return row(self.wrap(node.args[0], 20), INVISIBLE_TIMES, self.wrap(node.args[1], 20, strict=True))

    def _print_Neg(self, node):
        return row(op("−"), self.wrap(node.args[0], 25, strict=True))

    def _print_Pow(self, node):
        return element("msup", self.wrap(node.args[0], 30, strict=True), row(self._print(node.args[1])))

    def _print_Transpose(self, node):
        return _transposed(self.wrap(node.args[0], 99))

    def _print_Row(self, node):
        return _transposed(self.wrap(node.args[0], 99))

    def _print_Sum(self, node):
        if is_axis_reduction(node):
            return self._along_axis(node)
        return _operator("sum", self._print(node.args[0]))

    def _print_Mean(self, node):
        if is_axis_reduction(node):
            share = element("mfrac", element("mn", "1"), row(scalar_mathml(node.count())))
            return row(share, INVISIBLE_TIMES, self._along_axis(node))
        return _operator("mean", self._print(node.args[0]))

    def _along_axis(self, node):
        """Column sums Aᵀ1 (axis 0) or row sums A1 (axis 1) of a matrix."""
        a = node.args[0]
        left = _transposed(self.wrap(a, 99)) if node.axis == 0 else self.wrap(a, 20)
        return row(left, INVISIBLE_TIMES, ONE)

    def _print_Broadcast(self, node):
        v = node.args[0]
        if node.axis == 0:
            return row(ONE, INVISIBLE_TIMES, _transposed(self.wrap(v, 99)))
        return row(self.wrap(v, 20), INVISIBLE_TIMES, _transposed(ONE))

    def _print_Outer(self, node):
        u, v = node.args
        return row(self.wrap(u, 20), INVISIBLE_TIMES, _transposed(self.wrap(v, 99)))

    def _print_Softmax(self, node):
        return self.call("softmax", 0, [self._print(node.args[0])])

    def _print_LogSoftmax(self, node):
        return row(element("mi", "log"), APPLY_FUNCTION, self.call("softmax", 0, [self._print(node.args[0])]))

    def _print_LogSumExp(self, node):
        return self.call("logsumexp", 0, [self._print(node.args[0])])

    def _print_Differential(self, node):
        return row(element("mi", "d", mathvariant="normal"), self.wrap(node.args[0], ATOM))

    def _print_Adjoint(self, node):
        nabla = element("msub", element("mi", "∇", mathvariant="normal"), row(self._print(node.args[0])))
        return row(nabla, symbol_mathml(node.output, ()))

    def _print_Inner(self, node):
        a, b = (self._print(x) for x in node.args)
        return row(op("⟨"), a, op(","), b, op("⟩"))

    def _print_Entry(self, node):
        of, index = node.args[0], "".join(node.indices)
        if isinstance(of, ir.Symbol):
            return symbol_mathml(of.name, (), index)
        return element("msub", self.parenthesize(self._print(of)), _index_mathml(index))

    def _print_Diag(self, node):
        return _operator("diag", self._print(node.args[0]))

    def _print_Chain(self, node):
        space = element("mspace", width="0.17em")
        return row(*[space + t if k else t for k, t in enumerate(self.chain_factors(node.args))])

    def _print_IndexedSum(self, node):
        lower = row(element("mi", text(node.index)), op("="), element("mn", "1"))
        sigma = element("munderover", op("∑"), lower, scalar_mathml(node.upper))
        return row(sigma, self.wrap(node.args[0], 16))

    def _print_Elem(self, node):
        of = node.args[0]
        if isinstance(of, ir.Symbol):
            return symbol_mathml(sample_name(of), of.shape[1:], node.index)
        return element("msub", self.parenthesize(self._print(of)), element("mi", text(node.index)))

    def scalar(self, body, names):
        return scalar_mathml(body, names)

    def call(self, name, primes, args):
        marked = element("mi", text(name)) + (op("′" * primes) if primes else "")
        return row(marked, APPLY_FUNCTION, fenced(row(*_commas(args))))

    def _cases_product(self, node, piecewise):
        """c(z) · v with a scalar piecewise c: one case per piece, as textbooks write it."""
        coefficient, factors = ir.split_coefficient(node)
        rest = [f for f in factors if f is not piecewise]
        names = {p: self._print(a) for p, a in zip(piecewise.fn.params, piecewise.args)}
        pieces = [
            (self._print(ir.product(coefficient * value, rest, node.shape)), scalar_mathml(condition, names))
            for value, condition in explicit_pieces(piecewise.fn.body)
        ]
        return cases(pieces)


def _index_mathml(index: str) -> str:
    """Indices ``ik`` as italic letters side by side (one ``<mi>`` per letter)."""
    if not SAFE_NAME.match(index):
        return element("mi", text(index))
    return row(*[element("mi", i) for i in index]) if len(index) > 1 else element("mi", index)


def _transposed(markup: str) -> str:
    return element("msup", markup, element("mi", "⊤", mathvariant="normal"))


def _operator(name: str, argument: str) -> str:
    return row(element("mi", name), APPLY_FUNCTION, fenced(argument))


def _commas(items: list) -> list:
    out = []
    for k, item in enumerate(items):
        out.extend([op(","), item] if k else [item])
    return out


def to_mathml(node: ir.Node) -> str:
    """``node`` as MathML markup (without the ``<math>`` element)."""
    return MathMLIRPrinter().doprint(node)

"""LaTeX math laid out to fit the page: printed widths estimated from the LaTeX, long right sides
broken at a top-level +, −, ⊙ or factor, inline math made breakable, superscripts detected."""

from __future__ import annotations

import re

# Line breaking: a long right side is broken at a top-level +, −, ⊙ or factor of a product, so
# that no printed line is wider than the text; widths are estimated from the LaTeX (in points
# at 11 pt, calibrated against pdflatex).

TEXT_WIDTH = 440.0  # points the right sides may fill: the standalone page's 500 pt, with a margin
QUAD = 11.0
_CHAR, _BOLD, _ROMAN = 5.9, 7.6, 5.5
_SCRIPT = 0.72  # the size of a sub- or superscript
_BINARY = {"+": 0, "-": 0, r"\odot": 1, r"\cdot": 1, r"\times": 1}  # operator -> break rank
_RELATION = {"=", "<", ">", r"\le", r"\ge", r"\ne", r"\in", r"\leftarrow", r"\to"}
_AFTER_NO_BINARY = _RELATION | set(_BINARY) | {",", r"\,", "&", "(", "[", r"\langle"}
_ARITY = {r"\frac": 2, r"\mathbf": 1, r"\mathbb": 1, r"\operatorname": 1, r"\text": 1, r"\sqrt": 1,
          r"\mathrm": 1, r"\boldsymbol": 1, r"\hat": 1, r"\bar": 1, r"\tilde": 1, r"\overline": 1}
_WIDTH = {r"\,": 1.8, r"\;": 3.1, r"\:": 2.4, r"\!": -1.8, r"\quad": QUAD, r"\qquad": 2 * QUAD,
          r"\partial": 6.3, r"\nabla": 9.1, r"\top": 8.5, r"\langle": 4.3, r"\rangle": 4.3, r"\sum": 17.7,
          r"\prod": 16.0, r"\infty": 11.0, r"\ldots": 13.4, r"\cdots": 13.4, r"\{": 5.5, r"\}": 5.5,
          r"\|": 5.5, r"\eta": 5.3, r"\delta": 4.9, r"\lambda": 6.4, r"\sigma": 6.3, r"\alpha": 7.0}
_OPERATOR_NAMES = {r"\log", r"\exp", r"\max", r"\min", r"\sin", r"\cos", r"\tan", r"\sinh", r"\cosh",
                   r"\tanh", r"\det", r"\ln"}
_DELIMITER_WIDTH = 4.3
_TALL = (r"\frac", r"\sum", r"\begin", r"\prod")


class _Atom:
    """One printed unit: text with a width, or a \\left…\\right pair or bare {…} group of atoms."""

    def __init__(self, text: str = "", width: float = 0.0, kind: str = "text", children=None,
                 open_: str = "", close: str = "", suffix: str = ""):
        self.text, self.width, self.kind = text, width, kind
        self.children, self.open, self.close, self.suffix = children or [], open_, close, suffix

    def total(self) -> float:
        if self.kind == "text":
            return self.width
        return sum(c.total() for c in self.children) + self.width

    def render(self) -> str:
        if self.kind == "text":
            return self.text
        return self.open + "".join(c.render() for c in self.children) + self.close + self.suffix


_COMMAND = re.compile(r"\\(?:begin\{(\w+\*?)\}|[A-Za-z]+|.)?", re.DOTALL)


def _tokens(text: str) -> list:
    """LaTeX math split into commands, {…} groups, \\begin…\\end blocks and single characters."""
    out: list[str] = []
    k = 0
    while k < len(text):
        char = text[k]
        if char == "\\":
            match = _COMMAND.match(text, k)
            command, environment = (match.group(0), match.group(1)) if match else ("\\", None)
            if environment:
                end = text.find(rf"\end{{{environment}}}", k)
                stop = len(text) if end < 0 else end + len(rf"\end{{{environment}}}")
                out.append(text[k:stop])
                k = stop
                continue
            out.append(command)
            k += len(command)
        elif char == "{":
            stop = _matching_brace(text, k)
            out.append(text[k:stop])
            k = stop
        else:
            out.append(char)
            k += 1
    return out


def _matching_brace(text: str, start: int) -> int:
    depth, k = 0, start
    while k < len(text):
        if text[k] == "\\":
            k += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        k += 1
        if depth == 0:
            return k
    return len(text)


def _atoms(tokens: list, k: int = 0) -> tuple:
    """Atoms from ``tokens[k:]`` up to a ``\\right`` (or the end); returns (atoms, next index)."""
    out: list[_Atom] = []
    while k < len(tokens):
        token = tokens[k]
        if token == r"\right":
            return out, k
        if token == r"\left":
            opening = tokens[k + 1] if k + 1 < len(tokens) else "."
            children, k = _atoms(tokens, k + 2)
            closing = tokens[k + 1] if k + 1 < len(tokens) else "."
            tall = _is_tall(children)
            out.append(_Atom(kind="pair", children=children, width=2 * _DELIMITER_WIDTH + 4.0 * tall,
                             open_=r"\left" + opening, close=r"\right" + closing))
            k += 2
        elif token in ("^", "_", "'") and out:
            script = "" if token == "'" else (tokens[k + 1] if k + 1 < len(tokens) else "")
            _attach(out[-1], token + script, 2.5 if token == "'" else _SCRIPT * estimate_width(_unbrace(script)))
            k += 1 if token == "'" else 2
        elif token in _ARITY:
            args = tokens[k + 1:k + 1 + _ARITY[token]]
            out.append(_Atom(token + "".join(args), _command_width(token, [_unbrace(a) for a in args])))
            k += 1 + len(args)
        elif token.startswith("{") and len(token) > 1:
            out.append(_Atom(kind="group", children=_atoms(_tokens(_unbrace(token)))[0], open_="{", close="}"))
            k += 1
        else:
            out.append(_Atom(token, _token_width(token)))
            k += 1
    return out, k


def _attach(atom: _Atom, script: str, width: float) -> None:
    """A sub- or superscript (or a prime) written after ``atom``."""
    if atom.kind == "text":
        limits = atom.text.startswith((r"\sum", r"\prod"))  # limits above and below, in display
        atom.text += script
        atom.width = max(atom.width, width) if limits else atom.width + width
        return
    atom.suffix += script
    atom.width += width


def _is_tall(atoms: list) -> bool:
    """Whether a fraction, a big sum or a block makes delimiters around ``atoms`` grow."""
    return any(a.text.startswith(_TALL) or _is_tall(a.children) for a in atoms)


def _unbrace(token: str) -> str:
    return token[1:-1] if token.startswith("{") and token.endswith("}") else token


def _command_width(command: str, args: list) -> float:
    if command == r"\frac":
        return max(estimate_width(a) for a in args) + 2.4 if len(args) == 2 else 10.0
    text = args[0] if args else ""
    if command == r"\mathbf":
        return _BOLD * len(re.sub(r"\\[A-Za-z]+", "x", text))
    if command == r"\mathbb":
        return 8.0 * len(text)
    if command == r"\operatorname":
        return _ROMAN * len(text.replace("\\", "")) + 3.6
    if command in (r"\text", r"\mathrm"):
        return 5.2 * len(text)
    return estimate_width(text) + (9.0 if command == r"\sqrt" else 0.0)


def _token_width(token: str) -> float:
    if token.startswith(r"\begin"):
        return _block_width(token)
    if token in _BINARY:
        return 13.4 if token != r"\cdot" else 7.9
    if token in _RELATION:
        return 14.5
    if token in _WIDTH:
        return _WIDTH[token]
    if token in _OPERATOR_NAMES:
        return _ROMAN * (len(token) - 1) + 3.6
    if token.startswith("\\"):
        return 6.5 if len(token) > 2 else 4.0
    if token.isspace() or token in "&{}":
        return 0.0
    if token.isdigit():
        return 5.5
    if token in "()[]":
        return _DELIMITER_WIDTH
    if token in ",;":
        return 4.9
    if token in "|.!'":
        return 3.1
    return _CHAR


def _block_width(block: str) -> float:
    """A \\begin{cases}…\\end{cases} block: its widest row, the brace and the column gap."""
    inner = re.sub(r"^\\begin\{[^}]*\}|\\end\{[^}]*\}$", "", block)
    rows = [sum(estimate_width(cell) for cell in row.split("&")) + QUAD for row in inner.split(r"\\")]
    return max(rows) + 12.0


def estimate_width(latex: str) -> float:
    """The printed width, in points at 11 pt, of a LaTeX math string in display style."""
    return sum(atom.total() for atom in _atoms(_tokens(latex))[0])


class _Item:
    """A unit of a flattened line: text, or the opening or closing of a pair or group ``owner``;
    ``rank`` is set where the line may break before the item (lower breaks first)."""

    def __init__(self, text: str, width: float, depth: int, rank=None, owner=None, side: str = ""):
        self.text, self.width, self.depth, self.rank, self.owner, self.side = text, width, depth, rank, owner, side


def _flatten(atoms: list, depth: int = 0) -> list:
    out, previous = [], None
    for atom in atoms:
        if atom.kind != "text":
            out.append(_Item(atom.open, atom.width, depth, owner=atom, side="open"))
            out.extend(_flatten(atom.children, depth + 1))
            out.append(_Item(atom.close + atom.suffix, 0.0, depth, owner=atom, side="close"))
        else:
            out.append(_Item(atom.text, atom.width, depth, _break_rank(atom, previous)))
        if atom.text.strip() or atom.kind != "text":
            previous = atom
    return out


def _break_rank(atom: _Atom, previous: _Atom | None):
    """The rank of a break before ``atom``: 0 at + and −, 1 at ⊙ and ·, 2 between chain factors."""
    if previous is None:
        return None
    if atom.text in _BINARY and previous.text not in _AFTER_NO_BINARY:
        return _BINARY[atom.text]
    if atom.text == r"\," or (atom.text.startswith(r"\frac") and previous.text.startswith(r"\frac")):
        return 2
    return None


def break_lines(latex: str, first: float, rest: float) -> list:
    """``latex`` as lines no wider than ``first`` (the first) and ``rest`` points, where it can be."""
    items = _flatten(_split_fractions(_atoms(_tokens(latex))[0], min(first, rest)))
    ends = [0.0]
    for item in items:
        ends.append(ends[-1] + item.width)
    breaks, start, budget = [], 0, first
    while ends[-1] - ends[start] > budget:
        candidates = [k for k in range(start + 1, len(items)) if items[k].rank is not None]
        fitting = [k for k in candidates if ends[k] - ends[start] <= budget]
        if not candidates:
            break
        if fitting:
            full = [k for k in fitting if ends[k] - ends[start] >= 0.3 * budget] or fitting
            start = min(full, key=lambda k: (3 * items[k].depth + items[k].rank, -k))
        else:
            start = candidates[0]
        breaks.append(start)
        budget = rest
    return _render_lines(items, breaks)


def _split_fractions(atoms: list, limit: float) -> list:
    """Each fraction wider than ``limit`` written as 1/b times its numerator in parentheses, which
    can break where the fraction could not."""
    out = []
    for atom in atoms:
        atom.children = _split_fractions(atom.children, limit)
        parts = _tokens(atom.text) if atom.text.startswith(r"\frac") else []
        if atom.width <= limit or len(parts) != 3:
            out.append(atom)
            continue
        numerator, denominator = (_unbrace(p) for p in parts[1:])
        inner = _split_fractions(_atoms(_tokens(numerator))[0], limit)
        scale = rf"\frac{{1}}{{{denominator}}}"
        out += [_Atom(scale, estimate_width(scale)), _Atom(" "),
                _Atom(kind="pair", children=inner, width=2 * _DELIMITER_WIDTH, open_=r"\left(", close=r"\right)")]
    return out


def _render_lines(items: list, breaks: list) -> list:
    line_of, line = [], 0
    for k in range(len(items)):
        line += k in breaks
        line_of.append(line)
    opened = {id(item.owner): line_of[k] for k, item in enumerate(items) if item.side == "open"}
    spans = {id(item.owner) for k, item in enumerate(items) if item.side == "close" and opened[id(item.owner)] != line_of[k]}
    lines: list[list[str]] = [[] for _ in range(len(breaks) + 1)]
    for k, item in enumerate(items):
        text = item.text
        if item.owner is not None and id(item.owner) in spans:
            text = _fixed_delimiter(item)
        if k in breaks:
            text = "" if text == r"\," else "{}" + text if text in _BINARY else text
        lines[line_of[k]].append(text)
    return ["".join(parts).strip() for parts in lines]


def _fixed_delimiter(item: _Item) -> str:
    """A \\left or \\right (or a brace) of a pair broken across lines, at a size fixed in advance."""
    owner = item.owner
    if owner.kind == "group":
        return "" if item.side == "open" else owner.suffix
    text = owner.open if item.side == "open" else owner.close
    delimiter = text[len(r"\left"):] if item.side == "open" else text[len(r"\right"):]
    suffix = "" if item.side == "open" else owner.suffix
    size = r"\Big" if _is_tall(owner.children) else r"\big" if _has_pair(owner.children) else ""
    if not size:
        return ("" if delimiter == "." else delimiter) + suffix
    return size + ("l" if item.side == "open" else "r") + delimiter + suffix


def _has_pair(atoms: list) -> bool:
    return any(a.kind == "pair" or _has_pair(a.children) for a in atoms)


def breakable_inline(text: str) -> str:
    """Text whose ``$…$`` math TeX may break at any + or −: a \\left…\\right pair around content
    of one line's height (which TeX cannot break inside) is written with plain delimiters."""
    parts = text.split("$")
    for k in range(1, len(parts), 2):
        parts[k] = "".join(_plain(atom) for atom in _atoms(_tokens(parts[k]))[0])
    return "$".join(parts)


def _plain(atom: _Atom) -> str:
    inner = "".join(_plain(child) for child in atom.children)
    if atom.kind != "pair" or _is_tall(atom.children):
        return atom.render() if atom.kind == "text" else atom.open + inner + atom.close + atom.suffix
    opening, closing = atom.open[len(r"\left"):], atom.close[len(r"\right"):]
    return "".join(d for d in (opening, inner, closing) if d != ".") + atom.suffix


def ends_with_superscript(text: str) -> bool:
    """Whether the last atom of a LaTeX math string carries a superscript (e^{x}, X^{\\top})."""
    atoms = [a for a in _atoms(_tokens(text))[0] if a.text.strip() or a.kind != "text"]
    if not atoms:
        return False
    last = atoms[-1]
    script = last.suffix if last.kind != "text" else "".join(t for t in _tokens(last.text) if t[:1] != "{")
    return "^" in script

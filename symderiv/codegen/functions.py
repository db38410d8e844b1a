"""The functions of a generated module: one public function per program, blocked over rows
through a private ``_<name>_rows`` function where :mod:`.blocking` finds the program
row-separable, and the argument checks (``_prepare``) they all start with."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

from .. import ir
from . import blocking, layout
from .emit import Emitter
from .printer import Printer
from .program import Program


@dataclass
class Function:
    """One function of the module: its header and body lines (laid out), for the template."""

    name: str
    doc: str
    header: list
    body: list = field(default_factory=list)


class FunctionWriter:
    """One public function (and its private ``_<name>_rows`` where it is blocked)."""

    RETURNS = {"predict": "np.ndarray", "loss": "np.floating", "value_and_grad": "tuple"}
    DOCS = {
        "predict": "The model's output for every row of the data.",
        "loss": "The loss {output}.",
        "grad": "The gradient of {output} by {params}.",
        "value_and_grad": "({output}, grad), sharing every intermediate.",
        "hvp": "The Hessian-vector product of {output} along ``direction`` (shaped like grad's result).",
    }

    def __init__(self, builder, name: str, program: Program):
        self.b = builder
        self.name = name
        self.program = program
        self.plan = blocking.plan(program) if name != "predict" else None

    def write(self) -> list:
        b, program = self.b, self.program
        data = program.data if self.name == "predict" else b.data
        extra = ["direction"] if self.name == "hvp" else []
        header = header_lines(self.name, b._signature(data, extra, keyword=self.name != "predict"), self._returns())
        args = [s.name for s in b.params + tuple(data)]
        body = [*b.prepare.call(args, self.name == "predict")]
        if self.name == "hvp":
            used = {s.name for a in program.body for s in ir.symbols(a.value)}
            used |= {s.name for vs in program.outputs.values() for v in vs for s in ir.symbols(v)}
            body += _unpack_direction([d.name if d.name in used else "_" for d in b.directions], b.params)
        if self.plan is None:
            emitter = self._emitter()
            lines = emitter.lines(program.body, self._outputs_read())
            body += self._dimension_lines(lines) + lines + self._return(args)
            return [Function(self.name, self._doc(), header, _bind_dtype(body, args[0]))]
        return self._blocked(self.plan, header, body, args)

    def _blocked(self, plan: blocking.Plan, header: list, body: list, args: list) -> list:
        b = self.b
        pre = self._emitter()
        pre_lines = pre.lines(plan.pre, {s.name for s in plan.pre_used} | self._post_reads())
        inner = self._emitter(rows=plan.rows)
        partials = {s.name for s in plan.partials}
        block_lines = inner.lines(plan.block, partials)
        post = self._emitter()
        post_lines = post.lines(plan.post, self._outputs_read())
        row_args = [s.name for s in b.params] + [d.name for d in b.directions if self.name == "hvp"]
        row_args += [s.name for s in b.data] + [s.name for s in plan.pre_used]
        dims_in_block = self._dims_read(block_lines)
        row_params = row_args + dims_in_block
        private_name = f"_{self.name}_rows"
        private_body = []
        if any(re.search(r"\brows\b", line) for line in block_lines):
            private_body.append(f"rows = {plan.sliced[0].name}.shape[0]")
        private_body += block_lines + layout.return_lines(layout.tuple_display(sorted(partials, key=self._order)))
        private = Function(
            private_name,
            f"Partial sums of {self.name} over one block of rows of {_join([s.name for s in plan.sliced])}.",
            layout.call(f"def {private_name}(", row_params, "):", 0),
            _bind_dtype(private_body, row_args[0], at=0),
        )
        sliced = {s.name for s in plan.sliced}
        positions = [str(k) for k, a in enumerate(row_args) if a in sliced]
        ordered = sorted(partials, key=self._order)
        targets = f"({ordered[0]},)" if len(ordered) == 1 else ", ".join(ordered)
        items = [private_name, *row_args, *dims_in_block, f"sliced={layout.tuple_display(positions)}"]
        loop = layout.assign_call(targets, "_totals", ", ".join(items + ["block_size=block_size"]), 4)
        self.row_call = (targets, items)
        unpack: list = []
        everything = pre_lines + block_lines + post_lines
        body += self._dimension_lines(everything)
        body += pre_lines + loop + unpack + post_lines + self._return(args)
        return [Function(self.name, self._doc(), header, _bind_dtype(body, args[0])), private]

    # ------------------------------------------------------------------ pieces

    def _emitter(self, rows=None) -> Emitter:
        return Emitter(self.b.names, self.b.prepare.dim_names(), self.program.temps, rows, self.b.helpers)

    def _order(self, name: str) -> int:
        for k, a in enumerate(self.plan.block if self.plan else ()):
            if a.target.name == name:
                return k
        return 0

    def _outputs_read(self) -> set:
        return {s.name for vs in self.program.outputs.values() for v in vs for s in ir.symbols(v)}

    def _post_reads(self) -> set:
        return {s.name for a in (self.plan.post if self.plan else ()) for s in ir.symbols(a.value)}

    def _dims_read(self, lines: list) -> list:
        names = self.b.prepare.dim_names()
        return [n for _, n in sorted(names.items(), key=lambda x: x[1]) if any(_reads(line, n) for line in lines)]

    def _dimension_lines(self, lines: list, texts: list | None = None) -> list:
        """``N = X.shape[0]`` for each dimension the lines (and the results' texts) read."""
        text = self._result_texts() if texts is None else texts
        out = []
        for d, name in sorted(self.b.prepare.dim_names().items(), key=lambda x: x[1]):
            if any(_reads(line, name) for line in lines + text):
                out.append(f"{name} = {self.b.prepare.dims[d]}")
        return out

    def _result_texts(self) -> list:
        return [text for texts in self._output_texts().values() for text in texts]

    def _output_texts(self) -> dict:
        """Each output printed; a zero gradient as zeros like its parameter."""
        printer = Printer(self.b.prepare.dim_names())
        texts = {k: [printer.doprint(v) for v in vs] for k, vs in self.program.outputs.items()}
        for key in ("grad", "hvp"):
            if key in texts:
                outputs = zip(texts[key], self.program.outputs[key], self.b.params)
                texts[key] = [zero_like(v, p) or text for text, v, p in outputs]
        self.b.helpers |= printer.helpers
        return texts

    def _return(self, args: list) -> list:
        texts = self._output_texts()
        given = layout.tuple_display(args)
        if self.name == "value_and_grad":
            items = [given, texts["loss"][0], _structure(texts["grad"])]
        elif self.name in ("grad", "hvp"):
            key = "grad" if self.name == "grad" else "hvp"
            items = [given, _structure(texts[key])]
        else:
            items = [given, texts[self.name][0]]
        lines = layout.return_call("_fresh(", items, ")")
        return lines

    def _returns(self) -> str:
        if self.name in ("grad", "hvp"):
            return "np.ndarray" if len(self.b.params) == 1 else "tuple"
        return self.RETURNS[self.name]

    def _doc(self) -> str:
        d = self.b.derivation
        params = _join([p.name for p in d.wrt])
        return self.DOCS[self.name].format(output=d.output.name, params=params)


def zero_like(node: ir.Node, parameter: ir.Symbol) -> str:
    """A zero result shaped like its parameter, as NumPy ("" where ``node`` is not zero)."""
    if not ir.is_zero(node):
        return ""
    return f"np.zeros_like({parameter.name})" if parameter.shape else "0"


def _structure(texts: list) -> str:
    return texts[0] if len(texts) == 1 else layout.tuple_display(texts)


def _unpack_direction(names: list, params: tuple) -> list:
    """The direction checked against the parameters, unpacked into the names used (``_``: unused)."""
    if len(names) == 1:
        call = f'_direction("direction", direction, {params[0].name})'
        return [call if names[0] == "_" else f"{names[0]} = {call}"]
    call = f"_directions(direction, {layout.tuple_display([p.name for p in params])})"
    if all(name == "_" for name in names):
        return [call]
    return layout.lines_of(f"{', '.join(names)} = {call}", "(", names, f") = {call}", 4)


def _bind_dtype(lines: list, array: str, at: int | None = None) -> list:
    """``dtype = <array>.dtype`` before the first line reading ``dtype`` (or at ``at``), if one does."""
    for k, line in enumerate(lines):
        if re.search(r"(?<![\w.])dtype(?!\w)(?!\s*=[^=])", line):
            where = k if at is None else at
            while where > 0 and lines[where].startswith((" ", ")")):  # the statement's first line
                where -= 1
            return lines[:where] + [f"dtype = {array}.dtype"] + lines[where:]
    return lines


def _reads(line: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", line) is not None


def _join(names: list) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def header_lines(name: str, parameters: list, returns: str) -> list:
    return [f"def {name}("] + [f"    {p}," for p in parameters] + [f") -> {returns}:"]


# --------------------------------------------------------------------------- argument checks


class Prepare:
    """``_prepare``: every argument checked (kind, rank, sizes other arguments fixed) and converted
    to one floating dtype; the dimensions' sizes read from the first argument holding each."""

    def __init__(self, arguments: tuple, data: tuple = ()):
        self.arguments = arguments
        self.data = {s.name for s in data}  # may have no rows where empty_rows is passed
        self.dims: dict = {}  # dimension -> source text of its size (after _prepare)
        self.sources: dict = {}
        self.body: list = []
        for symbol in sorted(arguments, key=lambda s: -len(s.shape)):
            self.body += self._check(symbol)
        self._names = {d: d.name for d in self.dims}

    def dim_names(self) -> dict:
        return dict(self._names)

    def call(self, args: list, optional: bool) -> list:
        given = [a if a in args else "_ABSENT" for a in (s.name for s in self.arguments)]
        targets = [a if a in args else "_" for a in (s.name for s in self.arguments)]
        if targets.count("_") > 1:
            targets = [t if t != "_" else f"_{k}" for k, t in enumerate(targets)]
        target_text = ", ".join(targets) if len(targets) > 1 else f"({targets[0]},)"
        return layout.assign_call(target_text, "_prepare", ", ".join(given), 4)

    def context(self) -> dict:
        arrays = [s.name for s in self.arguments if s.shape]
        dtype = layout.call("dtype = _result_type(", arrays, ")", 4) if arrays else ["dtype = np.dtype(float)"]
        results = [self._convert(s) for s in self.arguments]
        return {
            "header_lines": layout.call(
                "def _prepare(", [s.name for s in self.arguments] + ["empty_rows=False"], "):", 0
            ),
            "body": self.body + dtype,
            "results": results,
        }

    def _check(self, symbol: ir.Symbol) -> list:
        name, shape, ndim = symbol.name, pattern(symbol.shape), len(symbol.shape)
        rows = ", empty_rows" if name in self.data and ndim else ""
        lines = [f'{name} = _array("{name}", {name}, {ndim}, "{shape}"{rows})']
        expected, sources = [], []
        for axis, d in enumerate(symbol.shape):
            source = self.sources.get(d)
            if isinstance(d, sympy.Symbol) and d not in self.dims:
                self.dims[d] = f"{name}.shape[{axis}]"
                self.sources[d] = f'("{name}", "{_counts(ndim, axis)}")'
            expected.append(self.dims.get(d, str(d)))
            sources.append(source or "None")
        bound = any(source != "None" for source in sources)
        if bound or any(not isinstance(d, sympy.Symbol) for d in symbol.shape):
            items = [f'"{name}"', name, pattern(tuple(expected)), f'"{shape}"']
            items += [layout.tuple_display(sources)] if bound else []
            given = sorted({e.split(".")[0] for e in expected if ".shape[" in e} & self.data - {name})
            indent = 4 + 4 * (name in self.data) + 4 * bool(given)
            check = layout.call("_check_shape(", items, ")", indent)
            if given:  # sizes from data that penalty and predict may leave out
                condition = " and ".join(f"{g} is not _ABSENT" for g in given)
                check = [f"if {condition}:"] + ["    " + line for line in check]
            lines += check
        if name not in self.data:  # a parameter: always given
            return lines
        return [f"if {name} is not _ABSENT:"] + ["    " + line for line in lines]

    def _convert(self, symbol: ir.Symbol) -> str:
        text = f"dtype.type({symbol.name})" if symbol.shape == () else f"{symbol.name}.astype(dtype, copy=False)"
        return f"_ABSENT if {symbol.name} is _ABSENT else {text}" if symbol.name in self.data else text


def signature(params: tuple, data: tuple, extra=(), keyword: bool = True) -> list:
    items = [f"{s.name}: {_type(s)}" for s in params + tuple(data)] + list(extra)
    return items + (["*", "block_size: int | None = None"] if keyword else [])


def _type(symbol: ir.Symbol) -> str:
    return "float" if symbol.shape == () else "np.ndarray"


def _counts(ndim: int, axis: int) -> str:
    if ndim == 1:
        return "elements"
    return ("rows", "columns")[axis] if ndim == 2 else f"entries on axis {axis}"


def pattern(shape: tuple) -> str:
    parts = [str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"

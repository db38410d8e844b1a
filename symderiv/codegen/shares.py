"""``partial_sums`` and ``penalty``: a loss that is a sum over rows plus parameter-only terms,
split so that a user (or Dask) can sum the rows' shares over any split and add the penalty once.

``partial_sums(params..., data..., total_rows=N)`` runs the blocked ``value_and_grad`` program on
the rows given and carries its partial sums through the data term of each output; the shares
of blocks that together hold all N rows add up to the data term exactly. ``penalty(params...)``
is the rest: the regularisers' value and gradients.
"""

from __future__ import annotations

from .. import ir
from . import blocking, layout
from .emit import Printer
from .functions import Function, _bind_dtype, _reads, header_lines, signature, zero_like


def write_shares(writer, split: blocking.Split) -> list:
    """The two functions, from the value_and_grad writer (its plan and its row function call);
    none where the penalty needs a size only the data give."""
    penalty = _penalty(writer, split)
    if penalty is None:
        return []
    return [_partial_sums(writer, split, writer.plan.rows), penalty]


def _partial_sums(writer, split: blocking.Split, rows_dim) -> Function:
    b, plan = writer.b, writer.plan
    args = [s.name for s in b.params + b.data]
    params = signature(b.params, b.data, keyword=False) + ["*", "total_rows: int | None = None"]
    params += ["block_size: int | None = None"]
    first = plan.sliced[0].name
    body = layout.assign_call(_targets(args), "_prepare", ", ".join(args + ["empty_rows=True"]), 4)
    emitter = writer._emitter()
    needed = _needed(plan.pre, {s.name for s in plan.pre_used})
    pre = emitter.lines(needed, {s.name for s in plan.pre_used})
    outputs = {s.name for vs in split.data_outputs.values() for v in vs for s in ir.symbols(v)}
    post = emitter.lines(split.data, outputs)
    targets, items = writer.row_call
    call = layout.assign_call(targets, "_totals", ", ".join(items + ["block_size=block_size"]), 4)
    lines = pre + call + post
    results = _result_lines(writer, args, split.data_outputs)
    dims = writer._dimension_lines(lines, results)
    dims = [line for line in dims if not line.startswith(f"{rows_dim.name} = ")]
    total = f"_total_rows(total_rows, {first})"  # a sum's shares need no total: still checked
    used = any(_reads(line, rows_dim.name) for line in lines + results)
    body += [f"{rows_dim.name} = {total}" if used else total] + dims + lines + results
    body += [f"return {first}.shape[0], value, gradient"]
    doc = (
        "These rows' shares of the data term of (loss, grad): (rows, loss share, grad shares).\n\n"
        "    The shares of any split of the rows, each called with ``total_rows`` = the number of\n"
        "    rows in all (default: these rows), add up to the data term; ``penalty`` is the rest,\n"
        "    to be added once. Empty blocks are allowed."
    )
    return Function("partial_sums", doc, header_lines("partial_sums", params, "tuple"), _bind_dtype(body, args[0]))


def _penalty(writer, split: blocking.Split) -> Function | None:
    b = writer.b
    params = [s.name for s in b.params]
    given = params + ["_ABSENT"] * len(b.data)
    targets = params + [f"_{k}" for k in range(len(b.data))] if len(b.data) > 1 else params + ["_"]
    body = layout.assign_call(", ".join(targets), "_prepare", ", ".join(given), 4)
    emitter = writer._emitter()
    outputs = {s.name for vs in split.penalty_outputs.values() for v in vs for s in ir.symbols(v)}
    lines = emitter.lines(split.penalty, outputs)
    results = _result_lines(writer, params, split.penalty_outputs)
    dims = _parameter_dimensions(writer.b, lines + results)
    if dims is None:
        return None
    body += dims + lines + results
    body += ["return value, gradient"]
    doc = "The terms of (loss, grad) in the parameters only (regularisers): (value, grad)."
    header = header_lines("penalty", signature(b.params, (), keyword=False), "tuple")
    return Function("penalty", doc, header, _bind_dtype(body, params[0]))


def _result_lines(writer, args: list, outputs: dict) -> list:
    printer = Printer(writer.b.prepare.dim_names())
    loss = printer.doprint(outputs["loss"][0])
    grads = [zero_like(v, p) or printer.doprint(v) for v, p in zip(outputs["grad"], writer.b.params)]
    writer.b.helpers |= printer.helpers
    gradient = grads[0] if len(grads) == 1 else layout.tuple_display(grads)
    items = [layout.tuple_display(args), loss, gradient]
    return layout.return_call("_fresh(", items, ")", statement="value, gradient = ")


def _parameter_dimensions(builder, lines: list) -> list | None:
    """``n = w.shape[0]`` for each dimension the lines read, from a parameter (None: none has it)."""
    out = []
    for d, name in sorted(builder.prepare.dim_names().items(), key=lambda x: x[1]):
        if not any(_reads(line, name) for line in lines):
            continue
        source = next((f"{p.name}.shape[{axis}]" for p in builder.params for axis, e in enumerate(p.shape) if e == d), None)
        if source is None:
            return None
        out.append(f"{name} = {source}")
    return out


def _needed(statements: list, names: set) -> list:
    kept = []
    for a in reversed(statements):
        if a.target.name in names:
            kept.append(a)
            names |= {s.name for s in ir.symbols(a.value)}
    return kept[::-1]


def _targets(args: list) -> str:
    return ", ".join(args) if len(args) > 1 else f"({args[0]},)"



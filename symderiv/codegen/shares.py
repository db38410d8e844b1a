"""``partial_sums`` and ``penalty``: a loss that is a sum over rows plus parameter-only terms,
split so that a user (or Dask) can sum the rows' shares over any split and add the penalty once;
``hessian_partial_sums`` and ``hessian_penalty`` do the same for the Hessian.

``partial_sums(params..., data..., total_rows=N)`` runs the blocked ``value_and_grad`` program on
the rows given and carries its partial sums through the data term of each output; the shares
of blocks that together hold all N rows add up to the data term exactly. ``penalty(params...)``
is the rest: the regularisers' value and gradients.
"""

from __future__ import annotations

from .. import ir
from . import blocking, layout
from .functions import Function, _bind_dtype, _reads, header_lines, signature, zero_like
from .printer import Printer


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




# --------------------------------------------------------------------------- the Hessian's shares


def write_hessian_shares(writer, split: blocking.Split) -> tuple:
    """(public, private) functions: ``hessian_partial_sums`` and ``hessian_penalty``, from the hvp
    writer, through ``_hvp_share`` and ``_hvp_penalty`` (the two parts of hvp along a direction)."""
    b = writer.b
    directions = [d.name for d in b.directions]
    params = [s.name for s in b.params]
    penalty_body = _hvp_penalty_body(writer, split)
    if penalty_body is None:
        return [], []
    names = set(b.prepare.dim_names().values())
    items = [i for i in writer.row_call[1][1:-1] if i not in names] + [writer.plan.rows.name]
    share = Function(
        "_hvp_share",
        "These rows' share of the data term of hvp along the direction (N rows in all).",
        layout.call("def _hvp_share(", items, "):", 0),
        _hvp_share_body(writer, split),
    )
    penalty = Function(
        "_hvp_penalty",
        "The parameter-only terms of hvp along the direction.",
        layout.call("def _hvp_penalty(", params + directions, "):", 0),
        penalty_body,
    )
    return [_hessian_partial_sums(writer, items), _hessian_penalty(writer)], [share, penalty]


def write_zero_hessian_shares(writer, rows_writer) -> tuple:
    """The same functions where hvp is zero almost everywhere (``rows_writer``: a blocked one)."""
    b = writer.b
    params = [s.name for s in b.params]
    items = params + [d.name for d in b.directions] + [s.name for s in b.data]
    zeros = _tuple_result(writer, [ir.zeros(p.shape) for p in b.params])
    share = Function("_hvp_share", "Zero: the Hessian is zero almost everywhere.",
                     layout.call("def _hvp_share(", items, "):", 0), zeros)
    penalty = Function("_hvp_penalty", "Zero: the Hessian is zero almost everywhere.",
                       layout.call("def _hvp_penalty(", items[: 2 * len(params)], "):", 0), zeros)
    public = [_hessian_partial_sums(rows_writer, items), _hessian_penalty(writer)]
    return public, [share, penalty]


def _hvp_share_body(writer, split: blocking.Split) -> list:
    plan = writer.plan
    emitter = writer._emitter()
    pre = emitter.lines(_needed(plan.pre, {s.name for s in plan.pre_used}), {s.name for s in plan.pre_used})
    outputs = {s.name for vs in split.data_outputs.values() for v in vs for s in ir.symbols(v)}
    post = emitter.lines(split.data, outputs)
    targets, items = writer.row_call
    call = layout.assign_call(targets, "_totals", ", ".join(items + ["block_size=None"]), 4)
    result = _tuple_result(writer, split.data_outputs["hvp"])
    lines = pre + call + post + result
    dims = [line for line in writer._dimension_lines(lines, []) if not line.startswith(f"{plan.rows.name} = ")]
    return _bind_dtype(dims + lines, items[1], at=0)


def _hvp_penalty_body(writer, split: blocking.Split) -> list | None:
    emitter = writer._emitter()
    outputs = {s.name for vs in split.penalty_outputs.values() for v in vs for s in ir.symbols(v)}
    lines = emitter.lines(split.penalty, outputs)
    result = _tuple_result(writer, split.penalty_outputs["hvp"])
    dims = _parameter_dimensions(writer.b, lines + result)
    return None if dims is None else _bind_dtype(dims + lines + result, writer.b.params[0].name, at=0)


def _tuple_result(writer, outputs: list) -> list:
    printer = Printer(writer.b.prepare.dim_names())
    texts = [zero_like(v, p) or printer.doprint(v) for v, p in zip(outputs, writer.b.params)]
    writer.b.helpers |= printer.helpers
    return layout.return_lines(layout.tuple_display(texts))


def _hessian_partial_sums(writer, row_items: list) -> Function:
    b, plan = writer.b, writer.plan
    args = [s.name for s in b.params + b.data]
    params = signature(b.params, b.data, keyword=False) + ["*", "total_rows: int | None = None"]
    first = plan.sliced[0].name
    body = layout.assign_call(_targets(args), "_prepare", ", ".join(args + ["empty_rows=True"]), 4)
    dims = [item for item in row_items if item not in {d.name for d in b.directions} and item not in args]
    total = f"_total_rows(total_rows, {first})"
    body += [f"{plan.rows.name} = {total}" if plan.rows.name in row_items else total]
    body += [line for line in writer._dimension_lines(dims, []) if not line.startswith(f"{plan.rows.name} = ")]
    later = {d.name for d in b.directions[1:]}
    call = ["*direction" if item == b.directions[0].name else item for item in row_items if item not in later]
    body += _dense("_hvp_share", call, [p.name for p in b.params], "share = ")
    body += [f"return {first}.shape[0], share"]
    doc = (
        "These rows' share of the data term of the Hessian: (rows, share).\n\n"
        "    The shares of any split of the rows, each called with ``total_rows`` = the number of\n"
        "    rows in all, plus ``hessian_penalty`` once, add up to ``hessian``."
    )
    return Function("hessian_partial_sums", doc, header_lines("hessian_partial_sums", params, "tuple"), body)


def _hessian_penalty(writer) -> Function:
    b = writer.b
    params = [s.name for s in b.params]
    given = params + ["_ABSENT"] * len(b.data)
    targets = params + [f"_{k}" for k in range(len(b.data))] if len(b.data) > 1 else params + ["_"]
    body = layout.assign_call(", ".join(targets), "_prepare", ", ".join(given), 4)
    body += _dense("_hvp_penalty", params + ["*direction"], params, "return ")
    doc = "The Hessian of the parameter-only terms (regularisers), added once to the shares."
    header = header_lines("hessian_penalty", signature(b.params, (), keyword=False), "np.ndarray")
    return Function("hessian_penalty", doc, header, body)


def _dense(function: str, arguments: list, parameters: list, statement: str) -> list:
    """``statement _dense(column, parameters)`` with ``column(*direction)`` calling ``function``."""
    column = ["", "def column(*direction):"]
    column += ["    " + line for line in layout.return_call(f"{function}(", arguments, ")", 8)]
    items = ["column", layout.tuple_display(parameters)]
    return column + [""] + layout.return_call("_dense(", items, ")", 4, statement=statement)

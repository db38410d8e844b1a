"""``symderiv list``: the catalog with its formulas."""

from __future__ import annotations


def register(commands) -> None:
    parser = commands.add_parser(
        "list",
        help="list the catalog of activations and losses",
        description="List the catalog's activations (formulas in z) and losses (formulas in a and y).",
        epilog="example:\n  symderiv list",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    from .. import catalog

    print(table("Activations (formula in z)", catalog.ACTIVATIONS.values()))
    print()
    print(
        table(
            "Losses (formula in prediction a and target y; the loss is their mean over N samples)",
            catalog.LOSSES.values(),
        )
    )
    print()
    print(
        table(
            "Losses of a row of outputs (formula in the last pre-activation z and target row y; "
            "their mean over N rows)",
            catalog.ROW_LOSSES.values(),
        )
    )
    return 0


def table(title: str, entries) -> str:
    rows = [(e.name, e.formula, _params(e), e.description) for e in entries]
    widths = [max(len(r[i]) for r in rows + [("name", "formula", "parameters", "")]) for i in range(3)]
    lines = [
        title,
        "  ".join(h.ljust(w) for h, w in zip(("name", "formula", "parameters"), widths)) + "  description",
    ]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3])
    return "\n".join(lines)


def _params(entry) -> str:
    return ", ".join(f"{k}={v}" for k, v in entry.params.items()) or "-"

"""Names of intermediate variables, chosen in one place and the way a textbook would.

The pre-activation is z and the activation a, an error against the target is e, a loss that
reduces to a scalar is C; other intermediates take u, v, s, t, ... in order. Matrices take capital
letters (Z, A, E, U, ...), as textbooks write them. No name clashes with a symbol of the expression.
"""

from __future__ import annotations

import itertools

from . import ir

POOL = ("u", "v", "s", "t", "p", "q", "r", "h", "g", "k", "m", "c", "d", "o")
TARGET_NAMES = ("y", "t", "Y", "T")


def assign(output: ir.Node, steps: list[ir.Node], hints: dict | None = None) -> dict:
    """Map each step node's key to a fresh variable name.

    ``hints`` maps node keys to preferred names (a model knows its pre-activation and
    prediction, a network its layers' Z_1, A_1, ... and its output C); without hints the first element-wise function of a computed value is taken
    as the activation.
    """
    taken = {s.name for s in ir.symbols(output)}
    names: dict = {}
    step_keys = {n.key for n in steps}

    def _free(name: str, node: ir.Node) -> bool:
        """Unused, and never a matrix S beside a vector s: names differing only in case are avoided."""
        if name in taken:
            return False
        folded = {t.lower() for t in (taken if len(node.shape) == 2 else matrix_names)}
        return name.lower() not in folded

    matrix_names: set = set()

    def claim(node_key, name: str) -> None:
        name = _cased(name, node_key)
        if node_key in step_keys and node_key not in names and name not in taken:
            names[node_key] = name
            taken.add(name)
            if len(node_key.shape) == 2:
                matrix_names.add(name)

    claim(output.key, (hints or {}).get(output.key) or _output_name(output))
    for key, name in (hints or {}).items():
        claim(key, name)
    activation = next((n for n in steps if isinstance(n, ir.Apply) and _computed_arg(n, steps)), None)
    if hints is None and activation is not None:
        claim(_computed_arg(activation, steps).key, "z")
        claim(activation.key, "a")
    for node in steps:
        if isinstance(node, ir.Sub) and any(_is_target(a) for a in node.args):
            claim(node.key, "e")
    numbered = [f"u_{i}" for i in range(1, len(steps) + 1)]
    for node in steps:
        if node.key not in names:
            claim(node.key, next(n for n in itertools.chain(POOL, numbered) if _free(_cased(n, node), node)))
    return names


def _cased(name: str, node: ir.Node) -> str:
    """Capitals for matrices (Z, A, U), lower case otherwise; hinted names are kept as given."""
    if len(node.shape) == 2 and name[:1].islower() and name in POOL + ("z", "a", "e"):
        return name.upper()
    if len(node.shape) == 2 and name.startswith("u_"):
        return "U" + name[1:]
    return name


def _output_name(output: ir.Node) -> str:
    if isinstance(output, (ir.Sum, ir.Mean)) and output.args[0].shape:
        return "C"
    return "a" if isinstance(output, ir.Apply) else "f"


def _computed_arg(node: ir.Apply, steps: list[ir.Node]):
    keys = [s.key for s in steps]
    computed = [a for a in node.args if a.key in keys]
    return computed[0] if len(computed) == 1 else None


def _is_target(node: ir.Node) -> bool:
    return isinstance(node, ir.Symbol) and node.name in TARGET_NAMES

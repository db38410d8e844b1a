"""Turning command-line options into a network, a model, a loss or an expression (shared by subcommands)."""

from __future__ import annotations

from . import UsageError


def add_spec_options(parser) -> None:
    """--activation, --layer, --loss, --regularizer, --expr, --let, --wrt and --kink."""
    group = parser.add_argument_group("what to differentiate")
    group.add_argument(
        "--activation",
        "-a",
        metavar="NAME|FORMULA",
        help="catalog activation (relu, leaky_relu(alpha=0.1), ...) or a formula in z",
    )
    group.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="'dense(SIZE[, ACTIVATION])'",
        help="a dense layer of a network, repeatable in order: 'dense(h, relu)' then 'dense(k)'",
    )
    group.add_argument(
        "--loss",
        "-l",
        metavar="NAME|FORMULA",
        help="catalog loss (mse, huber(delta=0.5), softmax_cross_entropy for networks, ...)"
        " or a formula in a and y",
    )
    group.add_argument(
        "--regularizer",
        action="append",
        default=[],
        metavar="'l2(lambda=0.01)'",
        help="a penalty on a network's weights, repeatable: l2(lambda=...) or l1(lambda=...),"
        " optionally on=(W_1, b_1)",
    )
    group.add_argument(
        "--expr",
        "-e",
        metavar="EXPRESSION",
        help="a whole scalar expression, e.g. 'mean((y - relu(X @ w + b))^2)'",
    )
    group.add_argument(
        "--let",
        action="append",
        default=[],
        metavar="'NAME: SHAPE'",
        help="declare a symbol for --expr: 'q: vector(n)', 'A: matrix(N, n)', 'c: scalar'",
    )
    group.add_argument(
        "--wrt",
        default=None,
        metavar="w,b",
        help="parameters, comma-separated (default: w,b for a neuron, those of w,b an"
        " expression holds, every W_l,b_l for a network)",
    )
    group.add_argument(
        "--kink",
        default="min-norm",
        metavar="CONVENTION",
        help="derivative at kinks: min-norm (default), mean, left or right",
    )


def build(args):
    """The object to derive from the spec options: a Network, a Loss, a Neuron or an IR expression.

    A missing ``args.wrt`` (None) is filled in with the spec's parameters (w, b for a neuron,
    those of w, b an expression contains, every W_l, b_l for a network), so later
    ``wrt_names(args)`` sees them.
    """
    target = _target(args)
    if getattr(args, "wrt", None) is None:
        args.wrt = ",".join(default_parameters(target))
    return target


def default_parameters(target) -> tuple:
    """What to differentiate by when --wrt is not given: never a name the formula does not hold."""
    from .. import ir

    if not isinstance(target, ir.Node):
        return tuple(target.parameters)
    names = list(dict.fromkeys(symbol.name for symbol in ir.symbols(target)))
    found = tuple(name for name in ("w", "b") if name in names)
    if not found:
        held = ", ".join(sorted(names)) or "none"
        raise UsageError(
            f"the formula has neither w nor b: name the parameters with --wrt (its symbols: {held})"
        )
    return found


def _target(args):
    import symderiv

    from ..kinks import check_convention
    from ..parse import parse_declarations

    check_convention(args.kink)
    layers, regularizers = getattr(args, "layer", None) or [], getattr(args, "regularizer", None) or []
    if layers:
        return _network(args, layers, regularizers)
    if regularizers:
        raise UsageError("--regularizer applies to a network: give its layers with --layer")
    if args.expr is not None:
        if args.activation or args.loss:
            raise UsageError("--expr cannot be combined with --activation or --loss")
        return symderiv.expression(args.expr, let=parse_declarations(args.let))
    if args.let:
        raise UsageError("--let declares symbols for --expr only")
    if args.loss is not None:
        if args.activation is None:
            raise UsageError("--loss needs --activation too (e.g. --activation relu --loss mse)")
        return symderiv.loss(args.loss, symderiv.neuron(args.activation))
    if args.activation is not None:
        return symderiv.neuron(args.activation)
    raise UsageError("say what to differentiate: --activation [--loss], --layer ... --loss, or --expr")


def _network(args, layers: list, regularizers: list):
    import symderiv

    if args.activation is not None or args.expr is not None:
        raise UsageError(
            "--layer cannot be combined with --activation or --expr (give each layer's activation)"
        )
    if args.let:
        raise UsageError("--let declares symbols for --expr only")
    if args.loss is None:
        raise UsageError("--layer needs --loss too (e.g. --loss mse or --loss softmax_cross_entropy)")
    return symderiv.network(layers, loss=args.loss, regularizers=regularizers)


def wrt_names(args) -> tuple:
    """The --wrt names (after :func:`build`, which fills in the spec's default)."""
    names = tuple(part.strip() for part in (args.wrt or "w,b").split(",") if part.strip())
    if not names:
        raise UsageError("--wrt needs at least one parameter name")
    return names

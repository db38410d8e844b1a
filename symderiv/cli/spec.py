"""Turning command-line options into a model, a loss or an expression (shared by subcommands)."""

from __future__ import annotations

from . import UsageError


def add_spec_options(parser) -> None:
    """--activation, --loss, --expr, --let, --wrt and --kink."""
    group = parser.add_argument_group("what to differentiate")
    group.add_argument("--activation", "-a", metavar="NAME|FORMULA",
                       help="catalog activation (relu, leaky_relu(alpha=0.1), ...) or a formula in z")
    group.add_argument("--loss", "-l", metavar="NAME|FORMULA",
                       help="catalog loss (mse, huber(delta=0.5), ...) or a formula in a and y")
    group.add_argument("--expr", "-e", metavar="EXPRESSION",
                       help="a whole scalar expression, e.g. 'mean((y - relu(X @ w + b))^2)'")
    group.add_argument("--let", action="append", default=[], metavar="'NAME: SHAPE'",
                       help="declare a symbol for --expr: 'q: vector(n)', 'A: matrix(N, n)', 'c: scalar'")
    group.add_argument("--wrt", default="w,b", metavar="w,b", help="parameters, comma-separated (default w,b)")
    group.add_argument("--kink", default="min-norm", metavar="CONVENTION",
                       help="derivative at kinks: min-norm (default), mean, left or right")


def build(args):
    """The object to derive from the spec options: a Loss, a Neuron or an IR expression."""
    import symderiv
    from ..kinks import check_convention
    from ..parse import parse_declaration

    check_convention(args.kink)
    if args.expr is not None:
        if args.activation or args.loss:
            raise UsageError("symderiv: --expr cannot be combined with --activation or --loss")
        lets = dict(parse_declaration(text) for text in args.let)
        return symderiv.expression(args.expr, lets)
    if args.let:
        raise UsageError("symderiv: --let declares symbols for --expr only")
    if args.loss is not None:
        if args.activation is None:
            raise UsageError("symderiv: --loss needs --activation too (e.g. --activation relu --loss mse)")
        return symderiv.loss(args.loss, symderiv.neuron(args.activation))
    if args.activation is not None:
        return symderiv.neuron(args.activation)
    raise UsageError("symderiv: say what to differentiate: --activation [--loss], or --expr")


def wrt_names(args) -> tuple:
    names = tuple(part.strip() for part in args.wrt.split(",") if part.strip())
    if not names:
        raise UsageError("symderiv: --wrt needs at least one parameter name")
    return names

"""``symderiv codegen``: write an importable NumPy module of gradient functions."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from .io import read_prefix, write_output
from .spec import add_spec_options, build, wrt_names

EXAMPLES = """examples:
  symderiv codegen --activation relu --loss mse -o relu_mse.py
  symderiv codegen --activation sigmoid --loss logistic -o logistic.py
  symderiv codegen --activation "leaky_relu(alpha=0.1)" --loss huber --kink mean -o leaky.py
  symderiv codegen --expr "mean((t - X @ w)^2)" --let "t: vector(N)" --wrt w -o -
  symderiv check relu_mse.py      # compare the module with central differences

The module needs only NumPy: loss, grad, value_and_grad, hvp, hessian (and predict for a
model) take the --wrt parameters in order, then the data (matrices, vectors, scalars, each
by name): (w, b, X, y) for a neuron. grad returns one gradient per --wrt parameter, shaped
like it; hvp(..., direction) the exact Hessian-vector product.
"""


def register(commands) -> None:
    parser = commands.add_parser(
        "codegen",
        help="generate a NumPy module with loss, grad, hvp and hessian functions",
        description="Generate an importable NumPy module computing the loss, its gradients, Hessian-vector products and its Hessian.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_spec_options(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        default="-",
        help="write the module to FILE atomically ('-', the default: stdout)",
    )
    output.add_argument(
        "--force", action="store_true", help="overwrite FILE even if it is not a module symderiv generated (only ever a regular file)"
    )
    hessian = output.add_mutually_exclusive_group()
    hessian.add_argument(
        "--hessian",
        dest="hessian",
        action="store_true",
        default=None,
        help="include the hessian function (the default; it takes one hvp per column)",
    )
    hessian.add_argument("--no-hessian", dest="hessian", action="store_false", help="leave hessian out")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..codegen import generate

    target = build(args)
    source = generate(
        target, wrt=wrt_names(args), convention=args.kink, command=command_line(args), hessian=args.hessian
    )
    write_output(source, args.output, args.force, may_replace=is_generated)
    return 0


def command_line(args) -> str:
    """The command that regenerates the module, rebuilt from the parsed options."""
    words = ["symderiv", "codegen"]
    for option in ("activation", "loss", "expr"):
        value = getattr(args, option)
        if value is not None:
            words += [f"--{option}", value]
    for declaration in args.let:
        words += ["--let", declaration]
    for option in ("layer", "regularizer"):
        for value in getattr(args, option, None) or []:
            words += [f"--{option}", value]
    if args.wrt not in (None, "w,b"):
        words += ["--wrt", args.wrt]
    if args.kink != "min-norm":
        words += ["--kink", args.kink]
    if args.hessian is not None:
        words.append("--hessian" if args.hessian else "--no-hessian")
    if args.output not in (None, "-"):
        words += ["-o", args.output]
    return shlex.join(words)


def is_generated(path: Path) -> bool:
    """True for a regular file whose first line is symderiv's generated-module marker.

    Reads at most a small prefix: a device, a FIFO or an endless file is never read to its end.
    """
    from ..codegen import MARKER

    prefix = read_prefix(path)
    return prefix is not None and prefix.startswith(MARKER.encode("utf-8"))

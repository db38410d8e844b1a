"""``symderiv derive``: print a step-by-step derivation."""

from __future__ import annotations

import argparse

from .io import write_output
from .spec import add_spec_options, build, wrt_names

EXAMPLES = """examples:
  symderiv derive --activation relu --loss mse
  symderiv derive --activation "leaky_relu(alpha=0.1)" --loss huber --format text
  symderiv derive --activation "max(0.1*z, z)" --loss "log(cosh(a - y))" --kink mean
  symderiv derive --expr "max(0, w . x + b)"
  symderiv derive --expr "mean((t - X @ w)^2)" --let "t: vector(N)" --wrt w
  symderiv derive --activation relu --loss mse --standalone -o relu_mse.tex
  symderiv derive --activation relu --loss mse --view backprop --format text
"""


def register(commands) -> None:
    parser = commands.add_parser(
        "derive",
        help="print the derivation of a gradient, step by step",
        description="Derive the gradient of an activation, a loss or an expression, step by step.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_spec_options(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--format",
        "-f",
        default="latex",
        metavar="FORMAT",
        help="latex (default), text, markdown, html or json",
    )
    output.add_argument(
        "--view",
        metavar="VIEW",
        help="jacobian (numerator-layout chain; default without matrix operations) or "
        "backprop (differentials forward, adjoints backward)",
    )
    output.add_argument(
        "--standalone", action="store_true", help="a complete LaTeX document (compiles with pdflatex)"
    )
    output.add_argument("--output", "-o", metavar="FILE", help="write to FILE atomically ('-': stdout)")
    output.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (only ever a regular file)"
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..derive import derive
    from ..render import render

    target = build(args)
    derivation = derive(target, wrt=wrt_names(args), convention=args.kink, view=args.view)
    text = render(derivation, args.format, standalone=args.standalone)
    write_output(text if text.endswith("\n") else text + "\n", args.output, args.force)
    return 0

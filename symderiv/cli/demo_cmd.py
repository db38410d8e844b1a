"""``symderiv demo``: the worked example end to end."""

from __future__ import annotations

import argparse

EXAMPLES = """The worked example: a relu neuron max(0, w·x + b) trained with the mean squared error
C(w, b) = (1/N) Σ_i (y_i - max(0, w·x_i + b))². The demo prints the derivation, checks the
gradients against central differences, generates the NumPy gradient module and checks it.

examples:
  symderiv demo
  symderiv demo --format latex
  symderiv demo --output-dir demo_out     (keeps the generated module)
"""


def register(commands) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the worked example end to end (relu + mse)",
        description="Run the worked example end to end.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--format",
        "-f",
        default="text",
        metavar="FORMAT",
        help="format of the printed derivation: text (default), latex, markdown, ...",
    )
    parser.add_argument("--output-dir", metavar="DIR", help="keep the generated module in DIR")
    parser.set_defaults(run=run)


def run(args) -> int:
    import symderiv

    from ..render import render

    loss = symderiv.loss("mse", symderiv.neuron("relu"))
    derivation = loss.derive(wrt=("w", "b"))
    print(render(derivation, args.format).rstrip("\n"))
    print()
    ok = check_engine(derivation)
    ok = generate_and_check(loss, args.output_dir) and ok
    print("demo: all checks passed" if ok else "demo: a check FAILED")
    return 0 if ok else 1


def check_engine(derivation) -> bool:
    """The symbolic gradients, evaluated, against central differences on random data."""
    import numpy as np

    from ..testing import check_expression_gradient

    rng = np.random.default_rng(0)
    env = {
        "X": rng.normal(size=(50, 4)),
        "w": rng.normal(size=4),
        "b": np.float64(0.1),
        "y": rng.normal(size=50),
    }
    gradients = {name: derivation.expand(g.vectorized) for name, g in derivation.gradients.items()}
    error = check_expression_gradient(derivation.expression, gradients, env, rtol=1e-5)
    print(f"check: symbolic gradient vs central differences (N=50, n=4): max relative error {error:.1e}")
    return error < 1e-5


def generate_and_check(loss, output_dir: str | None) -> bool:
    """Generate the worked example's NumPy module, then check it like ``symderiv check``."""
    import argparse
    import shutil
    import tempfile
    from pathlib import Path

    from .. import codegen
    from . import check_cmd, codegen_cmd
    from .io import write_output

    folder = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="symderiv-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "relu_mse.py"
    try:
        source = codegen.generate(
            loss, command="symderiv codegen --activation relu --loss mse -o relu_mse.py"
        )
        write_output(source, str(path), may_replace=codegen_cmd.is_generated)
        print(f"codegen: wrote {path} ({len(source.splitlines())} lines, NumPy only)")
        status = check_cmd.run(argparse.Namespace(module=str(path), seed=0, rtol=1e-6))
    finally:
        if not output_dir:
            shutil.rmtree(folder, ignore_errors=True)
    return status == 0

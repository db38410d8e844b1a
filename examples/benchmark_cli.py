"""Benchmark (not a test): how long deriving the worked example takes.

Prints a table of medians over repeated runs, each in a fresh process so no cache is warm:
- derive: `derive(relu + mse, wrt=(w, b))` after `import symderiv`, dimensions symbolic;
- CLI: the whole process `symderiv derive --activation relu --loss mse`;
- baseline: the whole process `python -c "import sympy"`, the floor every run pays.

    python examples/benchmark_cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

DERIVE = (
    "import time, symderiv\n"
    "loss = symderiv.loss('mse', symderiv.neuron('relu'))\n"
    "t = time.perf_counter(); d = symderiv.derive(loss, wrt=('w', 'b')); t1 = time.perf_counter()\n"
    "d.latex(); t2 = time.perf_counter()\n"
    "print(t1 - t, t2 - t1)\n"
)


def whole_process(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    derive, render, cli, baseline = [], [], [], []
    for _ in range(runs):  # interleaved, so machine load affects all alike
        out = subprocess.run([sys.executable, "-c", DERIVE], check=True, capture_output=True, text=True).stdout
        d, r = map(float, out.split())
        derive.append(d)
        render.append(r)
        cli.append(whole_process([sys.executable, "-m", "symderiv", "derive", "--activation", "relu", "--loss", "mse"]))
        baseline.append(whole_process([sys.executable, "-c", "import sympy"]))

    rows = [
        ("derive relu + mse (after import)", derive),
        ("render its LaTeX", render),
        ("symderiv derive --activation relu --loss mse (whole process)", cli),
        ("python -c 'import sympy' (baseline)", baseline),
    ]
    print(f"{'what':<62} {'median':>9} {'min':>9} {'max':>9}   ({runs} runs)")
    for label, values in rows:
        print(f"{label:<62} {statistics.median(values):>8.3f}s {min(values):>8.3f}s {max(values):>8.3f}s")
    print(f"CLI / sympy import: {statistics.median(cli) / statistics.median(baseline):.2f}x")


if __name__ == "__main__":
    main()

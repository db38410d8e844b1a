"""Every catalog pair, the network derivations and a corpus of formulas compile with pdflatex,
with no error and no line more than 10 pt wider than the page; and the pieces that make it so."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from symderiv import catalog, ir
from symderiv.cli import build_parser
from symderiv.cli.spec import build, wrt_names
from symderiv.derive import derive
from symderiv.functions import BUILTINS
from symderiv.render import render
from symderiv.render.latex import (
    break_lines,
    breakable_inline,
    ends_with_superscript,
    estimate_width,
    to_latex,
)

CORPUS = Path(__file__).with_name("corpus_formulas.txt")
BATCH = 10  # derivations per pdflatex run
TOLERANCE = 10.0  # points a line may run past the text width

NETWORKS = [
    ["--layer", "dense(h, relu)", "--layer", "dense(k)", "--loss", "softmax_cross_entropy"],
    ["--layer", "dense(h, tanh)", "--layer", "dense(k)", "--loss", "softmax_cross_entropy",
     "--regularizer", "l2(lambda=0.01)"],
    ["--layer", "dense(h, relu)", "--loss", "mse"],
    ["--layer", "dense(h, sigmoid)", "--layer", "dense(k, relu)", "--loss", "mse"],
]

needs_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex is not installed (CI installs texlive-latex-base)"
)


def corpus_cases() -> list:
    lines = CORPUS.read_text().splitlines()
    return [shlex.split(line) for line in lines if line.strip() and not line.startswith("#")]


def pair_cases() -> list:
    cases = []
    for activation in catalog.ACTIVATIONS:
        cases.append(["-a", activation])
        for loss in catalog.LOSSES:
            cases += [["-a", activation, "-l", loss], ["-a", activation, "-l", loss, "--view", "backprop"]]
    return cases


def standalone(argv: list) -> str:
    """``symderiv derive ARGV --standalone``, run in this process."""
    args = build_parser().parse_args(["derive", *argv, "--standalone"])
    derivation = derive(build(args), wrt=wrt_names(args), convention=args.kink, view=args.view)
    return render(derivation, "latex", standalone=args.standalone)


def compile_all(cases: list, tmp_path: Path) -> list:
    """(case, problem) for every LaTeX error or overfull line of the cases' standalone documents."""
    documents = [(" ".join(shlex.quote(a) for a in case), standalone(case)) for case in cases]
    batches = [documents[k:k + BATCH] for k in range(0, len(documents), BATCH)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = pool.map(lambda item: compile_batch(item[1], tmp_path / f"batch{item[0]}"), enumerate(batches))
    return [problem for problems in found for problem in problems]


def compile_batch(documents: list, folder: Path) -> list:
    """One document of several derivation bodies (each marked in the log), compiled once."""
    folder.mkdir()
    preamble = documents[0][1].split(r"\begin{document}")[0]
    bodies = []
    for label, document in documents:
        body = document.split(r"\begin{document}")[1].split(r"\end{document}")[0]
        bodies.append(f"\\typeout{{CASE: {label}}}\n{body}\n\\newpage\n")
    (folder / "corpus.tex").write_text(preamble + "\\begin{document}\n" + "".join(bodies) + "\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "corpus.tex"], cwd=folder, check=False,
                         capture_output=True, timeout=300)
    log = (folder / "corpus.log").read_text(errors="replace")
    problems = log_problems(log)
    if run.returncode and not problems:
        problems.append(("?", f"pdflatex exited with status {run.returncode}"))
    return problems


def log_problems(log: str) -> list:
    """(case, line) for each error and each overfull box wider than TOLERANCE in a pdflatex log."""
    problems, case = [], "?"
    for line in log.splitlines():
        if line.startswith("CASE: "):
            case = line[len("CASE: "):]
        overfull = re.match(r"Overfull \\hbox \(([\d.]+)pt too wide\)", line)
        if line.startswith("!") or (overfull and float(overfull.group(1)) > TOLERANCE):
            problems.append((case, line))
    return problems


def report(problems: list) -> str:
    return "\n".join(f"{case}: {line}" for case, line in problems)


@needs_pdflatex
def test_every_catalog_pair_compiles_and_fits(tmp_path):
    problems = compile_all(pair_cases(), tmp_path)
    assert not problems, report(problems)


@needs_pdflatex
def test_network_derivations_compile_and_fit(tmp_path):
    cases = NETWORKS + [[*case, "--view", "backprop"] for case in NETWORKS[:1]]
    problems = compile_all(cases, tmp_path)
    assert not problems, report(problems)


@needs_pdflatex
def test_formula_corpus_compiles_and_fits(tmp_path):
    cases = corpus_cases()
    problems = compile_all(cases + [[*case, "--view", "backprop"] for case in cases], tmp_path)
    assert not problems, report(problems)


def test_corpus_covers_every_function_and_rule():
    text = CORPUS.read_text()
    functions = ["exp", "log", "log1p", "sqrt", "tanh", "cosh", "sin", "cos", "sigmoid", "softplus", "relu",
                 "abs", "sign", "max", "min", "clip", "softmax", "log_softmax", "logsumexp", "sum", "mean", "dot"]
    missing = [f for f in functions if f"{f}(" not in text]
    operators = ["^", "/", "@", ".T", " . ", "axis=0", "axis=1", "--let"]
    missing += [op for op in operators if op not in text]
    assert not missing, f"the corpus never uses {missing}"
    assert len(corpus_cases()) >= 40


def test_a_superscripted_atom_is_grouped_under_a_transpose_or_power():
    a = ir.Symbol("A", (ir.dim("n"), ir.dim("m")))
    exp = BUILTINS["exp"](a)
    assert to_latex(ir.transpose(exp)) == r"\left(e^{\mathbf{A}}\right)^{\top}"
    assert to_latex(ir.power(exp, ir.const(2))) == r"\left(e^{\mathbf{A}}\right)^{2}"
    assert to_latex(ir.power(ir.transpose(a), ir.const(2))) == r"\left(\mathbf{A}^{\top}\right)^{2}"
    assert to_latex(ir.transpose(a)) == r"\mathbf{A}^{\top}"


def test_exp_of_a_vector_gradient_has_no_double_superscript():
    latex = standalone(["--expr", "sum(exp(x))", "--wrt", "x"])
    assert r"\left(e^{\mathbf{x}}\right)^{\top}" in latex
    assert not re.search(r"\^\{[^{}]*\}\^", latex)


@pytest.mark.parametrize("text, expected", [
    (r"e^{\mathbf{x}}", True), (r"\mathbf{x}_{i}^{\top}", True), (r"\left(a\right)^{2}", True),
    (r"\frac{a^{2}}{b}", False), (r"\left(a^{2}\right)", False), (r"x^{2} y", False), (r"\mathbf{X}", False),
])
def test_ends_with_superscript(text, expected):
    assert ends_with_superscript(text) is expected


def test_a_long_sum_breaks_at_top_level_operators_within_the_budget():
    terms = [rf"\operatorname{{diag}}\left(\mathbf{{z}}_{{{k}}}\right) \mathbf{{X}}" for k in range(12)]
    latex = " + ".join(terms)
    lines = break_lines(latex, 200.0, 180.0)
    assert len(lines) > 1
    assert all(line.startswith("{}+ ") for line in lines[1:])
    assert estimate_width(lines[0]) <= 200.0 and all(estimate_width(line) <= 180.0 for line in lines[1:])
    assert " ".join(lines).replace("{}+", "+") == latex


def test_a_break_inside_parentheses_fixes_their_size():
    inner = r" \odot ".join(rf"\left(\mathbf{{a}}_{{{k}}} - \mathbf{{b}}\right)" for k in range(10))
    lines = break_lines(rf"\frac{{1}}{{N}} \left({inner}\right)^{{\top}} \mathbf{{X}}", 200.0, 200.0)
    assert len(lines) > 1
    assert lines[0].startswith(r"\frac{1}{N} \bigl(") and lines[-1].endswith(r"\bigr)^{\top} \mathbf{X}")
    assert all(line.count(r"\left") == line.count(r"\right") for line in lines)


def test_a_line_that_fits_is_left_alone():
    latex = r"\frac{2}{N} \mathbf{X}^{\top} \left(\mathbb{I}\left[\mathbf{z} > 0\right] \odot \mathbf{e}\right)"
    assert break_lines(latex, 300.0, 300.0) == [latex]


def test_the_worked_example_has_no_broken_line():
    latex = standalone(["-a", "relu", "-l", "mse"])
    assert r"\quad" not in latex and r"\begin{equation*}" in latex


def test_inline_math_of_a_title_gets_plain_delimiters_tex_can_break_inside():
    title = r"the gradient of $C = \operatorname{mean}\left(\left(\mathbf{X} \mathbf{w} - \mathbf{y}\right)^{2}\right)$"
    assert breakable_inline(title) == r"the gradient of $C = \operatorname{mean}((\mathbf{X} \mathbf{w} - \mathbf{y})^{2})$"
    tall = r"$\left(\frac{1}{N}\right)$"
    assert breakable_inline(tall) == tall

"""The Sphinx extension: step-by-step derivations in reStructuredText and MyST documents.

Add ``"symderiv.sphinx"`` to ``extensions``, then write (MyST)::

    ```{symderiv}
    :activation: relu
    :loss: mse
    :show: steps, gradients, per-sample
    ```

or ``.. symderiv::`` with the same options in reStructuredText. Options: ``activation``, ``loss``,
``layer`` and ``regularizer`` (several separated by ``;``), ``expression`` (with ``let``
declarations separated by ``;``), ``wrt``, ``kink``, ``view`` (jacobian or backprop) and ``show``
(any of notes, steps, chain, gradients, per-sample; all by default; in the backprop view steps
are the forward differentials and chain the backward adjoints). ``symderiv-catalog`` with
``:kind: activations`` or ``losses`` renders every catalog entry, one section each.

The math is emitted as standard ``math_block`` and ``math`` nodes, so whichever math renderer the
site uses (MathJax, KaTeX, imgmath, LaTeX output) draws it; explanations are paragraphs. Bad
options (an unknown option name or value with the closest known one) are reported as a warning at
the directive's line, never as a crash.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import SimpleNamespace
from typing import ClassVar, NamedTuple

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_id

from . import __version__, catalog
from .errors import SymderivError, did_you_mean
from .limits import time_budget, time_limit
from .render import view
from .render.latex import LatexIRPrinter, shape_latex
from .render.markdown import LatexNotation, latex_lines
from .render.view import PARTS, adjoint_equations, result_equations, step_equations

DEFAULT_WRT = None  # the spec's own parameters: w, b for a neuron, every W_l, b_l for a network
SHOWABLE = PARTS + ("code",)  # code: the generated NumPy module, shown only when asked for
KINDS = {"activations": "activation", "losses": "loss"}  # kind -> the name of one entry


class OptionError(ValueError):
    """A directive option with a value the directive cannot use."""


class UnknownOption(NamedTuple):
    """The value of an option the directive does not have, kept so run() can warn about it."""

    name: str
    value: str | None


class OptionSpec(dict):
    """A directive's option_spec that lets unknown option names through as :class:`UnknownOption`
    values, so the directive warns at its line with a did-you-mean (docutils and MyST would only
    say 'unknown option')."""

    def __missing__(self, name: str):
        return lambda value: UnknownOption(name, value)


def check_options(options: dict, known) -> None:
    """Refuse an option the directive does not have, naming the closest one it has."""
    for name, value in options.items():
        if isinstance(value, UnknownOption):
            hint = did_you_mean(name, list(known)) or f" (its options: {', '.join(known)})"
            raise OptionError(f"unknown option ':{name}:'{hint}")


# CLI option -> directive option, for messages shared with the command line
_CLI_OPTIONS = re.compile(r"--(activation|loss|layer|regularizer|expr|let|wrt|kink|view)\b")


def directive_words(message: str) -> str:
    """``message`` with the command line's option names written as the directive's (--wrt → :wrt:)."""
    return _CLI_OPTIONS.sub(lambda m: f":{'expression' if m.group(1) == 'expr' else m.group(1)}:", message)


def parse_show(text: str | None) -> tuple:
    """The parts to show from ``"steps, gradients"`` (all of :data:`PARTS`, not code, when empty)."""
    if not text or not text.strip():
        return PARTS
    parts = tuple(p.strip() for p in text.replace(",", " ").split() if p.strip())
    unknown = [p + did_you_mean(p, list(SHOWABLE)) for p in parts if p not in SHOWABLE]
    if unknown:
        raise OptionError(
            f"unknown part(s) to show: {', '.join(unknown)} (choose from {', '.join(SHOWABLE)})"
        )
    return parts


def _items(text: str | None) -> list:
    """``"a; b"`` as ``["a", "b"]``."""
    return [part.strip() for part in (text or "").split(";") if part.strip()]


def spec_arguments(options: dict) -> SimpleNamespace:
    """Directive options in the shape the command line's spec builder takes."""
    return SimpleNamespace(
        activation=options.get("activation"),
        loss=options.get("loss"),
        layer=_items(options.get("layer")),
        regularizer=_items(options.get("regularizer")),
        expr=options.get("expression"),
        let=_items(options.get("let")),
        wrt=options.get("wrt") or DEFAULT_WRT,
        kink=options.get("kink") or "min-norm",
        view=options.get("view") or None,
    )


@lru_cache(maxsize=64)
def cached_derivation(key: tuple):
    """The derivation for one set of spec arguments (``sorted(vars(args).items())`` with lists as
    tuples), derived once per build process."""
    from .cli import UsageError
    from .cli.spec import build, wrt_names
    from .derive import derive

    args = SimpleNamespace(
        **{name: list(value) if isinstance(value, tuple) else value for name, value in key}
    )
    try:
        target = build(args)
        return derive(target, wrt=wrt_names(args), convention=args.kink, view=args.view)
    except UsageError as error:
        raise OptionError(str(error)) from None


def derivation_for(options: dict):
    args = spec_arguments(options)
    key = tuple(sorted((name, tuple(v) if isinstance(v, list) else v) for name, v in vars(args).items()))
    return cached_derivation(key)


# --------------------------------------------------------------------------- nodes


def derivation_nodes(derivation, parts: tuple, docname: str) -> list:
    """Paragraphs and math nodes for ``derivation``, showing ``parts``."""
    context = view.build(derivation, LatexIRPrinter(), shape_latex, prose=lambda sentence: sentence)
    notation = LatexNotation()
    out = []
    if "notes" in parts:
        out.append(nodes.paragraph("", f"{context['layout_note']} {context['convention_note']}"))
    out.append(_math_block(f"{context['output']} = {context['expression']}", docname))
    if "steps" in parts:
        for step in context["steps"]:
            out.extend(_step_nodes(step, notation, docname))
    if "chain" in parts:
        for adjoint in context["backward"]:
            out.extend(_adjoint_nodes(adjoint, docname))
    if "gradients" in parts:
        for result in context["results"]:
            out.extend(_result_nodes(result, notation, parts, docname))
    if "code" in parts:
        out.extend(_code_nodes(derivation))
    return out


def _step_nodes(step, notation, docname: str) -> list:
    heading = nodes.strong("", f"Step {step.number}: {step.rule}.")
    why = nodes.paragraph(
        "",
        "",
        heading,
        nodes.Text(" "),
        *_prose_nodes(step.explanation),
        nodes.Text(". Shape of "),
        _math(step.variable),
        nodes.Text(f": {step.dims if step.differential is not None else step.shape}."),
    )
    return [why, _math_block(latex_lines(step_equations(step, notation)), docname)]


def _adjoint_nodes(adjoint, docname: str) -> list:
    kind = "Gradient" if adjoint.is_parameter else "Adjoint"
    heading = nodes.strong("", "", nodes.Text(f"{kind} "), _math(adjoint.symbol), nodes.Text("."))
    note = ", a parameter" if adjoint.is_parameter else ""
    text = nodes.paragraph("", "", heading, nodes.Text(f" Shaped like it: {adjoint.dims}{note}."))
    return [text, _math_block(latex_lines(adjoint_equations(adjoint)), docname)]


def _result_nodes(result, notation, parts: tuple, docname: str) -> list:
    heading = nodes.strong("", "Gradient with respect to ")
    shape = result.dims if result.view == "backprop" else result.shape
    text = nodes.paragraph(
        "", "", heading, _math(result.parameter), nodes.Text(f", shaped like it: {shape}.")
    )
    return [text, _math_block(latex_lines(result_equations(result, notation, parts)), docname)]


def _code_nodes(derivation) -> list:
    try:
        from .codegen import generate_from
    except ImportError:
        raise OptionError("this symderiv cannot generate code, so 'code' cannot be shown") from None
    source = generate_from(derivation)
    intro = nodes.paragraph("", "", nodes.strong("", "Generated NumPy code."))
    return [intro, nodes.literal_block(source, source, language="python")]


def _prose_nodes(sentence) -> list:
    """A sentence as docutils nodes: its words as text, its formulas as inline math."""
    from .explain import Prose
    from .render.derivation import TEX_FORMULA

    if not isinstance(sentence, Prose):
        return [nodes.Text(str(sentence))]
    return [nodes.Text(p) if isinstance(p, str) else _math(TEX_FORMULA(p)) for p in sentence.parts]


def _math(latex: str) -> nodes.math:
    return nodes.math(latex, latex)


def _math_block(latex: str, docname: str) -> nodes.math_block:
    return nodes.math_block(latex, latex, docname=docname, number=None, label=None, nowrap=False)


# --------------------------------------------------------------------------- directives

SPEC_OPTIONS = (
    "activation",
    "loss",
    "layer",
    "regularizer",
    "expression",
    "let",
    "wrt",
    "kink",
    "view",
    "show",
)


class SymderivDirective(SphinxDirective):
    """``.. symderiv::`` — one derivation, step by step."""

    has_content = False
    option_spec: ClassVar[dict] = OptionSpec({name: directives.unchanged for name in SPEC_OPTIONS})

    def run(self) -> list:
        try:
            check_options(self.options, list(self.option_spec))
            parts = parse_show(self.options.get("show"))
            with self.time_limit():
                out = derivation_nodes(derivation_for(self.options), parts, self.env.docname)
        except (OptionError, SymderivError) as error:
            return [self.warn(error)]
        return self.located(out)

    def time_limit(self):
        """The last-resort guard: a directive that runs longer than ``symderiv_time_limit`` seconds
        (default: $SYMDERIV_TIME_LIMIT, else 60) becomes a warning and the build goes on."""
        seconds = time_budget(getattr(self.config, "symderiv_time_limit", None))
        return time_limit(seconds, f"the {self.name} directive")

    def warn(self, error: Exception) -> nodes.system_message:
        """A warning at the directive's line (Sphinx prints it with the file and line)."""
        return self.reporter.warning(f"symderiv: {directive_words(str(error))}", line=self.lineno)

    def located(self, out: list) -> list:
        for node in out:
            for each in node.findall():
                if isinstance(each, nodes.Element):
                    self.set_source_info(each)
        return out


class CatalogDirective(SymderivDirective):
    """``.. symderiv-catalog::`` — a section per activation (or loss) of the catalog."""

    option_spec: ClassVar[dict] = OptionSpec(
        {
            "kind": directives.unchanged,
            "activation": directives.unchanged,
            "kink": directives.unchanged,
            "view": directives.unchanged,
            "show": directives.unchanged,
        }
    )

    def run(self) -> list:
        kind = (self.options.get("kind") or "activations").strip()
        try:
            check_options(self.options, list(self.option_spec))
            if kind not in KINDS:
                hint = did_you_mean(kind, list(KINDS)) or f" (choose from {', '.join(KINDS)})"
                raise OptionError(f"unknown kind '{kind}'{hint}")
            parts = parse_show(self.options.get("show"))
            with self.time_limit():
                sections = [self.section(kind, entry, parts) for entry in _entries(kind)]
        except (OptionError, SymderivError) as error:
            return [self.warn(error)]
        return self.located(sections)

    def section(self, kind: str, entry, parts: tuple) -> nodes.section:
        options = {"kink": self.options.get("kink"), "view": self.options.get("view")}
        if kind == "activations":
            options["activation"] = entry.name
            formula = f"f(z) = {entry.formula}"
        else:
            options.update(activation=self.options.get("activation") or "relu", loss=entry.name)
            formula = f"loss(a, y) = {entry.formula}"
        derivation = derivation_for(options)
        document = self.state.document
        section = nodes.section(ids=[make_id(self.env, document, KINDS[kind], entry.name)])
        section += nodes.title("", entry.name)
        section["names"].append(nodes.fully_normalize_name(f"{kind} {entry.name}"))
        document.note_implicit_target(section, section)
        intro = nodes.paragraph("", f"{entry.description[:1].upper()}{entry.description[1:]}: ")
        intro += nodes.literal("", formula)
        intro += nodes.Text(f". Derivation of {derivation.title}.")
        section += intro
        section.extend(derivation_nodes(derivation, parts, self.env.docname))
        return section


def _entries(kind: str) -> list:
    return list((catalog.ACTIVATIONS if kind == "activations" else catalog.LOSSES).values())


def setup(app) -> dict:
    app.add_directive("symderiv", SymderivDirective)
    app.add_directive("symderiv-catalog", CatalogDirective)
    app.add_config_value("symderiv_time_limit", None, "env")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}

"""The Sphinx extension: the example site builds with -W, and bad options warn at their line.

The site (docs/) is built once per session by :func:`build_site`, which test_browser.py reuses.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from symderiv import catalog

pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -e '.[test]')")
pytest.importorskip("myst_parser", reason="myst-parser is not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
_BUILDS: dict = {}


def sphinx_build(source: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    """``python -m sphinx -b html`` in a fresh process, as a documentation author runs it."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", *options, str(source), str(out)]
    return subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT, timeout=600)


def build_site(tmp_path_factory) -> Path:
    """The example site built with warnings as errors, once per session; its HTML folder."""
    if "site" not in _BUILDS:
        out = tmp_path_factory.mktemp("site") / "html"
        start = time.perf_counter()
        result = sphinx_build(DOCS, out, "-W", "--keep-going", "-E")
        seconds = time.perf_counter() - start
        print(f"\nexample site built in {seconds:.1f} s -> {out}")
        _BUILDS["site"] = (result, out, seconds)
    result, out, _ = _BUILDS["site"]
    assert result.returncode == 0, f"sphinx -W failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory)


class MathCounter(HTMLParser):
    """Counts Sphinx's math output (class "math") and collects section ids."""

    def __init__(self):
        super().__init__()
        self.blocks = self.inline = 0
        self.ids: list = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "math" in classes:
            if tag == "div":
                self.blocks += 1
            else:
                self.inline += 1
        if tag == "section" and attributes.get("id"):
            self.ids.append(attributes["id"])


def page(site: Path, name: str) -> tuple:
    text = (site / name).read_text(encoding="utf-8")
    counter = MathCounter()
    counter.feed(text)
    return text, counter


def test_site_builds_with_warnings_as_errors(site):
    assert (site / "index.html").exists()
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is not shipped with the site"


def test_worked_example_page_has_every_step_and_gradient(site):
    text, counter = page(site, "worked-example.html")
    # neuron: expression + 4 steps + 2 gradients; loss: expression + 6 steps + 2 gradients; then 1 + 2
    assert counter.blocks == 7 + 9 + 3
    for rule in ("element-wise product", "sum reduction", "matrix-vector product", "mean reduction"):
        assert f"{rule}.</strong>" in text
    assert r"\sum_{i=1}^{N} \mathbb{I}\left[z_{i} &gt; 0\right] e_{i} \mathbf{x}_{i}^{\top}" in text
    assert r"\begin{cases} \mathbf{0}^{\top} &amp; \text{if } z \leq 0" in text


@pytest.mark.parametrize(
    "kind,entry,table",
    [("activations", "activation", catalog.ACTIVATIONS), ("losses", "loss", catalog.LOSSES)],
)
def test_catalog_pages_have_a_section_per_entry(site, kind, entry, table):
    _, counter = page(site, f"{kind}.html")
    expected = [f"{entry}-{name}" for name in table]
    assert [i for i in counter.ids if i.startswith(f"{entry}-")] == expected
    assert counter.blocks >= 3 * len(table)


def test_no_page_loads_anything_from_the_network(site):
    for html in site.glob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["'](https?:)?//""", text), html.name


def test_restructuredtext_page_renders_the_directive(site):
    text, counter = page(site, "directive.html")
    assert counter.blocks >= 6
    assert r"\nabla_{\mathbf{w}} C" in text and "Step 1:" in text


# --------------------------------------------------------------------------- bad options

BAD_RST = """Bad options
===========

.. toctree::

   page

.. symderiv::
   :activation: no_such_activation

.. symderiv::
   :activation: relu
   :show: steps, bogus

A paragraph after the bad directives.
"""

BAD_MD = """# A MyST page

Some text.

```{symderiv}
:activation: relu
:kink: sideways
```

```{symderiv}
:expression: max(0, w . x +
```

```{symderiv}
:activation: relu
:show: steps
```
"""


@pytest.fixture(scope="module")
def bad_build(tmp_path_factory):
    source = tmp_path_factory.mktemp("bad")
    (source / "conf.py").write_text('extensions = ["myst_parser", "symderiv.sphinx"]\n', encoding="utf-8")
    (source / "index.rst").write_text(BAD_RST, encoding="utf-8")
    (source / "page.md").write_text(BAD_MD, encoding="utf-8")
    result = sphinx_build(source, source / "_build")
    return result, source


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_bad_options_warn_at_the_directive_line_without_crashing(bad_build):
    result, _ = bad_build
    assert result.returncode == 0, result.stderr
    warnings = result.stderr
    rst_first = line_of(BAD_RST, ".. symderiv::")
    rst_second = rst_first + 3
    md_kink = line_of(BAD_MD, "```{symderiv}")
    md_parse = md_kink + 5
    expected = [
        (f"index.rst:{rst_first}", "unknown activation 'no_such_activation'"),
        (f"index.rst:{rst_second}", "unknown part(s) to show: bogus"),
        (f"page.md:{md_kink}", "sideways"),
        (f"page.md:{md_parse}", "symderiv:"),
    ]
    for location, message in expected:
        matching = [line for line in warnings.splitlines() if location in line and "WARNING" in line]
        assert matching, f"no warning at {location} in:\n{warnings}"
        assert any(message in line for line in matching), matching
    assert warnings.count("WARNING") == len(expected), warnings


def test_a_bad_directive_leaves_the_rest_of_the_page(bad_build):
    _, source = bad_build
    index = (source / "_build" / "index.html").read_text(encoding="utf-8")
    assert "A paragraph after the bad directives." in index
    text = (source / "_build" / "page.html").read_text(encoding="utf-8")
    assert "Step 4: chain rule (element-wise function).</strong>" in text


# --------------------------------------------------------------------------- nodes, in process


@pytest.fixture(scope="module")
def worked():
    import symderiv

    return symderiv.derive(symderiv.loss("mse", symderiv.neuron("relu")))


def test_directive_emits_standard_math_nodes_and_prose(worked):
    from docutils import nodes

    from symderiv.sphinx import PARTS, derivation_nodes

    out = derivation_nodes(worked, PARTS, "page")
    blocks = [n for n in out if isinstance(n, nodes.math_block)]
    assert len(blocks) == 1 + len(worked.steps) + len(worked.gradients)
    assert all(b["nowrap"] is False and b["docname"] == "page" for b in blocks)
    paragraphs = [n for n in out if isinstance(n, nodes.paragraph)]
    words = " ".join(t.astext() for p in paragraphs for t in p.findall(nodes.Text) if not isinstance(t.parent, nodes.math))
    from symderiv.render import view

    for step in worked.steps:  # the explanation's words as text, its formulas as inline math nodes
        for part in view.explanation(step, worked.view).parts:
            assert part in words if isinstance(part, str) else True
    inline = [m.astext() for p in paragraphs for m in p.findall(nodes.math)]
    assert r"\mathbf{X} \mathbf{w}" in inline
    assert r"\mathbf{w} &\leftarrow \mathbf{w} - \eta \nabla_{\mathbf{w}} C" in blocks[-2].astext()


def test_show_picks_the_parts(worked):
    from docutils import nodes

    from symderiv.sphinx import OptionError, derivation_nodes, parse_show

    assert parse_show("steps, per-sample") == ("steps", "per-sample")
    with pytest.raises(OptionError, match="bogus"):
        parse_show("steps bogus")
    out = derivation_nodes(worked, parse_show("gradients"), "page")
    blocks = [n.astext() for n in out if isinstance(n, nodes.math_block)]
    assert len(blocks) == 1 + len(worked.gradients)
    assert not any(r"\sum_{i=1}" in b or r"\frac{\partial C}{\partial \mathbf{v}}" in b for b in blocks)


def test_code_part_shows_the_generated_module(worked):
    from docutils import nodes

    from symderiv.sphinx import derivation_nodes

    pytest.importorskip("symderiv.codegen", reason="code generation is not in this tree")
    out = derivation_nodes(worked, ("code",), "page")
    (block,) = [n for n in out if isinstance(n, nodes.literal_block)]
    compile(block.astext(), "generated.py", "exec")
    assert block["language"] == "python" and "def grad" in block.astext()

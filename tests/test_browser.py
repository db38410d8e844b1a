"""The rendered math, checked in a real browser: headless Chromium driven by Playwright.

The standalone HTML page (MathML) and the example Sphinx site (MathJax shipped with the site)
are served from a local HTTP server; every request that leaves localhost is aborted and counted,
and must not happen. Screenshots are saved under pytest's tmp folder (their paths are printed).
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

import symderiv
from symderiv.render import render

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SITE_PAGES = ["worked-example.html", "activations.html", "losses.html", "directive.html"]


def chromium_path() -> str | None:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium with a fresh profile, or a skip saying what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium browser here (Debian: apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=LAUNCH_FLAGS,
            viewport={"width": 1200, "height": 1400},
        )
        try:
            yield context
        finally:
            context.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(root: Path):
    """An HTTP server on 127.0.0.1 serving ``root``; yields its base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Visit:
    """One page opened with outside requests blocked; records what went wrong."""

    def __init__(self, context, url: str):
        self.blocked: list = []
        self.failed: list = []
        self.errors: list = []
        self.page = context.new_page()
        self.page.route("**/*", self._route)
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url, wait_until="load")

    def _route(self, route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def assert_clean(self):
        assert self.blocked == [], f"requests outside localhost: {self.blocked}"
        assert self.failed == [], f"local resources that failed: {self.failed}"
        assert self.errors == [], f"script errors: {self.errors}"

    def screenshot(self, path: Path) -> Path:
        self.page.screenshot(path=str(path), full_page=True)
        print(f"\nscreenshot: {path}")
        return path


SIZES_JS = """selector => [...document.querySelectorAll(selector)].map(e => {
    const r = e.getBoundingClientRect(); return [r.width, r.height]; })"""

FRACTIONS_JS = """() => [...document.querySelectorAll('mfrac')].map(f => {
    const [top, bottom] = [...f.children].map(c => c.getBoundingClientRect());
    return top.bottom <= bottom.top + 1; })"""


@pytest.fixture(scope="module")
def standalone_pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    targets = {
        "relu_mse.html": symderiv.loss("mse", symderiv.neuron("relu")),
        "neuron.html": symderiv.expression("max(0, w . x + b)"),
        "hard_tanh_huber.html": symderiv.loss("huber", symderiv.neuron("hard_tanh")),
    }
    for name, target in targets.items():
        (folder / name).write_text(render(symderiv.derive(target), "html"), encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ["relu_mse.html", "neuron.html", "hard_tanh_huber.html"])
def test_standalone_page_math_renders_as_mathml(browser, standalone_pages, tmp_path, name):
    source = (standalone_pages / name).read_text(encoding="utf-8")
    expected = len(re.findall(r"<math\b", source))
    with serve(standalone_pages) as base:
        visit = Visit(browser, f"{base}/{name}")
        sizes = visit.page.evaluate(SIZES_JS, "math")
        assert len(sizes) == expected >= 5
        assert all(w > 0 and h > 0 for w, h in sizes), sizes
        assert visit.page.evaluate("() => document.querySelectorAll('merror').length") == 0
        fractions = visit.page.evaluate(FRACTIONS_JS)
        assert fractions and all(fractions), "a fraction's numerator is not above its denominator"
        visit.screenshot(tmp_path / f"{name}.png")
        visit.assert_clean()


def test_example_site_math_renders_with_the_shipped_mathjax(browser, tmp_path_factory, tmp_path):
    from test_sphinx import build_site

    site = build_site(tmp_path_factory)
    with serve(site) as base:
        for name in SITE_PAGES:
            source = (site / name).read_text(encoding="utf-8")
            expected = len(re.findall(r'class="math notranslate nohighlight"', source))
            visit = Visit(browser, f"{base}/{name}")
            visit.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            visit.page.evaluate("() => MathJax.startup.promise.then(() => true)")
            sizes = visit.page.evaluate(SIZES_JS, "mjx-container")
            assert len(sizes) == expected > 0, name
            assert all(w > 0 and h > 0 for w, h in sizes), name
            assert visit.page.evaluate("() => document.querySelectorAll('mjx-merror').length") == 0, name
            if name == "worked-example.html":
                visit.screenshot(tmp_path / "worked-example.png")
            visit.assert_clean()
            visit.page.close()


@pytest.fixture(scope="module")
def corpus_pages(tmp_path_factory):
    """Every derivation of the formula corpus (and the network examples) as a standalone page."""
    from test_latex_corpus import corpus_cases

    from symderiv.cli import main

    folder = tmp_path_factory.mktemp("corpus-pages")
    cases = corpus_cases() + [
        ["--layer", "dense(h, relu)", "--loss", "mse"],
        ["--layer", "dense(h, relu)", "--layer", "dense(k)", "--loss", "softmax_cross_entropy",
         "--regularizer", "l2(lambda=0.01)"],
    ]
    names = []
    for k, argv in enumerate(cases):
        name = f"case{k:02d}.html"
        assert main(["derive", *argv, "--format", "html", "-o", str(folder / name)]) == 0, argv
        names.append(name)
    return folder, names


def test_corpus_pages_render_their_math_in_chromium(browser, corpus_pages, tmp_path):
    folder, names = corpus_pages
    with serve(folder) as base:
        for name in names:
            source = (folder / name).read_text(encoding="utf-8")
            visit = Visit(browser, f"{base}/{name}")
            sizes = visit.page.evaluate(SIZES_JS, "math")
            assert len(sizes) == len(re.findall(r"<math\b", source)) >= 3, name
            assert all(w > 0 and h > 0 for w, h in sizes), name
            assert visit.page.evaluate("() => document.querySelectorAll('merror').length") == 0, name
            if name == names[-1]:
                visit.screenshot(tmp_path / "network.png")
            visit.assert_clean()
            visit.page.close()

"""The render stage: a derivation as LaTeX, text and (registered by their modules) other formats."""

from __future__ import annotations

from collections.abc import Callable

# format name -> (function(derivation, standalone) -> str, default file suffix)
FORMATS: dict[str, tuple[Callable, str]] = {}


def register_format(name: str, suffix: str):
    """Decorator: make ``symderiv derive --format NAME`` use the decorated function."""

    def add(function: Callable) -> Callable:
        FORMATS[name] = (function, suffix)
        return function

    return add


def render(derivation, fmt: str = "latex", standalone: bool = False) -> str:
    """``derivation`` in the format ``fmt``."""
    from ..errors import UnknownNameError

    _load_formats()
    if fmt not in FORMATS:
        raise UnknownNameError("format", fmt, list(FORMATS))
    return FORMATS[fmt][0](derivation, standalone)


def format_names() -> list[str]:
    _load_formats()
    return list(FORMATS)


def _load_formats() -> None:
    from . import derivation  # noqa: F401  (registers latex and text)

    for module in ("markdown", "html", "json"):
        try:
            __import__(f"{__name__}.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{module}":
                raise


def _presenter(module: str, function: str, **options) -> Callable:
    """A derivation's presenter, importing its printer module only when first used."""

    def present(derivation) -> str:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{module}"), function)(derivation, **options)

    return present


def _install_presenters() -> None:
    from ..derive import PRESENTERS

    PRESENTERS.update(
        latex=_presenter("derivation", "derivation_latex"),
        text=_presenter("derivation", "derivation_text"),
        notebook=_presenter("derivation", "derivation_latex", notebook=True),
        markdown=_presenter("markdown", "derivation_markdown"),
        html=_presenter("html", "derivation_html"),
    )


_install_presenters()
from . import view as _view  # noqa: E402,F401  (installs the Unicode printer of sentences' formulas)

"""The render stage: a derivation as LaTeX, text and (registered by their modules) other formats."""

from __future__ import annotations

from typing import Callable

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

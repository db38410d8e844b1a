"""Jinja environments over the top-level ``templates/`` folder (shipped as symderiv.templates)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


def templates_dir() -> Path:
    """The folder holding the templates, installed or in a source checkout."""
    try:
        folder = Path(str(resources.files("symderiv.templates")))
        if (folder / "module.py.j2").exists() or any(folder.glob("*.j2")):
            return folder
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "templates"


@cache
def environment(latex: bool = False) -> Any:
    """A Jinja environment; LaTeX templates use ((* *)) and ((( ))) so braces stay TeX's."""
    import jinja2

    options: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(str(templates_dir())),
        "undefined": jinja2.StrictUndefined,
        "keep_trailing_newline": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "autoescape": False,
    }
    if latex:
        options.update(
            block_start_string="((*",
            block_end_string="*))",
            variable_start_string="(((",
            variable_end_string=")))",
            comment_start_string="((=",
            comment_end_string="=))",
        )
    return jinja2.Environment(**options)


def render(name: str, **context) -> str:
    """Render the template ``name`` (LaTeX templates are those ending in .tex.j2)."""
    return environment(latex=name.endswith(".tex.j2")).get_template(name).render(**context)

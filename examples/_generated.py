"""Import a module from examples/generated/ by name (the examples need only NumPy for this)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

GENERATED = Path(__file__).resolve().parent / "generated"


def load(name: str):
    """The generated module ``examples/generated/<name>.py``."""
    spec = importlib.util.spec_from_file_location(name, GENERATED / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

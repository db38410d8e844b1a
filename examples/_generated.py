"""Import a generated module: one committed under examples/generated/ by name, or a source
generated at run time (the examples need only NumPy for the first)."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

GENERATED = Path(__file__).resolve().parent / "generated"


def load(name: str):
    """The generated module ``examples/generated/<name>.py``."""
    spec = importlib.util.spec_from_file_location(name, GENERATED / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def from_source(name: str, source: str):
    """The module ``name`` made from ``source`` (written to a temporary file and imported)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module

"""The codegen stage: a Derivation becomes an importable NumPy module (source text).

The stages, one module each: :mod:`.program` lowers the derivation to a straight-line program
(forward values, then adjoints) and derives the Hessian-vector product from it in forward mode;
:mod:`.blocking` splits a program into what runs once and what runs per block of rows;
:mod:`.emit` prints statements as NumPy (element-wise parts through :mod:`.elementwise`);
:mod:`.module` assembles the functions and fills the ``module.py.j2`` template.
"""

from ..numpy_printer import CodegenError
from .module import MARKER, MAX_HESSIAN_PARAMETERS, default_command, generate, generate_from
from .names import check_identifier

__all__ = [
    "MARKER",
    "MAX_HESSIAN_PARAMETERS",
    "CodegenError",
    "check_identifier",
    "default_command",
    "generate",
    "generate_from",
]

"""Names in generated modules: checked user identifiers and fresh local names."""

from __future__ import annotations

import builtins
import keyword

from ..numpy_printer import HELPERS, CodegenError

MODULE_NAMES = {  # the module's own names and the fixed locals of its functions
    "np",
    "predict",
    "loss",
    "value",
    "grad",
    "value_and_grad",
    "hvp",
    "hessian",
    "annotations",
    "block_size",
    "direction",
    "dtype",
    "rows",
    "parts",
    "totals",
    "MAX_HESSIAN_PARAMETERS",
}
RESERVED_PREFIXES = ("_", "grad_", "d_", "part_")


def check_identifier(name: str, what: str = "symbol") -> str:
    """``name`` if it can be a parameter of the generated module, else CodegenError."""
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        raise CodegenError(f"{what} name {name!r} is not a Python identifier")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise CodegenError(f"{what} name '{name}' is a Python keyword")
    if name.startswith(RESERVED_PREFIXES) or name in MODULE_NAMES or hasattr(builtins, name):
        raise CodegenError(f"{what} name '{name}' would shadow a name of the generated module")
    if name in ("l", "I", "O"):
        raise CodegenError(f"{what} name '{name}' is ambiguous (ruff E741): choose another")
    return name


class Names:
    """Fresh local names that clash with nothing taken."""

    def __init__(self, taken=()):
        self.taken = set(taken) | MODULE_NAMES | set(HELPERS)

    def fresh(self, base: str) -> str:
        name, k = base, 0
        while name in self.taken or keyword.iskeyword(name) or hasattr(builtins, name) or name in ("l", "I", "O"):
            k += 1
            name = f"{base}{k}"
        self.taken.add(name)
        return name

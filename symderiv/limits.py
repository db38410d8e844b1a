"""The limits no input can exceed, in one place: depth of expressions, and a wall-clock guard.

* :data:`MAX_DEPTH` — operations on the longest path of an expression graph, for every entry
  (``--expr``, activations, losses, networks, the API, JSON trees): deeper graphs would exhaust
  the recursion of the printers and of SymPy.
* :data:`MAX_FORMULA_DEPTH` — an activation's or loss's formula becomes one SymPy expression that
  SymPy differentiates and prints recursively, at a cost that grows with the square of its depth.
* :func:`time_limit` — a last resort for the command line and the Sphinx directive: a SIGALRM timer
  (main thread of a POSIX process only; elsewhere it does nothing) that stops a stage that runs
  longer than its budget with :class:`TimeLimitError`. Every stage has bounded algorithms first;
  the guard only catches what slips through.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import SymderivError

MAX_DEPTH = 150
MAX_FORMULA_DEPTH = 64
DEFAULT_TIME_LIMIT = 60.0  # seconds for one command or one directive
TIME_LIMIT_VARIABLE = "SYMDERIV_TIME_LIMIT"  # environment variable: seconds, 0 for no limit


class TimeLimitError(SymderivError):
    """A stage ran longer than its time budget."""


def check_depth(levels: int, what: str = "the expression", limit: int = MAX_DEPTH) -> None:
    """Refuse ``what`` when it is ``levels`` operations deep, more than ``limit``."""
    if levels > limit:
        raise SymderivError(
            f"{what} is {levels} operations deep; symderiv derives expressions up to {limit} deep"
            " (use sum() or a vector instead of long chains of + or *)"
        )


def sympy_depth(expr) -> int:
    """The number of operations on the longest path of a SymPy expression (no recursion)."""
    deepest, stack = 0, [(expr, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((arg, level + 1) for arg in node.args)
    return deepest


def time_budget(value: float | str | None = None) -> float:
    """Seconds allowed: ``value``, else $SYMDERIV_TIME_LIMIT, else :data:`DEFAULT_TIME_LIMIT`; 0 is none."""
    raw = os.environ.get(TIME_LIMIT_VARIABLE, "") if value is None else value
    if raw == "" or raw is None:
        return DEFAULT_TIME_LIMIT
    try:
        seconds = float(raw)
    except ValueError:
        raise SymderivError(f"a time limit must be a number of seconds, got '{raw}'") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise SymderivError(f"a time limit must be a finite number of seconds >= 0, got {raw}")
    return seconds


class _Expired(BaseException):
    """Raised by the timer inside the guarded code; a BaseException so no ``except Exception`` eats it."""


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Run the body for at most ``seconds`` (0: no limit); past that, :class:`TimeLimitError`.

    ``what`` names the work in the message: "symderiv: error: deriving took longer than 60 s".
    Without SIGALRM (Windows) or off the main thread the body runs unguarded. An outer timer
    already set (a nested guard, or the host's own) is left alone: the body then runs unguarded.
    """
    if not seconds or not _can_alarm() or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return
    token, active = _Expired(what), [True]

    def expire(signum, frame):
        if active[0]:  # not once the body has finished
            raise token

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
        active[0] = False
    except _Expired as error:
        if error is not token:
            raise
        raise TimeLimitError(f"{what} took longer than {seconds:g} s (the limit: set it with "
                             f"--time-limit or ${TIME_LIMIT_VARIABLE}, 0 for none)") from None
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

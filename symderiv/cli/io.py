"""Writing results: standard output, or a file written atomically and never overwritten silently."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from . import UsageError


def write_output(text: str, path: str | None, force: bool = False, may_replace=None) -> None:
    """Print ``text`` (path None or '-') or write it atomically to ``path``.

    An existing file is replaced only with ``force`` or when ``may_replace(path)`` says so.
    """
    if path in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{path} is a directory")
    if target.exists() and not force and not (may_replace and may_replace(target)):
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    atomic_write(target, text)


def atomic_write(target: Path, text: str) -> None:
    """Write to a temporary file beside ``target``, then rename it over ``target``."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: folder {folder} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

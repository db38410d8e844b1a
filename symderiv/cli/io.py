"""Writing results: standard output, or a regular file written atomically and never overwritten silently.

Only a new path or an existing regular file is ever written: a directory, a device, a FIFO or a
socket is refused, with or without ``--force``. The text goes to a hidden temporary file beside
the target (mode from the umask, or the mode of the file it replaces), is fsynced, then renamed
over the target; SIGINT, SIGTERM or any error on the way removes the temporary file and leaves an
existing target untouched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path

from . import UsageError

PREFIX_BYTES = 4096  # how much of an existing target ``read_prefix`` reads, at most
SIGNALS = (signal.SIGINT, signal.SIGTERM)

KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def write_output(text: str, path: str | None, force: bool = False, may_replace=None) -> None:
    """Print ``text`` (path None or '-') or write it atomically to ``path``.

    An existing regular file is replaced only with ``force`` or when ``may_replace(path)`` says
    so; anything else that exists (directory, device, FIFO, socket) is refused.
    """
    if path in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target, exists = writable_target(path)
    if exists and not force and not (may_replace and may_replace(target)):
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    atomic_write(target, text)


def writable_target(path: str) -> tuple[Path, bool]:
    """The file to write for ``path`` (a symbolic link's target) and whether it exists.

    Raises UsageError unless ``path`` is a new path or (a link to) a regular file.
    """
    if not path:
        raise UsageError("the output path is empty (use '-' for standard output)")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise UsageError(f"cannot write {path}: it is a broken symbolic link") from None
        return Path(path), False
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
    kind = file_kind(info.st_mode)
    if kind == "a directory":
        raise UsageError(f"{path} is a directory")
    if kind:
        raise UsageError(f"{path} is {kind}, not a regular file (use -o - for standard output)")
    return Path(os.path.realpath(path)) if os.path.islink(path) else Path(path), True


def file_kind(mode: int) -> str | None:
    """None for a regular file, else what the file is ('a directory', 'a FIFO (named pipe)', ...)."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def read_prefix(path: Path, limit: int = PREFIX_BYTES) -> bytes | None:
    """At most ``limit`` bytes from the start of the regular file ``path``; None for anything else.

    Never blocks on a FIFO or a device and never reads an endless file to its end.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return os.read(descriptor, limit)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def atomic_write(target: Path, text: str) -> None:
    """Write to a temporary file beside ``target``, fsync it, then rename it over ``target``."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: folder {folder} does not exist")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"cannot write {target}: the text is not valid UTF-8") from None
    mode = _mode_for(target)
    try:
        with _signals_raise():
            _write_replace(target, folder, data, mode)
    except _Signalled as signalled:
        signal.raise_signal(signalled.signum)  # now the previous handler's own behaviour (exit, KeyboardInterrupt)
        raise UsageError(f"writing {target} was interrupted") from None
    _fsync_folder(folder)


def _write_replace(target: Path, folder: Path, data: bytes, mode: int) -> None:
    """Create the temporary file, fill, fsync and rename it; remove it on any failure."""
    temporary = None
    try:
        with _signals_blocked():  # no signal between creating the file and knowing its name
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        try:
            os.fchmod(handle, mode)
            _write_all(handle, data)
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _write_all(descriptor: int, data: bytes) -> None:
    """os.write until every byte is written."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _mode_for(target: Path) -> int:
    """The mode of the file ``target`` replaces, or 0o666 less the umask for a new file."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode) & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform lets a directory be fsynced."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class _Signalled(BaseException):
    """SIGINT or SIGTERM arrived during a write; re-delivered once the temporary file is gone."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_signalled(signum, frame):
    raise _Signalled(signum)


@contextlib.contextmanager
def _signals_raise():
    """Turn SIGINT/SIGTERM into _Signalled while writing (main thread only; ignored signals stay so)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in SIGNALS:
        handler = signal.getsignal(signum)
        if handler not in (signal.SIG_IGN, None):
            previous[signum] = signal.signal(signum, _raise_signalled)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _signals_blocked():
    """Hold SIGINT/SIGTERM back for the duration (where the platform can)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

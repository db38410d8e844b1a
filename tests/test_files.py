"""Output files (issue 13, item 3): only regular files or new paths, bounded reads, atomic and
durable writes that respect the umask and leave nothing behind when killed or when the disk fails."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from symderiv.cli import UsageError, main
from symderiv.cli import io as cli_io
from symderiv.cli.codegen_cmd import is_generated

CODEGEN = ["codegen", "--activation", "relu", "--loss", "mse"]
DERIVE = ["derive", "--activation", "relu", "--format", "text"]


def run_cli(*argv) -> int:
    return main(list(argv))


def run_child(*argv, timeout=60, **kwargs):
    """The CLI in a child process, killed (and the test failed) if it does not finish in time."""
    return subprocess.run(
        [sys.executable, "-m", "symderiv", *argv],
        check=False, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kwargs,
    )


def leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def one_line_error(stderr: str, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symderiv: error: "), stderr
    assert "Traceback" not in stderr and all(word in lines[0] for word in words), stderr


# ---- what may be written --------------------------------------------------------------------


@pytest.mark.parametrize("force", [[], ["--force"]])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/full"])
def test_endless_device_is_refused_fast(device, force):
    if not os.path.exists(device) or not stat.S_ISCHR(os.stat(device).st_mode):
        pytest.skip(f"{device} is not a character device here")
    started = time.monotonic()
    result = run_child(*CODEGEN, "-o", device, *force, timeout=30)
    assert result.returncode == 2 and time.monotonic() - started < 30
    one_line_error(result.stderr, device, "character device")
    assert stat.S_ISCHR(os.stat(device).st_mode)


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_dev_null_is_refused_and_stays_a_device(force, capsys):
    assert run_cli(*DERIVE, "-o", "/dev/null", *force) == 2
    one_line_error(capsys.readouterr().err, "/dev/null", "character device")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("force", [[], ["--force"]])
@pytest.mark.parametrize("command", [CODEGEN, DERIVE])
def test_fifo_is_refused_without_blocking_and_not_replaced(tmp_path, command, force):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = run_child(*command, "-o", str(fifo), *force, timeout=30)
    assert result.returncode == 2
    one_line_error(result.stderr, str(fifo), "FIFO")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and leftovers(tmp_path) == []


def test_dev_stdout_into_a_pipe_is_refused_rather_than_blocking():
    child = subprocess.Popen(
        [sys.executable, "-m", "symderiv", *CODEGEN, "-o", "/dev/stdout"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    out, err = child.communicate(timeout=30)
    assert child.returncode == 2 and out == ""
    one_line_error(err, "/dev/stdout", "-o -")


def test_socket_is_refused(capsys):
    with tempfile.TemporaryDirectory(prefix="sd") as folder:  # short: socket paths are limited
        path = os.path.join(folder, "s")
        server = socket.socket(socket.AF_UNIX)
        try:
            server.bind(path)
            assert run_cli(*CODEGEN, "-o", path, "--force") == 2
        finally:
            server.close()
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    one_line_error(capsys.readouterr().err, path, "socket")


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_directory_is_refused(tmp_path, force, capsys):
    assert run_cli(*DERIVE, "-o", str(tmp_path), *force) == 2
    one_line_error(capsys.readouterr().err, str(tmp_path), "directory")
    assert tmp_path.is_dir()


def test_empty_path_and_broken_link_are_refused(tmp_path, capsys):
    assert run_cli(*DERIVE, "-o", "") == 2
    one_line_error(capsys.readouterr().err, "empty")
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "missing" / "x.txt")
    assert run_cli(*DERIVE, "-o", str(link), "--force") == 2
    one_line_error(capsys.readouterr().err, str(link), "broken symbolic link")
    assert link.is_symlink()


def test_link_to_a_regular_file_replaces_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert run_cli(*DERIVE, "-o", str(link)) == 2  # exists: no silent overwrite through a link either
    assert run_cli(*DERIVE, "-o", str(link), "--force") == 0
    assert link.is_symlink() and "relu" in real.read_text()


@pytest.mark.parametrize("command", [CODEGEN, DERIVE])
def test_dash_writes_to_stdout(tmp_path, command, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(*command, "-o", "-") == 0
    out = capsys.readouterr().out
    assert ("def grad(" in out) if command is CODEGEN else ("relu" in out)
    assert os.listdir(tmp_path) == []


# ---- reading an existing target -------------------------------------------------------------


def test_is_generated_reads_only_a_bounded_prefix(tmp_path, monkeypatch):
    reads = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    huge = tmp_path / "huge.py"
    huge.write_bytes(b"x" * (3 * cli_io.PREFIX_BYTES))  # one long first line without a newline
    assert not is_generated(huge)
    assert reads and max(reads) <= cli_io.PREFIX_BYTES
    generated = tmp_path / "gen.py"
    generated.write_bytes(b"# Generated by symderiv\n" + b"\xff" * 10)
    assert is_generated(generated)


def test_is_generated_is_false_for_non_regular_files_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert not is_generated(fifo) and not is_generated(tmp_path) and not is_generated(tmp_path / "new")
    assert cli_io.read_prefix(fifo) is None and cli_io.read_prefix(os.devnull) is None


# ---- writing: mode, atomicity, failures -----------------------------------------------------

UMASK_SCRIPT = """
import os, sys
from symderiv.cli import main
os.umask(int(sys.argv[1], 8))
sys.exit(main(["derive", "--activation", "relu", "--format", "text", "-o", sys.argv[2]]))
"""


@pytest.mark.parametrize(("umask", "mode"), [("077", 0o600), ("022", 0o644), ("002", 0o664)])
def test_new_file_respects_the_umask(tmp_path, umask, mode):
    target = tmp_path / "out.txt"
    result = subprocess.run([sys.executable, "-c", UMASK_SCRIPT, umask, str(target)],
                            check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == mode


def test_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    assert run_cli(*DERIVE, "-o", str(target), "--force") == 0
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640 and "relu" in target.read_text()


def test_file_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append("replace") or real_replace(a, b))
    assert run_cli(*DERIVE, "-o", str(tmp_path / "out.txt")) == 0
    assert events[:2] == ["fsync", "replace"]  # then the folder, where the platform allows


@pytest.mark.parametrize(
    ("where", "code"),
    [("_write_all", errno.ENOSPC), ("replace", errno.ENOSPC), ("fsync", errno.EIO), ("mkstemp", errno.EACCES)],
)
def test_disk_failure_is_one_line_exit_2_and_target_untouched(tmp_path, monkeypatch, capsys, where, code):
    target = tmp_path / "out.txt"
    target.write_text("precious\n")

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    owner = {"_write_all": cli_io, "mkstemp": cli_io.tempfile}.get(where, os)
    monkeypatch.setattr(owner, where, fail)
    assert run_cli(*DERIVE, "-o", str(target), "--force") == 2
    one_line_error(capsys.readouterr().err, str(target), os.strerror(code))
    assert target.read_text() == "precious\n" and leftovers(tmp_path) == []


def test_read_only_folder_is_one_line_exit_2(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        result = run_child(*DERIVE, "-o", str(folder / "out.txt"))
        assert result.returncode == 2
        one_line_error(result.stderr, "out.txt", "Permission denied")
    finally:
        folder.chmod(0o755)


def test_error_during_write_removes_the_temporary_file(tmp_path, monkeypatch):
    def broken(descriptor, data):
        os.write(descriptor, data[:10])
        raise RuntimeError("unexpected")

    monkeypatch.setattr(cli_io, "_write_all", broken)
    with pytest.raises(RuntimeError):
        cli_io.write_output("text\n", str(tmp_path / "out.txt"))
    assert os.listdir(tmp_path) == []


SLOW_WRITE_SCRIPT = """
import os, sys, time
from symderiv.cli import io, main

def slow(descriptor, data):
    os.write(descriptor, data[:100])
    print("writing", flush=True)
    time.sleep(60)

io._write_all = slow
sys.exit(main(["derive", "--activation", "relu", "--format", "text", "-o", sys.argv[1], "--force"]))
"""


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_signal_during_a_slow_write_leaves_no_temporary_file(tmp_path, signum, status):
    target = tmp_path / "out.txt"
    target.write_text("precious\n")
    child = subprocess.Popen([sys.executable, "-c", SLOW_WRITE_SCRIPT, str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        assert len(leftovers(tmp_path)) == 1  # the write is under way
        child.send_signal(signum)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == status, child.stderr.read()
    assert "Traceback" not in child.stderr.read()
    assert leftovers(tmp_path) == [] and target.read_text() == "precious\n"


def test_signal_handlers_are_restored_after_a_write(tmp_path):
    before = {signum: signal.getsignal(signum) for signum in cli_io.SIGNALS}
    cli_io.write_output("text\n", str(tmp_path / "out.txt"))
    assert {signum: signal.getsignal(signum) for signum in cli_io.SIGNALS} == before


def test_writable_target_reports_usage_errors(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="Not a directory"):
        cli_io.writable_target(str(tmp_path / "file" / "below"))
    assert cli_io.writable_target(str(tmp_path / "new.txt")) == (tmp_path / "new.txt", False)
    assert cli_io.file_kind(os.stat(tmp_path).st_mode) == "a directory"

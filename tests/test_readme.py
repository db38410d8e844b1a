"""The README's commands and examples work as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.S)


def test_ci_runs_the_readmes_test_command():
    test_command = next(b for b in shell_blocks() if "pytest" in b).strip()
    install_and_test = test_command.split("&& ", 2)[2]  # after creating and activating the venv
    assert install_and_test in (ROOT / ".ci" / "run").read_text()


def test_main_command_runs_the_demo():
    main_command = shell_blocks()[0].strip()
    assert main_command.endswith("pip install . && symderiv demo")


def test_python_api_example_runs_and_prints_what_it_says():
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    comments = re.findall(r"print\(g\.\w+\)\s+# (.+?)(?:\s{2,}|$)", code, re.M)
    assert len(comments) == 3
    for comment in comments:
        assert comment in result.stdout

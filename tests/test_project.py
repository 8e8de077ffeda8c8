"""The project's own promises: README commands, CI, lint."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    install_and_run, install_and_test = _readme_commands()
    assert "pip install ." in install_and_run and "xlsmallcap" in install_and_run
    assert "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text()
    assert install_and_test in ci.splitlines()


@pytest.mark.another_process
def test_ruff_clean():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.another_process
def test_package_imports_without_network_libraries():
    """Importing the data store must not pull in yfinance (start-up time in Excel)."""
    code = ("import sys, xlsmallcap.data.store; "
            "print('yfinance' in sys.modules, 'typer' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.split() == ["False", "False"]

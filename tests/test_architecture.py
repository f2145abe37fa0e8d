"""The architecture contracts `make lint` checks (import-linter, `[tool.importlinter]` in
pyproject.toml): they hold today, and each one breaks when the import it forbids appears.

Each case copies the packages to a temporary directory, adds one offending import to one
module, and runs `lint-imports` there: the named contract must break."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("jobs", "realtime", "jobsentinel")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "offending_import", "contract"),
    [
        ("jobs/services.py", "import realtime.log", "jobs knows nothing of delivery"),
        ("jobs/admin.py", "import channels.layers", "jobs knows nothing of delivery"),
        ("jobs/scraping.py", "import alerts", "jobs knows nothing of delivery"),
        ("realtime/hub.py", "import alerts", "realtime knows nothing of alerts"),
        ("jobs/scrapers/lever.py", "import django.db", "board parsing, scoring and hashing"),
        ("jobs/postings.py", "import jobs.models", "board parsing, scoring and hashing"),
        ("jobs/scoring.py", "import rest_framework", "board parsing, scoring and hashing"),
        ("jobsentinel/settings.py", "import jobs.scrapers", "settings never import an app"),
        ("jobsentinel/urls.py", "import jobs.services", "jobsentinel is wiring only"),
        ("jobsentinel/asgi.py", "import realtime.models", "jobsentinel is wiring only"),
    ],
)
def test_each_contract_catches_its_regression(
    tmp_path: Path, module: str, offending_import: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{offending_import}  # noqa\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout

"""The Makefile's test target on a machine without Node.js."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_js_skips_with_a_message_without_node(tmp_path: Path) -> None:
    # A PATH holding only the shell: `node` cannot be found.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sh").symlink_to(shutil.which("sh") or "/bin/sh")
    env = {**os.environ, "PATH": str(bin_dir)}
    env.pop("JOBSENTINEL_REQUIRE_SERVICES", None)
    make = shutil.which("make") or "make"
    result = subprocess.run(
        [make, "-s", "test-js"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Node.js not found: skipping the JS client's tests" in result.stdout
    # Where every test must run, a missing Node.js fails instead.
    env["JOBSENTINEL_REQUIRE_SERVICES"] = "1"
    result = subprocess.run(
        [make, "-s", "test-js"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Node.js is required" in result.stderr

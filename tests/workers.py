"""Real `manage.py worker` processes for tests, on this test run's private queue."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_env

# Quick sweeps and short leases so that tests about schedules and dead workers take seconds.
FAST = {"JOBSENTINEL_SCHEDULE_TICK_SECONDS": "0.5", "JOBSENTINEL_RUN_LEASE_SECONDS": "3"}


class Worker:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str, timeout: float = 60.0) -> Worker:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", *args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while "worker started" not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log()}")
            time.sleep(0.1)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def flush_queue() -> None:
    """Drop what earlier tests left queued, so a worker only sees this test's tasks."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()


@pytest.fixture
def worker_factory(tmp_path: Path, transactional_db: None) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []
    flush_queue()

    def start(*args: str, fast: bool = True, **env: str | None) -> Worker:
        settings_env = {**(FAST if fast else {}), **env}
        worker = Worker(subprocess_env(**settings_env), tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker.start(*args)

    yield start
    for worker in started:
        worker.stop()
    flush_queue()

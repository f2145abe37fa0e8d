"""Shared fixtures: a fresh channel layer per test, and real daphne / manage.py subprocesses
that use the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.boards", "tests.vendor_boards", "tests.workers"]


# Test runs that share one Redis (several checkouts on a machine) must not hear each other.
TEST_CHANNEL_PREFIX = f"jobsentinel-test-{os.getpid()}"


@pytest.fixture(autouse=True, scope="session")
def _private_channel_prefix() -> None:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    config: dict[str, Any] = layer.get("CONFIG", {})
    if "prefix" in config:
        config["prefix"] = TEST_CHANNEL_PREFIX
    _private_task_queue()


def _private_task_queue() -> None:
    """Point this process's huey at the queue its test subprocesses (worker, daphne) use: they
    get JOBSENTINEL_CHANNEL_PREFIX=TEST_CHANNEL_PREFIX, and the queue is named after it."""
    from huey.contrib.djhuey import HUEY

    HUEY.name = TEST_CHANNEL_PREFIX
    if "filename" in HUEY.storage_kwargs:
        HUEY.storage_kwargs["filename"] = str(
            Path(settings.DATA_DIR) / f"{TEST_CHANNEL_PREFIX}-queue.sqlite3"
        )
    HUEY.storage = HUEY.create_storage()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    # The in-memory layer is a process-wide singleton; a test must not see another's groups.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
async def stop_relay() -> Any:
    """Communicator tests start this process's event hub: stop it with the test's loop, and
    close the connections that sync_to_async threads opened (PostgreSQL refuses to drop a
    test database that still has sessions)."""
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    from realtime.hub import stop_hub

    await stop_hub()
    await sync_to_async(connections.close_all)()


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def require_redis() -> str:
    """The Redis URL for tests that need one. CI sets JOBSENTINEL_REQUIRE_SERVICES so that a
    missing Redis fails the run instead of skipping what must be proven."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if not redis_available():
        if os.environ.get("JOBSENTINEL_REQUIRE_SERVICES"):
            pytest.fail("Redis is required (JOBSENTINEL_REQUIRE_SERVICES is set) but not reachable")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """A DATABASE_URL naming the database this test run uses (pytest-django's test database)."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(str(name)).resolve()}"
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{name}"
    )


def subprocess_env(**overrides: str | None) -> dict[str, str]:
    # Servers under test must never run with the browser tests' async-safety override.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="jobsentinel.settings",
        DATABASE_URL=test_database_url(),
        JOBSENTINEL_DATA_DIR=str(settings.DATA_DIR),
        JOBSENTINEL_CHANNEL_PREFIX=TEST_CHANNEL_PREFIX,
        PYTHONUNBUFFERED="1",
    )
    env.pop("REDIS_URL", None)
    env.pop("JOBSENTINEL_QUEUE_NAME", None)
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_manage(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env or subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Daphne:
    """A real daphne process serving the project's ASGI app on a free port."""

    def __init__(
        self, env: dict[str, str], log_path: Path, extra_args: list[str], bind: str = "127.0.0.1"
    ) -> None:
        self.bind = bind
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def authority(self) -> str:
        """host:port as a URL (and a browser's Origin) spells it."""
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"{host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.authority}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.authority}/api/v1/ws/jobs"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "daphne",
            "--bind",
            self.bind,
            "--port",
            str(self.port),
            *self.extra_args,
            "jobsentinel.asgi:application",
        ]

    def start(self, timeout: float = 30.0, *, healthy: bool = True) -> Daphne:
        """Start and wait until the health check answers (200, or anything with healthy=False)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.log()}")
            try:
                status = httpx.get(f"{self.http_url}/api/v1/health", timeout=5).status_code
                if status == 200 or not healthy:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"daphne did not become healthy:\n{self.log()}")

    def stop(self, sig: int | None = None) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if sig is None:
            self.process.terminate()
        else:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def daphne_factory(tmp_path: Path, transactional_db: None) -> Iterator[Callable[..., Daphne]]:
    started: list[Daphne] = []

    def start(
        extra_args: list[str] | None = None,
        healthy: bool = True,
        bind: str = "127.0.0.1",
        **env: str | None,
    ) -> Daphne:
        server = Daphne(
            subprocess_env(**env), tmp_path / f"daphne-{len(started)}.log", extra_args or [], bind
        )
        started.append(server)
        return server.start(healthy=healthy)

    yield start
    for server in started:
        server.stop()

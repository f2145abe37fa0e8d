"""The web server and the worker under database faults, as `make run` runs them (`serve`: real
daphne + real worker): a 30 s SQLite write lock held by another process, PostgreSQL sessions
terminated again and again, and (where allowed) a real PostgreSQL restart. The server keeps
answering, the worker neither exits nor is restarted, and scrapes succeed again afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from jobs.models import ScrapeRun, Source
from tests.boards import BoardServer, greenhouse_job
from tests.conftest import ROOT, free_port, subprocess_env
from tests.factories import make_source
from tests.workers import FAST, flush_queue

# Set by .ci/run's PostgreSQL pass: restarting the server disturbs every other test run using
# it on this machine, so it is never done unless asked for.
PG_RESTART_VAR = "JOBSENTINEL_TEST_PG_RESTART"


class Serve:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.log_path = tmp_path / "serve.log"
        flush_queue()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port)], cwd=ROOT,
            env=subprocess_env(**FAST, JOBSENTINEL_SCRAPE_INTERVAL="10"),
            stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.health_url, timeout=2)
                return
            except httpx.HTTPError:
                assert time.monotonic() < deadline, self.log()
                time.sleep(0.3)

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/health"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def serve(tmp_path: Path, transactional_db: None) -> Iterator[Serve]:
    server = Serve(tmp_path)
    yield server
    server.stop()


class HealthProbe:
    """Asks /api/v1/health every 0.5 s from a thread; records each answer (status, seconds)
    or the failure to get one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[int, float]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status = httpx.get(self.url, timeout=15).status_code
                self.answers.append((status, time.monotonic() - started))
            except httpx.HTTPError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(0.5)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def summary(self) -> str:
        slowest = max((s for _, s in self.answers), default=0.0)
        statuses = sorted({status for status, _ in self.answers})
        return (
            f"{len(self.answers)} answers (statuses {statuses}, slowest {slowest:.2f} s), "
            f"{len(self.failures)} unanswered"
        )


def wait_for(
    condition: Callable[[], bool], what: str, log: Callable[[], str], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out: {what}\n{log()[-5000:]}"
        time.sleep(0.3)


def succeeded_since(source: Source, since: object) -> bool:
    return ScrapeRun.objects.filter(
        source=source, status="succeeded", started_at__gt=since
    ).exists()


@pytest.fixture
def watched(board_server: BoardServer) -> Source:
    board_server.board.jobs["acme"] = [greenhouse_job(1, "Backend Engineer")]
    return make_source(token="acme", api_url=board_server.url, scrape_interval=10)


def assert_worker_survived(server: Serve) -> None:
    text = server.log()
    assert "exited with status" not in text, text[-5000:]  # no child died, none restarted
    assert text.count("worker started") == 1
    assert server.process.poll() is None


def test_a_30_second_sqlite_write_lock(serve: Serve, watched: Source) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock; the PostgreSQL pass runs the outage tests instead")
    wait_for(lambda: succeeded_since(watched, timezone.now() - timedelta(hours=1)),
             "a first scrape", serve.log, 60)  # fmt: skip
    path = connection.settings_dict["NAME"]
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         f"db = sqlite3.connect({str(path)!r}, timeout=60, isolation_level=None)\n"
         "db.execute('BEGIN IMMEDIATE')\n"
         "print('locked', flush=True)\n"
         "time.sleep(30)\n"
         "db.execute('ROLLBACK')\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    with HealthProbe(serve.health_url) as probe:
        holder.wait(timeout=90)
        released = timezone.now()
    print(f"health during a 30 s SQLite write lock: {probe.summary()}")
    assert not probe.failures, probe.failures
    assert len(probe.answers) >= 20
    wait_for(lambda: succeeded_since(watched, released), "a scrape after the lock", serve.log, 90)
    assert "database is locked" in serve.log()  # the lock did reach the worker...
    assert_worker_survived(serve)  # ...which logged it and carried on


def terminate_sessions(seconds: float) -> int:
    """Terminate every other session of the test database, again and again, for `seconds`:
    what a PostgreSQL restart does to its clients, without disturbing other databases."""
    from django.db import connections

    killed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed += cursor.fetchone()[0]
        time.sleep(0.2)
    return killed


def restart_postgres() -> int:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", version, "main", "restart"], check=True, timeout=120)
    connection.close()
    return 0


OUTAGES: dict[str, Callable[[], int]] = {
    "sessions_terminated": lambda: terminate_sessions(8.0),
    "server_restarted": restart_postgres,
}


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_a_postgresql_outage(
    serve: Serve, watched: Source, board_server: BoardServer, outage: str
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the CI's second pass runs it)")
    if outage == "server_restarted" and not os.environ.get(PG_RESTART_VAR):
        pytest.skip(f"restarts the machine's PostgreSQL: only when {PG_RESTART_VAR}=1 (.ci/run)")
    wait_for(lambda: succeeded_since(watched, timezone.now() - timedelta(hours=1)),
             "a first scrape", serve.log, 60)  # fmt: skip
    board_server.board.delay = 2.0  # a scrape is in flight when the database goes
    with HealthProbe(serve.health_url) as probe:
        killed = OUTAGES[outage]()
        connection.close()
        recovered = timezone.now()
        time.sleep(2)
    print(f"{outage}: {killed} sessions terminated; health meanwhile: {probe.summary()}")
    assert not probe.failures, probe.failures
    assert {status for status, _ in probe.answers} <= {200, 503}
    board_server.board.delay = 0
    wait_for(
        lambda: succeeded_since(watched, recovered), "a scrape after the outage", serve.log, 120
    )
    assert httpx.get(serve.health_url, timeout=10).status_code == 200
    assert_worker_survived(serve)

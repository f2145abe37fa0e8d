"""The servers under test, each a subprocess on a free loopback port with its own state.

- `daphne`: JobSentinel started by `manage.py serve --no-worker` (`--workers N`: N daphne
  processes on one socket; CPU and memory are their sums), in a
  fresh data directory (`manage.py migrate` first), production-like (`DJANGO_DEBUG=false`),
  with the connection caps raised and heartbeats pushed out of the way. Embedded mode: no
  Redis, SQLite in the data directory. Redis mode: `REDIS_URL` on a flushed bench database,
  with PostgreSQL (a database created for the run and dropped after) or SQLite.
- `reference`: `bench/reference_server.py`, the minimal `websockets` broadcast server.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench import ROOT, procs

Kind = Literal["daphne", "reference"]
Mode = Literal["embedded", "redis"]
Database = Literal["sqlite", "postgres"]

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
# Enough for the largest scenario; the defaults (10,000 / 100 per address) would refuse it.
MAX_CONNECTIONS = 20_000
# Heartbeats would add messages to the counts: one an hour keeps them out of every window.
HEARTBEAT_SECONDS = 3600
_database_names = itertools.count(1)


@dataclass(frozen=True)
class ServerSpec:
    kind: Kind
    mode: Mode | None = None
    database: Database = "sqlite"
    workers: int = 1  # daphne processes (`serve --workers`)

    @property
    def label(self) -> str:
        if self.kind == "reference":
            return "reference (websockets)"
        db = "PostgreSQL" if self.database == "postgres" else "SQLite"
        processes = f", {self.workers} web processes" if self.workers > 1 else ""
        return f"daphne {self.mode} ({db}{processes})"

    @property
    def key(self) -> str:
        if self.kind == "reference":
            return "reference"
        processes = f"-w{self.workers}" if self.workers > 1 else ""
        return f"{self.mode}-{self.database}{processes}"


REFERENCE = ServerSpec("reference")
EMBEDDED = ServerSpec("daphne", "embedded", "sqlite")


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except Exception:
        return False


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def redis_version() -> str | None:
    try:
        import redis

        info: Any = redis.Redis.from_url(REDIS_URL, socket_timeout=2).info("server")
        return str(info["redis_version"])
    except Exception:
        return None


def postgres_version() -> str | None:
    try:
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else None
    except Exception:
        return None


def redis_spec(prefer_postgres: bool = True) -> ServerSpec:
    database: Database = "postgres" if prefer_postgres and postgres_available() else "sqlite"
    return ServerSpec("daphne", "redis", database)


def _flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.flushdb()
    client.close()


def _postgres(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Server:
    """One server process. Use as a context manager: `with Server(spec, logs) as server:`."""

    def __init__(self, spec: ServerSpec, log_dir: Path) -> None:
        self.spec = spec
        self.port = procs.free_port()
        self.log_path = log_dir / f"{spec.key}-{self.port}.log"
        self.data_dir = Path(tempfile.mkdtemp(prefix="jobsentinel-bench-"))
        self.pg_database: str | None = None
        self.env = self._environment()
        self.process: subprocess.Popen[bytes] | None = None

    # --- addresses and measurements ------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws/jobs"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def server_pids(self) -> list[int]:
        """The processes that serve: `serve`'s daphne children (not `serve` itself, which only
        supervises), or the reference server."""
        if self.spec.kind == "reference":
            return [self.pid]
        return procs.children(self.pid, named=b"daphne")

    def rss_kb(self) -> int:
        return sum(procs.rss_kb(pid) for pid in self.server_pids())

    def cpu_seconds(self) -> float:
        return sum(procs.cpu_seconds(pid) for pid in self.server_pids())

    def settle(self, *, idle_cpu: float = 0.02, window: float = 0.5, timeout: float = 30) -> bool:
        """Wait until the server is idle (under `idle_cpu` CPU-seconds per `window`)."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(window)
            after = self.cpu_seconds()
            if after - before <= idle_cpu:
                return True
            before = after
        return False

    def producer_command(self, *, rate: float, duration: float, run: int) -> list[str]:
        timing = ["--rate", str(rate), "--duration", str(duration), "--run", str(run)]
        if self.spec.kind == "reference":
            url = f"ws://127.0.0.1:{self.port}/publish"
            return [sys.executable, "-m", "bench.producer", "reference", "--url", url, *timing]
        return [sys.executable, "-m", "bench.producer", "django", *timing]

    # --- life cycle ------------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("JOBSENTINEL_", "DJANGO_", "PYTEST"))
            and k not in {"DATABASE_URL", "REDIS_URL"}
        }
        env["PYTHONUNBUFFERED"] = "1"
        if self.spec.kind == "reference":
            return env
        database_url = ""
        if self.spec.database == "postgres":
            self.pg_database = f"jobsentinel_bench_{os.getpid()}_{next(_database_names)}"
            database_url = f"{POSTGRES_URL}/{self.pg_database}"
        # Empty values (rather than absent ones) so that a developer's `.env` cannot switch
        # the mode under the benchmark: settings treat "" as unset and dotenv never overrides.
        env.update(
            DJANGO_SETTINGS_MODULE="jobsentinel.settings",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            JOBSENTINEL_DATA_DIR=str(self.data_dir),
            DATABASE_URL=database_url,
            REDIS_URL=REDIS_URL if self.spec.mode == "redis" else "",
            JOBSENTINEL_API_KEYS="",
            JOBSENTINEL_WS_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
            JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP=str(MAX_CONNECTIONS),
            JOBSENTINEL_WS_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
        )
        return env

    def prepare(self) -> None:
        """Create this server's database (and empty its Redis database), then migrate."""
        if self.pg_database is not None:
            _postgres(f'CREATE DATABASE "{self.pg_database}"')
        if self.spec.mode == "redis":
            _flush_redis()
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{migrate.stdout}\n{migrate.stderr}")

    def start(self, timeout: float = 60.0) -> Server:
        if self.spec.kind == "reference":
            command = [sys.executable, "-m", "bench.reference_server", "--port", str(self.port)]
            health = f"http://127.0.0.1:{self.port}/health"
        else:
            self.prepare()
            command = [sys.executable, "manage.py", "serve", "--no-worker", "--host", "127.0.0.1"]
            command += ["--port", str(self.port), "--workers", str(self.spec.workers)]
            health = f"http://127.0.0.1:{self.port}/api/v1/health"
        self.process = procs.spawn(command, env=self.env, log_path=self.log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.spec.label} exited early; see {self.log_path}")
            if _http_ok(health) and len(self.server_pids()) == self.spec.workers:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.spec.label} did not become healthy; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None:
            procs.stop(self.process)
        if self.pg_database is not None:
            try:
                _postgres(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            except Exception as exc:
                print(f"warning: could not drop {self.pg_database}: {exc}", file=sys.stderr)
        if self.spec.mode == "redis":
            try:
                _flush_redis()
            except Exception as exc:
                print(f"warning: could not flush Redis: {exc}", file=sys.stderr)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

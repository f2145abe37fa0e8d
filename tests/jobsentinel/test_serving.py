"""A real daphne serving the project's ASGI app; `make run`'s serve command and its config."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Daphne, free_port, subprocess_env


def test_daphne_serves_pages_the_health_check_and_426(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    login = httpx.get(f"{server.http_url}/admin/login/")
    assert login.status_code == 200
    assert "JobSentinel" in httpx.get(f"{server.http_url}/").text
    health = httpx.get(f"{server.http_url}/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["database"] == "ok"
    assert health["channel_layer"]["status"] == "ok"
    upgrade = httpx.get(f"{server.http_url}/api/v1/ws/jobs")
    assert upgrade.status_code == 426
    assert upgrade.headers["upgrade"] == "websocket"
    assert "WebSocket endpoint" in upgrade.text
    static = httpx.get(f"{server.http_url}/static/admin/css/base.css")
    assert static.status_code == 200


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = subprocess_env(
        DATABASE_URL=None, REDIS_URL=None, PORT=str(port), JOBSENTINEL_DATA_DIR=str(data_dir)
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-scheduler"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait_healthy(port: int) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).json()
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError(f"nothing served on port {port}")


def test_two_instances_with_their_own_port_and_data_dir_share_nothing(tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    dirs = [tmp_path / "a", tmp_path / "b"]
    servers = [
        _serve(d, p, tmp_path / f"serve-{i}.log")
        for i, (d, p) in enumerate(zip(dirs, ports, strict=True))
    ]
    try:
        for port in ports:
            assert _wait_healthy(port)["last_event_id"] == 0
        env = subprocess_env(DATABASE_URL=None, REDIS_URL=None, JOBSENTINEL_DATA_DIR=str(dirs[0]))
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from realtime.record import broadcast_job_update_sync as b; "
                "b('new_job', {'job_id': 1})",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        assert _wait_healthy(ports[0])["last_event_id"] == 1
        assert _wait_healthy(ports[1])["last_event_id"] == 0
        assert (dirs[0] / "jobsentinel.sqlite3").exists()
        assert (dirs[1] / "jobsentinel.sqlite3").exists()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)


PRODUCTION = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "k" * 50}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "DJANGO_DEBUG on"),  # the default, fine on loopback only
        (PRODUCTION, "without API keys"),
    ],
)
def test_serving_on_a_public_address_unprotected_is_refused(
    host: str, env: dict[str, str], reason: str
) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "serve", "--host", host, "--no-scheduler"],
        cwd=ROOT,
        env=subprocess_env(JOBSENTINEL_API_KEYS=None, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"Refusing to serve on {host}" in result.stderr
    assert reason in result.stderr
    assert "JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC" in result.stderr


def _children(pid: int) -> dict[str, int]:
    """The serve process's children by role ("web", "worker"), from /proc."""
    found: dict[str, int] = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        role = "worker" if b"worker" in cmdline else "web" if b"daphne" in cmdline else None
        if role is not None:
            found[role] = int(child)
    return found


def _wait_children(
    pid: int, roles: set[str], not_pids: frozenset[int] | set[int] = frozenset()
) -> dict[str, int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = _children(pid)
        if roles <= set(children) and not (set(children.values()) & not_pids):
            return children
        time.sleep(0.2)
    raise AssertionError(f"children {roles} of {pid} not running: {_children(pid)}")


def _start_serve(tmp_path: Path, port: int, *args: str, **env: str) -> subprocess.Popen[bytes]:
    from tests.workers import FAST, flush_queue

    flush_queue()
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), *args], cwd=ROOT,
        env=subprocess_env(**FAST, **env), stdout=(tmp_path / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_serve_runs_the_worker_beside_daphne_and_ctrl_c_stops_both(
    board_server, tmp_path: Path
) -> None:
    import signal

    from jobs.models import Job, ScrapeRun
    from tests.boards import greenhouse_job
    from tests.factories import make_source

    board_server.board.jobs["acme"] = [greenhouse_job(1, "Backend Engineer")]
    make_source(token="acme", api_url=board_server.url)
    port = free_port()
    serve = _start_serve(tmp_path, port)
    try:
        assert _wait_healthy(port)["status"] == "ok"
        deadline = time.monotonic() + 60
        while not ScrapeRun.objects.filter(status="succeeded").exists():
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        assert Job.objects.filter(title="Backend Engineer").exists()
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=60)
    assert serve.returncode == 0, (tmp_path / "serve.log").read_text()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)


@pytest.mark.django_db(transaction=True)
def test_a_killed_child_is_restarted_and_the_other_keeps_running(tmp_path: Path) -> None:
    import signal

    port = free_port()
    serve = _start_serve(tmp_path, port)
    log = tmp_path / "serve.log"
    try:
        _wait_healthy(port)
        first = _wait_children(serve.pid, {"web", "worker"})

        os.kill(first["worker"], signal.SIGKILL)
        second = _wait_children(serve.pid, {"web", "worker"}, not_pids={first["worker"]})
        assert second["web"] == first["web"]  # daphne untouched...
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code == 200

        os.kill(first["web"], signal.SIGKILL)
        third = _wait_children(serve.pid, {"web", "worker"}, not_pids={first["web"]})
        assert third["worker"] == second["worker"]  # ...and the worker too
        assert _wait_healthy(port)["status"] == "ok"  # served again by the new daphne
        text = log.read_text()
        assert "worker (pid" in text
        assert "exited with status -9" in text
        assert "restarting web" in text
        assert "restarting worker" in text
        assert serve.poll() is None
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    assert serve.returncode == 0, log.read_text()
    for pid in third.values():
        assert not Path(f"/proc/{pid}").exists() or "Z" in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return "gone"


def test_a_busy_port_fails_at_once_with_a_clear_message() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"Cannot serve on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "another port" in result.stderr
    assert "JobSentinel on" not in result.stdout  # never announced


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_on_an_idle_serve_reports_no_run(tmp_path: Path) -> None:
    import signal

    from jobs.models import ScrapeRun
    from realtime.models import Event

    port = free_port()
    serve = _start_serve(tmp_path, port)
    _wait_healthy(port)
    _wait_children(serve.pid, {"web", "worker"})
    time.sleep(1)  # a few sweeps with nothing to do
    serve.send_signal(signal.SIGINT)
    serve.wait(timeout=60)
    text = (tmp_path / "serve.log").read_text()
    assert serve.returncode == 0, text
    assert "nterrupted" not in text
    assert "Stopped." in text
    assert not ScrapeRun.objects.exists()
    assert not Event.objects.filter(type="scrape_completed").exists()

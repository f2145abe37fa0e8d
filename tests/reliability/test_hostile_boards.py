"""Hostile boards against a real `manage.py scrape`: a gzip bomb and a 100 MB body cut at the
byte cap with the scrape's peak RSS measured, a board dripping bytes ended by the deadline
while the next source still runs, redirects to loopback refused, an HTML answer described and
never quoted, and one bad job skipped while the rest of its board is kept.

Every board here is a real HTTP server on a loopback address started by the test."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jobs.models import Job, JobStatus, ScrapeRun, ScrapeStatus, Source
from jobs.scraping import Scraper
from realtime.models import Event
from tests.boards import greenhouse_job
from tests.conftest import ROOT, subprocess_env
from tests.factories import make_job

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
RSS_BOUND_MB = 300


def gzip_bomb(inflated: int) -> bytes:
    """One gzip stream of `inflated` zero bytes (1 GiB → ~1 MB), built without holding them."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MB)
    return b"".join([squeeze.compress(block) for _ in range(inflated // MB)] + [squeeze.flush()])


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(1024 * MB)


Handler = Callable[[BaseHTTPRequestHandler], None]


class HostileServer:
    """A real HTTP server whose answer per path prefix (`/bomb/...`) is a function the test
    sets; it records every path asked for."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[str] = []
        server = self

        class Handle(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append(self.path)
                prefix = self.path.strip("/").split("/")[0]
                route = server.routes.get(prefix)
                if route is None:
                    self.send_error(404)
                    return
                # The client may stop reading: that is what the cap and the deadline are for.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

            def handle(self) -> None:
                # A client that gave up on a kept-alive connection is no error of the test.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def finish(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handle)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, prefix: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/{prefix}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


def jobs_body(*jobs: dict[str, Any]) -> bytes:
    return json.dumps({"jobs": list(jobs), "meta": {"total": len(jobs)}}).encode()


def serve(body: bytes, content_type: str = "application/json", **headers: str) -> Handler:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def serve_gzip(compressed: bytes) -> Handler:
    return serve(compressed, Content_Encoding="gzip")


def serve_endless(total: int) -> Handler:
    """`total` bytes of a JSON document that never ends, with no Content-Length: the client
    can only count while reading."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b'{"jobs": [{"id": 1, "title": "')
        chunk = b"x" * (256 * 1024)
        for _ in range(total // len(chunk)):
            handler.wfile.write(chunk)
        handler.close_connection = True

    return answer


def serve_drip(every: float) -> Handler:
    """Headers at once, then one byte every `every` seconds, forever."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(10 * MB))
        handler.end_headers()
        for _ in range(100_000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(every)

    return answer


def redirect(location: str) -> Handler:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    seconds: float


# Runs manage.py in this interpreter and, at exit, writes its VmHWM (the kernel's peak RSS of
# this process since exec; wait4()'s ru_maxrss would also count the parent's pages that the
# child had before exec).
_REPORT_PEAK = """
import atexit, os, runpy, sys
def report():
    with open("/proc/self/status") as status, open(os.environ["PEAK_RSS_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")))
atexit.register(report)
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
"""


def scrape_measured(*args: str, timeout: float = 300, **env: str) -> Measured:
    """`manage.py scrape ARGS` in a subprocess, with its peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = os.path.join(tmp, "peak")
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-c", _REPORT_PEAK, "scrape", *args],
            cwd=ROOT,
            env=subprocess_env(PEAK_RSS_FILE=peak_file, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        seconds = time.monotonic() - started
        with open(peak_file) as report:
            peak_kb = int(report.read().split()[1])
    return Measured(result.returncode, result.stdout, result.stderr, peak_kb / 1024, seconds)


def board(token: str, api_url: str) -> Source:
    return Source.objects.create(kind="greenhouse", token=token, name=token, api_url=api_url)


def last_run(source: Source) -> ScrapeRun:
    return ScrapeRun.objects.filter(source=source).latest("id")


# --- byte cap ---------------------------------------------------------------------------------


def test_a_gzip_bomb_and_a_100_mb_body_are_cut_at_the_cap_with_bounded_memory(
    hostile: HostileServer, bomb: bytes
) -> None:
    assert len(bomb) < 1.1 * MB  # 1 MB on the wire that inflates to 1 GiB
    hostile.routes["bomb"] = serve_gzip(bomb)
    hostile.routes["huge"] = serve_endless(100 * MB)
    hostile.routes["ok"] = serve(jobs_body(greenhouse_job(1, "Engineer")))
    bombed = board("bomb", hostile.url("bomb"))
    huge = board("huge", hostile.url("huge"))
    fine = board("fine", hostile.url("ok"))
    kept = make_job(bombed, external_id="kept-1", title="Already here")

    result = scrape_measured(timeout=300)

    print(
        f"\nscrape of a 1 GiB gzip bomb + a 100 MB body + a normal board: exit "
        f"{result.returncode}, peak RSS {result.peak_rss_mb:.0f} MB, {result.seconds:.1f} s"
    )
    assert result.returncode == 0, result.stderr  # one source succeeded
    assert result.peak_rss_mb < RSS_BOUND_MB
    for source in (bombed, huge):
        run = last_run(source)
        assert run.status == ScrapeStatus.FAILED
        assert "larger than 20.0 MB (JOBSENTINEL_MAX_RESPONSE_BYTES); stopped reading" in (
            run.error_message
        )
    assert last_run(fine).status == ScrapeStatus.SUCCEEDED
    kept.refresh_from_db()
    assert kept.status == JobStatus.OPEN  # a failed fetch never touches the board's jobs


def test_the_peak_of_a_normal_scrape_for_comparison(hostile: HostileServer) -> None:
    hostile.routes["ok"] = serve(jobs_body(*(greenhouse_job(n, f"Job {n}") for n in range(50))))
    board("fine", hostile.url("ok"))

    result = scrape_measured(timeout=300)

    print(f"\nscrape of a normal 50-job board: peak RSS {result.peak_rss_mb:.0f} MB")
    assert result.returncode == 0, result.stderr


# --- deadline ---------------------------------------------------------------------------------


def test_a_dripping_board_ends_at_the_deadline_and_the_next_source_still_runs(
    hostile: HostileServer,
) -> None:
    hostile.routes["drip"] = serve_drip(every=1.0)
    hostile.routes["ok"] = serve(jobs_body(greenhouse_job(1, "Engineer")))
    dripping = board("drip", hostile.url("drip"))
    after = board("after", hostile.url("ok"))

    result = scrape_measured(timeout=300, JOBSENTINEL_FETCH_DEADLINE_SECONDS="4")

    assert result.returncode == 0, result.stderr
    run = last_run(dripping)
    print(
        f"\ndripping board with a 4 s deadline: its run {run.duration_seconds:.1f} s, "
        f"the whole scrape command {result.seconds:.1f} s"
    )
    assert run.status == ScrapeStatus.FAILED
    assert "no complete answer within the 4 s deadline" in run.error_message
    assert run.duration_seconds is not None
    assert 3.5 <= run.duration_seconds < 60
    assert last_run(after).status == ScrapeStatus.SUCCEEDED
    assert Job.objects.filter(source=after).count() == 1


# --- redirects --------------------------------------------------------------------------------


def loopback_2_available() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


def test_redirects_from_a_board_to_other_loopback_hosts_are_refused(
    hostile: HostileServer,
) -> None:
    if not loopback_2_available():
        pytest.fail("127.0.0.2 cannot be bound here: Linux routes all of 127/8 to loopback")
    internal = HostileServer("127.0.0.2")  # another "host" on this machine
    other_port = HostileServer("127.0.0.1")  # a private service on another port
    try:
        for server in (internal, other_port):
            server.routes["secret"] = serve(jobs_body(greenhouse_job(666, "Leaked")))
        hostile.routes["to-internal"] = redirect(f"{internal.url('secret', '127.0.0.2')}/x")
        hostile.routes["to-localhost"] = redirect(f"{other_port.url('secret', 'localhost')}/x")
        hostile.routes["moved"] = redirect(hostile.url("ok/v1/boards/moved/jobs"))
        hostile.routes["ok"] = serve(jobs_body(greenhouse_job(1, "Engineer")))
        to_internal = board("to-internal", hostile.url("to-internal"))
        to_localhost = board("to-localhost", hostile.url("to-localhost"))
        moved = board("moved", hostile.url("moved"))

        with Scraper() as scraper:
            outcomes = {s.token: scraper.run(s) for s in (to_internal, to_localhost, moved)}

        assert "redirected to 127.0.0.2, a loopback, private" in outcomes["to-internal"].error
        assert "redirected to localhost, a loopback, private" in outcomes["to-localhost"].error
        assert internal.requests == []
        assert other_port.requests == []
        assert outcomes["moved"].ok  # its own host: followed
        assert not Job.objects.filter(title="Leaked").exists()
    finally:
        internal.close()
        other_port.close()


# --- errors describe, never quote --------------------------------------------------------------


def test_an_html_answer_is_described_never_quoted(hostile: HostileServer) -> None:
    page = b"<!DOCTYPE html><html><body>SECRET-INTRANET-TEXT " + b"lorem ipsum " * 4350
    hostile.routes["html"] = serve(page, "text/html; charset=utf-8")
    source = board("html", hostile.url("html"))

    with Scraper() as scraper:
        outcome = scraper.run(source)

    run = last_run(source)
    assert run.status == ScrapeStatus.FAILED
    assert re.search(r"the answer is not JSON \(HTML page, 51 KB, status 200\)$", outcome.error)
    completed = Event.objects.filter(type="scrape_completed").latest("id")
    assert completed.data["error_message"] == run.error_message
    assert "SECRET" not in json.dumps(completed.data)
    assert "SECRET" not in run.error_message


# --- one bad job ------------------------------------------------------------------------------


def test_one_bad_job_is_skipped_and_counted_and_the_board_kept(hostile: HostileServer) -> None:
    far_future = {**greenhouse_job(2, "Time Traveller"), "first_published": "9999-12-31T00:00:00Z"}
    nul = greenhouse_job(3, "Back\x00end Engineer", content="<p>Py\x00thon</p>")
    spoof = greenhouse_job(4, "Senior \u202eEngineer\u200b")
    long_id = {**greenhouse_job(5, "Long id"), "id": "9" * 300}
    huge = greenhouse_job(6, "Big", content="<p>" + "word " * 60_000 + "</p>")
    hostile.routes["mixed"] = serve(
        jobs_body(greenhouse_job(1, "Engineer"), far_future, nul, spoof, long_id, huge)
    )
    source = board("mixed", hostile.url("mixed"))

    result = scrape_measured(timeout=300)

    assert result.returncode == 0, result.stderr
    run = last_run(source)
    assert run.status == ScrapeStatus.SUCCEEDED
    assert run.errors == 2
    assert run.error_message.startswith("2 jobs skipped; first: job '2': posted_at 9999-12-31")
    titles = dict(Job.objects.filter(source=source).values_list("external_id", "title"))
    assert titles == {
        "1": "Engineer",
        "3": "Backend Engineer",
        "4": "Senior Engineer",
        "6": "Big",
    }
    assert "\x00" not in Job.objects.get(source=source, external_id="3").description_html
    assert len(Job.objects.get(source=source, external_id="6").description_text) <= 100_000
    assert "2 skipped" in result.stdout
    print(f"\nmixed board ({Job.objects.count()} kept): {run.error_message}")

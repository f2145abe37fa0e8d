"""Real receivers for alerts, started by the tests on 127.0.0.1: an HTTP server that records
every request (webhook, ntfy, Slack- and Discord-style hooks) and answers as scripted, and an
SMTP server (aiosmtpd) that keeps every message."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: str = "ok"


class HttpReceiver:
    """Answers each POST with the next scripted `Answer` (then `default`), recording it."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[Answer] = []
        # Answers for one path only, used before `script`.
        self.by_path: dict[str, list[Answer]] = {}
        self.default = Answer()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    own = receiver.by_path.get(self.path)
                    if own:
                        answer = own.pop(0)
                    else:
                        answer = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                if answer.delay:
                    time.sleep(answer.delay)
                data = answer.body.encode()
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} requests, got {len(self.received)}")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


class _Keep:
    def __init__(self, inbox: list[EmailMessage]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox.append(message)
        return "250 Message accepted for delivery"


class SmtpReceiver:
    def __init__(self) -> None:
        self.inbox: list[EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(_Keep(self.inbox), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver()
    server.controller.start()
    yield server
    server.controller.stop()

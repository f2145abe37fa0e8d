"""A local job board: a real HTTP server on 127.0.0.1 serving Greenhouse-shaped JSON that a test
can edit between scrapes. Scrapes in tests never reach the network."""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def greenhouse_job(
    job_id: int, title: str, location: str = "Remote", content: str = "<p>Build things.</p>"
) -> dict[str, Any]:
    return {
        "id": job_id,
        "title": title,
        "absolute_url": f"https://boards.example/acme/jobs/{job_id}",
        "updated_at": "2026-11-20T10:00:00Z",
        "first_published": "2026-11-20T10:00:00Z",
        "location": {"name": location},
        "content": html.escape(content),
        "departments": [{"id": 1, "name": "Engineering"}],
        "offices": [{"id": 1, "name": location}],
        "metadata": None,
    }


class Board:
    """What the server answers, per path. `status` forces an error answer."""

    def __init__(self) -> None:
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        self.status: int | None = None
        self.delay = 0.0
        self.body: str | None = None
        self.requests: list[str] = []

    def payload(self, token: str) -> dict[str, Any] | None:
        if token not in self.jobs:
            return None
        return {"jobs": self.jobs[token], "meta": {"total": len(self.jobs[token])}}


class BoardServer:
    def __init__(self) -> None:
        self.board = Board()
        board = self.board

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                board.requests.append(self.path)
                if board.delay:
                    time.sleep(board.delay)
                if board.status is not None:
                    return self.answer(board.status, board.body or "{}")
                parts = self.path.split("?")[0].strip("/").split("/")
                # /v1/boards/{token}/jobs
                if len(parts) == 4 and parts[:2] == ["v1", "boards"] and parts[3] == "jobs":
                    payload = board.payload(parts[2])
                    if payload is not None:
                        return self.answer(200, json.dumps(payload))
                return self.answer(404, '{"status": 404, "error": "Job not found"}')

            def answer(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> BoardServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def board_server() -> Iterator[BoardServer]:
    with BoardServer() as server:
        yield server

"""The yardstick: a minimal broadcast server on the `websockets` library, nothing else.

    python -m bench.reference_server --port 8765

- `/api/v1/ws/jobs?events=new_job,...`: a subscriber. It gets a `connected` message once it is
  registered, then every published event of its types, in the same envelope as JobSentinel's.
- `/publish`: the producer's socket. Each text frame `{"type": ..., "data": {...}}` is wrapped
  in an envelope with an id, encoded once and written to every subscriber of that type with
  `websockets.broadcast` (no log, no database, no channel layer).
- `GET /health`: 200 when listening.

No per-message compression, as daphne offers none either.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections import defaultdict
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

EVENT_TYPES = ("new_job", "job_updated", "scrape_started", "scrape_completed", "jobs_rescored")


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


class Hub:
    def __init__(self) -> None:
        self.subscribers: dict[str, set[ServerConnection]] = defaultdict(set)
        self.next_id = 1

    async def subscriber(self, ws: ServerConnection, query: str) -> None:
        names = [n for part in parse_qs(query).get("events", []) for n in part.split(",") if n]
        events = [e for e in dict.fromkeys(names) if e in EVENT_TYPES] or list(EVENT_TYPES)
        for event in events:
            self.subscribers[event].add(ws)
        try:
            await ws.send(
                _encode(
                    {
                        "type": "connected",
                        "timestamp": _timestamp(),
                        "data": {"last_event_id": self.next_id - 1, "subscribed": events},
                    }
                )
            )
            await ws.wait_closed()
        finally:
            for event in events:
                self.subscribers[event].discard(ws)

    async def publisher(self, ws: ServerConnection) -> None:
        async for frame in ws:
            message = json.loads(frame)
            event_type = message["type"]
            text = _encode(
                {
                    "type": event_type,
                    "timestamp": _timestamp(),
                    "data": message["data"],
                    "id": self.next_id,
                }
            )
            self.next_id += 1
            broadcast(self.subscribers[event_type], text)

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        url = urlsplit(ws.request.path)
        if url.path == "/publish":
            await self.publisher(ws)
        else:
            await self.subscriber(ws, url.query)


def health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/health":
        return connection.respond(HTTPStatus.OK, "OK\n")
    return None


async def main(host: str, port: int) -> None:
    hub = Hub()
    loop = asyncio.get_running_loop()
    stopping = loop.create_future()

    def stop() -> None:
        if not stopping.done():
            stopping.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    async with serve(
        hub.handler,
        host,
        port,
        compression=None,
        process_request=health,
        max_size=64 * 1024,
    ):
        await stopping


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))

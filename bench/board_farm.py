"""A local board farm for the scrape-cycle benchmark: `python -m bench.board_farm --boards N`.

One asyncio HTTP server listening on N loopback addresses (127.0.1.1, 127.0.1.2, ...), one per
board, so that every board is its own host as real companies' boards mostly are (one host per
board keeps the scraper's per-host pace out of the way). Every answer comes after `--delay`
seconds (100 ms: a typical vendor API over the internet). Paths are the vendors' own
(Greenhouse, Lever, Ashby, Remotive); each board lists `--jobs` jobs built from the test
fixtures' shape. Prints `ready PORT` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "jobs" / "scrapers" / "fixtures"
KINDS = ("greenhouse", "lever", "ashby", "remotive")


def board_address(index: int) -> str:
    """The loopback address of board `index` (0-based): 127.0.1.1 and up, skipping .0/.255."""
    third, fourth = divmod(index, 254)
    return f"127.0.{1 + third}.{1 + fourth}"


def board_kind(index: int) -> str:
    return KINDS[index % len(KINDS)]


def _templates() -> dict[str, dict[str, Any]]:
    def first(name: str, key: str | None) -> dict[str, Any]:
        data = json.loads((FIXTURES / name).read_text())
        return copy.deepcopy(data[0] if key is None else data[key][0])

    return {
        "greenhouse": first("greenhouse_jobs.json", "jobs"),
        "lever": first("lever_page1.json", None),
        "ashby": first("ashby_board.json", "jobs"),
        "remotive": first("remotive_jobs.json", "jobs"),
    }


def board_payload(kind: str, token: str, jobs: int, templates: dict[str, dict[str, Any]]) -> bytes:
    items = []
    for n in range(jobs):
        job = copy.deepcopy(templates[kind])
        number = zlib.crc32(f"{token}-{n}".encode())
        job["id"] = number if kind in ("greenhouse", "remotive") else f"{token}-{n}"
        title_key = "text" if kind == "lever" else "title"
        job[title_key] = f"{job[title_key]} {token} {n}"
        items.append(job)
    if kind == "lever":
        return json.dumps(items).encode()
    return json.dumps({"jobs": items}).encode()


async def serve(boards: int, jobs: int, delay: float, port: int) -> None:
    templates = _templates()
    cache: dict[tuple[str, str], bytes] = {}

    def answer_for(path: str) -> tuple[int, bytes]:
        parts = urlsplit(path).path.strip("/").split("/")
        if parts[:2] == ["v1", "boards"] and len(parts) == 4:
            kind, token = "greenhouse", parts[2]
        elif parts[:2] == ["v0", "postings"] and len(parts) == 3:
            kind, token = "lever", parts[2]
        elif parts[:2] == ["posting-api", "job-board"] and len(parts) == 3:
            kind, token = "ashby", parts[2]
        elif parts == ["api", "remote-jobs"]:
            kind, token = "remotive", urlsplit(path).query
        else:
            return 404, b'{"error": "not found"}'
        key = (kind, token)
        if key not in cache:
            cache[key] = board_payload(kind, token, jobs, templates)
        return 200, cache[key]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                path = request.split(b" ", 2)[1].decode()
                await asyncio.sleep(delay)
                status, body = answer_for(path)
                reason = "OK" if status == 200 else "Not Found"
                head = (
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    hosts = [board_address(i) for i in range(boards)]
    server = await asyncio.start_server(handle, host=hosts, port=port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"ready {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--boards", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.boards, args.jobs, args.delay, args.port))


if __name__ == "__main__":
    main()

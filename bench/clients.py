"""WebSocket clients in their own process, driven over stdin/stdout with one JSON object a line.

    python -m bench.clients --url ws://127.0.0.1:PORT/api/v1/ws/jobs

The same code connects to daphne and to the reference server. A connection is either

- a **load** connection: it only counts what it receives (message types, and per event the
  producer's `data.seq`, to find gaps, duplicates and reordering); or
- a **probe**: the same counting plus the latency of every event, receipt wall time minus the
  producer's `data.sent_at` (same machine, same clock).

Load and probes live in separate processes so that a probe's latency is not spent queueing
behind thousands of load frames in its own event loop.

Commands (each answered by one line):
`open {n, query, probe, concurrency}`, `drop {n}`, `reset {run}`, `progress`,
`collect {sent}`, `quit`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import procs

OPEN_TIMEOUT = 30.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Reads above glibc's mmap threshold (128 KiB) cost a fresh mapping each: 14 µs instead of 2.
RECV_BYTES = 65536
EVENT_FIELDS = re.compile(rb'\{"type":"([a-z_]+)".*?"seq":(\d+),"run":(\d+),')

# --- worker (the client process) ------------------------------------------------------------


class Tally:
    """What one socket received in the current measurement window."""

    probe = False

    def __init__(self) -> None:
        self.closed = False
        self.close_code: int | None = None
        self.reset(0)

    def reset(self, run: int) -> None:
        self.run = run
        self.seen = bytearray()
        self.distinct = 0
        self.duplicates = 0
        self.reordered = 0
        self.stale = 0
        self.max_seq = -1
        self.types: Counter[str] = Counter()
        self.latencies: list[float] = []

    def receive(self, raw: str | bytes) -> None:
        now = time.time()
        message = json.loads(raw)
        kind = message.get("type", "?")
        data = message.get("data")
        if not isinstance(data, dict) or "seq" not in data:
            self.types[kind] += 1
            return
        if self.count(kind, int(data["seq"]), data.get("run")) and self.probe:
            self.latencies.append(now - float(data["sent_at"]))

    def count(self, kind: str, seq: int, run: object) -> bool:
        """Record one event; True if it is new in this window."""
        self.types[kind] += 1
        if run != self.run:
            self.stale += 1  # left over from an earlier window
            return False
        if seq >= len(self.seen):
            self.seen.extend(bytes(max(seq + 1 - len(self.seen), len(self.seen))))
        if self.seen[seq]:
            self.duplicates += 1
            return False
        self.seen[seq] = 1
        self.distinct += 1
        if seq < self.max_seq:
            self.reordered += 1
        else:
            self.max_seq = seq
        return True

    async def close(self) -> None:
        raise NotImplementedError


class WsConn(Tally):
    """A socket of the `websockets` asyncio client: every probe (and load, if asked)."""

    def __init__(self, ws: Any, probe: bool) -> None:
        super().__init__()
        self.ws = ws
        self.probe = probe
        self.task = asyncio.get_running_loop().create_task(self.pump())

    @classmethod
    async def open(cls, url: str, probe: bool) -> WsConn:
        from websockets.asyncio.client import connect

        ws = await connect(
            url,
            compression=None,
            proxy=None,
            ping_interval=None,  # browsers do not ping; the server pings idle sockets
            open_timeout=OPEN_TIMEOUT,
            close_timeout=2,
            max_queue=256,
        )
        first = json.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT))
        if first.get("type") != "connected":
            await ws.close()
            raise RuntimeError(f"first message was {first.get('type')!r}: {first.get('data')}")
        return cls(ws, probe)

    async def pump(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                self.receive(raw)
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.close_code = self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client-to-server frame (clients must mask; payloads here are control-sized)."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


class RawConn(Tally):
    """A counting-only socket: RFC 6455 by hand, read by the `Poller` thread.

    The `websockets` client spends about 20 µs of CPU per received message (mostly asyncio's
    per-read machinery), three times what the reference server spends per delivery; on two
    cores that would make the load client, not the server, the limit. Here the handshake runs
    on the event loop with plain socket calls, then one thread reads every socket from an
    epoll set, parses the (unmasked) server frames, answers pings and closes, and hands each
    text message to the same counting code as the probes."""

    def __init__(self, sock: socket.socket, rest: bytes) -> None:
        super().__init__()
        self.sock = sock
        self.buffer = bytearray(rest)
        self.fragments: list[bytes] = []

    @classmethod
    async def open(cls, url: str, probe: bool) -> RawConn:
        return await asyncio.wait_for(cls._open(url), OPEN_TIMEOUT)

    @classmethod
    async def _open(cls, url: str) -> RawConn:
        loop = asyncio.get_running_loop()
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        key = base64.b64encode(os.urandom(16)).decode()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await loop.sock_connect(sock, (parts.hostname or "127.0.0.1", parts.port or 80))
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            )
            await loop.sock_sendall(sock, request.encode())
            data = bytearray()
            while (end := data.find(b"\r\n\r\n")) < 0:
                data += await cls._recv(loop, sock)
            head = bytes(data[:end]).decode("latin-1")
            digest = hashlib.sha1((key + WS_GUID).encode()).digest()
            if not head.startswith("HTTP/1.1 101") or base64.b64encode(digest).decode() not in head:
                raise ConnectionError(f"handshake refused: {head.splitlines()[0]}")
            conn = cls(sock, bytes(data[end + 4 :]))
            while (first := conn.next_message()) is None:
                conn.buffer += await cls._recv(loop, sock)
            kind = json.loads(first).get("type")
            if kind != "connected":
                raise ConnectionError(f"first message was {kind!r}")
        except BaseException:
            sock.close()
            raise
        return conn

    @staticmethod
    async def _recv(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes:
        chunk = await loop.sock_recv(sock, 65536)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        return chunk

    def next_message(self) -> bytes | None:
        """The next complete message in the buffer (control frames are handled on the way)."""
        buf = self.buffer
        while len(buf) >= 2:
            first, length = buf[0], buf[1] & 0x7F
            header = 2
            if length == 126:
                if len(buf) < 4:
                    return None
                length, header = int.from_bytes(buf[2:4]), 4
            elif length == 127:
                if len(buf) < 10:
                    return None
                length, header = int.from_bytes(buf[2:10]), 10
            if len(buf) < header + length:
                return None
            payload = bytes(buf[header : header + length])
            del buf[: header + length]
            opcode = first & 0x0F
            if opcode in (0x0, 0x1, 0x2):
                self.fragments.append(payload)
                if first & 0x80:
                    message, self.fragments = b"".join(self.fragments), []
                    return message
            elif opcode == 0x9:  # ping
                self._send(_masked_frame(0xA, payload))
            elif opcode == 0x8:  # close: echo the code; the server then drops the connection
                self.close_code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
                self._send(_masked_frame(0x8, payload[:2]))
        return None

    def feed(self, data: bytes) -> None:
        if not self.buffer and len(data) > 2 and data[0] == 0x81:
            # Fast path: exactly one small unfragmented text frame, the usual case.
            length = data[1]
            if length < 126 and len(data) == 2 + length:
                self.receive(data[2:])
                return
            if length == 126 and len(data) == 4 + int.from_bytes(data[2:4]):
                self.receive(data[4:])
                return
        self.buffer += data
        while (message := self.next_message()) is not None:
            self.receive(message)

    def receive(self, raw: str | bytes) -> None:
        # Counting needs the type, seq and run only: a regular expression finds them without
        # decoding the JSON (both servers put "type" first; the producer orders `data`).
        match = EVENT_FIELDS.match(raw) if isinstance(raw, bytes) else None
        if match is None:
            super().receive(raw)
        else:
            self.count(match[1].decode(), int(match[2]), int(match[3]))

    def _send(self, frame: bytes) -> None:
        with contextlib.suppress(OSError):
            self.sock.send(frame)

    def lost(self) -> None:
        self.closed = True
        if self.close_code is None:
            self.close_code = 1006
        with contextlib.suppress(OSError):
            self.sock.close()

    async def close(self) -> None:
        if self.closed:
            return
        self._send(_masked_frame(0x8, (1000).to_bytes(2)))
        for _ in range(40):  # the poller sees the server's close and the end of the stream
            if self.closed:
                return
            await asyncio.sleep(0.05)
        self.lost()


class Poller(threading.Thread):
    """Reads every RawConn from one epoll set, in its own thread."""

    def __init__(self) -> None:
        super().__init__(name="poller", daemon=True)
        self.epoll = select.epoll()
        self.conns: dict[int, RawConn] = {}
        self.lock = threading.Lock()

    def add(self, conn: RawConn) -> None:
        with self.lock:
            self.conns[conn.sock.fileno()] = conn
            self.epoll.register(conn.sock.fileno(), select.EPOLLIN)
            if conn.buffer:
                conn.feed(b"")

    def run(self) -> None:
        while True:
            events = self.epoll.poll(0.2)
            with self.lock:
                for fd, _ in events:
                    conn = self.conns.get(fd)
                    if conn is None:
                        continue
                    try:
                        data = conn.sock.recv(RECV_BYTES)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if data:
                        conn.feed(data)
                    else:
                        self.epoll.unregister(fd)
                        del self.conns[fd]
                        conn.lost()


class Worker:
    def __init__(self, url: str, lean_load: bool) -> None:
        self.url = url
        self.lean_load = lean_load
        self.conns: list[Tally] = []
        self.poller = Poller()
        self.poller.start()

    async def _open_one(self, query: str, probe: bool) -> Tally | str:
        url = f"{self.url}?{query}" if query else self.url
        try:
            if probe or not self.lean_load:
                return await WsConn.open(url, probe)
            conn = await RawConn.open(url, probe)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        self.poller.add(conn)
        return conn

    async def open(self, n: int, query: str, probe: bool, concurrency: int) -> dict[str, Any]:
        started = time.monotonic()
        gate = asyncio.Semaphore(concurrency)
        run = self.conns[0].run if self.conns else 0

        async def one() -> Tally | str:
            async with gate:
                return await self._open_one(query, probe)

        outcomes = await asyncio.gather(*(one() for _ in range(n)))
        errors = [o for o in outcomes if isinstance(o, str)]
        for outcome in outcomes:
            if isinstance(outcome, Tally):
                outcome.reset(run)
                self.conns.append(outcome)
        return {
            "opened": n - len(errors),
            "failed": len(errors),
            "errors": sorted(set(errors))[:5],
            "total": len(self.conns),
            "seconds": round(time.monotonic() - started, 3),
        }

    async def drop(self, n: int) -> dict[str, Any]:
        doomed, self.conns = self.conns[len(self.conns) - n :], self.conns[: len(self.conns) - n]
        await asyncio.gather(*(c.close() for c in doomed), return_exceptions=True)
        return {"total": len(self.conns)}

    def reset(self, run: int) -> dict[str, Any]:
        with self.poller.lock:
            for conn in self.conns:
                conn.reset(run)
        return {"total": len(self.conns)}

    def progress(self) -> dict[str, Any]:
        return {
            "delivered": sum(c.distinct for c in self.conns),
            "closed": sum(c.closed for c in self.conns),
        }

    def collect(self, sent: int) -> dict[str, Any]:
        with self.poller.lock:
            return self._collect(sent)

    def _collect(self, sent: int) -> dict[str, Any]:
        conns = self.conns
        types: Counter[str] = Counter()
        close_codes: Counter[str] = Counter()
        latencies: list[float] = []
        for conn in conns:
            types.update(conn.types)
            latencies.extend(conn.latencies)
            if conn.closed:
                close_codes[str(conn.close_code)] += 1
        return {
            "connections": len(conns),
            "closed": sum(close_codes.values()),
            "close_codes": dict(close_codes),
            "delivered": sum(c.distinct for c in conns),
            "min_delivered": min((c.distinct for c in conns), default=0),
            "incomplete_connections": sum(c.distinct < sent for c in conns),
            "duplicates": sum(c.duplicates for c in conns),
            "reordered": sum(c.reordered for c in conns),
            "stale": sum(c.stale for c in conns),
            "types": dict(types),
            "latencies_ms": [round(x * 1000, 3) for x in latencies],
        }

    async def quit(self) -> dict[str, Any]:
        await asyncio.gather(
            *(asyncio.wait_for(c.close(), 3) for c in self.conns), return_exceptions=True
        )
        return {"total": 0}

    async def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command["cmd"]
        if name == "open":
            return await self.open(
                int(command["n"]),
                str(command.get("query", "")),
                bool(command.get("probe", False)),
                int(command.get("concurrency", 50)),
            )
        if name == "drop":
            return await self.drop(int(command["n"]))
        if name == "reset":
            return self.reset(int(command["run"]))
        if name == "progress":
            return self.progress()
        if name == "collect":
            return self.collect(int(command["sent"]))
        if name == "quit":
            return await self.quit()
        raise ValueError(f"unknown command {name!r}")


async def serve_commands(url: str, lean_load: bool) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[str | None] = asyncio.Queue()

    def read_stdin() -> None:  # a thread: stdin is a pipe, and blocking reads are simplest
        for line in sys.stdin:
            loop.call_soon_threadsafe(inbox.put_nowait, line)
        loop.call_soon_threadsafe(inbox.put_nowait, None)

    threading.Thread(target=read_stdin, daemon=True).start()
    worker = Worker(url, lean_load)
    while (line := await inbox.get()) is not None:
        command = json.loads(line)
        try:
            reply: dict[str, Any] = {"ok": True, **await worker.handle(command)}
        except Exception as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply["cpu_seconds"] = procs.cpu_seconds(os.getpid())
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
        if command["cmd"] == "quit":
            return
    await worker.quit()


# --- controller (the benchmark process) -------------------------------------------------------


class ClientProcess:
    """A client worker process and a blocking call interface to it."""

    def __init__(self, url: str, log_path: Path, name: str, *, lean_load: bool = True) -> None:
        self.name = name
        flag = [] if lean_load else ["--websockets-load"]
        self.process = procs.spawn(
            [sys.executable, "-m", "bench.clients", "--url", url, *flag],
            log_path=log_path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._replies = procs.LineReader(self.process)

    def call(self, cmd: str, *, timeout: float = 60.0, **args: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        self.process.stdin.flush()
        try:
            reply = self._replies.get(timeout=timeout)
        except TimeoutError:
            raise TimeoutError(f"client {self.name}: no reply to {cmd} in {timeout} s") from None
        if reply is None:
            raise RuntimeError(f"client {self.name} exited (status {self.process.poll()})")
        if not reply.get("ok"):
            raise RuntimeError(f"client {self.name}: {cmd} failed: {reply.get('error')}")
        return reply

    def open(self, n: int, query: str, *, probe: bool = False, timeout: float = 600) -> None:
        """Open `n` more sockets; every one must be admitted (a refusal is a harness error)."""
        if n <= 0:
            return
        reply = self.call("open", n=n, query=query, probe=probe, timeout=timeout)
        if reply["failed"]:
            raise RuntimeError(
                f"client {self.name}: {reply['failed']} of {n} connections failed: "
                f"{reply['errors']}"
            )

    def cpu_seconds(self) -> float:
        return procs.cpu_seconds(self.process.pid)

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(Exception):
                self.call("quit", timeout=20)
        procs.stop(self.process, timeout=5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="benchmark WebSocket client worker")
    parser.add_argument("--url", required=True)
    parser.add_argument(
        "--websockets-load",
        action="store_true",
        help="count with the websockets client too (slower; to cross-check the lean one)",
    )
    args = parser.parse_args()
    procs.raise_nofile_limit()
    asyncio.run(serve_commands(args.url, lean_load=not args.websockets_load))

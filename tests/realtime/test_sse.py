"""The event stream as Server-Sent Events, against a real daphne: the same envelope as the
socket, `connected` first, resume by Last-Event-ID (which wins) or ?last_event_id=, ?events=,
heartbeats, and the socket's keys, origins and caps."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from realtime.live import LiveEvent
from tests.conftest import Daphne
from tests.reliability.test_faults import elsewhere, health, publish_elsewhere

WAIT = 15
SSE_PATH = "/api/v1/sse/jobs"


@dataclass
class Message:
    event: str
    data: dict[str, Any]
    raw_data: str
    id: int | None


async def messages(response: httpx.Response) -> AsyncIterator[Message]:
    """Parse a text/event-stream as the HTML standard says (the subset the server uses)."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields:
                yield Message(
                    event=fields.get("event", "message"),
                    data=json.loads(fields["data"]),
                    raw_data=fields["data"],
                    id=int(fields["id"]) if "id" in fields else None,
                )
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value[1:] if value.startswith(" ") else value


async def read(stream: AsyncIterator[Message], count: int) -> list[Message]:
    got: list[Message] = []

    async def take() -> None:
        async for message in stream:
            got.append(message)
            if len(got) == count:
                return

    await asyncio.wait_for(take(), WAIT)
    return got


async def test_events_arrive_with_id_type_and_the_sockets_envelope(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
        http.stream("GET", SSE_PATH) as response,
        connect(server.ws_url) as ws,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        stream = messages(response)
        [hello] = await read(stream, 1)
        assert hello.event == "connected"
        assert hello.id is None
        assert hello.data["type"] == "connected"
        assert hello.data["data"]["subscribed"] == hello.data["data"]["events"]
        json.loads(await ws.recv())  # the socket's own `connected`

        ids = await asyncio.to_thread(publish_elsewhere, server, 3)
        got = await read(stream, 3)
        assert [m.id for m in got] == ids
        assert {m.event for m in got} == {"new_job"}
        on_socket = [await asyncio.wait_for(ws.recv(), WAIT) for _ in ids]
        assert [m.raw_data for m in got] == on_socket  # byte for byte the socket's envelope


async def test_resume_by_last_event_id_header_which_wins_over_the_query(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    ids = await asyncio.to_thread(publish_elsewhere, server, 5)
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
        http.stream(
            "GET",
            SSE_PATH,
            params={"last_event_id": str(ids[0])},
            headers={"Last-Event-ID": str(ids[2])},
        ) as response,
    ):
        stream = messages(response)
        hello, *replayed = await read(stream, 3)
        assert hello.event == "connected"
        assert [m.id for m in replayed] == ids[3:]
        live = await asyncio.to_thread(publish_elsewhere, server, 2)
        assert [m.id for m in await read(stream, 2)] == live  # then live, nothing twice


async def test_resume_by_query_and_event_filter(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    ids = await asyncio.to_thread(publish_elsewhere, server, 2)
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
        http.stream(
            "GET", SSE_PATH, params={"last_event_id": str(ids[0]), "events": "new_job"}
        ) as response,
    ):
        stream = messages(response)
        hello, replayed = await read(stream, 2)
        assert hello.data["data"]["subscribed"] == ["new_job"]
        assert replayed.id == ids[1]

    async with httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
        bad = await http.get(SSE_PATH, params={"events": "nonsense"})
        assert bad.status_code == 400
        assert bad.json()["data"]["code"] == "unknown_event"
        bad = await http.get(SSE_PATH, params={"last_event_id": "-1"})
        assert bad.status_code == 400
        assert bad.json()["data"]["code"] == "invalid_message"


async def test_heartbeats_at_the_sockets_interval(daphne_factory) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_WS_HEARTBEAT_SECONDS="1")
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
        http.stream("GET", SSE_PATH) as response,
    ):
        stream = messages(response)
        hello, beat = await read(stream, 2)
        assert hello.data["data"]["heartbeat_interval"] == 1.0
        assert beat.event == "heartbeat"
        assert beat.id is None  # never moves the client's resume point
        assert "last_event_id" in beat.data["data"]


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ({}, 401),
        ({"params": {"api_key": "wrong"}}, 401),
        ({"params": {"api_key": "s3cret"}}, 200),
        ({"headers": {"Authorization": "Bearer s3cret"}}, 200),
        ({"headers": {"X-API-Key": "s3cret"}}, 200),
    ],
)
async def test_the_sockets_keys(daphne_factory, how: dict[str, Any], status: int) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_API_KEYS="s3cret")
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
        http.stream("GET", SSE_PATH, **how) as response,
    ):
        assert response.status_code == status
        if status == 200:
            [hello] = await read(messages(response), 1)
            assert hello.event == "connected"
    assert "s3cret" not in server.log()


async def test_foreign_origins_are_refused(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    async with httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
        refused = await http.get(SSE_PATH, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403
        async with http.stream(
            "GET", SSE_PATH, headers={"Origin": f"http://127.0.0.1:{server.port}"}
        ) as own:
            assert own.status_code == 200


async def test_caps_and_clients_that_leave_early_give_their_slot_back(daphne_factory) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP="3")
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
        http.stream("GET", SSE_PATH) as first,
        http.stream("GET", SSE_PATH) as second,
        http.stream("GET", SSE_PATH) as third,
    ):
        assert {first.status_code, second.status_code, third.status_code} == {200}
        over = await http.get(SSE_PATH)
        assert over.status_code == 503
        assert over.json()["data"]["code"] == "over_capacity"
        assert over.headers["retry-after"]

    # 100 clients that send the request and vanish at once, before reading anything.
    def vanish() -> None:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(
                f"GET {SSE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
            )

    for _ in range(100):
        await asyncio.to_thread(vanish)
    deadline = asyncio.get_running_loop().time() + WAIT
    while health(server)["active_connections"] != 0:
        assert asyncio.get_running_loop().time() < deadline, health(server)
        await asyncio.sleep(0.2)
    assert "Traceback" not in server.log()


async def test_unknown_event_names_are_listed_and_the_known_ones_applied(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
        http.stream("GET", SSE_PATH, params={"events": "new_job,heartbeat"}) as response,
    ):
        assert response.status_code == 200
        [hello] = await read(messages(response), 1)
        assert hello.data["data"]["subscribed"] == ["new_job"]
        assert hello.data["data"]["ignored"] == ["heartbeat"]


async def test_a_stream_that_stops_reading_is_ended_once_and_holds_no_more(monkeypatch) -> None:
    from realtime import sse

    monkeypatch.setattr(sse, "MAX_QUEUED_FRAMES", 3)
    client = sse._Client(["new_job"])
    client.outbox.subscribe(["new_job"], live_after=0)
    await client.outbox.go_live()
    for event_id in range(1, 11):
        pending = client.push(LiveEvent(event_id, "new_job", "{}"))
        if pending is not None:
            await pending
    queued = [client.frames.get_nowait() for _ in range(client.frames.qsize())]
    assert len(queued) == 4  # three frames, then the end: nothing piles up behind it
    assert queued[-1] is None
    assert all(frame is not None for frame in queued[:-1])


# --- clients that stop reading, or pause ------------------------------------------------------

EVENT_PAD = 8000  # bytes of padding per event: ~8 KB frames
GRACE = 20  # JOBSENTINEL_WS_SLOW_READER_SECONDS for the paused-reader test


def raw_stream(server: Daphne) -> socket.socket:
    """A stream over a raw socket with a 4 KB receive buffer; the GET sent, nothing read yet."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    request = f"GET {SSE_PATH}?events=new_job HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n"
    sock.sendall(request.encode())
    return sock


class Reader(threading.Thread):
    """Reads a raw stream, once started, until told to stop or the server closes it."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.received = bytearray()
        self.closed_by_server = False
        self.stop = threading.Event()

    def run(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.closed_by_server = True
                return
            self.received += chunk

    def ids(self) -> list[int]:
        return [int(i) for i in re.findall(rb"^id: (\d+)$", bytes(self.received), re.M)]


def publish_slowly(server: Daphne, count: int, pause: float) -> list[int]:
    """`count` new_job events of ~8 KB, `pause` seconds apart, from another process."""
    code = (
        "import time\n"
        "from realtime.record import broadcast_job_update_sync as b\n"
        "ids = []\n"
        f"for i in range({count}):\n"
        f"    ids.append(b('new_job', {{'job_id': i, 'pad': 'x' * {EVENT_PAD}}}).id)\n"
        f"    time.sleep({pause})\n"
        "print(','.join(map(str, ids)))"
    )
    return [int(i) for i in elsewhere(server, code).split(",")]


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed `sock` (end of file, or a reset for what was unsent);
    False if it is still open after WAIT seconds of reading."""
    sock.settimeout(WAIT)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


async def wait_for_active(server: Daphne, count: int, within: float = WAIT) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while (active := (await asyncio.to_thread(health, server))["active_connections"]) != count:
        assert asyncio.get_running_loop().time() < deadline, f"{active} active, not {count}"
        await asyncio.sleep(0.2)


async def test_a_stream_that_stops_reading_is_cut_and_the_others_keep_receiving(
    daphne_factory,
) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_WS_MAX_BACKLOG_BYTES="65536")
    stuck = raw_stream(server)
    try:
        await wait_for_active(server, 1)
        async with (
            httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http,
            http.stream("GET", SSE_PATH, params={"events": "new_job"}) as response,
        ):
            stream = messages(response)
            await read(stream, 1)  # connected
            await wait_for_active(server, 2)
            # ~8 MB for the stuck stream: more than the kernel's buffers hold (~4 MB), so
            # daphne's grows past 8 times the bound.
            publishing = asyncio.ensure_future(
                asyncio.to_thread(publish_elsewhere, server, 1000, EVENT_PAD)
            )
            got = await read(stream, 1000)
            ids = await publishing
            assert [m.id for m in got] == ids  # all, in order, once
            assert await asyncio.to_thread(closed_by_server, stuck)
            await wait_for_active(server, 1)  # the stuck stream's slot is free again
            live = await asyncio.to_thread(publish_elsewhere, server, 2)
            assert [m.id for m in await read(stream, 2)] == live
        assert server.log().count("closing an event stream that stopped reading") == 1
        assert "Traceback" not in server.log()
    finally:
        stuck.close()


async def test_a_reader_that_pauses_is_not_cut_where_one_that_stopped_is(daphne_factory) -> None:
    """One burst of ~6.4 MB reaches two raw streams, neither reading: past the kernel's buffers
    (~4 MB), more than the bound (1 MiB) waits in daphne for each, but less than 8 times it.
    Then one starts reading and catches up; a trickle of events follows for 7 s. The reader is
    never cut and gets everything; the one that stays stuck is cut once GRACE seconds have
    passed (long enough for the reader to catch up on a busy machine)."""
    server: Daphne = daphne_factory(
        JOBSENTINEL_WS_MAX_BACKLOG_BYTES=str(1024 * 1024),
        JOBSENTINEL_WS_SLOW_READER_SECONDS=str(GRACE),
        # A stream is checked when something is written to it: heartbeats keep writing after
        # the last event, so the stuck stream is cut soon after its grace ends.
        JOBSENTINEL_WS_HEARTBEAT_SECONDS="1",
    )
    stuck = raw_stream(server)
    paused = Reader(raw_stream(server))
    try:
        await wait_for_active(server, 2)
        burst = await asyncio.to_thread(publish_elsewhere, server, 800, EVENT_PAD)
        paused.start()
        trickle = await asyncio.to_thread(publish_slowly, server, 14, 0.5)
        deadline = asyncio.get_running_loop().time() + WAIT
        while paused.ids() != burst + trickle and not paused.closed_by_server:
            assert asyncio.get_running_loop().time() < deadline, "the reader fell behind"
            await asyncio.sleep(0.2)
        assert not paused.closed_by_server
        assert paused.ids() == burst + trickle  # all, in order, once
        # The stuck stream is cut once its grace is over; it is not read before (reading would
        # drain it, and then it would not be stuck).
        await wait_for_active(server, 1, within=WAIT + GRACE)
        assert await asyncio.to_thread(closed_by_server, stuck)
        assert server.log().count("closing an event stream that stopped reading") == 1
    finally:
        paused.stop.set()
        if paused.is_alive():
            paused.join()
        paused.sock.close()
        stuck.close()

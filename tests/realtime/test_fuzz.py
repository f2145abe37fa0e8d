"""Protocol fuzzing: whatever a client sends, the socket answers in the protocol.

Random JSON values, messages with a valid or random `type`, text that is not JSON, binary and
empty frames, deep nesting, huge strings and odd Unicode go to the consumer (in-process
communicator) and to a real daphne (`websockets` client, including fragmented messages). For
every frame the reply must be the one `docs/websocket.md` promises (an oracle below derives it
from the frame): `pong`, `subscribed` or an `error` with the right code, or `message_too_large`
then close 1009 for an oversized frame. Never a 1011 close, never an exception; after a reply
that does not close, a `ping` still gets its `pong`. On daphne a bystander client, connected
throughout, keeps receiving events and answering pings.

Fixed examples below pin the crashers this fuzzing found (a lone surrogate echoed in an error,
digits that `int()` refuses), so they stay fixed.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from jobsentinel.asgi import application
from realtime.events import EVENT_TYPES
from realtime.management.commands.serve import DAPHNE_MAX_MESSAGE_BYTES
from tests.conftest import Daphne
from tests.factories import make_job

PATH = "/api/v1/ws/jobs"
WAIT = 5  # generous for a loaded 2-core CI box
COMMUNICATOR_EXAMPLES = 300
DAPHNE_EXAMPLES = 120
BYSTANDER_EVERY = 5  # cases between two checks that the bystander still gets events
HIGH_RATES = {"WS_RATE_PER_MINUTE": 100_000, "WS_RATE_PER_HOUR": 1_000_000}
PING = '{"type": "ping"}'
INTERESTING_CLOSES = {1009}  # the only close a single frame may cause

# Cases tried per test, reported at the end of each run (whatever `-s` says).
CASES: dict[str, Counter[str]] = {}


# --- frames ---------------------------------------------------------------------------------------


class Frame:
    """One client message. A plain class: Hypothesis prints dataclasses field by field, and a
    20 KB field makes an unreadable failure report."""

    __slots__ = ("data", "family", "fragments", "text")

    def __init__(
        self,
        family: str,
        text: str | None = None,
        data: bytes | None = None,
        # On the wire (daphne only): how the message is cut into frames.
        fragments: tuple[str, ...] | tuple[bytes, ...] | None = None,
    ) -> None:
        self.family = family
        self.text = text
        self.data = data
        self.fragments = fragments

    def size(self) -> int:
        """Bytes of payload, as the server counts them."""
        return len(self.data) if self.data is not None else len((self.text or "").encode())

    def __repr__(self) -> str:
        body = self.text if self.text is not None else self.data
        assert body is not None
        shown = repr(body) if len(body) <= 300 else f"{body[:300]!r}... ({self.size()} bytes)"
        cut = "" if self.fragments is None else f", in {len(self.fragments)} fragments"
        return f"Frame({self.family}: {shown}{cut})"


def limit() -> int:
    return int(django_settings.WS_MAX_MESSAGE_BYTES)


ODD = [
    "\x00", "\x1f", "\x7f", "\t", "\n", "\r", '"', "\\", "/",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width, BOM
    "\u202e", "\u202d", "\u2066", "\u2069", "\u200f",  # bidi overrides, RTL mark
    "مرحبا", "שלום", "e\u0301", "\ufffd", "\uffff", "\u2028", "\u2029",
    "\U0001f600", "\U0001f469\u200d\U0001f4bb", "\U00010348", "\U0010fffd", "\U000e0001",
    "²", "٣", "\uff11",  # digits that are not ASCII
]  # fmt: skip

# Text frames must be valid UTF-8, so raw text never holds a lone surrogate; inside JSON a
# surrogate can still arrive as an ASCII escape (`"\ud800"`), so JSON strings may hold them.
wire_pieces = st.characters(exclude_categories=["Cs"]) | st.sampled_from(ODD)
json_pieces = wire_pieces | st.characters(categories=["Cs"])


def texts(pieces: st.SearchStrategy[str], min_size: int = 0, max_size: int = 30) -> Any:
    return st.lists(pieces, min_size=min_size, max_size=max_size).map("".join)


wire_text = texts(wire_pieces)
json_text = texts(json_pieces)


@st.composite
def huge_strings(draw: st.DrawFn) -> str:
    """Up to ~20 KB (UTF-8), around the message limit: repeated units are cheap to draw."""
    unit = draw(texts(wire_pieces, min_size=1, max_size=3))
    target = draw(st.integers(1_000, 20_480) | st.sampled_from([limit() - 40, limit()]))
    return unit * max(1, target // len(unit.encode()))


def json_values(strings: st.SearchStrategy[str] = json_text) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.integers(-(2**80), 2**80)
        | st.floats()  # NaN and infinities too: Python's json writes and reads them
        | strings
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=6) | st.dictionaries(strings, children, max_size=6)
        ),
        max_leaves=25,
    )


def dumps(value: Any, ascii_only: bool) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only)
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate can only travel escaped
        text = json.dumps(value)
    return text


def nested(opener: str, closer: str, inner: str, depth: int) -> str:
    return opener * depth + inner + closer * depth


depths = st.integers(1, 400) | st.integers(400, 5_000)


@st.composite
def deep_frames(draw: st.DrawFn) -> Frame:
    depth = draw(depths)
    shape = draw(st.sampled_from(["list", "dict", "in_ping", "in_events", "unclosed"]))
    text = {
        "list": nested("[", "]", "", depth),
        "dict": nested('{"a":', "}", "null", depth),
        "in_ping": '{"type":"ping","x":' + nested("[", "]", "1", depth) + "}",
        "in_events": '{"type":"subscribe","events":' + nested("[", "]", '"new_job"', depth) + "}",
        "unclosed": "[" * depth,
    }[shape]
    return Frame("deep", text=text)


events_field = (
    st.lists(st.sampled_from(EVENT_TYPES), max_size=7)
    | st.lists(st.sampled_from(EVENT_TYPES) | json_text, max_size=5)
    | st.lists(huge_strings(), min_size=1, max_size=1)
    | json_values()
)
last_event_id_field = (
    st.integers(0, 10**6)
    | st.integers(-(2**70), 2**70)
    | st.integers(0, 10**30).map(str)
    | st.sampled_from(["", "007", " 1", "1 ", "+1", "-1", "1.0", "1e3", "0x10", "1_000", "NaN"])
    | st.booleans()
    | json_values()
)


@st.composite
def typed_frames(draw: st.DrawFn) -> Frame:
    """JSON objects with a valid or random `type`, and valid or random fields."""
    message: dict[str, Any] = {
        "type": draw(st.sampled_from(["ping", "subscribe"]) | json_text | json_values())
    }
    if draw(st.booleans()):
        message["events"] = draw(events_field)
    if draw(st.booleans()):
        message["last_event_id"] = draw(last_event_id_field)
    if draw(st.booleans()):
        message["timestamp"] = draw(json_text | json_values())
    message.update(draw(st.dictionaries(json_text, json_values(), max_size=3)))
    if draw(st.booleans()):  # `type` last: a duplicate key earlier must not matter
        message = {k: v for k, v in message.items() if k != "type"} | {"type": message["type"]}
    return Frame("typed", text=dumps(message, draw(st.booleans())))


@st.composite
def not_json_frames(draw: st.DrawFn) -> Frame:
    valid = dumps(draw(json_values(wire_text)), ascii_only=False)
    text = draw(
        texts(wire_pieces, min_size=1, max_size=200)
        | st.builds(lambda n: valid[:n], st.integers(0, max(0, len(valid) - 1)))  # truncated
        | st.sampled_from(["\ufeff", "\x00", "junk", ", 1", "}"]).map(lambda junk: valid + junk)
        | st.just("\ufeff" + PING)  # a BOM in front of JSON
        | st.just("9" * 5_000)  # over Python's int digit limit: json refuses it
        | st.sampled_from(["NaN", "-Infinity", "nul", "tru", "'ping'", "{'type': 'ping'}"])
    )
    return Frame("not_json", text=text)


@st.composite
def padded_pings(draw: st.DrawFn) -> Frame:
    """A ping of an exact size in bytes, around the limit: `limit` passes, `limit + 1` does
    not. The pad is built of odd characters, so the count is in bytes, not characters."""
    size = draw(
        st.sampled_from([limit() - 1, limit(), limit() + 1]) | st.integers(limit() - 8, limit() + 8)
    )
    unit = draw(st.sampled_from(["x", "é", "\u202e", "\U0001f600"]))
    head, tail = '{"type":"ping","pad":"', '"}'
    room = size - len((head + tail).encode())
    pad = unit * (room // len(unit.encode())) + "x" * (room % len(unit.encode()))
    return Frame("boundary", text=head + pad + tail)


# The most a frame may carry here: the fuzz is about the app's answers, and daphne (under
# `manage.py serve`) drops the TCP connection for a message over its own 64 KiB limit.
WIRE_MAX = DAPHNE_MAX_MESSAGE_BYTES * 3 // 4


def frames() -> st.SearchStrategy[Frame]:
    return st.one_of(
        st.builds(lambda v, a: Frame("json", text=dumps(v, a)), json_values(), st.booleans()),
        typed_frames(),
        typed_frames(),  # twice: the richest family
        not_json_frames(),
        deep_frames(),
        st.builds(
            lambda s: Frame("huge", text=dumps({"type": "ping", "pad": s}, False)), huge_strings()
        ),
        st.builds(lambda s: Frame("huge", text=s), huge_strings()),
        padded_pings(),
        st.binary(min_size=1, max_size=300).map(lambda b: Frame("binary", data=b)),
        st.builds(
            lambda n: Frame("binary", data=b"\x00" * n), st.integers(limit() - 2, limit() + 2)
        ),
        st.just(Frame("binary", data=PING.encode())),
        st.just(Frame("empty", text="")),
    ).filter(lambda frame: frame.size() <= WIRE_MAX)


@st.composite
def wire_frames(draw: st.DrawFn) -> Frame:
    """As `frames`, some cut into fragments: str pieces, or UTF-8 bytes cut anywhere (also
    inside a character) and sent as a text message."""
    frame = draw(frames())
    payload: str | bytes | None = frame.text if frame.text else frame.data
    if not payload or not draw(st.booleans()):
        return frame
    raw = payload.encode() if isinstance(payload, str) else payload
    as_bytes = isinstance(payload, bytes) or draw(st.booleans())
    whole: str | bytes = raw if as_bytes else payload
    cuts = sorted(draw(st.lists(st.integers(0, len(whole)), min_size=1, max_size=6)))
    pieces = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
    fragments: tuple[str, ...] | tuple[bytes, ...]
    if isinstance(whole, str):
        fragments = tuple(p for p in pieces if isinstance(p, str))
    else:
        fragments = tuple(p for p in pieces if isinstance(p, bytes))
    return Frame(frame.family + "+fragmented", frame.text, frame.data, fragments)


# --- the oracle -----------------------------------------------------------------------------------


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def expected_reply(frame: Frame) -> str:
    """What docs/websocket.md promises for one frame: `pong`, `subscribed`, or an error code."""
    if frame.size() > limit():
        return "message_too_large"
    if frame.data is not None:
        return "invalid_message"
    try:
        message = json.loads(frame.text or "")
    except (ValueError, RecursionError):
        return "invalid_json"
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "invalid_message"
    if message["type"] == "ping":
        return "pong"
    if message["type"] != "subscribe":
        return "unknown_type"
    events = message.get("events", list(EVENT_TYPES))
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        return "invalid_message"
    if events and not set(events) & set(EVENT_TYPES):  # unknown names alone; else ignored
        return "unknown_event"
    value = message.get("last_event_id")
    # Ids are the log's signed 64-bit keys; a string form is at most 19 ASCII digits.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63
    ):
        return "invalid_message"
    return "subscribed"


# Deeper than this, whether json parses a frame depends on the process's recursion limit (which
# Hypothesis raises while it runs a test): "nesting too deep to parse" may then be the answer.
SAFE_DEPTH = 500


def nesting(text: str) -> int:
    """How deep arrays and objects nest in `text` (strings skipped)."""
    if text.count("[") + text.count("{") <= SAFE_DEPTH:
        return 0  # shallow enough, whatever the exact depth
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def acceptable(frame: Frame) -> set[str]:
    expected = expected_reply(frame)
    if expected != "message_too_large" and nesting(frame.text or "") > SAFE_DEPTH:
        return {expected, "invalid_json"}
    return {expected}


def kind(message: dict[str, Any]) -> str:
    return str(message["data"]["code"]) if message["type"] == "error" else str(message["type"])


def check_envelope(text: Any) -> dict[str, Any]:
    """Every server frame: JSON text that daphne can send (UTF-8), with the envelope fields."""
    assert isinstance(text, str), text
    text.encode("utf-8")  # what daphne does before sending; a lone surrogate fails here
    message = json.loads(text)
    assert isinstance(message, dict)
    assert isinstance(message["type"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["timestamp"])
    assert isinstance(message["data"], dict)
    if message["type"] == "error":
        assert message["data"]["code"]
        assert message["data"]["message"]
    return message


def is_noise(message: dict[str, Any]) -> bool:
    """Not a reply: heartbeats, and events (replayed after a `subscribe` with an id)."""
    return message["type"] == "heartbeat" or message["type"] in EVENT_TYPES


def report(request: pytest.FixtureRequest, counts: Counter[str], expected: int | None) -> None:
    """Print and record how many cases ran; check it against Hypothesis's own count."""
    total = counts.total()
    name = request.node.name
    CASES[name] = counts
    request.node.user_properties.append(("cases", total))
    families = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    line = f"\n{name}: {total} fuzz cases ({families})"
    terminal = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if terminal is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown with or without -s
            terminal.write_line(line)
    else:
        print(line)
    if expected is not None:
        assert total == expected, f"{total} cases counted, Hypothesis ran {expected}"


def hypothesis_ran(request: pytest.FixtureRequest, explicit: int) -> int | None:
    """How many examples Hypothesis ran, from its statistics; None if the run failed (the
    failure is what matters then) or the statistics are not there."""
    stats = getattr(request.node, "hypothesis_statistics", None)
    if not stats:
        return None
    runs = [(int(p), int(f)) for p, f in re.findall(r"(\d+) passing, (\d+) failing", stats)]
    if not runs or any(f for _, f in runs):
        return None
    return sum(p for p, _ in runs) + explicit


FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,  # nothing written to .hypothesis/; a failure prints its seed
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one socket per run, on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
EXPLICIT = [
    Frame("empty", text=""),
    Frame("binary", data=b"\x00\xff"),
    Frame("boundary", text='{"type":"ping","pad":"' + "x" * (limit() - 24) + '"}'),  # = limit
    # The edges of an event id (a signed 64-bit key), as a number and as a string.
    *(
        Frame("typed", text=f'{{"type": "subscribe", "last_event_id": {value}}}')
        for value in (2**63 - 1, 2**63, '"9223372036854775807"', '"00000000000000000001"')
    ),
]


# --- against the consumer (communicator) ----------------------------------------------------------


@dataclass
class CommunicatorFuzz:
    comm: WebsocketCommunicator | None = None
    counts: Counter[str] = field(default_factory=Counter)

    async def socket(self) -> WebsocketCommunicator:
        if self.comm is None:
            comm = WebsocketCommunicator(application, PATH)
            connected, _ = await comm.connect(timeout=WAIT)
            assert connected
            assert (
                kind(check_envelope((await comm.receive_output(WAIT)).get("text"))) == "connected"
            )
            self.comm = comm
        return self.comm

    async def reply(self) -> dict[str, Any] | int:
        """The next reply (skipping heartbeats and events), or the close code."""
        assert self.comm is not None
        while True:
            output = await self.comm.receive_output(timeout=WAIT)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))
            assert output["type"] == "websocket.send", output
            assert output.get("bytes") is None, output
            message = check_envelope(output.get("text"))
            if not is_noise(message):
                return message

    async def closed(self, code: int) -> None:
        # What daphne does after a server close; the consumer frees its slot, and any
        # exception it raised surfaces here.
        assert self.comm is not None
        await self.comm.disconnect(code=code)
        self.comm = None


@pytest.fixture
async def communicator_fuzz(
    stop_relay: None, request: pytest.FixtureRequest
) -> AsyncIterator[CommunicatorFuzz]:
    with override_settings(**HIGH_RATES):
        fuzz = CommunicatorFuzz()
        yield fuzz
        if fuzz.comm is not None:
            await fuzz.comm.disconnect()
    report(request, fuzz.counts, hypothesis_ran(request, len(EXPLICIT)))


async def send_to_consumer(comm: WebsocketCommunicator, frame: Frame) -> None:
    if frame.data is not None:
        await comm.send_to(bytes_data=frame.data)
    else:  # send_input: the communicator's send_to refuses an empty frame, a client does not
        await comm.send_input({"type": "websocket.receive", "text": frame.text})


def with_explicit(test: Any) -> Any:
    for frame in EXPLICIT:
        test = example(frame=frame)(test)
    return test


@pytest.mark.django_db(transaction=True)
@settings(FUZZ_SETTINGS, max_examples=COMMUNICATOR_EXAMPLES)
@with_explicit
@given(frame=frames())
async def test_consumer_answers_every_frame(
    communicator_fuzz: CommunicatorFuzz, frame: Frame
) -> None:
    event(frame.family)
    note(f"frame: {frame!r}")
    communicator_fuzz.counts[frame.family] += 1
    comm = await communicator_fuzz.socket()
    await send_to_consumer(comm, frame)
    expected = acceptable(frame)
    reply = await communicator_fuzz.reply()
    assert not isinstance(reply, int), f"closed with {reply} instead of answering {expected}"
    assert kind(reply) in expected, (reply, frame)
    if kind(reply) == "message_too_large":
        assert reply["data"]["limit"] == limit()
        assert await communicator_fuzz.reply() == 1009
        await communicator_fuzz.closed(1009)
        return
    await comm.send_input({"type": "websocket.receive", "text": PING})
    pong = await communicator_fuzz.reply()
    assert not isinstance(pong, int), f"closed with {pong} after answering {expected}"
    assert kind(pong) == "pong"
    assert pong["data"] == {}


# --- against a real daphne (websockets client) ----------------------------------------------------


async def recv_json(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    return check_envelope(await asyncio.wait_for(ws.recv(), timeout))


@dataclass
class DaphneFuzz:
    server: Daphne
    bystander: ClientConnection
    ws: ClientConnection | None = None
    counts: Counter[str] = field(default_factory=Counter)
    closes: Counter[int] = field(default_factory=Counter)
    bystander_checks: int = 0

    async def socket(self) -> ClientConnection:
        if self.ws is None:
            self.ws = await connect(self.server.ws_url, max_size=None)
            assert (await recv_json(self.ws))["type"] == "connected"
        return self.ws

    async def reply(self) -> dict[str, Any] | int:
        """The next reply (skipping heartbeats and events), or the close code."""
        assert self.ws is not None
        while True:
            try:
                message = await recv_json(self.ws)
            except ConnectionClosed:
                code = self.ws.close_code
                assert code is not None
                self.closes[code] += 1
                self.ws = None
                return code
            if not is_noise(message):
                return message

    async def check_bystander(self) -> None:
        """The bystander still gets a fresh event, and still answers a ping."""
        self.bystander_checks += 1
        job = await sync_to_async(make_job)(title=f"Bystander check {self.bystander_checks}")
        while True:
            message = await recv_json(self.bystander)
            if message["type"] == "new_job" and message["data"]["job_id"] == job.pk:
                break
            assert message["type"] in {"heartbeat", *EVENT_TYPES}, message
        await self.bystander.send(PING)
        while (message := await recv_json(self.bystander))["type"] != "pong":
            assert message["type"] in {"heartbeat", *EVENT_TYPES}, message


@pytest.fixture
async def daphne_fuzz(
    daphne_factory: Any, stop_relay: None, request: pytest.FixtureRequest
) -> AsyncIterator[DaphneFuzz]:
    server: Daphne = daphne_factory(
        # The message size limit `manage.py serve` gives daphne, above the app's own.
        ["--websocket-max-message-size", str(DAPHNE_MAX_MESSAGE_BYTES)],
        JOBSENTINEL_WS_RATE_PER_MINUTE="100000",
        JOBSENTINEL_WS_RATE_PER_HOUR="1000000",
    )
    async with connect(server.ws_url) as bystander:
        assert (await recv_json(bystander))["type"] == "connected"
        fuzz = DaphneFuzz(server, bystander)
        yield fuzz
        ran = hypothesis_ran(request, len(EXPLICIT))
        if ran is not None:  # the run passed: the bystander and the server are still fine
            await fuzz.check_bystander()
            assert bystander.close_code is None
        if fuzz.ws is not None:
            await fuzz.ws.close()
    report(request, fuzz.counts, ran)
    if ran is not None:
        assert set(fuzz.closes) <= INTERESTING_CLOSES, fuzz.closes
        log = server.log()
        assert "Traceback" not in log, log[-4000:]
        assert fuzz.bystander_checks >= DAPHNE_EXAMPLES // BYSTANDER_EVERY


async def send_on_the_wire(ws: ClientConnection, frame: Frame) -> None:
    if frame.fragments is not None:
        # bytes fragments of a text frame go out as a text message (cut anywhere in UTF-8)
        await ws.send(frame.fragments, text=frame.text is not None)
    elif frame.data is not None:
        await ws.send(frame.data)
    else:
        await ws.send(frame.text or "")


@pytest.mark.django_db(transaction=True)
@settings(FUZZ_SETTINGS, max_examples=DAPHNE_EXAMPLES)
@with_explicit
@given(frame=wire_frames())
async def test_daphne_answers_every_frame_and_bystanders_are_unaffected(
    daphne_fuzz: DaphneFuzz, frame: Frame
) -> None:
    event(frame.family)
    note(f"frame: {frame!r}")
    daphne_fuzz.counts[frame.family] += 1
    ws = await daphne_fuzz.socket()
    await send_on_the_wire(ws, frame)
    expected = acceptable(frame)
    reply = await daphne_fuzz.reply()
    assert not isinstance(reply, int), f"closed with {reply} instead of answering {expected}"
    assert kind(reply) in expected, (reply, frame)
    if kind(reply) == "message_too_large":
        assert await daphne_fuzz.reply() == 1009
    else:
        await ws.send(PING)
        pong = await daphne_fuzz.reply()
        assert not isinstance(pong, int), f"closed with {pong} after answering {expected}"
        assert kind(pong) == "pong"
    if daphne_fuzz.counts.total() % BYSTANDER_EVERY == 0:
        await daphne_fuzz.check_bystander()


# --- crashers found by this fuzzing, fixed and pinned --------------------------------------------


async def first_reply(ws: ClientConnection) -> dict[str, Any] | int:
    try:
        while is_noise(message := await recv_json(ws)):
            pass
        return message
    except ConnectionClosed:
        assert ws.close_code is not None
        return ws.close_code


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        pytest.param(
            r'{"type": "subscribe", "events": ["\ud800"]}',
            "unknown_event",
            id="lone-surrogate-event",
        ),
        pytest.param(
            r'{"type": "subscribe", "events": ["new_job", "\ud800"]}',
            "subscribed",
            id="lone-surrogate-beside-a-known-event",
        ),
        pytest.param(
            '{"type": "subscribe", "last_event_id": "\u00b2"}',
            "invalid_message",
            id="superscript-digit",
        ),
        pytest.param(
            '{"type": "subscribe", "last_event_id": "' + "9" * 5000 + '"}',
            "invalid_message",
            id="5000-digits",
        ),
        pytest.param(r'{"type": "\ud800"}', "unknown_type", id="lone-surrogate-type"),
    ],
)
async def test_crashers_found_by_fuzzing_get_an_error_and_the_socket_lives(
    daphne_factory: Any, frame: str, code: str
) -> None:
    server: Daphne = daphne_factory()
    async with connect(server.ws_url) as ws:
        assert (await recv_json(ws))["type"] == "connected"
        await ws.send(frame)
        reply = await first_reply(ws)
        assert not isinstance(reply, int), f"closed with {reply}"
        assert kind(reply) == code
        await ws.send(PING)
        pong = await first_reply(ws)
        assert not isinstance(pong, int), f"closed with {pong}"
        assert kind(pong) == "pong"
    assert "Traceback" not in server.log()


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("?last_event_id=%C2%B2", id="superscript-digit"),
        pytest.param("?last_event_id=" + "1" * 30, id="huge-id"),
        pytest.param("?events=%ED%A0%80", id="undecodable-event-name"),
    ],
)
async def test_odd_query_strings_get_an_error_or_a_replay(daphne_factory: Any, query: str) -> None:
    server: Daphne = daphne_factory()
    async with connect(server.ws_url + query) as ws:
        assert (await recv_json(ws))["type"] == "connected"
        await ws.send(PING)
        reply = await first_reply(ws)
        if not isinstance(reply, int) and reply["type"] == "error":
            reply = await first_reply(ws)
        assert not isinstance(reply, int), f"closed with {reply}"
        assert kind(reply) == "pong"
    assert "Traceback" not in server.log()

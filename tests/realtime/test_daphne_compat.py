"""One test per adjustment in `realtime/daphne_compat.py`: each checks the daphne, autobahn or
Twisted internal the patch relies on, so an upgrade that changes it fails here, loudly and by
name, rather than silently in production. (What each patch does for a client is proven on a
real daphne in test_daphne.py, test_churn.py, test_abuse.py and tests/reliability/.)"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import struct
from typing import Any

import pytest
from autobahn.exception import Disconnected
from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol
from daphne.access import AccessLogGenerator
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import abstract, tcp

from realtime import daphne_compat
from realtime.live import frame_writer, text_frame


def original(function: Any) -> Any:
    """The library's own function, also when this process has already applied the patches
    (each replacement wraps the original with functools.wraps)."""
    return inspect.unwrap(function)


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(original(function), follow_wrapped=False).parameters)


def source(function: Any) -> str:
    return inspect.getsource(original(function))


def test_registered_close_codes_rely_on_server_close_and_send_close_frame() -> None:
    """Patch 1: daphne closes through `serverClose(code)`; autobahn's `sendClose` refuses 1009,
    1012, 1013, so those go through `sendCloseFrame(code, reasonUtf8, isReply)`."""
    assert parameters(WebSocketProtocol.serverClose) == ["self", "code"]
    assert parameters(AutobahnProtocol.sendCloseFrame)[:4] == [
        "self",
        "code",
        "reasonUtf8",
        "isReply",
    ]
    assert "3000" in source(AutobahnProtocol.sendClose), "sendClose takes any code: drop patch 1"


def test_slow_reader_check_reads_twisted_transport_buffers() -> None:
    """Patch 2: bytes waiting = len(dataBuffer) - offset + _tempDataLen of a Twisted TCP
    transport (twisted.internet.abstract.FileDescriptor)."""
    descriptor = abstract.FileDescriptor()
    for name in ("dataBuffer", "offset", "_tempDataLen"):
        assert hasattr(descriptor, name), f"Twisted FileDescriptor has no {name} any more"
    descriptor.dataBuffer = b"x" * 10
    descriptor.offset = 3
    descriptor._tempDataLen = 5
    assert daphne_compat._pending_bytes(descriptor) == 12


def test_fast_sends_rely_on_autobahn_send_state() -> None:
    """Patch 4 writes its own frame only while autobahn would frame it the same way: it reads
    `state`, `send_state`, `send_queue` and `_perMessageCompress`."""
    for name in ("STATE_OPEN", "STATE_CLOSING", "STATE_CLOSED", "SEND_STATE_GROUND"):
        assert hasattr(AutobahnProtocol, name), f"autobahn has no {name} any more"
    text = inspect.getsource(AutobahnProtocol)
    for name in ("self.send_state", "self.send_queue", "self._perMessageCompress"):
        assert name in text, f"autobahn no longer uses {name}"
    assert parameters(WebSocketProtocol.serverSend) == ["self", "content", "binary"]


@pytest.mark.parametrize("size", [5, 125, 126, 65535, 65536])
def test_text_frames_are_rfc6455_frames(size: int) -> None:
    """Patch 4's frame: FIN + text opcode, unmasked, 7/16/64-bit length, then the payload."""
    text = "é" * (size // 2) + "a" * (size % 2)
    payload = text.encode()
    frame = text_frame(text)
    assert frame[0] == 0x81
    if len(payload) < 126:
        assert frame[1] == len(payload)
        header = 2
    elif len(payload) < 65536:
        assert frame[1] == 126
        assert struct.unpack("!H", frame[2:4])[0] == len(payload)
        header = 4
    else:
        assert frame[1] == 127
        assert struct.unpack("!Q", frame[2:10])[0] == len(payload)
        header = 10
    assert frame[header:] == payload


def test_access_log_patch_relies_on_the_generator_signature() -> None:
    """Patch 3 wraps `AccessLogGenerator.__call__(protocol, action, details)` and rewrites
    `details["path"]`."""
    assert parameters(AccessLogGenerator.__call__) == ["self", "protocol", "action", "details"]
    assert "%(path)s" in source(AccessLogGenerator.__call__)


def test_sends_to_a_closing_socket_are_what_autobahn_refuses() -> None:
    """Patch 5 drops sends in CLOSING/CLOSED, where autobahn's sendMessage raises."""
    text = source(AutobahnProtocol.sendMessage)
    assert "STATE_OPEN" in text
    assert "Disconnected" in text
    assert issubclass(Disconnected, Exception)


def test_factories_can_be_told_not_to_fail_by_drop() -> None:
    """Patch 6: daphne builds `WebSocketFactory(server, **options)` and later calls
    `setProtocolOptions`, which keeps `failByDrop` unless told otherwise."""
    assert parameters(WebSocketFactory.__init__) == ["self", "server_class", "args", "kwargs"]
    assert "failByDrop" in parameters(WebSocketFactory.setProtocolOptions)
    unpatched = WebSocketFactory.__new__(WebSocketFactory)
    original(WebSocketFactory.__init__)(unpatched, object(), server="Daphne")
    assert unpatched.failByDrop is True  # autobahn's default: what patch 6 changes
    daphne_compat.close_frames_instead_of_drops()
    factory = WebSocketFactory(object(), server="Daphne")
    assert factory.failByDrop is False
    factory.setProtocolOptions(maxMessagePayloadSize=1024)  # what daphne does next
    assert factory.failByDrop is False
    text = source(AutobahnProtocol._fail_connection)
    assert "self.failByDrop" in text
    assert "sendCloseFrame" in text


def test_graceful_restart_relies_on_on_open_and_shutdown_triggers() -> None:
    """Patch 7 tracks sockets in `onOpen` and sends 1012 from a "before shutdown" trigger."""
    from twisted.internet import reactor

    assert parameters(WebSocketProtocol.onOpen) == ["self"]
    assert hasattr(reactor, "addSystemEventTrigger")


def test_an_adopted_socket_keeps_its_family() -> None:
    """Patch 8: Twisted's `fd:` endpoint takes its family from `domain` (IPv4 unless given, and
    a string when given, which adoptStreamPort refuses); the patch reads it from the socket."""
    import socket

    from twisted.internet import reactor
    from twisted.internet.endpoints import AdoptedStreamServerEndpoint
    from twisted.plugins.fd_endpoint import _FDParser

    assert parameters(_FDParser._parseServer) == ["self", "reactor", "fileno", "domain"]
    assert "AdoptedStreamServerEndpoint(reactor, fileno, domain)" in source(_FDParser._parseServer)
    daphne_compat.adopted_sockets_keep_their_family()
    with socket.socket(socket.AF_INET6) as listener:
        listener.bind(("::1", 0))
        endpoint = _FDParser()._parseServer(reactor, str(listener.fileno()))
        assert isinstance(endpoint, AdoptedStreamServerEndpoint)
        assert endpoint.addressFamily == socket.AF_INET6
        assert endpoint.fileno == listener.fileno()


class FakeTransport:
    """What patch 2 reads of a Twisted TCP transport, and what patch 9 writes to."""

    def __init__(self, pending: int = 0) -> None:
        self.dataBuffer = b"x" * pending
        self.offset = 0
        self._tempDataLen = 0
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def abortConnection(self) -> None:
        pass


def open_socket(pending: int = 0) -> Any:
    """A daphne socket in autobahn's OPEN state, between messages, without a connection."""
    protocol = WebSocketProtocol()
    protocol.state = protocol.STATE_OPEN
    protocol.send_state = protocol.SEND_STATE_GROUND
    protocol.send_queue = []
    protocol._perMessageCompress = None
    protocol.transport = FakeTransport(pending)
    return protocol


def test_direct_frame_writes_rely_on_create_application_and_send_state() -> None:
    """Patch 9 adds its writer to the scope daphne's `create_application(protocol, scope)`
    passes on to the application, and writes only where `serverSend` would (patches 2, 4, 5)."""
    assert parameters(Server.create_application) == ["self", "protocol", "scope"]
    assert "scope=scope" in source(Server.create_application)
    daphne_compat.lean_sockets()
    frame = text_frame('{"type": "new_job"}')

    protocol = open_socket()
    assert daphne_compat.write_frame(protocol, frame) is True
    assert protocol.transport.written == [frame]

    protocol.send_state = protocol.SEND_STATE_INSIDE_MESSAGE  # autobahn mid-message: its turn
    assert daphne_compat.write_frame(protocol, frame) is False
    protocol.state = protocol.STATE_CONNECTING  # daphne's serverSend accepts first: its turn
    assert daphne_compat.write_frame(protocol, frame) is False
    for state in (protocol.STATE_CLOSING, protocol.STATE_CLOSED):  # leaving: dropped (patch 5)
        protocol.state = state
        assert daphne_compat.write_frame(protocol, frame) is True
    assert protocol.transport.written == [frame]


def test_direct_frame_writes_close_a_client_that_stopped_reading(settings: Any) -> None:
    """Patch 9 keeps patch 2's rule: far over the backlog limit, the socket gets 4408 instead."""
    daphne_compat.lean_sockets()
    settings.WS_MAX_BACKLOG_BYTES = 1000
    protocol = open_socket(pending=1000 * daphne_compat.HARD_BACKLOG_FACTOR + 1)
    closes: list[int] = []
    protocol.sendCloseFrame = lambda code, isReply: closes.append(code)
    assert daphne_compat.write_frame(protocol, text_frame("{}")) is True
    assert protocol.transport.written == []
    assert closes == [4408]


async def test_direct_frame_writer_reaches_the_scope() -> None:
    """Patch 9 end to end on daphne's own `create_application`: the application's scope
    carries the socket's writer, which writes to that socket."""
    daphne_compat.lean_sockets()
    scopes: list[dict[str, Any]] = []

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scopes.append(scope)

    protocol = open_socket()
    server = Server.__new__(Server)
    server.application = application
    server.connections = {protocol: {}}
    Server.create_application(server, protocol, {"type": "websocket"})
    await server.connections[protocol]["application_instance"]
    write = frame_writer(scopes[0])
    assert write is not None
    assert write(text_frame("hello")) is True
    assert protocol.transport.written == [text_frame("hello")]
    assert frame_writer({"type": "websocket"}) is None  # any other server: the ASGI path


def test_direct_writes_go_to_the_socket_only_when_twisted_holds_nothing() -> None:
    """Patch 9 sends straight to a TCP transport's socket while nothing waits in Twisted's
    buffer, and hands Twisted's `write` the rest (or everything, when bytes wait), so the
    order holds. It reads these attributes of a Twisted TCP connection."""
    for name in ("TLS", "connected", "disconnecting", "_writeDisconnected", "dataBuffer"):
        assert hasattr(tcp.Connection, name), f"Twisted's tcp.Connection has no {name} any more"
    assert re.search(r"self\.socket\b[^=\n]*= skt\b", inspect.getsource(tcp.Connection.__init__))
    assert "self.socket.send" in inspect.getsource(tcp.Connection.writeSomeData)

    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)
        transport: Any = FakeTransport()
        transport.TLS = False
        transport.connected = True
        transport.disconnecting = False
        transport._writeDisconnected = False
        transport.socket = ours
        daphne_compat.send_now(transport, b"first")
        assert theirs.recv(100) == b"first"
        assert transport.written == []

        transport._tempDataLen = 3  # Twisted holds bytes: behind them, through its buffer
        daphne_compat.send_now(transport, b"second")
        assert transport.written == [b"second"]
        transport._tempDataLen = 0
        transport.written.clear()

        big = bytes(range(256)) * 20_000  # more than the kernel takes at once
        daphne_compat.send_now(transport, big)
        [rest] = transport.written
        assert 0 < len(rest) < len(big)
        assert big.endswith(rest)


def test_socket_inbox_replaces_what_daphne_uses_of_its_queue() -> None:
    """Patch 10 copies daphne's `create_application` for sockets with a `SocketInbox` for its
    `asyncio.Queue`: the copy must match daphne's method, and a socket's protocol must use
    nothing of the queue but `put_nowait`."""
    text = source(Server.create_application)
    for line in (
        "input_queue = asyncio.Queue()",
        'scope.setdefault("asgi", {"version": "3.0"})',
        "receive=input_queue.get,",
        "send=partial(self.handle_reply, protocol),",
        'self.connections[protocol]["application_instance"] = asyncio.ensure_future(',
        "return input_queue",
    ):
        assert line in text, f"daphne's create_application changed: {line!r}"
    uses = re.findall(r"application_queue\.(\w+)", inspect.getsource(WebSocketProtocol))
    assert set(uses) == {"put_nowait"}


async def test_socket_inbox_is_first_in_first_out_and_loses_nothing_to_cancellation() -> None:
    inbox = daphne_compat.SocketInbox()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert [await inbox.get(), await inbox.get()] == [1, 2]
    assert inbox.qsize() == 0

    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait(3)
    waiting.cancel()  # woken, but cancelled before it ran: 3 must stay for the next get
    with pytest.raises(asyncio.CancelledError):
        await waiting
    inbox.put_nowait(4)
    assert [await inbox.get(), await inbox.get()] == [3, 4]

    later = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not later.done()
    inbox.put_nowait(5)
    assert await asyncio.wait_for(later, 1) == 5


def test_event_streams_rely_on_handle_reply_and_twisted_request_state(settings: Any) -> None:
    """Patch 11 wraps `WebRequest.handle_reply(message)`, which writes each body chunk to the
    transport at once (no back-pressure); after a chunk with `more_body` of a
    `text/event-stream` response it reads the request's `finished`, `channel`,
    `responseHeaders` and `transport`, and drops a stuck one with `abortConnection`, after which
    daphne's `connectionLost` sends the application `http.disconnect`."""
    from daphne.http_protocol import WebRequest
    from twisted.internet import tcp
    from twisted.web.http import Request
    from twisted.web.http_headers import Headers

    assert parameters(WebRequest.handle_reply) == ["self", "message"]
    reply = source(WebRequest.handle_reply)
    assert 'http.Request.write(self, message.get("body", b""))' in reply
    assert '"more_body"' in reply
    assert "self.finished or self.channel is None" in reply
    assert "self.send_disconnect()" in source(WebRequest.connectionLost)
    assert "self.transport = self.channel.transport" in source(Request.__init__)
    assert "self.channel = None" in source(Request.connectionLost)
    assert hasattr(tcp.Connection, "abortConnection")

    request = WebRequest.__new__(WebRequest)
    request.responseHeaders = Headers({b"Content-Type": [b"text/event-stream; charset=utf-8"]})
    assert daphne_compat._is_event_stream(request)
    request.responseHeaders = Headers({b"content-type": [b"application/json"]})
    assert not daphne_compat._is_event_stream(request)

    # The rule shared with the socket: over the bound for long enough, or far over it at once.
    settings.WS_MAX_BACKLOG_BYTES = 1000
    holder = type("Holder", (), {"_jobsentinel_over_since": None})()
    assert not daphne_compat.stopped_reading(holder, 1000)
    assert not daphne_compat.stopped_reading(holder, 1001)  # a burst: not yet
    assert holder._jobsentinel_over_since is not None
    holder._jobsentinel_over_since -= settings.WS_SLOW_READER_SECONDS + 1
    assert daphne_compat.stopped_reading(holder, 1001)  # stuck for too long
    assert not daphne_compat.stopped_reading(holder, 10)  # caught up: the clock starts again
    assert holder._jobsentinel_over_since is None
    assert daphne_compat.stopped_reading(holder, 1000 * daphne_compat.HARD_BACKLOG_FACTOR + 1)

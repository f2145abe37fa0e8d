"""The protocol over an in-process communicator: every message type and every bad input."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from jobs.models import ScrapeRun, ScrapeStatus
from jobsentinel.asgi import application
from realtime.events import EVENT_TYPES
from realtime.models import Event, LogMark
from tests.factories import make_job, make_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stop_relay")]

PATH = "/api/v1/ws/jobs"
WAIT = 5  # generous for a loaded 2-core CI box


async def settle() -> None:
    """This process's hub hears what the test wrote a moment after the commit (embedded mode:
    the relay's next read of the log; Redis mode: the publisher thread sends it and the hub
    hears it back). Let it arrive before connecting, or it may reach the new socket live."""
    from realtime import log
    from realtime.hub import get_hub
    from realtime.publish import publisher

    if settings.REDIS_URL:
        await sync_to_async(publisher().flush)()
    latest = await sync_to_async(log.latest_id)()
    hub = await get_hub()
    deadline = asyncio.get_running_loop().time() + WAIT
    while hub.last_event_id < latest:
        assert asyncio.get_running_loop().time() < deadline, "the hub never heard the event"
        await asyncio.sleep(0.01)


async def connect(
    path: str = PATH, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    await settle()
    comm = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await comm.connect(timeout=WAIT)
    assert connected
    first = await comm.receive_json_from(timeout=WAIT)
    return comm, first


async def receive(comm: WebsocketCommunicator) -> dict[str, Any]:
    return await comm.receive_json_from(timeout=WAIT)


async def test_connected_message_describes_the_server() -> None:
    comm, first = await connect()
    try:
        assert first["type"] == "connected"
        assert first["timestamp"].endswith("Z")
        data = first["data"]
        assert data["message"] == "Connected to JobSentinel WebSocket"
        assert data["events"] == list(EVENT_TYPES)
        assert data["subscribed"] == list(EVENT_TYPES)
        assert data["last_event_id"] == 0
        assert data["heartbeat_interval"] > 0
    finally:
        await comm.disconnect()


async def test_ping_gets_pong() -> None:
    comm, _ = await connect()
    try:
        await comm.send_json_to({"type": "ping", "timestamp": "2025-10-14T00:07:00Z"})
        reply = await receive(comm)
        assert reply["type"] == "pong"
        assert reply["data"] == {}
    finally:
        await comm.disconnect()


async def test_new_job_reaches_a_default_subscriber() -> None:
    comm, _ = await connect()
    try:
        job = await sync_to_async(make_job)(title="Senior Backend Engineer", score=0.95)
        message = await receive(comm)
        assert message["type"] == "new_job"
        assert isinstance(message["id"], int)
        data = message["data"]
        assert data["job_id"] == job.pk
        assert data["title"] == "Senior Backend Engineer"
        assert data["company"] == job.company
        assert data["location"] == "Remote"
        assert data["score"] == 0.95
        assert data["url"] == job.url
    finally:
        await comm.disconnect()


async def test_subscribe_changes_what_arrives() -> None:
    comm, _ = await connect()
    try:
        await comm.send_json_to({"type": "subscribe", "events": ["scrape_completed"]})
        reply = await receive(comm)
        assert reply["type"] == "subscribed"
        assert reply["data"] == {"events": ["scrape_completed"]}

        source = await sync_to_async(make_source)()
        await sync_to_async(make_job)(source=source)  # new_job: not subscribed
        run = await sync_to_async(ScrapeRun.objects.create)(
            source=source
        )  # scrape_started: not subscribed

        def finish() -> None:
            run.status = ScrapeStatus.SUCCEEDED
            run.jobs_found, run.new_jobs, run.duration_seconds = 1, 1, 0.5
            run.save()

        await sync_to_async(finish)()
        message = await receive(comm)
        assert message["type"] == "scrape_completed"
        assert message["data"]["source"] == "greenhouse"
        assert message["data"]["jobs_found"] == 1
        assert message["data"]["new_jobs"] == 1
        assert await comm.receive_nothing(timeout=0.5)
    finally:
        await comm.disconnect()


async def test_only_unknown_events_are_refused_and_change_nothing() -> None:
    comm, _ = await connect()
    try:
        await comm.send_json_to({"type": "subscribe", "events": ["scrape_completed"]})
        await receive(comm)
        await comm.send_json_to({"type": "subscribe", "events": ["bogus", "heartbeat"]})
        error = await receive(comm)
        assert error["type"] == "error"
        assert error["data"]["code"] == "unknown_event"
        assert error["data"]["unknown"] == ["bogus", "heartbeat"]
        assert error["data"]["valid"] == list(EVENT_TYPES)
        await sync_to_async(make_job)()
        assert await comm.receive_nothing(timeout=0.5)  # still only scrape_completed
    finally:
        await comm.disconnect()


async def test_known_events_apply_and_unknown_ones_are_listed_as_ignored() -> None:
    """The original client hook sends `messageTypes: ['new_job', 'heartbeat']`: the known
    name applies, the other is named back, and the client does not get every event."""
    comm, _ = await connect()
    try:
        await comm.send_json_to({"type": "subscribe", "events": ["new_job", "heartbeat"]})
        reply = await receive(comm)
        assert reply["type"] == "subscribed"
        assert reply["data"] == {"events": ["new_job"], "ignored": ["heartbeat"]}
        run = await sync_to_async(ScrapeRun.objects.create)(
            source=await sync_to_async(make_source)()
        )
        job = await sync_to_async(make_job)()
        message = await receive(comm)
        assert message["type"] == "new_job"  # scrape_started of the run was not sent
        assert message["data"]["job_id"] == job.pk
        assert run.pk
        assert await comm.receive_nothing(timeout=0.5)
    finally:
        await comm.disconnect()


async def test_query_events_apply_the_known_and_list_the_ignored() -> None:
    comm, first = await connect(f"{PATH}?events=new_job,bogus")
    try:
        assert first["data"]["subscribed"] == ["new_job"]
        assert first["data"]["ignored"] == ["bogus"]
    finally:
        await comm.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("", "invalid_json"),
        ("{", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('"ping"', "invalid_message"),
        ("{}", "invalid_message"),
        ('{"type": 5}', "invalid_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "subscribe", "events": "new_job"}', "invalid_message"),
        ('{"type": "subscribe", "events": [1]}', "invalid_message"),
        ('{"type": "subscribe", "events": ["new_job"], "last_event_id": "abc"}', "invalid_message"),
        ('{"type": "subscribe", "events": ["new_job"], "last_event_id": -1}', "invalid_message"),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
    ],
)
async def test_bad_input_gets_an_error_and_the_socket_lives(frame: str, code: str) -> None:
    comm, _ = await connect()
    try:
        # send_input: the communicator's send_to refuses an empty frame, a real client does not.
        await comm.send_input({"type": "websocket.receive", "text": frame})
        error = await receive(comm)
        assert error["type"] == "error"
        assert error["data"]["code"] == code
        assert error["data"]["message"]
        await comm.send_json_to({"type": "ping"})
        assert (await receive(comm))["type"] == "pong"
    finally:
        await comm.disconnect()


async def test_binary_frame_gets_an_error_and_the_socket_lives() -> None:
    comm, _ = await connect()
    try:
        await comm.send_to(bytes_data=b"\x00\xff")
        error = await receive(comm)
        assert error["data"]["code"] == "invalid_message"
        await comm.send_json_to({"type": "ping"})
        assert (await receive(comm))["type"] == "pong"
    finally:
        await comm.disconnect()


@override_settings(WS_MAX_MESSAGE_BYTES=1024)
async def test_oversized_message_is_answered_then_closed_with_1009() -> None:
    comm, _ = await connect()
    await comm.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 2000}))
    error = await receive(comm)
    assert error["data"]["code"] == "message_too_large"
    assert error["data"]["limit"] == 1024
    closed = await comm.receive_output(timeout=WAIT)
    assert closed == {"type": "websocket.close", "code": 1009}
    await comm.wait()


@override_settings(WS_RATE_PER_MINUTE=3)
async def test_rate_limit_answers_then_closes_with_4429() -> None:
    comm, _ = await connect()
    for _ in range(3):
        await comm.send_json_to({"type": "ping"})
        assert (await receive(comm))["type"] == "pong"
    await comm.send_json_to({"type": "ping"})
    limited = await receive(comm)
    assert limited["data"]["code"] == "rate_limited"
    assert limited["data"]["retry_after"] > 0
    for _ in range(20):  # a client that keeps going is cut off
        await comm.send_json_to({"type": "ping"})
    outputs = []
    while True:
        output = await comm.receive_output(timeout=WAIT)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    assert outputs[-1]["code"] == 4429
    assert all(json.loads(o["text"])["data"]["code"] == "rate_limited" for o in outputs[:-1])
    await comm.wait()


@override_settings(WS_MAX_CONNECTIONS_PER_IP=1)
async def test_connections_per_ip_are_capped_with_1013() -> None:
    first, _ = await connect()
    try:
        second = WebsocketCommunicator(application, PATH)
        connected, _ = await second.connect(timeout=WAIT)
        assert connected  # accepted so that the close code can say why
        error = await second.receive_json_from(timeout=WAIT)
        assert error["data"]["code"] == "over_capacity"
        assert await second.receive_output(timeout=WAIT) == {
            "type": "websocket.close",
            "code": 1013,
        }
        await second.wait()
    finally:
        await first.disconnect()
    third, _ = await connect()  # the slot was given back
    await third.disconnect()


@override_settings(WS_MAX_CONNECTIONS=1)
async def test_total_connections_are_capped_with_1013() -> None:
    first, _ = await connect()
    try:
        second = WebsocketCommunicator(application, PATH)
        await second.connect(timeout=WAIT)
        await second.receive_json_from(timeout=WAIT)
        assert (await second.receive_output(timeout=WAIT))["code"] == 1013
    finally:
        await first.disconnect()


@override_settings(API_KEYS=frozenset({"s3cret"}))
@pytest.mark.parametrize(
    ("path", "headers", "allowed"),
    [
        (PATH, [], False),
        (PATH + "?api_key=wrong", [], False),
        (PATH + "?api_key=s3cret", [], True),
        (PATH, [(b"authorization", b"Bearer s3cret")], True),
        (PATH, [(b"authorization", b"Bearer nope")], False),
    ],
)
async def test_api_keys_are_enforced(
    path: str, headers: list[tuple[bytes, bytes]], allowed: bool
) -> None:
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=WAIT)
    assert connected
    first = await comm.receive_json_from(timeout=WAIT)
    if allowed:
        assert first["type"] == "connected"
        await comm.disconnect()
    else:
        assert first["data"]["code"] == "unauthorized"
        assert await comm.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4401}
        await comm.wait()


async def test_foreign_origin_is_refused_and_own_origin_allowed() -> None:
    foreign = WebsocketCommunicator(
        application, PATH, headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await foreign.connect(timeout=WAIT)
    assert not connected
    own = WebsocketCommunicator(
        application,
        PATH,
        headers=[(b"origin", b"http://localhost:8000"), (b"host", b"localhost:8000")],
    )
    connected, _ = await own.connect(timeout=WAIT)
    assert connected
    await own.disconnect()
    other_port = WebsocketCommunicator(
        application,
        PATH,
        headers=[(b"origin", b"http://localhost:9000"), (b"host", b"localhost:8000")],
    )
    connected, _ = await other_port.connect(timeout=WAIT)
    assert not connected


@override_settings(CORS_ORIGINS=["https://dashboard.example"])
async def test_cors_origins_are_allowed() -> None:
    comm = WebsocketCommunicator(
        application, PATH, headers=[(b"origin", b"https://dashboard.example")]
    )
    connected, _ = await comm.connect(timeout=WAIT)
    assert connected
    await comm.disconnect()


async def test_resume_replays_exactly_the_missed_events_then_goes_live() -> None:
    source = await sync_to_async(make_source)()
    first_job = await sync_to_async(make_job)(source=source)
    seen = await sync_to_async(lambda: Event.objects.latest("id").id)()
    missed = [await sync_to_async(make_job)(source=source) for _ in range(3)]

    comm, first = await connect(f"{PATH}?last_event_id={seen}")
    try:
        assert first["data"]["last_event_id"] == seen + 3
        replayed = [await receive(comm) for _ in range(3)]
        assert [m["data"]["job_id"] for m in replayed] == [j.pk for j in missed]
        assert [m["id"] for m in replayed] == [seen + 1, seen + 2, seen + 3]
        live = await sync_to_async(make_job)(source=source)
        message = await receive(comm)
        assert message["data"]["job_id"] == live.pk
        assert await comm.receive_nothing(timeout=0.5)  # no duplicate of a replayed event
    finally:
        await comm.disconnect()
    assert first_job.pk not in [m["data"]["job_id"] for m in replayed]


async def test_resume_in_subscribe_respects_the_filter() -> None:
    source = await sync_to_async(make_source)()
    comm, first = await connect()
    try:
        start = first["data"]["last_event_id"]
        await comm.send_json_to({"type": "subscribe", "events": ["scrape_started"]})
        await receive(comm)
        await comm.disconnect()
        await sync_to_async(make_job)(source=source)
        run = await sync_to_async(ScrapeRun.objects.create)(source=source)
        comm, _ = await connect(f"{PATH}?events=scrape_started")
        await comm.send_json_to(
            {"type": "subscribe", "events": ["scrape_started"], "last_event_id": start}
        )
        assert (await receive(comm))["type"] == "subscribed"
        replay = await receive(comm)
        assert replay["type"] == "scrape_started"
        assert replay["data"]["run_id"] == run.pk
        assert await comm.receive_nothing(timeout=0.5)
    finally:
        await comm.disconnect()


async def test_resume_past_retention_says_so_then_replays_what_is_kept() -> None:
    jobs = [await sync_to_async(make_job)() for _ in range(3)]
    ids = await sync_to_async(lambda: list(Event.objects.values_list("id", flat=True)))()
    await sync_to_async(Event.objects.filter(id=ids[0]).delete)()
    await sync_to_async(LogMark.objects.create)(id=1, pruned_through=ids[0])
    comm, _ = await connect(f"{PATH}?last_event_id=0")
    try:
        error = await receive(comm)
        assert error["data"]["code"] == "resume_expired"
        assert error["data"]["pruned_through"] == ids[0]
        kept = [await receive(comm) for _ in range(2)]
        assert [m["data"]["job_id"] for m in kept] == [j.pk for j in jobs[1:]]
    finally:
        await comm.disconnect()


async def test_job_updated_lists_exactly_the_meaningful_changes() -> None:
    job = await sync_to_async(make_job)(score=0.5)
    comm, _ = await connect()
    try:

        def change() -> None:
            job.score = 0.97
            job.description_text = "new text"
            job.content_hash = "abc"
            job.save(update_fields=["score", "description_text", "content_hash"])

        await sync_to_async(change)()
        message = await receive(comm)
        assert message["type"] == "job_updated"
        assert message["data"]["job_id"] == job.pk
        assert message["data"]["changes"] == ["description", "score"]
        assert message["data"]["new_score"] == 0.97

        def bookkeeping_only() -> None:
            job.content_hash = "def"
            job.save(update_fields=["content_hash", "last_seen"])

        await sync_to_async(bookkeeping_only)()
        assert await comm.receive_nothing(timeout=0.5)
    finally:
        await comm.disconnect()


async def test_full_save_reports_fields_changed_since_load() -> None:
    job = await sync_to_async(make_job)()
    comm, _ = await connect()
    try:

        def edit_like_the_admin() -> None:
            from jobs.models import Job

            loaded = Job.objects.get(pk=job.pk)
            loaded.title = "Staff Engineer"
            loaded.save()
            loaded.save()  # a second save with nothing changed sends nothing

        await sync_to_async(edit_like_the_admin)()
        message = await receive(comm)
        assert message["data"]["changes"] == ["title"]
        assert message["data"]["job"]["title"] == "Staff Engineer"
        assert await comm.receive_nothing(timeout=0.5)
    finally:
        await comm.disconnect()


async def test_rolled_back_write_sends_nothing_and_logs_nothing() -> None:
    source = await sync_to_async(make_source)()
    comm, _ = await connect()
    try:

        def doomed() -> None:
            with transaction.atomic():
                make_job(source=source)
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            await sync_to_async(doomed)()
        assert await comm.receive_nothing(timeout=0.7)
        assert await sync_to_async(Event.objects.count)() == 0
    finally:
        await comm.disconnect()


@override_settings(WS_HEARTBEAT_SECONDS=0.2)
async def test_heartbeats_arrive_on_schedule() -> None:
    comm, _ = await connect()
    try:
        beats = [await receive(comm) for _ in range(3)]
        assert {b["type"] for b in beats} == {"heartbeat"}
    finally:
        await comm.disconnect()


async def test_event_delivery_skips_the_database_cleanup_hop() -> None:
    comm, _ = await connect()
    try:
        with mock.patch("channels.consumer.aclose_old_connections") as hop:
            hop.return_value = None

            async def noop() -> None:
                return None

            hop.side_effect = noop
            await sync_to_async(make_job)()
            assert (await receive(comm))["type"] == "new_job"
            assert hop.call_count == 0  # event pushes never touch the ORM
            await comm.send_json_to({"type": "ping"})
            await receive(comm)
            assert hop.call_count == 1  # client messages still get it
    finally:
        await comm.disconnect()


async def test_a_stray_message_on_an_event_group_disturbs_nothing() -> None:
    from channels.layers import get_channel_layer

    comm, _ = await connect()
    try:
        layer = get_channel_layer()
        # Reaches the hub's listener (the only group member): an unknown type, and a push
        # missing its fields. Neither may end delivery for the sockets of this process.
        await layer.group_send("events.new_job", {"type": "something.else"})
        await layer.group_send("events.new_job", {"type": "event.push"})
        await comm.send_json_to({"type": "ping"})
        assert (await receive(comm))["type"] == "pong"
        job = await sync_to_async(make_job)()
        message = await receive(comm)
        assert message["type"] == "new_job"
        assert message["data"]["job_id"] == job.pk
    finally:
        await comm.disconnect()


async def test_events_committed_during_a_replay_arrive_once_in_order() -> None:
    import asyncio

    from realtime.record import broadcast_job_update_sync

    def publish(count: int) -> list[int]:
        return [broadcast_job_update_sync("new_job", {"job_id": n}).id for n in range(count)]

    before = await sync_to_async(publish, thread_sensitive=False)(1200)  # > 2 replay pages
    comm, _ = await connect(f"{PATH}?last_event_id=0")
    try:
        during = asyncio.ensure_future(sync_to_async(publish, thread_sensitive=False)(50))
        received: list[int] = []
        expected = len(before) + 50
        while len(received) < expected:
            message = await receive(comm)
            received.append(message["id"])
        assert received == sorted(received)
        assert received == before + await during
        assert await comm.receive_nothing(timeout=0.7)
    finally:
        await comm.disconnect()


def publish_events(count: int) -> list[int]:
    from realtime.record import broadcast_job_update_sync

    return [broadcast_job_update_sync("new_job", {"job_id": n}).id for n in range(count)]


async def drain(comm: WebsocketCommunicator, quiet: float = 1.0) -> list[dict[str, Any]]:
    """Every frame until the socket has been quiet for `quiet` seconds."""
    frames = []
    while not await comm.receive_nothing(timeout=quiet):
        frames.append(await receive(comm))
    return frames


async def test_ten_repeated_resumes_cost_one_replay() -> None:
    ids = await sync_to_async(publish_events, thread_sensitive=False)(1200)  # three pages
    comm, _ = await connect()
    try:
        for _ in range(10):
            await comm.send_json_to(
                {"type": "subscribe", "events": ["new_job"], "last_event_id": 0}
            )
        frames = await drain(comm)
        kinds = [f["type"] for f in frames]
        assert kinds.count("subscribed") == 10
        events = [f["id"] for f in frames if f["type"] == "new_job"]
        assert events == ids  # once each, in order: 1,200 frames, not 12,000
        assert len(frames) == 10 + len(ids)
        # A resume from the middle on the same socket: it already has all of it.
        await comm.send_json_to(
            {"type": "subscribe", "events": ["new_job"], "last_event_id": ids[600]}
        )
        assert [f["type"] for f in await drain(comm, quiet=0.5)] == ["subscribed"]
    finally:
        await comm.disconnect()


@override_settings(WS_RATE_PER_MINUTE=4)
async def test_replay_pages_are_paid_from_the_rate_limit() -> None:
    await sync_to_async(publish_events, thread_sensitive=False)(1200)  # 500 + 500 + 200
    comm, _ = await connect(f"{PATH}?last_event_id=0")
    try:
        replayed = [await receive(comm) for _ in range(1200)]
        assert {m["type"] for m in replayed} == {"new_job"}
        # Three pages spent three of the four messages a minute: one ping passes, not two.
        await comm.send_json_to({"type": "ping"})
        assert (await receive(comm))["type"] == "pong"
        await comm.send_json_to({"type": "ping"})
        limited = await receive(comm)
        assert limited["data"]["code"] == "rate_limited"
    finally:
        await comm.disconnect()


async def test_a_failed_replay_reports_and_the_socket_stays_live() -> None:
    from django.db import OperationalError

    earlier = await sync_to_async(make_job)()
    comm, _ = await connect()
    try:
        with mock.patch("realtime.log.events_page", side_effect=OperationalError("gone")):
            await comm.send_json_to({"type": "subscribe", "last_event_id": 0})
            assert (await receive(comm))["type"] == "subscribed"
            error = await receive(comm)
            assert error["data"]["code"] == "unavailable"
        job = await sync_to_async(make_job)()
        message = await receive(comm)  # not stuck holding: live events flow again
        assert message["type"] == "new_job"
        assert message["data"]["job_id"] == job.pk
        await comm.send_json_to({"type": "subscribe", "last_event_id": 0})
        assert (await receive(comm))["type"] == "subscribed"
        # The failed replay promised nothing: this one sends what it lacks, once (the live job
        # was already sent).
        again = await drain(comm, quiet=0.7)
        assert [m["data"]["job_id"] for m in again if m["type"] == "new_job"] == [earlier.pk]
    finally:
        await comm.disconnect()

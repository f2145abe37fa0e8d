"""The per-process fan-out.

Channels' usual shape — every socket a member of the channel-layer groups — costs a layer
message per socket per event (and the in-memory layer's group_send grows with the square of the
members). Here each server process has one hub: it is the process's only member of the event
groups, receives each event once, and hands the already-encoded text to the local consumers
subscribed to its type. Consumers still own subscription and protocol (they tell the hub what
they want, dedupe, replay, answer clients); signals still send group messages through the layer.

Besides listening, the hub reads the event log: in embedded mode it tails it (`realtime.relay`,
the only way events reach the in-memory layer), woken by writers through its doorbell
(`realtime.doorbell`) and polling only as a safety net; in Redis mode it reads it back only
for events the layer may have lost (`realtime.gaps` decides which, and when). It also runs one
heartbeat timer for all sockets, encoded once per tick and carrying the latest event id, so a
client can notice a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from realtime import log, publish
from realtime.doorbell import Doorbell
from realtime.events import (
    EVENT_TYPES,
    PUSH_MESSAGE_TYPE,
    ServerMessage,
    encode,
    envelope,
    group_name,
)
from realtime.gaps import Gaps, Read
from realtime.live import LiveEvent
from realtime.log import LoggedEvent
from realtime.recent import RecentIds
from realtime.relay import BATCH, LogReader, Relay

logger = logging.getLogger(__name__)

# Redis mode: how often the hub asks `Gaps` whether the log must be read (a tick costs nothing
# when it need not).
GAPS_TICK_SECONDS = 0.2
# channels_redis forgets group members after a day (group_expiry); rejoin well before.
REJOIN_SECONDS = 3600.0
RETRY_SECONDS = 1.0


class Subscriber(Protocol):
    # None when the event is dealt with already (a socket's frame written, or held); else what
    # to await to send it. Most pushes finish at once, so a fan-out is one plain loop.
    def push(self, event: LiveEvent) -> Awaitable[None] | None: ...
    async def heartbeat(self, text: str) -> None: ...


class Hub:
    def __init__(self) -> None:
        self.by_type: dict[str, set[Subscriber]] = {t: set() for t in EVENT_TYPES}
        self.members: set[Subscriber] = set()
        # Live and relay paths can both bring an event: deliver it once.
        self.delivered = RecentIds(20_000)
        self.last_event_id = 0
        self.tasks: list[asyncio.Task[None]] = []
        # Redis mode: what the layer may have lost; None in embedded mode (the relay reads all).
        self.gaps: Gaps | None = None
        # Embedded mode: what writers in other processes ring after they commit.
        self.doorbell: Doorbell | None = None
        # Every read of the log, on a thread that keeps its database connection.
        self.reader = LogReader()
        self.channel: str | None = None
        # Events delivered, by where they came from (shown by the health check).
        self.from_layer = 0
        self.from_log = 0

    # --- subscriptions ---------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber, events: Iterable[str]) -> None:
        wanted = set(events)
        for event_type, subscribers in self.by_type.items():
            if event_type in wanted:
                subscribers.add(subscriber)
            else:
                subscribers.discard(subscriber)
        self.members.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        for subscribers in self.by_type.values():
            subscribers.discard(subscriber)
        self.members.discard(subscriber)

    # --- delivery --------------------------------------------------------------------------

    async def deliver(self, event_id: int, event_type: str, text: str) -> bool:
        """Hand an event to its subscribers; False if it was delivered before."""
        if not self.delivered.add(event_id):
            return False
        self.last_event_id = max(self.last_event_id, event_id)
        event = LiveEvent(event_id, event_type, text)  # one object, one frame, for everyone
        for subscriber in list(self.by_type.get(event_type, ())):
            try:
                pending = subscriber.push(event)
                if pending is not None:
                    await pending
            except Exception:  # one broken socket must not starve the others
                logger.exception("delivery of event #%d to a socket failed", event_id)
        return True

    async def deliver_logged(self, events: list[LoggedEvent]) -> int:
        """Deliver events read from the log; how many were new."""
        new = 0
        for event in events:
            new += await self.deliver(event.id, event.type, event.text)
            # Let the server flush the frames between events: a batch from the log must not
            # pile up in every socket's buffer at once (it would look like a stuck reader).
            await asyncio.sleep(0)
        self.from_log += new
        return new

    # --- tasks -----------------------------------------------------------------------------

    async def start(self) -> None:
        self.last_event_id = await self.reader.run(log.latest_id)
        loop = asyncio.get_running_loop()
        if publish.mode() == "embedded":
            # Listening before the relay's first read: a commit after that read rings.
            self.doorbell = Doorbell.open()
            reader = self._relay(Relay(self.last_event_id), self.doorbell)
        else:
            self.gaps = Gaps(self.last_event_id, clock=loop.time)
            reader = self._watch_gaps(self.gaps)
        # A fresh context: the hub outlives whatever request started it, and must not inherit
        # that request's context (a Django view's thread-sensitive executor quits with it).
        self.tasks = [
            loop.create_task(self._listen(), name="hub-listen", context=contextvars.Context()),
            loop.create_task(reader, name="hub-log-reader", context=contextvars.Context()),
            loop.create_task(
                self._heartbeat(), name="hub-heartbeat", context=contextvars.Context()
            ),
        ]
        logger.info("event hub started at event #%d (%s mode)", self.last_event_id, publish.mode())

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []
        self.close_doorbell()
        await asyncio.get_running_loop().run_in_executor(None, self.reader.close)

    def close_doorbell(self) -> None:
        if self.doorbell is not None:
            self.doorbell.close()
            self.doorbell = None

    async def _join(self, layer: Any, channel: str) -> None:
        for event_type in EVENT_TYPES:
            await layer.group_add(group_name(event_type), channel)

    async def _listen(self) -> None:
        """Receive each event once from the channel layer (all event groups, one channel)."""
        layer = get_channel_layer()
        assert layer is not None
        # The default prefix matters: channels_redis serves every private channel of a process
        # through one receive loop that reads the default prefix's list; a channel of another
        # prefix would keep that loop to itself (and starve the health check's self-test).
        channel = self.channel = await layer.new_channel()
        joined_at: float | None = None
        loop = asyncio.get_running_loop()
        gaps = self.gaps
        while True:
            try:
                if joined_at is None or loop.time() - joined_at > REJOIN_SECONDS:
                    await self._join(layer, channel)
                    if joined_at is None and gaps is not None:
                        gaps.layer_joined()
                    joined_at = loop.time()
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting: rejoin (its groups are gone) and go on
                logger.warning("event hub lost the channel layer: %s; retrying", exc)
                if gaps is not None:
                    gaps.layer_lost()
                joined_at = None
                await asyncio.sleep(RETRY_SECONDS)
                continue
            try:
                if message.get("type") == PUSH_MESSAGE_TYPE:
                    if gaps is not None:
                        gaps.heard(message["id"])
                    self.from_layer += await self.deliver(
                        message["id"], message["event"], message["text"]
                    )
            except Exception:  # a malformed message must not end delivery for everyone
                logger.exception("event hub could not deliver a layer message")

    async def _relay(self, relay: Relay, doorbell: Doorbell) -> None:
        """Embedded mode: tail the log onto the in-memory layer."""
        layer = get_channel_layer()
        assert layer is not None
        while True:
            try:
                events = await self.reader.run(relay.fetch)
            except Exception as exc:  # the database may be briefly away: keep the cursor
                logger.warning("event relay could not read the log: %s", exc)
                events = []
                await asyncio.sleep(RETRY_SECONDS)
            try:
                # The design's path: a group message through the (in-memory) layer, so both
                # modes reach consumers the same way (the listener above).
                for event in events:
                    message = publish.push_message(event.id, event.type, event.text)
                    await layer.group_send(group_name(event.type), message)
            except Exception:
                logger.exception("event relay could not hand over events")
            if len(events) < BATCH:
                # Until a writer rings, or the safety-net poll is due.
                await doorbell.wait(settings.RELAY_POLL_SECONDS)

    async def _watch_gaps(self, gaps: Gaps) -> None:
        """Redis mode: read the log only for what the layer may have lost (`realtime.gaps`)."""
        while True:
            try:
                if gaps.head_due():
                    gaps.head(await self.reader.run(log.latest_id))
                while (read := gaps.next_read()) is not None:
                    await self._read_back(gaps, read)
            except Exception as exc:  # the database may be briefly away: the holes are kept
                logger.warning("event hub could not read the log: %s", exc)
                await asyncio.sleep(RETRY_SECONDS)
            await asyncio.sleep(GAPS_TICK_SECONDS)

    async def _read_back(self, gaps: Gaps, read: Read) -> None:
        events = await self.reader.run(
            functools.partial(log.events_by_id, read.ranges, read.after, limit=BATCH)
        )
        gaps.read_done(read, [event.id for event in events], complete=len(events) < BATCH)
        recovered = await self.deliver_logged(events)
        if recovered and gaps.layer_up:
            logger.warning("event hub read %d event(s) from the log that the layer lost", recovered)
            # The layer may have lost our group memberships without an error reaching the
            # listener (Redis restarted between two reads and the client reconnected on its
            # own); joining again is idempotent and cheap.
            layer = get_channel_layer()
            if layer is not None and self.channel is not None:
                await self._join(layer, self.channel)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(settings.WS_HEARTBEAT_SECONDS)
            text = encode(envelope(ServerMessage.HEARTBEAT, {"last_event_id": self.last_event_id}))
            for member in list(self.members):
                try:
                    await member.heartbeat(text)
                except Exception:
                    logger.exception("heartbeat to a socket failed")


_hub: Hub | None = None


def _alive(hub: Hub | None) -> bool:
    # A hub left over from an event loop that has gone (tests run one loop per test) is dead.
    return (
        hub is not None
        and bool(hub.tasks)
        and hub.tasks[0].get_loop() is asyncio.get_running_loop()
        and not any(task.done() for task in hub.tasks)
    )


_start_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None


def _lock() -> asyncio.Lock:
    global _start_lock
    loop = asyncio.get_running_loop()
    if _start_lock is None or _start_lock[0] is not loop:
        _start_lock = (loop, asyncio.Lock())
    return _start_lock[1]


async def get_hub() -> Hub:
    """This process's hub, started on first use."""
    global _hub
    if not _alive(_hub):
        async with _lock():
            if not _alive(_hub):
                if _hub is not None:  # its loop has gone: it can no longer use its doorbell
                    _hub.close_doorbell()
                    _hub.reader.close()
                hub = Hub()
                await hub.start()
                _hub = hub
    assert _hub is not None
    return _hub


def delivery_counts() -> dict[str, int] | None:
    """Events this process's hub delivered, by where they came from (None before it starts):
    in Redis mode `from_log` counts only what the layer lost."""
    if _hub is None:
        return None
    return {"from_layer": _hub.from_layer, "from_log": _hub.from_log}


async def stop_hub() -> None:
    global _hub
    if _hub is not None:
        await _hub.stop()
        _hub = None

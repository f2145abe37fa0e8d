"""Ordered delivery to one client of the event stream, whatever carries it.

A client that resumes from `last_event_id` gets the logged events after it (the replay, in id
order), then live ones, with no gap and no repeat. Live events that arrive before the client is
started or while a replay runs are held and follow it. The states:

    HOLDING ──start()──▶ REPLAYING ──log exhausted──▶ LIVE
       (held: kept)        (held: kept)                 (held: released in order, then direct)

A failed replay keeps what it held: the caller may retry or release. A repeated resume skips
what the client already got.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable

from channels.db import database_sync_to_async

from realtime import log
from realtime.recent import RecentIds

REPLAY_PAGE = 500

Send = Callable[[int, str, str], Awaitable[None]]


class State(enum.Enum):
    HOLDING = "holding"
    REPLAYING = "replaying"
    LIVE = "live"


class EventStream:
    """`send(event_id, event_type, text)` writes one event to the client; it never touches the
    ORM. `push` is what the hub calls for each live event."""

    def __init__(self, send: Send, events: Iterable[str]) -> None:
        self._send = send
        self.wanted = frozenset(events)
        self.state = State.HOLDING
        self._held: list[tuple[int, str, str]] = []
        # Every id this client was sent, within a bound: live and replayed paths race when a
        # client resumes, and either may bring an event the other already sent.
        self._sent = RecentIds(4 * REPLAY_PAGE)
        self.last_sent = 0

    async def push(self, event_id: int, event_type: str, text: str) -> None:
        if self.state is not State.LIVE:
            self._held.append((event_id, event_type, text))
            return
        await self._deliver(event_id, event_type, text)

    async def start(self, last_event_id: int | None) -> None:
        """Replay after `last_event_id` (if given), then release what was held and go live."""
        if last_event_id is not None:
            self.state = State.REPLAYING
            await self._replay(last_event_id)
        await self._release()

    async def _deliver(self, event_id: int, event_type: str, text: str) -> None:
        if event_type not in self.wanted or not self._sent.add(event_id):
            return
        self.last_sent = max(self.last_sent, event_id)
        await self._send(event_id, event_type, text)

    async def _replay(self, after: int) -> None:
        page = database_sync_to_async(log.events_page)
        cursor = after
        while True:
            events = await page(cursor, sorted(self.wanted), limit=REPLAY_PAGE)
            for event in events:
                await self._deliver(event.id, event.type, event.text)
            if len(events) < REPLAY_PAGE:
                return
            cursor = events[-1].id

    async def _release(self) -> None:
        # Pushes that arrive while held events are being sent are held too, so order holds.
        self.state = State.REPLAYING
        while self._held:
            batch, self._held = self._held, []
            batch.sort()
            for event in batch:
                await self._deliver(*event)
        self.state = State.LIVE

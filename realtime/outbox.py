"""What one client of the event stream is sent, and when: the held / replaying / live states
shared by the WebSocket consumer and the Server-Sent Events stream.

A socket is in one phase at a time:

- `HOLDING`: accepted, `connected` not sent yet. Live events wait in `held`.
- `REPLAYING`: logged events are being sent from the log. Live events wait in `held`.
- `LIVE`: live events go straight out.

Leaving HOLDING or REPLAYING always goes through `go_live()`, which sends everything held (in
arrival order, minus what the replay already sent), however the replay ended: a replay that
fails never drops what was held. Heartbeats go out only while LIVE, so a client always sees
`connected`, then the replay in id order, then live events.

The outbox also remembers, per event type, an id after which this socket has been sent (or is
owed, through the hub) every event of that type: `covered`. A resume asks the log only for
what lies between the client's resume point and that id, so repeating a resume costs nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from channels.db import database_sync_to_async

from realtime import log
from realtime.live import LiveEvent
from realtime.recent import RecentIds, RecentRing

# Replayed ids are remembered until live delivery moves past the replay's last id.
REPLAYED_MEMORY = 2000
REPLAY_PAGE = 500


class Phase(enum.Enum):
    HOLDING = "holding"
    REPLAYING = "replaying"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """Which logged events a resume must send: types mapped to the highest id to send."""

    after: int
    until: dict[str, int]

    @property
    def empty(self) -> bool:
        return not self.until

    @property
    def types(self) -> list[str]:
        return list(self.until)

    @property
    def upper(self) -> int:
        return max(self.until.values())

    def wants(self, event_id: int, event_type: str) -> bool:
        limit = self.until.get(event_type)
        return limit is not None and self.after < event_id <= limit


# Writes one event to the client: its id and type (an SSE frame names both), and its envelope.
Send = Callable[[int, str, str], Awaitable[None]]
# Writes a live event's WebSocket frame to the socket at once, without awaiting anything; False
# when it cannot now (the frame must then go through `Send`).
WriteFrame = Callable[[bytes], bool]


class Outbox:
    def __init__(self, send: Send, write_frame: WriteFrame | None = None) -> None:
        self._send = send
        self.write_frame = write_frame
        self.phase = Phase.HOLDING
        self.held: list[LiveEvent] = []
        self.wanted: frozenset[str] = frozenset()
        self.covered: dict[str, int] = {}
        # An event can reach a socket twice when it resumes: live (before, during or just after
        # the replay) and in the replay. Live ids sent are kept in a small ring; replayed ids
        # until live delivery has moved past them. (The hub already delivers each event once.)
        self.sent_live = RecentRing()
        self.replayed: RecentIds | None = None
        self.replayed_up_to = 0

    # --- subscription ------------------------------------------------------------------------

    def subscribe(self, events: Iterable[str], *, live_after: int) -> None:
        """Take a new subscription. A type newly subscribed is owed every event after
        `live_after` (the hub delivers those); types dropped are forgotten."""
        wanted = frozenset(events)
        self.covered = {t: self.covered.get(t, live_after) for t in sorted(wanted)}
        self.wanted = wanted

    def plan(self, after: int) -> ReplayPlan:
        """What a resume after `after` must send: per subscribed type, the events between
        `after` and what this socket already has."""
        return ReplayPlan(after=after, until={t: c for t, c in self.covered.items() if c > after})

    # --- phases ------------------------------------------------------------------------------

    def begin_replay(self) -> None:
        self.phase = Phase.REPLAYING
        self.replayed = RecentIds(REPLAYED_MEMORY)

    def replay_done(self, plan: ReplayPlan) -> None:
        """The whole plan was sent: the socket now has everything after `plan.after`."""
        for event_type in plan.until:
            if event_type in self.covered:
                self.covered[event_type] = min(self.covered[event_type], plan.after)

    async def go_live(self) -> None:
        """Send what was held, then go live. Pushes that arrive meanwhile are held too, so the
        order holds."""
        while self.held:
            batch, self.held = self.held, []
            for event in batch:
                pending = self._send_live(event)
                if pending is not None:
                    await pending
        self.phase = Phase.LIVE

    # --- sending -----------------------------------------------------------------------------

    def push(self, event: LiveEvent) -> Awaitable[None] | None:
        """Take a live event. Returns None when it is dealt with (held, not wanted, a repeat,
        or written straight to the socket), else what the caller must await to send it: the
        hub's fan-out then costs no coroutine per socket."""
        if self.phase is not Phase.LIVE:
            self.held.append(event)
            return None
        return self._send_live(event)

    async def send_replayed(self, event_id: int, event_type: str, text: str) -> None:
        if event_id in self.sent_live:
            return
        if self.replayed is None:
            self.replayed = RecentIds(REPLAYED_MEMORY)
        self.replayed.add(event_id)
        self.replayed_up_to = max(self.replayed_up_to, event_id)
        await self._send(event_id, event_type, text)

    def _send_live(self, event: LiveEvent) -> Awaitable[None] | None:
        if event.type not in self.wanted:
            return None
        if self.replayed is not None:
            if event.id in self.replayed:
                return None
            if event.id > self.replayed_up_to:  # live delivery has caught up with the replay
                self.replayed = None
        self.sent_live.add(event.id)
        if self.write_frame is not None and self.write_frame(event.frame):
            return None
        return self._send(event.id, event.type, event.text)

    @property
    def live(self) -> bool:
        return self.phase is Phase.LIVE


async def replay(
    outbox: Outbox,
    plan: ReplayPlan,
    *,
    pace: Callable[[], Awaitable[bool]],
    gone: Callable[[], bool],
) -> bool:
    """Send the plan's logged events in id order; True when all were sent. `pace` is awaited
    before each page (False: stop, the client left); `gone` is checked before each event, so a
    client that leaves mid-page stops the replay at once."""
    page = database_sync_to_async(log.events_page)
    cursor = plan.after
    while True:
        if not await pace():
            return False
        events = await page(cursor, plan.types, limit=REPLAY_PAGE, until=plan.upper)
        for event in events:
            if gone():
                return False
            if plan.wants(event.id, event.type):
                await outbox.send_replayed(event.id, event.type, event.text)
        if len(events) < REPLAY_PAGE:
            return True
        cursor = events[-1].id

"""Which events this server has not heard from the channel layer, and when to read them from the
log instead (Redis mode).

In Redis mode every committed event is published once to every server's hub. The log is read
back only when that may have failed:

- a **gap** in the ids heard (11 arrives, 10 never did). Ids are handed out at insert and become
  visible at commit, so a gap is usually a transaction still open or a publish in flight, not a
  loss: a missing id is looked for only after `GRACE_SECONDS`, then again less and less often
  (a long ingest may hold thousands of ids for minutes) until `HOLE_TTL`, after which it is
  taken for a rolled-back insert and forgotten;
- the log's **head** (its highest id, one indexed query every `HEAD_SECONDS`) is above the
  highest id heard: a lost last event, which no later event would reveal as a gap. Those ids
  get the same grace (their messages may be on their way);
- and in both cases, not while the layer is filling holes: a large transaction's commit queues
  thousands of messages at its publisher, which drain for seconds after the head check or a
  later event (another process's) has shown their ids. While missing ids keep arriving, none
  is read, until the layer has filled none for `GRACE_SECONDS` or an id has waited
  `MAX_DEFER_SECONDS`;
- the **layer failed** (the listener got an error: Redis restarting, its groups gone): while
  it is down the log is tailed every `TAIL_SECONDS`, and once the listener has joined again
  (and at start-up) everything after the highest id heard is read once, at once.

So when nothing is lost, each event is heard once from the layer and never read from the log.
This class only decides; the hub (`realtime.hub`) does the reading and the delivering. It never
touches the database or the clock itself, so its rules are tested with a fake clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# A missing id younger than this is most likely a commit or a publish still under way.
GRACE_SECONDS = 2.0
# A missing id is looked for again after as long as it has been missing, at most this long.
MAX_LOOK_INTERVAL = 10.0
# How long a missing id is looked for: longer than any ingest transaction should take. (The
# embedded-mode relay keeps its skipped ids by the same two rules.)
HOLE_TTL = 300.0
# How many missing ids one jump of the ids may open: a transaction may hold many events.
MAX_HOLES = 50_000
# The longest a missing id waits for a layer that keeps filling other holes.
MAX_DEFER_SECONDS = 60.0
# How often the log's highest id is compared with the highest id heard.
HEAD_SECONDS = 3.0
# How often the log is tailed while the channel layer is failing.
TAIL_SECONDS = 1.0
# Ranges of missing ids asked for in one read (the rest wait for the next read).
MAX_RANGES = 100


@dataclass(frozen=True, slots=True)
class Read:
    """One read of the log: the missing ids that are due, as inclusive ranges, and — when
    catching up or tailing — every event after `after`."""

    ranges: tuple[tuple[int, int], ...]
    after: int | None


def runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ids as inclusive ranges of consecutive ids: [1, 2, 3, 7] → [(1, 3), (7, 7)]."""
    found: list[tuple[int, int]] = []
    for event_id in sorted(ids):
        if found and found[-1][1] == event_id - 1:
            found[-1] = (found[-1][0], event_id)
        else:
            found.append((event_id, event_id))
    return found


class Gaps:
    def __init__(self, highest: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # Every id up to here was heard, read, or is a hole below.
        self.highest = highest
        # Missing id → (when it was first missed, when to look for it next).
        self.holes: dict[int, tuple[float, float]] = {}
        # The earliest time any hole is due: most ticks then cost nothing, however many holes.
        self.next_look = math.inf
        # When the oldest hole was missed (at most: it may have been filled since).
        self.oldest = math.inf
        # When the layer last brought an id that was missing: a backlog is draining.
        self.last_fill = -math.inf
        # Until the listener has joined the event groups, the layer brings nothing.
        self.layer_up = False
        self.catch_up = False
        now = clock()
        self.next_tail = now
        self.next_head = now + HEAD_SECONDS

    # --- what is heard ---------------------------------------------------------------------

    def heard(self, event_id: int) -> None:
        """An event arrived from the layer."""
        if self._arrived(event_id):
            self.last_fill = self.clock()

    def _arrived(self, event_id: int) -> bool:
        """Note an event heard or read; True if it was missing."""
        if event_id > self.highest:
            self._missing(range(max(self.highest + 1, event_id - MAX_HOLES), event_id))
            self.highest = event_id
            return False
        return self.holes.pop(event_id, None) is not None

    def head(self, latest: int) -> None:
        """The log's highest id: ids above the highest heard exist (some at least) and were
        not heard yet."""
        self.next_head = self.clock() + HEAD_SECONDS
        if latest > self.highest:
            self._missing(range(max(self.highest + 1, latest + 1 - MAX_HOLES), latest + 1))
            self.highest = latest

    def _missing(self, ids: range) -> None:
        now = self.clock()
        due = now + GRACE_SECONDS
        for event_id in ids:
            self.holes.setdefault(event_id, (now, due))
        if ids:
            self.next_look = min(self.next_look, due)
            self.oldest = min(self.oldest, now)

    # --- the layer -------------------------------------------------------------------------

    def layer_lost(self) -> None:
        """The listener got an error: until it joins again, only the log brings events."""
        self.layer_up = False
        self.next_tail = self.clock()

    def layer_joined(self) -> None:
        """The listener is a member of the event groups (again): read what was committed
        meanwhile, once."""
        self.layer_up = True
        self.catch_up = True
        self.next_head = self.clock() + HEAD_SECONDS

    # --- reading the log -------------------------------------------------------------------

    def head_due(self) -> bool:
        return self.layer_up and self.clock() >= self.next_head

    def next_read(self) -> Read | None:
        """What to read from the log now, if anything."""
        now = self.clock()
        due: list[tuple[int, int]] = []
        quiet = now - self.last_fill >= GRACE_SECONDS
        if now >= self.next_look and (quiet or now - self.oldest >= MAX_DEFER_SECONDS):
            self.holes = {i: h for i, h in self.holes.items() if now - h[0] < HOLE_TTL}
            due = runs(
                i
                for i, (noticed, look) in self.holes.items()
                if look <= now and (quiet or now - noticed >= MAX_DEFER_SECONDS)
            )[:MAX_RANGES]
            if not due:
                self._schedule()
        tail = self.catch_up or (not self.layer_up and now >= self.next_tail)
        if not due and not tail:
            return None
        return Read(tuple(due), self.highest if tail else None)

    def read_done(self, read: Read, found: list[int], *, complete: bool) -> None:
        """The ids `read` found, in id order; `complete` is False when the read stopped at its
        row limit, so ids above the last one found were not looked at."""
        for event_id in found:
            self._arrived(event_id)
        now = self.clock()
        looked_through = found[-1] if found and not complete else None
        for low, high in read.ranges:
            for event_id in range(low, high + 1):
                hole = self.holes.get(event_id)
                if hole is None or (looked_through is not None and event_id > looked_through):
                    continue
                noticed = hole[0]
                wait = min(MAX_LOOK_INTERVAL, max(GRACE_SECONDS, now - noticed))
                self.holes[event_id] = (noticed, now + wait)
        self._schedule()
        if read.after is not None and complete:
            self.catch_up = False
            self.next_tail = now + TAIL_SECONDS

    def _schedule(self) -> None:
        self.next_look = min((look for _, look in self.holes.values()), default=math.inf)
        self.oldest = min((noticed for noticed, _ in self.holes.values()), default=math.inf)

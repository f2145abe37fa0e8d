"""The gap rule of Redis mode (realtime/gaps.py): when the log is read back, and when it is not.
A fake clock stands for time; `log.events_by_id` (what the hub reads with) is tested against the
database at the end."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from realtime import log
from realtime.gaps import (
    GRACE_SECONDS,
    HEAD_SECONDS,
    HOLE_TTL,
    MAX_DEFER_SECONDS,
    MAX_LOOK_INTERVAL,
    MAX_RANGES,
    TAIL_SECONDS,
    Gaps,
    Read,
    runs,
)
from realtime.record import broadcast_job_update_sync


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def joined(clock: Clock, highest: int = 10) -> Gaps:
    """A hub's gaps just after its listener joined the groups, with the start-up catch-up
    read done and empty."""
    gaps = Gaps(highest, clock=clock)
    gaps.layer_joined()
    read = gaps.next_read()
    assert read == Read((), highest)  # at start: whatever was committed before joining
    gaps.read_done(read, [], complete=True)
    assert gaps.next_read() is None
    return gaps


def test_events_heard_in_order_never_read_the_log(clock: Clock) -> None:
    gaps = joined(clock)
    for event_id in range(11, 1011):
        gaps.heard(event_id)
        clock.advance(0.05)
        assert gaps.next_read() is None
    assert gaps.holes == {}


def test_an_out_of_order_commit_within_the_grace_reads_nothing(clock: Clock) -> None:
    gaps = joined(clock)
    gaps.heard(12)  # 11's transaction began first and commits later
    assert set(gaps.holes) == {11}
    clock.advance(GRACE_SECONDS * 0.9)
    assert gaps.next_read() is None
    gaps.heard(11)
    clock.advance(GRACE_SECONDS * 10)
    assert gaps.next_read() is None
    assert gaps.holes == {}


def test_a_gap_is_read_only_after_the_grace(clock: Clock) -> None:
    gaps = joined(clock)
    gaps.heard(11)
    gaps.heard(14)
    clock.advance(GRACE_SECONDS - 0.01)
    assert gaps.next_read() is None
    clock.advance(0.01)
    assert gaps.next_read() == Read(((12, 13),), None)


def test_a_lost_event_is_found_by_the_gap_it_leaves(clock: Clock) -> None:
    gaps = joined(clock)
    gaps.heard(11)  # 12's group message never arrives
    gaps.heard(13)
    clock.advance(GRACE_SECONDS)
    read = gaps.next_read()
    assert read == Read(((12, 12),), None)
    gaps.read_done(read, [12], complete=True)
    assert gaps.holes == {}
    clock.advance(MAX_LOOK_INTERVAL * 2)
    assert gaps.next_read() is None


def test_a_transaction_still_open_is_looked_for_less_and_less_often(clock: Clock) -> None:
    gaps = joined(clock)
    gaps.heard(12)  # 11 is a long ingest's first event: invisible until it commits
    looks: list[float] = []
    start = clock.now
    while clock.now - start < 60:
        read = gaps.next_read()
        if read is not None:
            assert read == Read(((11, 11),), None)
            looks.append(clock.now - start)
            gaps.read_done(read, [], complete=True)  # not committed yet
        clock.advance(0.125)  # exact in binary: the looks land on exact times
    intervals = [later - earlier for earlier, later in pairwise(looks)]
    assert looks[0] == GRACE_SECONDS
    assert intervals == sorted(intervals)  # never more often than before
    assert max(intervals) == MAX_LOOK_INTERVAL  # and never less often than this
    assert len(looks) < 12  # one read a tick would be 480
    gaps.heard(11)  # it commits and its message arrives: no more reads
    clock.advance(MAX_LOOK_INTERVAL * 2)
    assert gaps.next_read() is None


def test_an_id_that_never_commits_is_forgotten(clock: Clock) -> None:
    gaps = joined(clock)
    gaps.heard(12)  # 11 was rolled back: it will never be in the log
    clock.advance(HOLE_TTL - 1)
    read = gaps.next_read()
    assert read is not None
    gaps.read_done(read, [], complete=True)
    clock.advance(MAX_LOOK_INTERVAL)
    assert gaps.next_read() is None
    assert gaps.holes == {}


def test_a_lost_last_event_is_found_by_the_head_check(clock: Clock) -> None:
    gaps = joined(clock)
    gaps.heard(11)  # 12 is committed, its message lost, and nothing follows it
    clock.advance(HEAD_SECONDS - 0.1)
    assert not gaps.head_due()
    clock.advance(0.1)
    assert gaps.head_due()
    gaps.head(12)
    assert not gaps.head_due()
    assert gaps.next_read() is None  # its message may still be on its way
    clock.advance(GRACE_SECONDS)
    read = gaps.next_read()
    assert read == Read(((12, 12),), None)
    gaps.read_done(read, [12], complete=True)
    assert gaps.next_read() is None


def test_a_head_already_heard_reads_nothing(clock: Clock) -> None:
    gaps = joined(clock)
    gaps.heard(11)
    clock.advance(HEAD_SECONDS)
    gaps.head(11)
    clock.advance(GRACE_SECONDS * 10)
    assert gaps.next_read() is None


def test_a_head_message_that_arrives_within_the_grace_is_not_read(clock: Clock) -> None:
    gaps = joined(clock)
    clock.advance(HEAD_SECONDS)
    gaps.head(12)  # committed, its message in flight
    gaps.heard(11)
    gaps.heard(12)
    clock.advance(GRACE_SECONDS * 10)
    assert gaps.next_read() is None


def reveal(gaps: Gaps, clock: Clock, how: str, latest: int) -> None:
    """Ids up to `latest` become known before the layer brings them: by the head check, or by
    another process's event that overtakes a queue of published messages."""
    if how == "head":
        clock.advance(HEAD_SECONDS)
        gaps.head(latest)
    else:
        gaps.heard(latest + 1)


def drain(gaps: Gaps, clock: Clock, ids: range, per_tick: int = 50) -> list[Read]:
    """The layer brings `ids` in order, `per_tick` every 0.125 s; the reads asked meanwhile."""
    reads = []
    for start in range(ids.start, ids.stop, per_tick):
        for event_id in range(start, min(start + per_tick, ids.stop)):
            gaps.heard(event_id)
        clock.advance(0.125)
        if (read := gaps.next_read()) is not None:
            reads.append(read)
    return reads


@pytest.mark.parametrize("how", ["head", "a later event"])
def test_a_backlog_draining_from_the_layer_is_not_read(clock: Clock, how: str) -> None:
    gaps = joined(clock)
    reveal(gaps, clock, how, 5010)  # a 5,000-event commit, its messages queued at a publisher
    assert drain(gaps, clock, range(11, 5011)) == []  # 12.5 s, far past the grace
    clock.advance(GRACE_SECONDS * 10)
    assert gaps.next_read() is None
    assert gaps.holes == {}


def test_a_message_lost_in_a_backlog_is_read_once_the_layer_stops_filling(clock: Clock) -> None:
    gaps = joined(clock)
    reveal(gaps, clock, "head", 1010)
    assert drain(gaps, clock, range(11, 500)) == []
    assert drain(gaps, clock, range(501, 1011)) == []  # 500's message is lost
    clock.advance(GRACE_SECONDS - 0.25)  # the last ids came 0.125 s ago
    assert gaps.next_read() is None
    clock.advance(0.125)
    assert gaps.next_read() == Read(((500, 500),), None)


def test_a_backlog_that_never_ends_defers_reads_only_so_long(clock: Clock) -> None:
    gaps = joined(clock)
    reveal(gaps, clock, "head", 10_010)
    noticed = clock.now
    next_id = 11
    while (read := gaps.next_read()) is None:
        gaps.heard(next_id)  # one id every tick: the layer never stops filling
        next_id += 1
        clock.advance(0.125)
    assert clock.now - noticed == MAX_DEFER_SECONDS
    assert read == Read(((next_id, 10_010),), None)


def test_a_layer_error_tails_the_log_until_the_listener_joins_then_catches_up(
    clock: Clock,
) -> None:
    gaps = joined(clock)
    gaps.heard(11)
    gaps.layer_lost()  # Redis went away: nothing more comes from the layer
    assert not gaps.head_due()  # tailing covers the head
    read = gaps.next_read()
    assert read == Read((), 11)  # at once, no grace
    gaps.read_done(read, [12, 14], complete=True)  # 13 is a transaction still open
    assert gaps.highest == 14
    assert gaps.next_read() is None
    clock.advance(TAIL_SECONDS)
    assert gaps.next_read() == Read((), 14)
    gaps.read_done(Read((), 14), [], complete=True)

    gaps.layer_joined()  # Redis is back, its groups joined again: read what came meanwhile
    read = gaps.next_read()
    assert read == Read((), 14)
    gaps.read_done(read, [15], complete=True)
    clock.advance(TAIL_SECONDS * 0.5)
    assert gaps.next_read() is None  # the layer brings the rest again
    clock.advance(GRACE_SECONDS)
    assert gaps.next_read() == Read(((13, 13),), None)  # the gap that tailing left


def test_a_catch_up_stopped_by_the_row_limit_goes_on_at_once(clock: Clock) -> None:
    gaps = Gaps(10, clock=clock)
    gaps.layer_joined()
    gaps.heard(14)  # hole 11..13, due after the grace
    clock.advance(GRACE_SECONDS)
    read = gaps.next_read()
    assert read == Read(((11, 13),), 14)
    gaps.read_done(read, [11, 12], complete=False)  # the limit: 13 and above not looked at
    assert gaps.holes.keys() == {13}
    assert gaps.next_read() == Read(((13, 13),), 14)  # still due, and the catch-up goes on


def test_start_up_reads_after_the_head_it_started_from(clock: Clock) -> None:
    gaps = Gaps(10, clock=clock)
    read = gaps.next_read()
    assert read == Read((), 10)  # not joined yet: the log is all there is
    gaps.read_done(read, [], complete=True)
    gaps.layer_joined()
    assert gaps.next_read() == Read((), 10)


def test_one_read_asks_for_a_bounded_number_of_ranges(clock: Clock) -> None:
    gaps = joined(clock)
    for event_id in range(12, 12 + 2 * (MAX_RANGES + 5), 2):  # every other id missing
        gaps.heard(event_id)
    clock.advance(GRACE_SECONDS)
    first = gaps.next_read()
    assert first is not None
    assert len(first.ranges) == MAX_RANGES
    gaps.read_done(first, [], complete=True)
    second = gaps.next_read()
    assert second is not None
    assert len(second.ranges) == 5
    assert first.ranges[-1] < second.ranges[0]


def test_runs() -> None:
    assert runs([]) == []
    assert runs([7, 1, 3, 2]) == [(1, 3), (7, 7)]


@pytest.mark.django_db
def test_events_by_id_reads_ranges_and_what_follows() -> None:
    ids = [broadcast_job_update_sync("new_job", {"job_id": n}).id for n in range(8)]
    ranges = ((ids[1], ids[2]), (ids[4], ids[4]))
    assert [e.id for e in log.events_by_id(ranges, None)] == [ids[1], ids[2], ids[4]]
    assert [e.id for e in log.events_by_id(ranges, ids[5])] == [*ids[1:3], ids[4], *ids[6:]]
    assert [e.id for e in log.events_by_id(ranges, ids[5], limit=2)] == ids[1:3]
    assert log.events_by_id((), None) == []
    first = log.events_by_id(((ids[0], ids[0]),), None)[0]
    assert (first.type, json.loads(first.text)["id"]) == ("new_job", ids[0])

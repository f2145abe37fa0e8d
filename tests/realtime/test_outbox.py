"""The consumer's held / replaying / live states, without a socket."""

from __future__ import annotations

from realtime.live import LiveEvent
from realtime.outbox import Outbox, Phase


def make() -> tuple[Outbox, list[str]]:
    sent: list[str] = []

    async def send(event_id: int, event_type: str, text: str) -> None:
        sent.append(text)

    return Outbox(send), sent


async def push(box: Outbox, event_id: int, event_type: str, text: str) -> None:
    pending = box.push(LiveEvent(event_id, event_type, text))
    if pending is not None:
        await pending


async def test_events_wait_until_connected_is_sent_then_go_out_in_order() -> None:
    box, sent = make()
    box.subscribe(["new_job"], live_after=0)
    assert box.phase is Phase.HOLDING
    await push(box, 1, "new_job", "one")
    await push(box, 2, "job_updated", "not wanted")
    await push(box, 3, "new_job", "three")
    assert sent == []
    await box.go_live()
    assert box.phase is Phase.LIVE
    assert sent == ["one", "three"]
    await push(box, 4, "new_job", "four")
    assert sent == ["one", "three", "four"]


async def test_a_replay_that_fails_still_delivers_what_it_held() -> None:
    box, sent = make()
    box.subscribe(["new_job"], live_after=10)
    await box.go_live()
    box.begin_replay()
    await box.send_replayed(5, "new_job", "five")
    await push(box, 11, "new_job", "eleven")  # live, during the replay: held
    await push(box, 12, "new_job", "twelve")
    assert sent == ["five"]
    # The replay stops here (its database went away): going live must not drop 11 and 12.
    await box.go_live()
    assert sent == ["five", "eleven", "twelve"]
    assert box.phase is Phase.LIVE


async def test_an_event_both_replayed_and_live_is_sent_once() -> None:
    box, sent = make()
    box.subscribe(["new_job"], live_after=3)
    box.begin_replay()
    await push(box, 3, "new_job", "three (live)")
    await box.send_replayed(2, "new_job", "two")
    await box.send_replayed(3, "new_job", "three")
    await box.go_live()
    assert sent == ["two", "three"]
    await push(box, 4, "new_job", "four")
    await box.send_replayed(4, "new_job", "four again")  # a later resume racing live delivery
    assert sent == ["two", "three", "four"]


async def test_a_repeated_resume_plans_nothing() -> None:
    box, _ = make()
    box.subscribe(["new_job", "job_updated"], live_after=30_000)
    plan = box.plan(0)
    assert plan.until == {"job_updated": 30_000, "new_job": 30_000}
    box.replay_done(plan)
    assert box.plan(0).empty
    assert box.plan(100).empty
    # A type added later is owed only what came before it joined.
    box.subscribe(["new_job", "job_updated", "scrape_started"], live_after=30_500)
    assert box.plan(0).until == {"scrape_started": 30_500}
    # A type dropped and added again has lost what came meanwhile: it is replayed again.
    box.subscribe(["job_updated"], live_after=30_600)
    box.subscribe(["job_updated", "new_job"], live_after=30_700)
    assert box.plan(0).until == {"new_job": 30_700}


async def test_an_unfinished_replay_changes_nothing_it_did_not_send() -> None:
    box, _ = make()
    box.subscribe(["new_job"], live_after=1000)
    box.begin_replay()
    plan = box.plan(0)
    assert plan.wants(1, "new_job")
    assert plan.wants(1000, "new_job")
    assert not plan.wants(1001, "new_job")
    assert not plan.wants(5, "job_updated")
    await box.go_live()  # without replay_done: still owed
    assert box.plan(0).until == {"new_job": 1000}

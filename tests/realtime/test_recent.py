from realtime.recent import RecentIds


def test_remembers_and_reports_repeats() -> None:
    recent = RecentIds(size=3)
    assert recent.add(5)
    assert not recent.add(5)
    assert 5 in recent


def test_forgets_the_oldest_past_its_size() -> None:
    recent = RecentIds(size=3)
    for event_id in (1, 2, 3, 4):
        recent.add(event_id)
    assert 1 not in recent
    assert len(recent) == 3
    assert recent.add(1)  # forgotten, so new again
    assert 2 not in recent


def test_ring_remembers_the_last_ids_only() -> None:
    from realtime.recent import RecentRing

    ring = RecentRing(size=3)
    for event_id in (1, 2, 3, 4):
        ring.add(event_id)
    assert 1 not in ring
    assert all(i in ring for i in (2, 3, 4))
    for event_id in (5, 6, 7, 8):
        ring.add(event_id)
    assert [i for i in range(10) if i in ring] == [6, 7, 8]

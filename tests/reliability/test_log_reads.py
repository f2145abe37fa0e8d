"""Redis mode reads the event log back only for what the channel layer lost (realtime/gaps.py):
events published normally, one by one or thousands in one commit, are heard once from Redis and
never read from the log; an event whose group message never went out is still delivered once,
found by the gap it leaves or, when nothing follows it, by the check of the log's head. Counted
by the server's health check."""

from __future__ import annotations

import asyncio
from typing import Any

from realtime.gaps import GRACE_SECONDS, HEAD_SECONDS
from tests.conftest import Daphne
from tests.reliability.test_faults import (  # noqa: F401 (private_redis: a fixture)
    RedisServer,
    connected_clients,
    elsewhere,
    health,
    private_redis,
    publish_elsewhere,
    read_everywhere,
)

# Long enough for a head check and the grace after it, with room for a loaded machine.
FOUND_WITHIN = 4 * (HEAD_SECONDS + GRACE_SECONDS)
# Events of one transaction: more than a head check's worth for the publisher to send.
BURST = 5000


def log_unpublished(server: Daphne, then_publish: int = 0) -> list[int]:
    """From another process: one event written to the log whose group message is never sent
    (as if its publish were lost), then `then_publish` events published normally."""
    code = (
        "from realtime.models import Event\n"
        "from realtime.record import broadcast_job_update_sync as b\n"
        "ids = [Event.objects.create(type='new_job', data={'job_id': -1}).id]\n"
        f"ids += [b('new_job', {{'job_id': i}}).id for i in range({then_publish})]\n"
        "print(','.join(map(str, ids)))"
    )
    return [int(i) for i in elsewhere(server, code).split(",")]


def publish_in_one_transaction(server: Daphne, count: int) -> list[int]:
    """From another process: `count` events committed at once, so their group messages queue
    at that process's publisher and reach the server over a while after the commit."""
    code = (
        "from django.db import transaction\n"
        "from realtime.record import broadcast_job_update_sync as b\n"
        "with transaction.atomic():\n"
        f"    ids = [b('new_job', {{'job_id': i}}).id for i in range({count})]\n"
        "print(','.join(map(str, ids)))"
    )
    return [int(i) for i in elsewhere(server, code).split(",")]


def delivery(server: Daphne) -> Any:
    return health(server)["delivery"]


async def test_redis_mode_reads_back_only_what_the_layer_lost(
    daphne_factory,
    private_redis: RedisServer,  # noqa: F811 (the fixture imported above)
) -> None:
    server: Daphne = daphne_factory(REDIS_URL=private_redis.url)
    clients = await connected_clients(server, 3)

    # The common case: every event heard once from Redis, none read from the log — not even
    # after the head checks and grace periods that follow them, nor while a large commit's
    # messages are still on their way when the head check sees its ids.
    published = await asyncio.to_thread(publish_elsewhere, server, 50)
    await read_everywhere(clients, published)
    reading = asyncio.ensure_future(read_everywhere(clients, [-1], timeout=60))
    committed = await asyncio.to_thread(publish_in_one_transaction, server, BURST)
    reading.cancel()
    await asyncio.gather(reading, return_exceptions=True)
    published += committed
    await read_everywhere(clients, committed, timeout=60)
    await asyncio.sleep(HEAD_SECONDS + GRACE_SECONDS + 1)
    assert delivery(server) == {"from_layer": len(published), "from_log": 0}

    # A lost group message followed by others: the gap gives it away.
    lost_then_more = await asyncio.to_thread(log_unpublished, server, 3)
    await read_everywhere(clients, lost_then_more, timeout=FOUND_WITHIN)
    assert delivery(server) == {"from_layer": len(published) + 3, "from_log": 1}

    # A lost group message with nothing after it: the head check finds it.
    lost_last = await asyncio.to_thread(log_unpublished, server)
    await read_everywhere(clients, lost_last, timeout=FOUND_WITHIN)
    assert delivery(server) == {"from_layer": len(published) + 3, "from_log": 2}

    expected = published + lost_then_more + lost_last
    for client in clients:
        assert sorted(client.events()) == expected  # every event, once
        assert client.ws is not None
        await client.ws.close()

"""Several servers on one database and one Redis (docs/deployment.md): every socket on every
server gets every event once, each event reaches each server once (through Redis, never read
back from the log), and the clients of a server killed with SIGKILL resume on another server
with nothing lost or repeated."""

from __future__ import annotations

import asyncio
import random
import signal

from tests.conftest import Daphne
from tests.reliability.test_faults import (  # noqa: F401 (private_redis: a fixture)
    Client,
    RedisServer,
    health,
    private_redis,
    publish_elsewhere,
)

CLIENTS_PER_SERVER = 100


async def test_two_servers_on_one_redis_deliver_everything_once_through_a_sigkill(
    daphne_factory,
    private_redis: RedisServer,  # noqa: F811 (the fixture imported above)
) -> None:
    # Both servers see 200 sockets from one address at the end; the per-address cap must not
    # be what this test measures.
    env = {"REDIS_URL": private_redis.url, "JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP": "1000"}
    first_server: Daphne = daphne_factory(**env)
    second_server: Daphne = daphne_factory(**env)
    on_first = [Client(first_server) for _ in range(CLIENTS_PER_SERVER)]
    on_second = [Client(second_server) for _ in range(CLIENTS_PER_SERVER)]
    everyone = on_first + on_second
    await asyncio.gather(*(client.connect() for client in everyone))

    # Published from a third process: each event reaches both servers through Redis.
    before = await asyncio.to_thread(publish_elsewhere, first_server, 20)
    await asyncio.gather(*(client.read_until(set(before), timeout=60) for client in everyone))
    assert all(client.events() == before for client in everyone)

    await asyncio.to_thread(first_server.stop, signal.SIGKILL)
    await asyncio.gather(*(client.read_until_closed() for client in on_first))
    assert {client.closes[-1] for client in on_first} == {1006}

    # Events committed while the first server's clients are away: only the log has them for
    # those clients; the second server's clients get them live.
    missed = await asyncio.to_thread(publish_elsewhere, second_server, 10)

    async def move_over(client: Client) -> None:
        await asyncio.sleep(random.uniform(0, 0.5))  # jitter, as the JS client does
        client.server = second_server
        await client.connect()  # resumes with ?last_event_id=<last seen>

    await asyncio.gather(*(move_over(client) for client in on_first))
    after = await asyncio.to_thread(publish_elsewhere, second_server, 10)

    expected = before + missed + after
    await asyncio.gather(*(client.read_until(set(expected), timeout=60) for client in everyone))
    for client in everyone:
        assert client.events() == expected  # every event, once, in order
        assert client.ws is not None
    # The surviving server heard every event once from Redis and read none back from the log
    # (the moved clients' resume is read by their sockets, not by the hub).
    assert health(second_server)["delivery"] == {"from_layer": len(expected), "from_log": 0}
    await asyncio.gather(*(client.ws.close() for client in everyone if client.ws is not None))

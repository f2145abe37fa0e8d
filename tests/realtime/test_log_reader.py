"""The hub's log reader: one thread that keeps its database connection from read to read, and
gets a new one when the kept one fails."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connection

from realtime.log import latest_id
from realtime.relay import LogReader
from tests.factories import make_job

pytestmark = pytest.mark.django_db(transaction=True)


def open_connection() -> Any:
    """The database driver's connection this thread uses (opening it if need be)."""
    connection.ensure_connection()
    return connection.connection


async def test_reads_share_one_connection_and_see_new_commits() -> None:
    reader = LogReader()
    try:
        first = await reader.run(open_connection)
        before = await reader.run(latest_id)
        await reader.run(make_job)  # committed on the reader's own connection...
        assert await reader.run(latest_id) > before  # ...and seen by its next read
        assert await reader.run(open_connection) is first
    finally:
        reader.close()
    with pytest.raises(Exception, match=r"(?i)closed"):  # close() closed its connection
        first.cursor().execute("SELECT 1")
    reader.close()  # a second close does nothing
    with pytest.raises(RuntimeError):
        await reader.run(open_connection)  # a closed reader reads no more


async def test_a_failed_read_is_tried_once_more_on_a_new_connection() -> None:
    reader = LogReader()
    calls: list[Any] = []

    def flaky() -> Any:
        calls.append(open_connection())
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return calls[-1]

    try:
        assert await reader.run(flaky) is calls[1]
        assert calls[1] is not calls[0]
    finally:
        reader.close()


async def test_a_read_that_fails_twice_raises_and_leaves_no_broken_connection() -> None:
    reader = LogReader()
    seen: list[Any] = []

    def broken() -> Any:
        seen.append(open_connection())
        raise OperationalError("database is away")

    try:
        with pytest.raises(OperationalError):
            await reader.run(broken)
        assert len(seen) == 2
        assert await reader.run(lambda: connection.connection) is None  # closed after it
        assert await reader.run(open_connection) is not seen[1]
    finally:
        reader.close()

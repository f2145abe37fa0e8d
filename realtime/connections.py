"""Live socket counts: the connection caps of the guide and the health endpoint's figures.

The caps (`WS_MAX_CONNECTIONS`, `WS_MAX_CONNECTIONS_PER_IP`) hold for the whole server. Under
`manage.py serve --workers N`, N daphne processes accept on one listening socket, so a count
kept in one process would let each of them admit the whole cap. `serve` therefore creates a
`ConnectionTable` before it starts them: a small file shared through `mmap`, never named on
disk (an unlinked temporary file whose descriptor each daphne inherits), with one row per web
worker. A process writes only its own row; admitting reads every row under a lock, so two
processes cannot both take the last slot. When a worker dies, however it died (SIGKILL
included), `serve` zeroes its row before starting it again, so its sockets' counts are freed.

Without that parent (plain `daphne`, the tests' in-process servers) the counts and caps are
this process's own, as they always were.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import secrets
import struct
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

MAGIC = b"JSCONNS1"
# magic, rows (web workers), buckets per row, and the key of the address hash.
HEADER = struct.Struct("=8sII16s")
# Per-address counts across processes are kept by bucket: each row counts its sockets per
# hash(address) % BUCKETS, and an address's server-wide count is its own process's exact count
# plus its bucket in the other rows. Addresses that share a bucket in another process are
# counted together there, so an address can be refused a little early when it collides with a
# busy one elsewhere; never late. With 4096 buckets that takes two busy addresses out of
# thousands landing on one bucket, and the hash is keyed with a secret of this server's, so a
# client cannot choose addresses that collide with someone else's. Exact per-address counts
# would need a shared hash map that a killed process could leave half-written; a row of plain
# counters is always consistent. Each row is 16 KiB (4096 int32 counters).
BUCKETS = 4096
# A row: the pid of the worker holding it, its socket count, then its buckets.
_PID, _TOTAL, _FIRST_BUCKET = 0, 1, 2
ROW_CELLS = _FIRST_BUCKET + BUCKETS


@dataclass(frozen=True)
class WorkerCount:
    worker: int  # 1..N, as `serve` numbers its web children
    pid: int  # 0 while the worker is being restarted
    active_connections: int


class ConnectionTable:
    """The shared counters of one server's web workers (see the module's docstring)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        size = os.fstat(fd).st_size
        self._map = mmap.mmap(fd, size)
        magic, self.rows, buckets, self._key = HEADER.unpack_from(self._map)
        if magic != MAGIC or buckets != BUCKETS or size != _size(self.rows):
            raise ValueError(f"descriptor {fd} is not a connection table")
        self._cells = memoryview(self._map)[HEADER.size :].cast("i")

    @classmethod
    def create(cls, rows: int) -> ConnectionTable:
        """A zeroed table for `rows` web workers, for `serve` to hand to its daphne children."""
        with tempfile.TemporaryFile() as handle:  # already unlinked: nothing left on disk
            fd = os.dup(handle.fileno())
        os.ftruncate(fd, _size(rows))
        os.pwrite(fd, HEADER.pack(MAGIC, rows, BUCKETS, secrets.token_bytes(16)), 0)
        return cls(fd)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        # A POSIX record lock belongs to the process: the kernel drops it if the holder dies,
        # so a worker killed while admitting cannot wedge the others. (flock would not do:
        # its locks belong to the open file, which all the workers share.)
        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)

    def bucket(self, ip: str) -> int:
        digest = hashlib.blake2b(ip.encode(), digest_size=4, key=self._key).digest()
        return int.from_bytes(digest, "little") % BUCKETS

    def _cell(self, row: int, cell: int) -> int:
        return (row - 1) * ROW_CELLS + cell

    def claim(self, row: int, pid: int) -> None:
        self._cells[self._cell(row, _PID)] = pid

    def release(self, row: int) -> None:
        """Forget everything a worker counted (it has exited; `serve` calls this)."""
        with self.locked():
            start = self._cell(row, 0)
            self._cells[start : start + ROW_CELLS] = memoryview(bytes(4 * ROW_CELLS)).cast("i")

    def add(self, row: int, bucket: int, delta: int) -> None:
        """Count `delta` sockets of `row`'s worker in `bucket`; only that worker writes its row."""
        self._cells[self._cell(row, _TOTAL)] += delta
        self._cells[self._cell(row, _FIRST_BUCKET + bucket)] += delta

    def total(self) -> int:
        return sum(self._cells[self._cell(row, _TOTAL)] for row in range(1, self.rows + 1))

    def bucket_elsewhere(self, bucket: int, row: int) -> int:
        return sum(
            self._cells[self._cell(other, _FIRST_BUCKET + bucket)]
            for other in range(1, self.rows + 1)
            if other != row
        )

    def workers(self) -> list[WorkerCount]:
        return [
            WorkerCount(
                row, self._cells[self._cell(row, _PID)], self._cells[self._cell(row, _TOTAL)]
            )
            for row in range(1, self.rows + 1)
        ]

    def close(self) -> None:
        self._cells.release()
        self._map.close()
        os.close(self.fd)


def _size(rows: int) -> int:
    return HEADER.size + 4 * ROW_CELLS * rows


class ConnectionRegistry:
    """This process's sockets (exactly, per address) and the caps' decisions: server-wide with
    a `ConnectionTable`, this process only without one."""

    def __init__(self, table: ConnectionTable | None = None, worker: int = 1) -> None:
        self.table = table
        self.worker = worker
        self.here = 0
        self.per_ip: Counter[str] = Counter()
        if table is not None:
            table.claim(worker, os.getpid())

    @property
    def total(self) -> int:
        """Sockets open on the whole server (this process's without a table)."""
        return self.here if self.table is None else self.table.total()

    def workers(self) -> list[WorkerCount] | None:
        """Each web worker's count, when this process is one of `serve`'s workers."""
        return None if self.table is None else self.table.workers()

    def try_add(self, ip: str) -> str | None:
        """Count a new connection; None if admitted, else why not."""
        if self.table is None:
            return self._admit(ip, total=self.here, from_ip=self.per_ip[ip], bucket=None)
        bucket = self.table.bucket(ip)
        with self.table.locked():
            from_ip = self.per_ip[ip] + self.table.bucket_elsewhere(bucket, self.worker)
            return self._admit(ip, total=self.table.total(), from_ip=from_ip, bucket=bucket)

    def _admit(self, ip: str, *, total: int, from_ip: int, bucket: int | None) -> str | None:
        if total >= settings.WS_MAX_CONNECTIONS:
            return "server connection limit reached"
        if from_ip >= settings.WS_MAX_CONNECTIONS_PER_IP:
            return "too many connections from this address"
        self._count(ip, 1, bucket)
        return None

    def remove(self, ip: str) -> None:
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]
            return  # never counted here: nothing to give back
        bucket = None if self.table is None else self.table.bucket(ip)
        self._count(ip, -1, bucket)
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]

    def _count(self, ip: str, delta: int, bucket: int | None) -> None:
        self.here += delta
        self.per_ip[ip] += delta
        if self.table is not None and bucket is not None:
            self.table.add(self.worker, bucket, delta)


def _registry_for_this_process() -> ConnectionRegistry:
    fd = settings.WEB_CONNECTION_TABLE_FD
    if fd is None:
        return ConnectionRegistry()
    return ConnectionRegistry(ConnectionTable(fd), settings.WEB_WORKER_INDEX)


registry = _registry_for_this_process()

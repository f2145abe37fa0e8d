"""Child processes that never outlive the benchmark: each runs in its own session (process
group) with the file-descriptor limit raised, and is killed with its group on the way out."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import resource
import signal
import socket
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

from bench import ROOT

_children: list[subprocess.Popen[bytes]] = []
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_nofile_limit() -> int:
    """Lift RLIMIT_NOFILE to its hard limit (thousands of sockets need thousands of fds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    stdin: int | None = None,
    stdout: int | IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a tracked child in a new session; stderr (and stdout unless piped) go to the log."""
    log: IO[bytes] | int = subprocess.DEVNULL
    if log_path is not None:
        log = log_path.open("ab")
    try:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else log,
            stderr=log,
            start_new_session=True,
            preexec_fn=raise_nofile_limit,
        )
    finally:
        if not isinstance(log, int):
            log.close()
    _children.append(process)
    return process


def stop(process: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it has not gone in `timeout`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    if process in _children:
        _children.remove(process)


def stop_all() -> None:
    for process in list(_children):
        stop(process, timeout=5.0)


atexit.register(stop_all)


class LineReader:
    """JSON lines from a child's stdout, read by a thread so that waits can time out."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stdout = process.stdout
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._stdout is not None
        for raw in self._stdout:
            try:
                self._lines.put(json.loads(raw))
            except ValueError:
                continue  # not ours (a library printing to stdout)
        self._lines.put(None)

    def get(self, *, timeout: float) -> dict[str, Any] | None:
        """The next line; None when the child has closed its stdout."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no output from the child in {timeout} s") from None


def children(pid: int, *, named: bytes) -> list[int]:
    """The live children of `pid` whose command line contains `named`, from /proc."""
    try:
        pids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    found = []
    for child in pids:
        try:
            if named in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
        except FileNotFoundError:
            continue  # gone meanwhile
    return found


def rss_kb(pid: int) -> int:
    """Resident set size of one process, from /proc/<pid>/status (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; the fields after its ")" are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def system_busy_seconds() -> float:
    """CPU-seconds the whole machine spent busy since boot (all CPUs), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    # user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS

"""Keeps the processes of `manage.py serve` running: the web server(s) and the worker.

A child that exits is logged and started again after a backoff (1 s doubling to 30 s, back to
1 s once it has run for a healthy minute); the others are never touched. SIGINT or SIGTERM to
the supervisor stops every child (SIGTERM, then SIGKILL after a grace period) and returns.
Children are described by kind and index, so N processes of one kind are N specs; a spec may
also name descriptors the child inherits (the web servers' shared listening socket), variables
added to its environment, and what to do when it exits (free what it held).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType

logger = logging.getLogger("jobsentinel.serve")

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0
STOP_GRACE = 20.0


@dataclass(frozen=True)
class ChildSpec:
    kind: str
    command: Sequence[str]
    index: int = 1
    pass_fds: tuple[int, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # Called once the child has exited, before it is started again: it must not block.
    on_exit: Callable[[], None] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.kind if self.index == 1 else f"{self.kind}-{self.index}"


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = BACKOFF_FIRST
    restart_at: float | None = None
    restarts: int = 0
    pid_history: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ChildSpec],
        *,
        backoff_first: float = BACKOFF_FIRST,
        backoff_max: float = BACKOFF_MAX,
        healthy_after: float = HEALTHY_AFTER,
    ) -> None:
        self.children = [Child(spec, backoff=backoff_first) for spec in specs]
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.healthy_after = healthy_after
        self._stopping = False

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self._stopping = True  # a plain flag: this runs inside a signal handler

    def run(self) -> None:
        """Start every child, keep them running until asked to stop, then stop them all."""
        previous = {
            sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                self._start(child)
            while not self._stopping:
                for child in self.children:
                    self._watch(child)
                time.sleep(0.2)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start(self, child: Child) -> None:
        child.restart_at = None
        try:
            child.process = subprocess.Popen(
                list(child.spec.command),
                pass_fds=child.spec.pass_fds,
                env={**os.environ, **child.spec.env} if child.spec.env else None,
            )
        except OSError as exc:  # cannot even start (e.g. out of processes): try again later
            logger.error("%s could not start: %s", child.spec.name, exc)
            child.process = None
            self._schedule_restart(child)
            return
        child.started_at = time.monotonic()
        child.pid_history.append(child.process.pid)

    def _watch(self, child: Child) -> None:
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                logger.info("restarting %s (restart %d)", child.spec.name, child.restarts)
                self._start(child)
            return
        if child.process is None or child.process.poll() is None:
            return
        ran = now - child.started_at
        if ran >= self.healthy_after:
            child.backoff = self.backoff_first
        logger.error(
            "%s (pid %d) exited with status %s after %.0f s; restarting in %.0f s",
            child.spec.name,
            child.process.pid,
            child.process.returncode,
            ran,
            child.backoff,
        )
        if child.spec.on_exit is not None:
            try:
                child.spec.on_exit()
            except Exception:  # the other children matter more than this clean-up
                logger.exception("%s: clean-up after exit failed", child.spec.name)
        self._schedule_restart(child)

    def _schedule_restart(self, child: Child) -> None:
        child.restart_at = time.monotonic() + child.backoff
        child.backoff = min(child.backoff * 2, self.backoff_max)

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

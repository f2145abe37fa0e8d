"""What every scenario gets (`Context`) and gives back (`Outcome`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procs
from bench.clients import ClientProcess
from bench.servers import EMBEDDED, REFERENCE, ServerSpec, redis_spec

# Before a measurement, wait (a bounded while) until other work uses less than this share of
# one core: the machine may be shared (CI, test runs), and a 2-core box has little to spare.
QUIET_CORES = 0.3


@dataclass
class Context:
    quick: bool
    log_dir: Path
    redis: bool
    postgres: bool
    quiet_wait: float = 0.0
    lean_load: bool = True  # False: load connections on the websockets client too
    notes: list[str] = field(default_factory=list)

    def client(self, url: str, spec: ServerSpec, name: str) -> ClientProcess:
        log = self.log_dir / f"clients-{spec.key}.log"
        return ClientProcess(url, log, name, lean_load=self.lean_load)

    def daphne_specs(self) -> list[ServerSpec]:
        """Embedded mode always; Redis mode when a Redis server answers."""
        specs = [EMBEDDED]
        if self.redis:
            specs.append(redis_spec(prefer_postgres=self.postgres))
        return specs

    def all_specs(self) -> list[ServerSpec]:
        return [*self.daphne_specs(), REFERENCE]

    def wait_for_quiet(self) -> float | None:
        """Wait until the machine is quiet, for at most `quiet_wait` seconds in all (a budget
        for the whole run, so a machine that is never quiet does not stall it). Returns the
        background load last seen, in cores (None when not waiting at all, as in --quick)."""
        if self.quiet_wait <= 0:
            return None
        while True:
            started = time.monotonic()
            before = procs.system_busy_seconds()
            time.sleep(1.0)
            load = procs.system_busy_seconds() - before
            self.quiet_wait = max(0.0, self.quiet_wait - (time.monotonic() - started))
            if load < QUIET_CORES or self.quiet_wait <= 0:
                return round(load, 2)


@dataclass
class Check:
    """One target of the issue, met or not (None: not applicable in this run, e.g. --quick)."""

    name: str
    met: bool | None
    detail: str


@dataclass
class Outcome:
    params: dict[str, Any]
    results: dict[str, Any]
    tables: list[str]
    checks: list[Check] = field(default_factory=list)

"""`python -m bench [memory|latency|throughput|filtering|ingest|scrape|all|soak|summary] [--quick]`

Each scenario prints its tables and writes `bench/results/<scenario>.json`. `summary` prints
the latest results as Markdown for docs/performance.md. Exit status: 1 if a scenario could not
run; with `--check`, 3 if a target was missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from bench import (
    RESULTS_DIR,
    ROOT,
    filtering,
    ingest,
    latency,
    memory,
    procs,
    report,
    scrape_cycle,
    soak,
    throughput,
)
from bench.common import Context, Outcome
from bench.servers import postgres_available, redis_available

SCENARIOS: dict[str, Callable[[Context], Outcome]] = {
    "memory": memory.run,
    "latency": latency.run,
    "throughput": throughput.run,
    "filtering": filtering.run,
    "ingest": ingest.run,
    "scrape": scrape_cycle.run,
}
# Long runs, only when named (not part of `all`).
EXTRA: dict[str, Callable[[Context], Outcome]] = {"soak": soak.run}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="JobSentinel fan-out and ingest benchmarks."
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        # A plain string: argparse checks a `*` positional's default against the choices as a
        # whole (a list default is refused as "invalid choice: ['all']").
        default="all",
        choices=[*SCENARIOS, *EXTRA, "all", "summary"],
        help="what to run (default: all; `soak`, the ten-minute reliability run, only when named)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small K and short windows: a smoke run (< 2 min)"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help=f"where the JSON goes (default: {RESULTS_DIR.relative_to(ROOT)}, "
        "or its quick/ subdirectory with --quick, so a smoke run never replaces real figures)",
    )
    parser.add_argument("--no-redis", action="store_true", help="skip Redis mode")
    parser.add_argument(
        "--sqlite-only", action="store_true", help="Redis mode on SQLite instead of PostgreSQL"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="the most seconds, over the whole run, spent waiting for other work on the machine "
        "to calm down before a measurement (default: 300, or 0 with --quick)",
    )
    parser.add_argument(
        "--websockets-load",
        action="store_true",
        help="load connections on the websockets client too (a cross-check; the client costs "
        "more CPU)",
    )
    parser.add_argument("--check", action="store_true", help="exit 3 if a target is missed")
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the server and client logs after success"
    )
    args = parser.parse_args(argv)
    if isinstance(args.scenarios, str):  # nothing named: the default
        args.scenarios = [args.scenarios]
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `finally`: children are stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.results_dir is None:
        args.results_dir = RESULTS_DIR / "quick" if args.quick else RESULTS_DIR
    if args.scenarios == ["summary"]:
        print(report.summary(args.results_dir))
        return 0
    names = list(SCENARIOS) if "all" in args.scenarios else list(dict.fromkeys(args.scenarios))
    names = [n for n in names if n != "summary"]
    signal.signal(signal.SIGTERM, _terminate)
    procs.raise_nofile_limit()
    log_dir = Path(tempfile.mkdtemp(prefix="jobsentinel-bench-logs-"))
    ctx = Context(
        quick=args.quick,
        log_dir=log_dir,
        redis=not args.no_redis and redis_available(),
        postgres=not args.sqlite_only and postgres_available(),
        lean_load=not args.websockets_load,
        quiet_wait=args.quiet_wait if args.quiet_wait is not None else 0 if args.quick else 300,
    )
    machine = report.machine()
    print(
        f"bench: {', '.join(names)}{' (quick)' if args.quick else ''} on "
        f"{machine['cpu_model']} x{machine['cpu_count']}, git {report.git_revision()}\n"
        f"       Redis mode: {'yes' if ctx.redis else 'no (Redis not reachable)'}, "
        f"PostgreSQL: {'yes' if ctx.postgres else 'no'}; logs in {log_dir}",
        flush=True,
    )
    if not ctx.redis and not args.no_redis:
        print("warning: Redis is not reachable on 127.0.0.1:6379: Redis mode is skipped")
    failed: list[str] = []
    missed: list[str] = []
    try:
        for name in names:
            started_at, clock = report.now_iso(), time.monotonic()
            code = report.code_state()
            try:
                outcome = {**SCENARIOS, **EXTRA}[name](ctx)
            except Exception as exc:
                print(f"\n{name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
                failed.append(name)
                continue
            finally:
                procs.stop_all()
            params = {
                "quick": args.quick,
                "redis": ctx.redis,
                "load_client": "raw" if ctx.lean_load else "websockets",
                **outcome.params,
            }
            if report.code_state() != code:
                ctx.notes.append(
                    f"The server code changed while `{name}` ran (a commit or an edit in the "
                    "working tree): its figures may mix two versions."
                )
            path = report.write_result(
                name,
                started_at=started_at,
                params=params,
                results=outcome.results,
                tables=outcome.tables,
                checks=[dataclasses.asdict(c) for c in outcome.checks],
                notes=ctx.notes,
                code=code,
                results_dir=args.results_dir,
            )
            ctx.notes = []
            print()
            for block in outcome.tables:
                print(block, end="\n\n")
            for check in outcome.checks:
                print(f"  target: {check.name}: {report.verdict(check.met)} ({check.detail})")
                if check.met is False:
                    missed.append(check.name)
            print(f"  ({time.monotonic() - clock:.0f} s; written to {path})\n", flush=True)
    finally:
        procs.stop_all()
    if failed:
        print(f"scenarios that could not run: {', '.join(failed)} (logs in {log_dir})")
        return 1
    if not args.keep_logs:
        shutil.rmtree(log_dir, ignore_errors=True)
    if missed:
        print(f"{len(missed)} target(s) missed")
        if args.check:
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scrape cycle: 300 boards of mixed kinds on a local board farm that answers every request after
100 ms; a first cycle (every job new) and an unchanged cycle, one board after another against
concurrently (as many at once as JOBSENTINEL_SCRAPE_CONCURRENCY says, by default 16), in the
same run; then one cycle by a
real `manage.py worker` (scheduled through the queue), with its peak memory.

Each cycle runs in a child process (`python -m bench.scrape_cycle --child ...`) on a fresh data
directory (SQLite, the default install): the same `Scraper.run_many` that `manage.py scrape`
uses, timed from the first fetch to the last run recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ROOT, procs
from bench.common import Check, Context, Outcome
from bench.report import table

BOARDS = 300
QUICK_BOARDS = 40
JOBS_PER_BOARD = 20
DELAY = 0.1
# Goals: the unchanged cycle at least 8 times faster than one board after another, under 10 s.
SPEEDUP_GOAL = 8.0
UNCHANGED_GOAL_S = 10.0


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="jobsentinel.settings",
        JOBSENTINEL_DATA_DIR=str(data_dir),
        JOBSENTINEL_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def child(boards: int, port: int, concurrency: int) -> dict[str, Any]:
    """In the child: set up Django on its fresh data dir, add the boards, time two cycles."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.board_farm import board_address, board_kind
    from jobs.models import Job, ScrapeRun, Source
    from jobs.scraping import Scraper

    for index in range(boards):
        Source.objects.create(
            kind=board_kind(index),
            token=f"board{index}",
            name=f"Company {index}",
            api_url=f"http://{board_address(index)}:{port}",
        )
    cycles = {}
    from django.conf import settings

    # 0: the default, what `manage.py scrape` uses.
    concurrency = concurrency or settings.SCRAPE_CONCURRENCY
    with Scraper(concurrency=concurrency) as scraper:
        for name in ("first", "unchanged"):
            sources = list(Source.objects.order_by("id"))
            started, cpu = time.perf_counter(), _cpu_seconds()
            outcomes = list(scraper.run_many(sources))
            seconds = time.perf_counter() - started
            cycles[name] = {
                "seconds": round(seconds, 2),
                # CPU of the whole process (all threads): on a busy machine the wall time of a
                # CPU-bound cycle stretches, its CPU time much less.
                "cpu_seconds": round(_cpu_seconds() - cpu, 2),
                "ok": sum(o.ok for o in outcomes),
                "failed": [o.error for o in outcomes if not o.ok][:3],
            }
    return {
        "concurrency": concurrency,
        "cycles": cycles,
        "jobs": Job.objects.count(),
        "runs_succeeded": ScrapeRun.objects.filter(status="succeeded").count(),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_child(ctx: Context, data_dir: Path, boards: int, port: int, concurrency: int) -> Any:
    args = [sys.executable, "-m", "bench.scrape_cycle", "--child", "--boards", str(boards),
            "--port", str(port), "--concurrency", str(concurrency)]  # fmt: skip
    result = subprocess.run(
        args, cwd=ROOT, env=_env(data_dir), capture_output=True, text=True, timeout=1800
    )
    (ctx.log_dir / f"scrape-cycle-{concurrency}.log").write_text(result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"the cycle child failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _worker_cycle(ctx: Context, data_dir: Path, boards: int) -> dict[str, Any]:
    """One scheduled cycle by a real worker on the concurrent run's data dir (its sources made
    due), timed from the worker's start line to the last run recorded."""
    env = _env(data_dir, JOBSENTINEL_SCHEDULE_TICK_SECONDS="1", JOBSENTINEL_LOG_LEVEL="INFO")
    shift = (
        "from datetime import timedelta\nfrom django.utils import timezone\n"
        "from jobs.models import ScrapeRun\n"
        "ScrapeRun.objects.update(started_at=timezone.now() - timedelta(hours=1))\n"
        "print(ScrapeRun.objects.filter(status='succeeded').count())"
    )
    before = int(
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", shift], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout.split()[-1]
    )  # fmt: skip
    log = ctx.log_dir / "scrape-cycle-worker.log"
    worker = procs.spawn([sys.executable, "manage.py", "worker"], env=env, log_path=log)
    try:
        deadline = time.monotonic() + 600
        while "worker started" not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        started = time.monotonic()
        peak = 0
        import sqlite3

        db = sqlite3.connect(str(data_dir / "jobsentinel.sqlite3"), timeout=30)
        while True:
            peak = max(peak, _hwm_kb(worker.pid))
            done, bad = db.execute(
                "SELECT sum(status = 'succeeded'), sum(status NOT IN ('succeeded', 'running')) "
                "FROM jobs_scraperun"
            ).fetchone()
            if done - before + bad >= boards:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the worker's cycle did not finish in 10 minutes")
            time.sleep(0.1)
        seconds = time.monotonic() - started
        peak = max(peak, _hwm_kb(worker.pid))
        db.close()
    finally:
        procs.stop(worker)
    return {"seconds": round(seconds, 2), "succeeded": done - before, "other": bad,
            "peak_rss_kb": peak}  # fmt: skip


def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(ctx: Context) -> Outcome:
    boards = QUICK_BOARDS if ctx.quick else BOARDS
    port = procs.free_port()
    farm = procs.spawn(
        [sys.executable, "-m", "bench.board_farm", "--boards", str(boards), "--port", str(port),
         "--jobs", str(JOBS_PER_BOARD), "--delay", str(DELAY)],
        log_path=ctx.log_dir / "board-farm.log", stdout=subprocess.PIPE,
    )  # fmt: skip
    assert farm.stdout is not None
    ready = farm.stdout.readline().decode().strip()
    if not ready.startswith("ready"):
        raise RuntimeError(f"the board farm did not start: {ready!r}")
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="jobsentinel-bench-scrape-") as tmp:
            for mode, concurrency in (("sequential", 1), ("concurrent", 0)):
                data_dir = Path(tmp) / mode
                data_dir.mkdir()
                ctx.wait_for_quiet()
                results[mode] = _run_child(ctx, data_dir, boards, port, concurrency)
            ctx.wait_for_quiet()
            results["worker"] = _worker_cycle(ctx, Path(tmp) / "concurrent", boards)
    finally:
        procs.stop(farm)
    seq, con, wrk = results["sequential"], results["concurrent"], results["worker"]
    speedup = seq["cycles"]["unchanged"]["seconds"] / con["cycles"]["unchanged"]["seconds"]
    first_speedup = seq["cycles"]["first"]["seconds"] / con["cycles"]["first"]["seconds"]
    results["unchanged_speedup"] = round(speedup, 1)
    results["first_speedup"] = round(first_speedup, 1)
    rows = [
        [mode, results[mode]["concurrency"], results[mode]["cycles"]["first"]["seconds"],
         results[mode]["cycles"]["unchanged"]["seconds"],
         results[mode]["cycles"]["unchanged"]["cpu_seconds"],
         f"{results[mode]['cycles']['unchanged']['ok']}/{boards}",
         round(results[mode]["peak_rss_kb"] / 1024, 1)]
        for mode in ("sequential", "concurrent")
    ]  # fmt: skip
    rows.append(
        ["worker (queue)", con["concurrency"], "—", wrk["seconds"], "—",
         f"{wrk['succeeded']}/{boards}", round(wrk["peak_rss_kb"] / 1024, 1)]
    )  # fmt: skip
    tables = [
        table(
            [
                "mode",
                "at once",
                "first cycle s",
                "unchanged cycle s",
                "unchanged CPU s",
                "boards ok",
                "peak RSS MB",
            ],
            rows,
            title=f"Scrape cycle: {boards} boards ({JOBS_PER_BOARD} jobs each, 4 kinds), "
            f"each answer after {DELAY * 1000:.0f} ms",
        )
    ]
    unchanged = con["cycles"]["unchanged"]["seconds"]
    full = not ctx.quick
    checks = [
        Check("unchanged cycle ≥ 8 times faster than one after another", speedup >= SPEEDUP_GOAL
              if full else None, f"{speedup:.1f} times"),
        Check("unchanged cycle < 10 s", unchanged < UNCHANGED_GOAL_S if full else None,
              f"{unchanged:.2f} s"),
    ]  # fmt: skip
    params = {"boards": boards, "jobs_per_board": JOBS_PER_BOARD, "delay_s": DELAY,
              "database": "sqlite"}  # fmt: skip
    return Outcome(params=params, results=results, tables=tables, checks=checks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--boards", type=int, default=BOARDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=0, help="0: the default")
    args = parser.parse_args()
    print(json.dumps(child(args.boards, args.port, args.concurrency)))


if __name__ == "__main__":
    main()

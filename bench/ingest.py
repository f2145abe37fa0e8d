"""Ingest: postings/s for a first scrape and for an unchanged re-scrape of one board.

The work runs in a child process (`python -m bench.ingest --count N`) with Django set up on a
fresh data directory (and database), calling `jobs.services.ingest_postings` directly, as a
scrape does after parsing. The unchanged pass must not write per job: its SQL writes are
counted (with Django's CaptureQueriesContext, in a third, untimed pass).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import procs
from bench.common import Check, Context, Outcome
from bench.report import table
from bench.servers import Database, Server, ServerSpec

COUNT = 5_000
QUICK_COUNT = 500
# "A few statements": the one bulk `last_seen` update, and whatever bookkeeping a scrape adds.
MAX_UNCHANGED_WRITES = 5
LOCATIONS = ("Remote", "Berlin, Germany", "New York, NY", "London, UK", "Remote - Europe")
WORKPLACES = ("remote", "onsite", "hybrid", "unknown")
PARAGRAPH = (
    "<p>We are looking for an engineer who enjoys <strong>distributed systems</strong>, "
    "clear writing and small, well-tested changes. You will work on the ingestion pipeline, "
    "the public API and the real-time feed.</p>"
)


def synthetic_postings(count: int) -> list[Any]:
    from jobs.postings import Posting

    posted = datetime(2025, 10, 1, tzinfo=UTC)
    return [
        Posting(
            external_id=f"bench-{i}",
            title=f"Senior Backend Engineer {i}",
            company="Bench Corp",
            url=f"https://boards.example.com/bench/jobs/{i}",
            location=LOCATIONS[i % len(LOCATIONS)],
            workplace=WORKPLACES[i % len(WORKPLACES)],
            department="Engineering",
            employment_type="Full-time",
            description_html=PARAGRAPH * 6 + f"<ul><li>Python</li><li>Job {i}</li></ul>",
            apply_url=f"https://boards.example.com/bench/jobs/{i}/apply",
            salary_min=Decimal(90_000 + i % 50 * 1000) if i % 3 else None,
            salary_max=Decimal(140_000 + i % 50 * 1000) if i % 3 else None,
            salary_currency="USD" if i % 3 else "",
            salary_interval="year" if i % 3 else "",
            posted_at=posted - timedelta(hours=i % 500),
        )
        for i in range(count)
    ]


def _is_write(sql: str) -> bool:
    return sql.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}


def work(count: int) -> dict[str, Any]:
    """In the child: set up Django, then time the passes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobsentinel.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs.models import Source
    from jobs.services import ingest_postings
    from realtime.models import Event

    source = Source.objects.create(kind="greenhouse", token="bench", name="Bench Corp")
    postings = synthetic_postings(count)

    def timed() -> tuple[float, Any]:
        started = time.perf_counter()
        result = ingest_postings(source=source, postings=postings, complete=True)
        return time.perf_counter() - started, result

    first_s, first = timed()
    events_after_first = Event.objects.count()
    unchanged_s, unchanged = timed()
    events_after_unchanged = Event.objects.count()
    with CaptureQueriesContext(connection) as queries:
        ingest_postings(source=source, postings=postings, complete=True)
    writes = [q["sql"] for q in queries.captured_queries if _is_write(q["sql"])]
    return {
        "postings": count,
        "first": {
            "seconds": round(first_s, 3),
            "postings_per_s": round(count / first_s, 1),
            "new": first.new,
            "events_logged": events_after_first,
        },
        "unchanged": {
            "seconds": round(unchanged_s, 3),
            "postings_per_s": round(count / unchanged_s, 1),
            "unchanged": unchanged.unchanged,
            "events_logged": events_after_unchanged - events_after_first,
        },
        "unchanged_queries": len(queries.captured_queries),
        "unchanged_writes": len(writes),
        "unchanged_write_statements": [w[:160] for w in writes],
    }


def measure_database(database: Database, ctx: Context, count: int) -> dict[str, Any]:
    # A server's environment and database, without starting the server.
    server = Server(ServerSpec("daphne", "embedded", database), ctx.log_dir)
    try:
        server.prepare()
        command = [sys.executable, "-m", "bench.ingest", "--count", str(count)]
        log = ctx.log_dir / f"ingest-{database}.log"
        process = procs.spawn(command, env=server.env, log_path=log, stdout=subprocess.PIPE)
        try:
            result = procs.LineReader(process).get(timeout=900)
        finally:
            procs.stop(process)
        if result is None:
            raise RuntimeError(f"the ingest run failed; see {log}")
        return {"database": database, **result}
    finally:
        server.stop()


def run(ctx: Context) -> Outcome:
    count = QUICK_COUNT if ctx.quick else COUNT
    databases: list[Database] = ["sqlite", "postgres"] if ctx.postgres else ["sqlite"]
    rows = []
    for database in databases:
        ctx.wait_for_quiet()
        print(f"ingest: {count:,} postings on {database} ...", flush=True)
        row = measure_database(database, ctx, count)
        row["writes_ok"] = row["unchanged_writes"] <= MAX_UNCHANGED_WRITES
        rows.append(row)
    headers = [
        "database",
        "postings",
        "first scrape /s",
        "unchanged re-scrape /s",
        "events (first / unchanged)",
        "writes in unchanged pass",
        f"≤ {MAX_UNCHANGED_WRITES} writes",
    ]
    body = [
        [
            "PostgreSQL" if r["database"] == "postgres" else "SQLite",
            r["postings"],
            r["first"]["postings_per_s"],
            r["unchanged"]["postings_per_s"],
            f"{r['first']['events_logged']:,} / {r['unchanged']['events_logged']:,}",
            r["unchanged_writes"],
            "yes" if r["writes_ok"] else "NO",
        ]
        for r in rows
    ]
    statements = "\n".join(
        f"- {r['database']}: `{s}`" for r in rows for s in r["unchanged_write_statements"]
    )
    checks = [
        Check(
            f"unchanged re-scrape writes ≤ {MAX_UNCHANGED_WRITES} statements ({r['database']})",
            r["writes_ok"],
            f"{r['unchanged_writes']} writes, {r['unchanged']['events_logged']} events",
        )
        for r in rows
    ]
    return Outcome(
        checks=checks,
        params={"postings": count, "max_unchanged_writes": MAX_UNCHANGED_WRITES},
        results={"databases": rows},
        tables=[
            table(headers, body, "Ingest (jobs.services.ingest_postings, one board)"),
            "Writes of the unchanged re-scrape:\n" + (statements or "- none"),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="ingest benchmark worker")
    parser.add_argument("--count", type=int, default=COUNT)
    outcome = work(parser.parse_args().count)
    sys.stdout.write(json.dumps(outcome) + "\n")
    sys.stdout.flush()

"""Realistic data for the browser tests and the README's screenshots: jobs go through the real
ingest, so they carry real scores and reasons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jobs.models import Job, ScrapeRun, Source
from jobs.postings import Posting
from jobs.services import ingest_postings, preferences_update


def posting(n: int, title: str, company: str, **fields: Any) -> Posting:
    values: dict[str, Any] = {
        "external_id": f"demo-{n}",
        "title": title,
        "company": company,
        "url": f"https://boards.example/{company.lower()}/jobs/{n}",
        "location": "Berlin, Germany",
        "workplace": "hybrid",
        "description_html": (
            "<h2>About the role</h2><p>You will build the services behind our product.</p>"
            "<h3>What you bring</h3><ul><li>Python</li><li>Django</li><li>PostgreSQL</li></ul>"
        ),
    }
    values.update(fields)
    return Posting(**values)


def seed(now: Any = None) -> dict[str, Any]:
    """Two sources (one failing), preferences, and a handful of scored jobs."""
    now = now or timezone.now()
    preferences_update(
        title_keywords=["backend", "platform", "python"],
        boost_keywords={"django": 2.0, "postgresql": 1.0, "kubernetes": 1.0},
        denied_companies=["Megacorp"],
        preferred_locations=["Berlin", "Remote"],
        remote_preference="any",
        salary_floor=Decimal(60000),
        salary_target=Decimal(90000),
        salary_currency="EUR",
    )
    acme = Source.objects.create(kind="greenhouse", token="acme", name="Acme")
    globex = Source.objects.create(kind="lever", token="globex", name="Globex")
    broken = Source.objects.create(
        kind="ashby", token="initech", name="Initech", consecutive_failures=3,
        last_failure_at=now - timedelta(minutes=20),
    )  # fmt: skip
    ingest_postings(
        source=acme,
        postings=[
            posting(1, "Senior Backend Engineer (Python)", "Acme", salary_min=Decimal(85000),
                    salary_max=Decimal(105000), salary_currency="EUR", salary_interval="year",
                    posted_at=now - timedelta(days=2), apply_url="https://boards.example/acme/apply/1"),
            posting(2, "Platform Engineer", "Acme", workplace="remote", location="Remote (EU)",
                    posted_at=now - timedelta(days=9)),
            posting(3, "Office Manager", "Acme", workplace="onsite",
                    posted_at=now - timedelta(days=1)),
        ],
        complete=True,
        now=now - timedelta(hours=3),
    )  # fmt: skip
    ingest_postings(
        source=globex,
        postings=[
            posting(4, "Backend Developer, Payments", "Globex", location="Munich",
                    salary_min=Decimal(55), salary_max=Decimal(70), salary_currency="EUR",
                    salary_interval="hour", posted_at=now - timedelta(days=5)),
            posting(5, "Data Engineer", "Megacorp", location="Berlin"),
        ],
        complete=True,
        now=now - timedelta(minutes=30),
    )  # fmt: skip
    ScrapeRun.objects.create(
        source=acme, status="succeeded", jobs_found=3, new_jobs=3, finished_at=now,
        duration_seconds=1.2,
    )  # fmt: skip
    ScrapeRun.objects.create(
        source=broken, status="failed", errors=1, finished_at=now - timedelta(minutes=20),
        error_message="The board answered 404 Not Found: is the token right?",
    )  # fmt: skip
    jobs = {job.external_id: job for job in Job.objects.all()}
    return {"acme": acme, "globex": globex, "broken": broken, "jobs": jobs}

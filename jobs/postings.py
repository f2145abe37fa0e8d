"""The one normalized shape every source parses into."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Posting:
    """A job as a board shows it, before JobSentinel stores, sanitizes or scores it.

    `description_html` is the board's HTML, unescaped but NOT sanitized (ingest sanitizes).
    `workplace` is one of jobs.models.Workplace values: remote, hybrid, onsite, unknown.
    `salary_interval` is one of jobs.models.SalaryInterval values ("" when unknown).
    """

    external_id: str
    title: str
    company: str
    url: str
    location: str = ""
    workplace: str = "unknown"
    department: str = ""
    employment_type: str = ""
    description_html: str = ""
    apply_url: str = ""
    salary_min: Decimal | None = None
    salary_max: Decimal | None = None
    salary_currency: str = ""
    salary_interval: str = ""
    posted_at: datetime | None = None


# Everything a posting says about the job itself (all but the board's id for it).
CONTENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Posting) if f.name != "external_id")

"""The one normalized shape every source parses into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from jobs.vocabulary import SalaryInterval, Workplace


@dataclass(frozen=True, slots=True)
class Posting:
    """A job as a board shows it, before JobSentinel stores, sanitizes or scores it.

    Its fields are the board's id for the job and `jobs.job_fields.BOARD_FIELDS`.
    `description_html` is the board's HTML, unescaped but NOT sanitized (ingest sanitizes).
    `workplace` is a `jobs.vocabulary.Workplace`, `salary_interval` a `SalaryInterval`.
    """

    external_id: str
    title: str
    company: str
    url: str
    location: str = ""
    workplace: str = Workplace.UNKNOWN
    department: str = ""
    employment_type: str = ""
    description_html: str = ""
    apply_url: str = ""
    salary_min: Decimal | None = None
    salary_max: Decimal | None = None
    salary_currency: str = ""
    salary_interval: str = SalaryInterval.UNKNOWN
    posted_at: datetime | None = None

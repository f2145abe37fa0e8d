"""The job fields a user cares about, declared once, with the names clients see.

Everything that asks "did this job change, and how?" reads this table:
- `BOARD_FIELDS` are what a board says about a job: a `Posting` carries exactly these, the
  content hash covers them, ingest copies them and rescoring rebuilds a posting from them;
- `TRACKED_FIELDS` (all of them) are remembered as loaded, so a save knows what it changed;
- `public_changes()` turns changed fields into `job_updated.changes` (several columns may
  share one public name: the four salary columns are "salary").

Fields not listed (hashes, `last_seen`, `missed_fetches`, ...) are bookkeeping: changing only
those is not a change anyone is told about. Pure module: no Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Origin(StrEnum):
    BOARD = "board"  # scraped as is (after sanitizing)
    DERIVED = "derived"  # computed by ingest from the board's fields
    LIFECYCLE = "lifecycle"  # open / closed, decided by ingest
    USER = "user"  # set by the user; a scrape never writes these


@dataclass(frozen=True, slots=True)
class JobField:
    name: str  # the model field
    public: str  # its name in `job_updated.changes`
    origin: Origin


JOB_FIELDS: tuple[JobField, ...] = (
    JobField("title", "title", Origin.BOARD),
    JobField("company", "company", Origin.BOARD),
    JobField("url", "url", Origin.BOARD),
    JobField("location", "location", Origin.BOARD),
    JobField("workplace", "workplace", Origin.BOARD),
    JobField("department", "department", Origin.BOARD),
    JobField("employment_type", "employment_type", Origin.BOARD),
    JobField("description_html", "description", Origin.BOARD),
    JobField("apply_url", "apply_url", Origin.BOARD),
    JobField("salary_min", "salary", Origin.BOARD),
    JobField("salary_max", "salary", Origin.BOARD),
    JobField("salary_currency", "salary", Origin.BOARD),
    JobField("salary_interval", "salary", Origin.BOARD),
    JobField("posted_at", "posted_at", Origin.BOARD),
    JobField("description_text", "description", Origin.DERIVED),
    JobField("score", "score", Origin.DERIVED),
    JobField("status", "status", Origin.LIFECYCLE),
    JobField("closed_at", "status", Origin.LIFECYCLE),
    # Hidden as the same job on another source, or shown again when that one closed.
    JobField("duplicate_of_id", "duplicate_of", Origin.LIFECYCLE),
    JobField("hidden", "hidden", Origin.USER),
    JobField("starred", "starred", Origin.USER),
    JobField("application_status", "application_status", Origin.USER),
    JobField("notes", "notes", Origin.USER),
)

TRACKED_FIELDS: tuple[str, ...] = tuple(f.name for f in JOB_FIELDS)
BOARD_FIELDS: tuple[str, ...] = tuple(f.name for f in JOB_FIELDS if f.origin is Origin.BOARD)
USER_FIELDS: tuple[str, ...] = tuple(f.name for f in JOB_FIELDS if f.origin is Origin.USER)
PUBLIC_NAMES: dict[str, str] = {f.name: f.public for f in JOB_FIELDS}


def public_changes(fields: Iterable[str]) -> list[str]:
    """The public names of the given changed fields, sorted, each once; bookkeeping fields
    are left out (so a save of only those announces nothing)."""
    return sorted({PUBLIC_NAMES[name] for name in fields if name in PUBLIC_NAMES})


# What every wire format names a job by, in this order: the events' job summary and the
# alerts' job card start with these, then add what their readers need.
HEADLINE_FIELDS: tuple[str, ...] = ("title", "company", "location", "workplace")


def job_headline(job: Any) -> dict[str, Any]:
    """`job_id` and the headline fields of a job (a model instance, or anything with them)."""
    return {"job_id": job.pk, **{name: getattr(job, name) for name in HEADLINE_FIELDS}}

"""How the pages show a job's values in words: salaries, ages, score reasons."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from jobs.models import ApplicationStatus, Job
from jobs.sanitize import sanitize_html
from jobs.vocabulary import SalaryInterval

register = template.Library()

# Reason rules (jobs.scoring) as a person would name them.
RULE_LABELS = {
    "title": "Title",
    "keywords": "Keywords",
    "location": "Location",
    "salary": "Salary",
    "recency": "Freshness",
    "denied_company": "Company skipped",
    "excluded_keyword": "Excluded keyword",
    "title_blocklist": "Blocked title",
    "salary_floor": "Below salary floor",
    "workplace": "Workplace",
}
_PERIODS = {
    SalaryInterval.HOUR: "an hour",
    SalaryInterval.DAY: "a day",
    SalaryInterval.WEEK: "a week",
    SalaryInterval.MONTH: "a month",
    SalaryInterval.YEAR: "a year",
}


def _amount(value: Decimal) -> str:
    # Whole amounts without ".00"; cents only where the board gave them (hourly rates).
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


@register.filter
def salary(job: Job) -> str:
    """The range as the board gives it, with currency and period: "120,000\u2013150,000 USD
    a year"; "" when the board states none."""
    low, high = job.salary_min, job.salary_max
    if low is None and high is None:
        return ""
    if low is not None and high is not None and low != high:
        figure = f"{_amount(low)}\N{EN DASH}{_amount(high)}"
    elif low is not None and high is not None:
        figure = _amount(low)
    elif low is not None:
        figure = f"from {_amount(low)}"
    else:
        assert high is not None
        figure = f"up to {_amount(high)}"
    period = _PERIODS.get(job.salary_interval, "")  # type: ignore[call-overload]
    return " ".join(part for part in (figure, job.salary_currency, period) if part)


@register.filter
def ago(moment: datetime | None) -> str:
    """ "3 days ago", "just now"; "" for no date. Dates slightly ahead (clock skew) read as now."""
    if moment is None:
        return ""
    now = timezone.now()
    if moment >= now or (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


SNIPPET_CHARS = 240
_ENDS_SENTENCE = (".", "!", "?", ":", ";", "…")


@register.filter
def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """A description's start on one line. Its text has one line per heading, paragraph and
    list item; joined with plain spaces they would read as one run-on sentence
    ("Requirements Python Django"), so lines that do not end a sentence get a separator."""
    parts: list[str] = []
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        if parts and not parts[-1].endswith(_ENDS_SENTENCE):
            parts.append("·")
        parts.append(line)
    joined = " ".join(parts)
    if len(joined) <= limit:
        return joined
    return joined[: limit - 1].rstrip(" ·") + "…"


@register.filter
def rule_label(rule: Any) -> str:
    text = str(rule or "")
    return RULE_LABELS.get(text, text.replace("_", " ").capitalize())


@register.filter
def reasons(job: Job) -> list[dict[str, Any]]:
    """The stored reasons, skipping malformed entries (rows edited by hand)."""
    rows = job.score_reasons if isinstance(job.score_reasons, list) else []
    return [row for row in rows if isinstance(row, dict)]


@register.filter
def points(value: Any) -> str:
    try:
        return f"{float(value):+.2f}"
    except (TypeError, ValueError):
        return ""


@register.simple_tag
def application_choices() -> list[tuple[str, str]]:
    """The application statuses a user can pick (not the empty "not applied")."""
    return [(value, label) for value, label in ApplicationStatus.choices if value]


@register.filter
def sanitized(html: str) -> SafeString:
    """A description as HTML. Ingest stores it sanitized already; cleaning again at display
    covers rows written another way (a shell, an older version) for a few microseconds."""
    return mark_safe(sanitize_html(html or ""))

"""Remotive public API: `GET /api/remote-jobs[?category=slug]`, a feed of recent remote jobs
from many companies. The feed shows only the newest jobs, so a job missing from it is not
closed (complete=False). Remotive asks clients to call it only a few times a day; the
scheduler's interval, not this module, keeps to that.

The token is a category slug (e.g. `software-dev`) or `all` for every category.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.board import Board
from jobs.scrapers.fields import NO_SALARY, Salary
from jobs.vocabulary import SalaryInterval, Workplace

ALL_CATEGORIES = "all"


class RemotiveAdapter(Board):
    kind = "remotive"
    vendor = "Remotive"
    complete = False
    base_url = "https://remotive.com"

    def path(self, token: str) -> str:
        query = "" if token == ALL_CATEGORIES else "?" + urlencode({"category": token})
        return "/api/remote-jobs" + query

    def posting(self, raw: Any, company: str) -> Posting:
        return _posting(raw, company)


def _posting(raw: Any, company: str) -> Posting:
    job = fields.require_dict(raw, "job")
    salary = parse_salary(job.get("salary"))
    return Posting(
        external_id=fields.required_id(job),
        title=fields.required_text(job, "title"),
        # A feed of many companies: the source's name is only a fallback.
        company=fields.clean_text(job.get("company_name")) or company,
        url=fields.required_url(job, "url"),
        location=fields.clean_text(job.get("candidate_required_location")),
        workplace=Workplace.REMOTE,
        department=fields.clean_text(job.get("category")),
        employment_type=fields.employment_type(job.get("job_type")),
        description_html=fields.html_text(job.get("description")),
        **salary.posting_fields(),
        posted_at=fields.parse_datetime(job.get("publication_date")),
    )


# --- Free-text salaries ---------------------------------------------------------------------


# Longest first, so "CA$" is not read as "$".
_SYMBOLS = (
    ("US$", "USD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
)
_CODE = re.compile(r"\b(USD|EUR|GBP|CAD|AUD|NZD|CHF|SEK|NOK|DKK|PLN|CZK|INR|BRL|MXN|SGD|JPY|ZAR)\b")
_AMOUNT = re.compile(r"(\d[\d.,]*)(\s*[kK]\b)?")
_UP_TO = re.compile(r"\b(up to|max(imum)?|until)\b", re.IGNORECASE)
_FROM = re.compile(r"\b(from|starting|min(imum)?|at least)\b|\+\s*$", re.IGNORECASE)
# First match wins: "per hour" must not fall through to the magnitude guess for years.
_INTERVAL_HINTS = (
    (SalaryInterval.HOUR, re.compile(r"hour|\bhr\b|/\s*h\b", re.IGNORECASE)),
    (SalaryInterval.DAY, re.compile(r"\bday\b|daily|/\s*d\b", re.IGNORECASE)),
    (SalaryInterval.WEEK, re.compile(r"week|/\s*wk?\b", re.IGNORECASE)),
    (SalaryInterval.MONTH, re.compile(r"month|/\s*mo\b", re.IGNORECASE)),
    (
        SalaryInterval.YEAR,
        re.compile(r"year|annual|annum|\byr\b|/\s*y\b|\bp\.?a\.?\b", re.IGNORECASE),
    ),
)
# With no stated interval, a figure this large is a yearly salary (no hourly or daily rate is).
_YEARLY_AT_LEAST = Decimal(10_000)


def parse_salary(value: object) -> Salary:
    """Best effort on text like "$100k - $120k", "€60.000 - €80.000 per year", "£40k",
    "40-50 USD/hour", "Up to $150k". Unreadable or empty text gives NO_SALARY."""
    text = fields.clean_text(value)
    amounts = _amounts(text)
    if not amounts:
        return NO_SALARY
    if len(amounts) >= 2:
        low, high = fields.ordered_range(amounts[0], amounts[1])
    elif _UP_TO.search(text):
        low, high = None, amounts[0]
    elif _FROM.search(text):
        low, high = amounts[0], None
    else:
        low = high = amounts[0]
    return Salary(low, high, _currency(text), _interval(text, max(amounts)))


def _amounts(text: str) -> list[Decimal]:
    """Up to two positive amounts; a "k" on the second also scales a bare first ("100-120k")."""
    found: list[tuple[Decimal, bool]] = []
    for match in _AMOUNT.finditer(text):
        number = _number(match.group(1))
        if number is not None and number > 0:
            found.append((number, bool(match.group(2))))
        if len(found) == 2:
            break
    if len(found) == 2 and found[1][1] and not found[0][1] and found[0][0] < 1000:
        found[0] = (found[0][0], True)
    return [number * 1000 if thousands else number for number, thousands in found]


def _number(token: str) -> Decimal | None:
    """ "100,000" and "100.000" are thousands; "1.5" and "1,5" are decimals."""
    token = token.rstrip(".,")
    if "," in token and "." in token:
        decimal_mark = "," if token.rfind(",") > token.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        token = token.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in token or "." in token:
        mark = "," if "," in token else "."
        groups = token.split(mark)
        if all(len(group) == 3 for group in groups[1:]):
            token = "".join(groups)
        elif len(groups) == 2:
            token = ".".join(groups)
        else:
            return None
    try:
        return Decimal(token)
    except InvalidOperation:
        return None


def _currency(text: str) -> str:
    code = _CODE.search(text.upper())
    if code:
        return code.group(1)
    upper = text.upper()
    return next((code for symbol, code in _SYMBOLS if symbol in upper), "")


def _interval(text: str, largest: Decimal) -> str:
    for interval, hint in _INTERVAL_HINTS:
        if hint.search(text):
            return interval
    return SalaryInterval.YEAR if largest >= _YEARLY_AT_LEAST else SalaryInterval.UNKNOWN


adapter = RemotiveAdapter()

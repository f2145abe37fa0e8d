"""How well a posting fits the user's preferences: a pure function from (Posting, prefs, now)
to a score in 0..1 plus the reasons behind it.

Pure on purpose: no database, no clock, no settings. Ingest, the re-score command and tests
all call the same code with a `ScoringPrefs` snapshot and an explicit `now`, so a score is
reproducible from its inputs.

Scoring in two stages:

1. Hard gates. The first that matches gives score 0 and is the only reason:
   `denied_company`, `excluded_keyword`, `title_blocklist`, `salary_floor`, `workplace`.
   Gates only fire on information the posting actually states; anything unknown (salary
   without an interval, workplace "unknown", ...) is never gated, just scored lower.
   Workplace gate: remote_only admits remote; remote_or_hybrid admits remote and hybrid;
   onsite_only admits onsite *and hybrid* (a hybrid job has an office to go to, which is
   what someone asking for on-site work wants; only fully remote jobs are rejected).

2. Weighted factors (`WEIGHTS`, summing to 1.0). Each yields a credit in 0..1; its points
   are credit * weight and the score is the clamped sum. When there is nothing to judge by
   (no title keywords set, salary unknown, ...) the factor gives `NEUTRAL` credit, so
   missing data neither buries nor promotes a job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jobs.fingerprints import company_key, fold
from jobs.postings import Posting
from jobs.sanitize import html_to_text
from jobs.vocabulary import RemotePreference, SalaryInterval, Workplace

if TYPE_CHECKING:  # Only for the annotation: scoring must not need the ORM at run time.
    from jobs.models import Preferences

__all__ = [
    "GATE_RULES",
    "NEUTRAL",
    "WEIGHTS",
    "Reason",
    "ScoreResult",
    "ScoringPrefs",
    "annualize",
    "score_posting",
]

# Factor weights; they sum to 1.0 so a perfect job scores exactly 1.
# Title carries the most: it is the most reliable signal of what the job is.
WEIGHTS: dict[str, float] = {
    "title": 0.30,
    "keywords": 0.25,
    "location": 0.20,
    "salary": 0.15,
    "recency": 0.10,
}

# Credit for a factor that has nothing to judge by (no preference set, or the posting is
# silent). Half: unknown is worse than a confirmed fit and better than a confirmed miss.
NEUTRAL = 0.5

GATE_RULES: frozenset[str] = frozenset(
    {"denied_company", "excluded_keyword", "title_blocklist", "salary_floor", "workplace"}
)

_ADMITTED_WORKPLACES: dict[str, frozenset[str]] = {
    RemotePreference.REMOTE_ONLY: frozenset({Workplace.REMOTE}),
    RemotePreference.REMOTE_OR_HYBRID: frozenset({Workplace.REMOTE, Workplace.HYBRID}),
    RemotePreference.ONSITE_ONLY: frozenset({Workplace.ONSITE, Workplace.HYBRID}),
}
# Paid periods per year, assuming a 40-hour week and 52 weeks (260 working days).
_ANNUAL_FACTORS: dict[str, Decimal] = {
    SalaryInterval.HOUR: Decimal(2080),
    SalaryInterval.DAY: Decimal(260),
    SalaryInterval.WEEK: Decimal(52),
    SalaryInterval.MONTH: Decimal(12),
    SalaryInterval.YEAR: Decimal(1),
}

# Title match: any keyword gets most of the credit (title keywords are usually alternatives:
# "backend", "platform"), matching more of them earns the rest.
_TITLE_ANY_CREDIT = 0.7
# Boost keyword weights found beyond this total add nothing more: a posting that mentions
# every buzzword should not outrank one with a great title.
_KEYWORD_SATURATION = 3.0
# Salary credit at the floor when both floor and target are set; rises linearly to 1.
_SALARY_CREDIT_AT_FLOOR = 0.25
# Recency: full credit up to this age, then linear down to 0.
_FRESH_DAYS = 3.0
_STALE_DAYS = 30.0


# --------------------------------------------------------------------------- preferences


@dataclass(frozen=True)
class ScoringPrefs:
    """A plain snapshot of `jobs.models.Preferences`, normalized for matching.

    Keyword-like values are lowercase, stripped and non-empty (see `from_model`); matching
    also folds case and accents on both sides, so a hand-built instance works too.
    """

    title_keywords: tuple[str, ...] = ()
    title_blocklist: tuple[str, ...] = ()
    boost_keywords: dict[str, float] = field(default_factory=dict)
    excluded_keywords: tuple[str, ...] = ()
    denied_companies: tuple[str, ...] = ()
    preferred_locations: tuple[str, ...] = ()
    remote_preference: str = RemotePreference.ANY
    salary_floor: Decimal | None = None
    salary_target: Decimal | None = None
    salary_currency: str = "USD"
    notify_threshold: float = 0.7

    @classmethod
    def from_model(cls, prefs: Preferences) -> ScoringPrefs:
        """Snapshot a `Preferences` row. Tolerant of hand-edited JSON (admin, shell): lists
        may hold numbers or junk, a list field may be a comma-separated string, and
        `boost_keywords` may be a keyword → weight dict or a plain list (weight 1)."""
        remote = str(prefs.remote_preference or RemotePreference.ANY).strip().lower()
        return cls(
            title_keywords=_terms(prefs.title_keywords),
            title_blocklist=_terms(prefs.title_blocklist),
            boost_keywords=_boosts(prefs.boost_keywords),
            excluded_keywords=_terms(prefs.excluded_keywords),
            denied_companies=_terms(prefs.denied_companies),
            preferred_locations=_terms(prefs.preferred_locations),
            remote_preference=remote if remote in RemotePreference.values else RemotePreference.ANY,
            salary_floor=_positive_decimal(prefs.salary_floor),
            salary_target=_positive_decimal(prefs.salary_target),
            salary_currency=str(prefs.salary_currency or "").strip().upper(),
            notify_threshold=_threshold(prefs.notify_threshold),
        )


def _term(value: object) -> str | None:
    # bool is an int subclass, but `true` in a keyword list is junk, not the word "true".
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float | Decimal):
        text = str(value)
    else:
        return None
    text = " ".join(text.split()).lower()
    return text or None


def _raw_items(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str):
        return list(value.split(","))
    if isinstance(value, Mapping):
        return list(value.keys())
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _terms(value: object) -> tuple[str, ...]:
    seen: dict[str, None] = {}  # ordered set: keeps the user's order, drops duplicates
    for item in _raw_items(value):
        term = _term(item)
        if term is not None:
            seen.setdefault(term, None)
    return tuple(seen)


def _weight(value: object) -> float:
    # A keyword listed with an unreadable weight was still meant to count: weight 1.
    if isinstance(value, bool) or value is None:
        return 1.0
    try:
        weight = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    return weight if math.isfinite(weight) else 1.0


def _boosts(value: object) -> dict[str, float]:
    boosts: dict[str, float] = {}
    pairs: Iterable[tuple[object, object]]
    if isinstance(value, Mapping):
        pairs = value.items()
    else:
        pairs = ((item, 1.0) for item in _raw_items(value))
    for raw_key, raw_weight in pairs:
        key = _term(raw_key)
        weight = _weight(raw_weight)
        if key is None or weight == 0:
            continue
        # "Python" and "python" collapse to one key; keep the stronger weight.
        if key not in boosts or abs(weight) > abs(boosts[key]):
            boosts[key] = weight
    return boosts


def _positive_decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    # 0 in a salary field means "not set", never "anything goes".
    return number if number.is_finite() and number > 0 else None


def _threshold(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.7
    return min(1.0, max(0.0, number)) if math.isfinite(number) else 0.7


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Reason:
    """One line of "why this score": the rule, the points it gave, and a readable detail."""

    rule: str
    points: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class ScoreResult:
    score: float
    reasons: tuple[Reason, ...]

    @property
    def gated(self) -> bool:
        """True when a hard gate zeroed the score (its reason is then the only one)."""
        return bool(self.reasons) and self.reasons[0].rule in GATE_RULES

    def reasons_json(self) -> list[dict[str, Any]]:
        """JSON-safe reasons, the shape stored in `Job.score_reasons`."""
        return [reason.as_dict() for reason in self.reasons]


# --------------------------------------------------------------------------- text helpers


def _workplace(posting: Posting) -> str:
    return (posting.workplace or Workplace.UNKNOWN).strip().lower()


@lru_cache(maxsize=1024)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    folded = fold(term)
    if not folded:
        return None
    body = r"\s+".join(re.escape(word) for word in folded.split())
    # Lookarounds instead of \b so terms that start or end with a symbol ("c++", ".net")
    # still need a non-word neighbour: "go" must not match "google".
    return re.compile(rf"(?<!\w){body}(?!\w)")


def _find_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The terms that occur in `text` as whole words, case- and accent-insensitively."""
    folded = fold(text)
    found = []
    for term in terms:
        pattern = _term_pattern(term)
        if pattern is not None and pattern.search(folded):
            found.append(term)
    return found


# --------------------------------------------------------------------------- salary


def annualize(amount: Decimal | None, interval: str) -> Decimal | None:
    """`amount` per `interval` as a yearly figure; None when either is unknown. An unknown
    interval is never guessed: "5000" could be a month or a year."""
    if amount is None:
        return None
    factor = _ANNUAL_FACTORS.get((interval or "").strip().lower())
    return amount * factor if factor is not None else None


def _comparable_salary(posting: Posting, prefs: ScoringPrefs) -> tuple[Decimal | None, str]:
    """The posting's annual salary in the user's currency (top of the range: the figure a
    negotiation can reach), or None with why it can't be compared."""
    amount = posting.salary_max if posting.salary_max is not None else posting.salary_min
    if amount is None or amount <= 0:
        return None, "salary not stated"
    currency = (posting.salary_currency or "").strip().upper()
    wanted = (prefs.salary_currency or "").strip().upper()
    # No conversion rates here: a salary in another currency is treated as unknown.
    # A blank currency on either side is assumed to be the same one.
    if currency and wanted and currency != wanted:
        return None, f"salary in {currency}, not {wanted}"
    yearly = annualize(amount, posting.salary_interval)
    if yearly is None:
        return None, "salary interval not stated"
    return yearly, ""


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.0f} {currency}".strip()


# --------------------------------------------------------------------------- gates


def _gate(posting: Posting, prefs: ScoringPrefs, description: str) -> Reason | None:
    company = posting.company.strip()
    if prefs.denied_companies and company:
        key = company_key(company)
        for denied in prefs.denied_companies:
            # Exact (case-insensitive) or normalized: "acme" denies "ACME, Inc." but never
            # "Acmeville" — a substring match would hide jobs the user never meant to hide.
            if denied.strip().casefold() == company.casefold() or (
                key and company_key(denied) == key
            ):
                return Reason("denied_company", 0.0, f"{company} is on your denied list")

    searchable = f"{posting.title}\n{description}"
    excluded = _find_terms(searchable, prefs.excluded_keywords)
    if excluded:
        return Reason("excluded_keyword", 0.0, f"mentions excluded keyword “{excluded[0]}”")

    blocked = _find_terms(posting.title, prefs.title_blocklist)
    if blocked:
        return Reason("title_blocklist", 0.0, f"title contains blocked “{blocked[0]}”")

    if prefs.salary_floor is not None:
        yearly, _ = _comparable_salary(posting, prefs)
        if yearly is not None and yearly < prefs.salary_floor:
            currency = prefs.salary_currency or posting.salary_currency
            return Reason(
                "salary_floor",
                0.0,
                f"pays up to {_money(yearly, currency)}/year, "
                f"below your floor of {_money(prefs.salary_floor, currency)}",
            )

    admitted = _ADMITTED_WORKPLACES.get(prefs.remote_preference)
    workplace = _workplace(posting)
    if admitted is not None and workplace != Workplace.UNKNOWN and workplace not in admitted:
        wanted = prefs.remote_preference.replace("_", " ")
        return Reason("workplace", 0.0, f"{workplace} job, you want {wanted}")
    return None


# --------------------------------------------------------------------------- factors


def _title_factor(posting: Posting, prefs: ScoringPrefs) -> tuple[float, str]:
    if not prefs.title_keywords:
        return NEUTRAL, "no title keywords set"
    found = _find_terms(posting.title, prefs.title_keywords)
    if not found:
        return 0.0, "title matches none of your title keywords"
    fraction = len(found) / len(prefs.title_keywords)
    credit = _TITLE_ANY_CREDIT + (1 - _TITLE_ANY_CREDIT) * fraction
    return credit, "title matches " + ", ".join(found)


def _keyword_factor(posting: Posting, prefs: ScoringPrefs, description: str) -> tuple[float, str]:
    if not prefs.boost_keywords:
        return NEUTRAL, "no boost keywords set"
    found = _find_terms(f"{posting.title}\n{description}", prefs.boost_keywords)
    total = sum(prefs.boost_keywords[term] for term in found)
    positive = sum(w for w in prefs.boost_keywords.values() if w > 0)
    # Full credit at the saturation point, or earlier when the user's whole list weighs
    # less (two keywords of weight 1 both found is a perfect match).
    ceiling = min(positive, _KEYWORD_SATURATION) if positive > 0 else _KEYWORD_SATURATION
    credit = _clamp(total / ceiling)
    if not found:
        return credit, "mentions none of your boost keywords"
    listed = ", ".join(f"{term} ({prefs.boost_keywords[term]:+g})" for term in found)
    return credit, f"mentions {listed}"


def _location_factor(posting: Posting, prefs: ScoringPrefs) -> tuple[float, str]:
    """Half where the job is (preferred locations), half how (remote preference)."""
    workplace = _workplace(posting)
    details: list[str] = []

    if workplace == Workplace.REMOTE:
        # A remote job can be done from any of the user's locations.
        place = 1.0
        details.append("remote, so location fits")
    elif prefs.preferred_locations:
        # Substring, not whole word: "york" should find "New York, NY", and a city finds
        # its longer spellings ("Berlin" in "Berlin-Mitte").
        where = fold(posting.location)
        matched = [loc for loc in prefs.preferred_locations if fold(loc) and fold(loc) in where]
        place = 1.0 if matched else 0.0
        details.append(f"in {matched[0]}" if matched else "not in a preferred location")
    else:
        place = NEUTRAL
        details.append("no preferred locations set")

    admitted = _ADMITTED_WORKPLACES.get(prefs.remote_preference)
    if admitted is None:
        how = NEUTRAL
        details.append("any workplace is fine")
    elif workplace in admitted:
        how = 1.0
        details.append(f"{workplace} as you want")
    else:
        # Only "unknown" reaches here (other mismatches were gated): maybe, so half.
        how = NEUTRAL
        details.append("workplace not stated")
    return (place + how) / 2, "; ".join(details)


def _salary_factor(posting: Posting, prefs: ScoringPrefs) -> tuple[float, str]:
    # With only a floor set, the floor is the bar: a stated salary that clears it is a full
    # match, which ranks transparent postings above silent ones.
    target = prefs.salary_target or prefs.salary_floor
    if target is None:
        return NEUTRAL, "no salary target set"
    yearly, why = _comparable_salary(posting, prefs)
    if yearly is None:
        return NEUTRAL, why
    currency = prefs.salary_currency or posting.salary_currency
    shown = _money(yearly, currency)
    if yearly >= target:
        return 1.0, f"{shown}/year meets your target"
    floor = prefs.salary_floor
    if floor is not None and floor < target:
        span = float((yearly - floor) / (target - floor))
        credit = _SALARY_CREDIT_AT_FLOOR + (1 - _SALARY_CREDIT_AT_FLOOR) * _clamp(span)
    else:
        credit = _clamp(float(yearly / target))
    return credit, f"{shown}/year, below your target of {_money(target, currency)}"


def _aware(moment: datetime) -> datetime:
    # Boards and the DB speak UTC; a naive datetime here is UTC that lost its tzinfo.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _recency_factor(posting: Posting, now: datetime) -> tuple[float, str]:
    if posting.posted_at is None:
        return NEUTRAL, "posting date unknown"
    age_days = (_aware(now) - _aware(posting.posted_at)).total_seconds() / 86400
    if age_days <= _FRESH_DAYS:
        # Includes a slightly future date (clock skew between the board and us).
        return 1.0, f"posted {max(0.0, age_days):.0f} day(s) ago"
    credit = _clamp(1 - (age_days - _FRESH_DAYS) / (_STALE_DAYS - _FRESH_DAYS))
    return credit, f"posted {age_days:.0f} days ago"


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


# --------------------------------------------------------------------------- scoring


def score_posting(posting: Posting, prefs: ScoringPrefs, *, now: datetime) -> ScoreResult:
    """Score `posting` against `prefs` as of `now`. Deterministic: same inputs, same result."""
    description = html_to_text(posting.description_html)
    gate = _gate(posting, prefs, description)
    if gate is not None:
        return ScoreResult(score=0.0, reasons=(gate,))

    credits = {
        "title": _title_factor(posting, prefs),
        "keywords": _keyword_factor(posting, prefs, description),
        "location": _location_factor(posting, prefs),
        "salary": _salary_factor(posting, prefs),
        "recency": _recency_factor(posting, now),
    }
    reasons = []
    total = 0.0
    for rule, weight in WEIGHTS.items():
        credit, detail = credits[rule]
        points = weight * _clamp(credit)
        total += points
        reasons.append(Reason(rule, round(points, 4), detail))
    return ScoreResult(score=round(_clamp(total), 4), reasons=tuple(reasons))

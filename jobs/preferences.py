"""The rules a preferences value must follow, in one place.

The page's form, the admin's form and the REST API all end in `clean_preferences`: each
rule is written once here, and the forms and serializers only turn their own input (text
typed in a box, JSON) into Python values first. The text forms the pages use ("python, go"
or one term per line; "python: 2" for a weighted keyword) are also parsed and printed here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from jobs.models import Preferences
from jobs.vocabulary import RemotePreference

MAX_LIST_ITEMS = 200
MAX_TERM_LENGTH = 200
MAX_BOOST = 100.0

TERM_LIST_FIELDS = (
    "title_keywords",
    "title_blocklist",
    "excluded_keywords",
    "denied_companies",
    "preferred_locations",
)
# Every field a user sets, in the order forms show them.
PREFERENCE_FIELDS = (
    "title_keywords",
    "title_blocklist",
    "boost_keywords",
    "excluded_keywords",
    "denied_companies",
    "preferred_locations",
    "remote_preference",
    "salary_floor",
    "salary_target",
    "salary_currency",
    "notify_threshold",
)
_CURRENCY = re.compile(r"[A-Za-z]{3}\Z")
# "python: 2", "python = 2", "python 2" (the last space-separated number is the weight).
_BOOST_LINE = re.compile(r"^(?P<term>.+?)\s*(?:[:=]\s*|\s+)(?P<weight>[-+]?[^\s:=]+)$")


def _term_errors(value: object) -> tuple[list[str], list[str]]:
    """The cleaned terms of a list value, and what is wrong with it."""
    if not isinstance(value, list | tuple):
        return [], ["Expected a list of words or phrases."]
    errors: list[str] = []
    terms: dict[str, str] = {}  # folded → as typed: "Python" and "python" are one term
    for item in value:
        if not isinstance(item, str):
            errors.append("Each entry must be text.")
            continue
        term = " ".join(item.split())
        if not term:
            errors.append("Entries must not be empty.")
        elif len(term) > MAX_TERM_LENGTH:
            errors.append(f"“{term[:40]}…” is longer than {MAX_TERM_LENGTH} characters.")
        else:
            terms.setdefault(term.casefold(), term)
    if len(terms) > MAX_LIST_ITEMS:
        errors.append(f"At most {MAX_LIST_ITEMS} entries.")
    return list(terms.values()), errors


def _boost_errors(value: object) -> tuple[dict[str, float], list[str]]:
    if not isinstance(value, Mapping):
        return {}, ["Expected keywords with a weight each, e.g. python: 2."]
    errors: list[str] = []
    boosts: dict[str, float] = {}
    for raw, weight in value.items():
        term = " ".join(str(raw).split()) if isinstance(raw, str) else ""
        if not term or len(term) > MAX_TERM_LENGTH:
            errors.append(f"Keywords must be non-empty and at most {MAX_TERM_LENGTH} characters.")
            continue
        if isinstance(weight, bool) or not isinstance(weight, int | float | Decimal):
            errors.append(f"The weight of “{term}” must be a number.")
            continue
        number = float(weight)
        if not math.isfinite(number) or abs(number) > MAX_BOOST:
            errors.append(
                f"The weight of “{term}” must be between {-MAX_BOOST:g} and {MAX_BOOST:g}."
            )
            continue
        boosts[term] = number
    if len(boosts) > MAX_LIST_ITEMS:
        errors.append(f"At most {MAX_LIST_ITEMS} keywords.")
    return boosts, errors


def _salary_errors(value: object) -> tuple[Decimal | None, list[str]]:
    if value is None:
        return None, []
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None, ["Expected an amount."]
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        return None, ["Enter an amount of 0 or more."]
    if amount >= Decimal(10) ** 10:
        return None, ["That amount is too large."]
    return amount, []


def clean_preferences(
    values: Mapping[str, Any], *, current: Preferences | None = None
) -> dict[str, Any]:
    """The given preference values cleaned, or a ValidationError naming each bad field.

    Only the fields given are checked and returned; `current` supplies the others where a
    rule spans two fields (the salary floor must not be above the target)."""
    unknown = sorted(set(values) - set(PREFERENCE_FIELDS))
    errors: dict[str, list[str]] = {name: ["Not a preference."] for name in unknown}
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        problems: list[str] = []
        if name in TERM_LIST_FIELDS:
            cleaned[name], problems = _term_errors(value)
        elif name == "boost_keywords":
            cleaned[name], problems = _boost_errors(value)
        elif name in ("salary_floor", "salary_target"):
            cleaned[name], problems = _salary_errors(value)
        elif name == "salary_currency":
            if not isinstance(value, str) or not _CURRENCY.match(value.strip()):
                problems = ["Use a 3-letter ISO 4217 code, e.g. USD."]
            else:
                cleaned[name] = value.strip().upper()
        elif name == "remote_preference":
            if value not in RemotePreference.values:
                choices = ", ".join(RemotePreference.values)
                problems = [f"Choose one of: {choices}."]
            else:
                cleaned[name] = value
        elif name == "notify_threshold":
            number = (
                value if isinstance(value, int | float) and not isinstance(value, bool) else None
            )
            if number is None or not 0.0 <= float(number) <= 1.0:  # NaN fails both comparisons
                problems = ["Enter a number from 0 to 1."]
            else:
                cleaned[name] = float(number)
        if problems:
            errors[name] = problems
            cleaned.pop(name, None)
    if "salary_floor" in cleaned or "salary_target" in cleaned:
        floor = cleaned.get("salary_floor", getattr(current, "salary_floor", None))
        target = cleaned.get("salary_target", getattr(current, "salary_target", None))
        if floor is not None and target is not None and floor > target:
            errors.setdefault("salary_floor", []).append(
                "The salary floor must not be above the salary target."
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- text forms ------------------------------------------------------------------------------


def parse_terms(text: str) -> list[str]:
    """Terms typed as comma-separated or one-per-line text; blanks between them are ignored."""
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def format_terms(value: object) -> str:
    """One term per line, from a stored list (or whatever a hand-edited row holds)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "\n".join(str(key) for key in value)
    if isinstance(value, list | tuple):
        return "\n".join(str(item) for item in value)
    return ""


def parse_boosts(text: str) -> dict[str, float]:
    """`keyword: weight` per line or comma-separated; a keyword without a weight counts 1.
    Raises ValidationError naming the entry whose weight is not a number."""
    boosts: dict[str, float] = {}
    errors: list[str] = []
    for entry in parse_terms(text):
        match = _BOOST_LINE.match(entry)
        term, weight_text = (match["term"], match["weight"]) if match else (entry, "")
        if match and not _is_number(weight_text):
            if ":" in entry or "=" in entry:
                errors.append(f"“{entry}”: the weight “{weight_text}” is not a number.")
                continue
            term, weight_text = entry, ""  # "machine learning": a phrase, not a weight
        weight = float(weight_text) if weight_text else 1.0
        boosts[" ".join(term.split())] = weight
    if errors:
        raise ValidationError(errors)
    return boosts


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def stored_boosts(value: object) -> dict[str, float]:
    """The boost map of a stored row, read tolerantly: rows written before these rules (a
    plain list, a weight stored as text) must still display rather than fail."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = [(item, 1.0) for item in value]
    else:
        return {}
    boosts: dict[str, float] = {}
    for key, weight in pairs:
        if not isinstance(key, str) or not key.strip():
            continue
        try:
            number = float(weight)
        except (TypeError, ValueError):
            number = 1.0
        boosts[key] = number if math.isfinite(number) else 1.0
    return boosts


def format_boosts(value: object) -> str:
    return "\n".join(f"{key}: {weight:g}" for key, weight in stored_boosts(value).items())

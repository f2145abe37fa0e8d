"""The two keys ingest stores beside a job, and the text folding they share with scoring.

- `fingerprint`: the same job listed on two boards (normalized company, title, location).
- `content_hash`: did what the user sees of a posting change since the last scrape.

Pure: no database, no Django; the same inputs give the same keys in every process.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal

from jobs.job_fields import BOARD_FIELDS
from jobs.postings import Posting

__all__ = ["company_key", "content_hash", "fingerprint", "fold"]


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching: "Zürich" and "zurich" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


# Legal-form words dropped from the end of a company name for matching. Only trailing ones:
# "Co" ends "Acme Co" but starts "Co Health".
_COMPANY_SUFFIXES = frozenset(
    {
        "ab", "ag", "as", "bv", "co", "company", "corp", "corporation", "gmbh", "inc",
        "incorporated", "kg", "limited", "llc", "llp", "lp", "ltd", "nv", "oy", "plc", "pte",
        "pty", "sa", "sarl", "sas", "se", "spa", "srl",
    }
)  # fmt: skip
# Ways boards spell "no particular place", folded to one so they fingerprint alike.
_ANYWHERE = frozenset({"anywhere", "worldwide", "global", "remote", "work from home", "wfh"})
# The first segment of a location: "San Francisco, CA" and "San Francisco" agree on it.
_LOCATION_SEPARATORS = re.compile(r"[,;/|()\u2013\u2014]|\s-\s")


def _words(text: str) -> list[str]:
    # Any run of non-alphanumerics is a separator: "Acme, Inc." → ["acme", "inc"].
    return re.sub(r"[^\w]+|_", " ", fold(text)).split()


def _company_tokens(company: str) -> list[str]:
    # Dots go first so abbreviations stay one word: "S.A." → "sa", "Inc." → "inc".
    tokens = _words(company.replace(".", ""))
    # "Acme GmbH & Co. KG" loses all three; a name that is only a suffix word is kept.
    while len(tokens) > 1 and tokens[-1] in _COMPANY_SUFFIXES:
        tokens.pop()
    return tokens


def company_key(company: str) -> str:
    """A company name as matching sees it: "ACME, Inc." and "acme" give "acme"."""
    return " ".join(_company_tokens(company))


def _location_key(location: str) -> str:
    first = _LOCATION_SEPARATORS.split(location, maxsplit=1)[0]
    key = " ".join(_words(first))
    return "remote" if key in _ANYWHERE else key


def fingerprint(company: str, title: str, location: str) -> str:
    """Cross-source duplicate key: sha256 hex of normalized `company|title|location`.

    Case, accents, punctuation and spacing are ignored; legal suffixes ("Inc", "GmbH") are
    dropped from the company; seniority words stay in the title (a Senior and a Junior
    opening are different jobs); only the location's first segment counts ("Berlin, DE"
    equals "Berlin"), with "Anywhere"/"Worldwide" read as "Remote".
    """
    key = "|".join((company_key(company), " ".join(_words(title)), _location_key(location)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        # normalize(): 100, 100.0 and 100.00 are the same salary whichever source or DB
        # round-trip produced them. "f" avoids the exponent normalize() may introduce.
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        # Boards and the DB speak UTC; a naive datetime here is UTC that lost its tzinfo.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    raise TypeError(f"unexpected {type(value).__name__} in posting content")


def content_hash(posting: Posting) -> str:
    """sha256 hex of what a user sees of a posting, stable across runs and processes, so
    ingest can tell a real change from a re-scrape of the same content. Ids and
    bookkeeping are left out."""
    content = {name: getattr(posting, name) for name in BOARD_FIELDS}
    encoded = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_value
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

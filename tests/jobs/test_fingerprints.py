"""jobs.fingerprints: the cross-board duplicate key and the content hash. Pure: no database."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jobs.fingerprints import content_hash, fingerprint
from jobs.postings import Posting

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def posting(**overrides: Any) -> Posting:
    values: dict[str, Any] = {
        "external_id": "42",
        "title": "Backend Engineer",
        "company": "Acme",
        "url": "https://boards.example.com/acme/42",
        "location": "Berlin, Germany",
        "workplace": "hybrid",
        "description_html": "<p>We build things.</p>",
        "posted_at": NOW - timedelta(days=1),
    }
    values.update(overrides)
    return Posting(**values)


# --------------------------------------------------------------------------- fingerprint


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            ("Acme, Inc.", "Senior Backend Engineer", "Berlin, Germany"),
            ("ACME", "Senior Backend Engineer ", "Berlin"),
        ),
        (("Acme GmbH & Co. KG", "Engineer", "Berlin"), ("acme", "engineer", "BERLIN")),
        (("Acme LLC", "Engineer", ""), ("Acme Ltd.", "Engineer", "")),
        (("Nestlé S.A.", "Ingénieur", "Zürich"), ("Nestle", "Ingenieur", "Zurich, CH")),
        (("Acme", "Back-end  Engineer", "NYC"), ("Acme", "Back end engineer", "nyc")),
        (("Acme", "Engineer", "San Francisco, CA"), ("Acme", "Engineer", "San Francisco / Remote")),
        (("Acme", "Engineer", "Remote - US"), ("Acme", "Engineer", "Worldwide")),
        (("Acme", "Engineer", "Anywhere"), ("Acme", "Engineer", "remote")),
    ],
)
def test_fingerprint_matches_same_job(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    assert fingerprint(*a) == fingerprint(*b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # seniority is part of the job
        (("Acme", "Senior Backend Engineer", "Berlin"), ("Acme", "Backend Engineer", "Berlin")),
        (("Acme", "Senior Engineer", "Berlin"), ("Acme", "Junior Engineer", "Berlin")),
        (("Acme", "Engineer", "Berlin"), ("Acme", "Engineer", "Munich")),
        (("Acme", "Engineer", "Berlin"), ("Acme Health", "Engineer", "Berlin")),
        (("Acme", "Engineer", "Berlin"), ("Globex", "Engineer", "Berlin")),
        # the fields stay apart: a shifted separator is not the same key
        (("Acme", "Engineer Berlin", ""), ("Acme Engineer", "Berlin", "")),
    ],
)
def test_fingerprint_tells_jobs_apart(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    assert fingerprint(*a) != fingerprint(*b)


def test_fingerprint_shape_and_suffix_only_company() -> None:
    value = fingerprint("Acme", "Engineer", "Berlin")
    assert len(value) == 64
    assert int(value, 16) >= 0
    # A company whose whole name is a suffix word is kept, not emptied.
    assert fingerprint("Co", "Engineer", "") != fingerprint("", "Engineer", "")


# --------------------------------------------------------------------------- content hash


def test_content_hash_is_stable() -> None:
    job = posting(salary_min=Decimal(100), posted_at=datetime(2025, 1, 2, 3, 4, tzinfo=UTC))

    assert content_hash(job) == content_hash(dataclasses.replace(job))
    assert len(content_hash(job)) == 64
    # Equal amounts and instants hash equal however they are spelled.
    assert content_hash(job) == content_hash(
        dataclasses.replace(
            job,
            salary_min=Decimal("100.00"),
            posted_at=datetime(2025, 1, 2, 4, 4, tzinfo=timezone(timedelta(hours=1))),
        )
    )


def test_content_hash_is_the_same_in_another_process() -> None:
    code = (
        "from decimal import Decimal\n"
        "from datetime import datetime, timezone\n"
        "from jobs.postings import Posting\n"
        "from jobs.fingerprints import content_hash\n"
        "import sys\n"
        "p = Posting('42', 'Engineer', 'Acme', 'https://x', salary_max=Decimal('9.50'),"
        " posted_at=datetime(2025, 1, 2, tzinfo=timezone.utc))\n"
        "print(content_hash(p))\n"
        # Purity: hashing pulls in neither the ORM nor the realtime stack.
        "assert not {'jobs.models', 'channels', 'realtime', 'django.db'} & set(sys.modules)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    here = Posting(
        "42",
        "Engineer",
        "Acme",
        "https://x",
        salary_max=Decimal("9.5"),
        posted_at=datetime(2025, 1, 2, tzinfo=UTC),
    )

    assert out == content_hash(here)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Staff Engineer"),
        ("company", "Globex"),
        ("location", "Munich"),
        ("workplace", "remote"),
        ("department", "Platform"),
        ("employment_type", "Contract"),
        ("description_html", "<p>We build other things.</p>"),
        ("url", "https://boards.example.com/acme/43"),
        ("apply_url", "https://apply.example.com/42"),
        ("salary_min", Decimal(1)),
        ("salary_max", Decimal(2)),
        ("salary_currency", "EUR"),
        ("salary_interval", "year"),
        ("posted_at", NOW - timedelta(days=2)),
        ("posted_at", None),
    ],
)
def test_content_hash_changes_with_what_the_user_sees(field: str, value: Any) -> None:
    job = posting()

    assert content_hash(dataclasses.replace(job, **{field: value})) != content_hash(job)


def test_content_hash_ignores_the_external_id() -> None:
    job = posting()

    assert content_hash(dataclasses.replace(job, external_id="other")) == content_hash(job)

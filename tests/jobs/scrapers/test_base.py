"""The shared parsing helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import PayloadError, SourceError, build_url, parse_each
from jobs.scrapers.fields import (
    employment_type,
    from_epoch_ms,
    infer_workplace,
    parse_datetime,
    required_id,
    stated_workplace,
    to_decimal,
    web_url,
)


def test_errors_are_source_errors():
    from jobs.scrapers.base import BoardNotFound, FetchFailed, RateLimited

    for error in (BoardNotFound, PayloadError, RateLimited, FetchFailed):
        assert issubclass(error, SourceError)


def test_build_url_keeps_a_mirror_path_prefix():
    assert build_url("https://a.io", "https://mirror.example.org/lever/", "/v0/x?mode=json") == (
        "https://mirror.example.org/lever/v0/x?mode=json"
    )
    assert build_url("https://a.io", "  ", "/p") == "https://a.io/p"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-01T12:00:00Z", datetime(2025, 10, 1, 12, tzinfo=UTC)),
        ("2025-10-01T08:00:00-04:00", datetime(2025, 10, 1, 12, tzinfo=UTC)),
        ("2025-10-01T12:00:00", datetime(2025, 10, 1, 12, tzinfo=UTC)),
        ("2025-10-01", datetime(2025, 10, 1, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1759312800, None),
    ],
)
def test_parse_datetime(value: object, expected: datetime | None):
    parsed = parse_datetime(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_parse_datetime_converts_offsets_to_utc():
    parsed = parse_datetime("2025-10-01T14:00:00+02:00")
    assert parsed is not None
    assert parsed.tzinfo is UTC
    assert parsed == datetime(2025, 10, 1, 14, tzinfo=timezone(timedelta(hours=2)))


def test_from_epoch_ms():
    assert from_epoch_ms(1759312800000) == datetime(2025, 10, 1, 10, tzinfo=UTC)
    assert from_epoch_ms("1759312800000") is None
    assert from_epoch_ms(True) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100000, Decimal(100000)),
        (0.1, Decimal("0.1")),
        ("85.5", Decimal("85.5")),
        (0, None),
        (-5, None),
        ("abc", None),
        (None, None),
        (True, None),
        ("NaN", None),
    ],
)
def test_to_decimal(value: object, expected: Decimal | None):
    assert to_decimal(value) == expected


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Remote - US"], "remote"),
        (["New York", "REMOTE"], "remote"),
        (["Hybrid - London"], "hybrid"),
        (["Zürich, Switzerland"], "onsite"),
        (["", ""], "unknown"),
        ([], "unknown"),
        (["Remoteville"], "onsite"),  # a word, not a substring
    ],
)
def test_infer_workplace(names: list[str], expected: str):
    assert infer_workplace(names) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("remote", "remote"),
        ("Hybrid", "hybrid"),
        ("onsite", "onsite"),
        ("On-site", "onsite"),
        ("ON_SITE", "onsite"),
        ("unknown", None),
        ("unspecified", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_stated_workplace(value: object, expected: str | None):
    assert stated_workplace(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("FullTime", "Full-time"),
        ("full_time", "Full-time"),
        ("Full-time", "Full-time"),
        ("PartTime", "Part-time"),
        ("Intern", "Internship"),
        ("Temporary", "Temporary"),
        ("Per diem", "Per diem"),
        (None, ""),
    ],
)
def test_employment_type(value: object, expected: str):
    assert employment_type(value) == expected


def test_required_id_is_always_a_string():
    assert required_id({"id": 4012345007}) == "4012345007"
    assert required_id({"id": " abc "}) == "abc"
    for bad in ({"id": True}, {"id": None}, {"id": ""}, {}, {"id": 1.5}):
        with pytest.raises(PayloadError, match="'id'"):
            required_id(bad)


def test_web_url_allows_only_http():
    assert web_url(" https://x.org/a ") == "https://x.org/a"
    assert web_url("javascript:alert(1)") == ""
    assert web_url(None) == ""


def _posting(raw: dict[str, str]) -> Posting | None:
    if raw.get("skip"):
        return None
    if "id" not in raw:
        raise PayloadError("'id' is missing")
    return Posting(external_id=raw["id"], title="T", company="C", url="https://x.org")


def test_parse_each_skips_bad_jobs_and_logs(caplog: pytest.LogCaptureFixture):
    postings = parse_each([{"id": "1"}, {}, {"id": "2"}, {"id": "1"}], _posting, where="Test")
    assert [p.external_id for p in postings] == ["1", "2"]
    assert "Test: skipped 1 malformed job(s)" in caplog.text


def test_parse_each_fails_when_nothing_parses():
    with pytest.raises(PayloadError, match="Test: no job could be parsed; first problem: job #0"):
        parse_each([{}, {}], _posting, where="Test")
    assert parse_each([{"skip": "1"}, {}], _posting, where="Test") == []


@pytest.mark.parametrize(
    ("places", "options", "expected"),
    [
        # The vendor's own field wins over its flags and the place names.
        (["Berlin"], {"stated": "Hybrid", "remote": True}, "hybrid"),
        # A field that names nothing we know falls through to the flags.
        (["Berlin"], {"stated": "unspecified", "remote": True}, "remote"),
        (["Berlin"], {"hybrid": True}, "hybrid"),
        (["Remote"], {"onsite": True}, "onsite"),
        # Flags count only when exactly true (a "true" string is not).
        (["Berlin"], {"remote": "true"}, "onsite"),
        (["Berlin", "Remote - EU"], {}, "remote"),
        (["Berlin"], {"concrete_is_onsite": False}, "unknown"),
        ([], {}, "unknown"),
    ],
)
def test_workplace_prefers_what_the_vendor_states(places, options, expected):
    assert fields.workplace(places, **options) == expected

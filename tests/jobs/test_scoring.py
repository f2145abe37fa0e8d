"""jobs.scoring: gates, factors and the score's bounds. Pure: no database."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.postings import Posting
from jobs.scoring import (
    GATE_RULES,
    NEUTRAL,
    WEIGHTS,
    Reason,
    ScoreResult,
    ScoringPrefs,
    annualize,
    score_posting,
)

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


def prefs(**overrides: Any) -> ScoringPrefs:
    return ScoringPrefs(**overrides)


def points(result: ScoreResult, rule: str) -> float:
    (reason,) = [r for r in result.reasons if r.rule == rule]
    return reason.points


# --------------------------------------------------------------------------- weights


def test_weights_sum_to_one_and_name_every_factor() -> None:
    assert math.isclose(sum(WEIGHTS.values()), 1.0)
    assert set(WEIGHTS) == {"title", "keywords", "location", "salary", "recency"}
    assert all(w > 0 for w in WEIGHTS.values())


# --------------------------------------------------------------------------- gates


@pytest.mark.parametrize(
    ("pref_kwargs", "post_kwargs", "rule"),
    [
        # denied company: exact, case-insensitive, normalized (suffix / punctuation)
        ({"denied_companies": ("acme",)}, {"company": "Acme"}, "denied_company"),
        ({"denied_companies": ("ACME CORP",)}, {"company": "acme corp"}, "denied_company"),
        ({"denied_companies": ("acme",)}, {"company": "ACME, Inc."}, "denied_company"),
        ({"denied_companies": ("Acme GmbH",)}, {"company": "acme"}, "denied_company"),
        ({"denied_companies": ("nestle",)}, {"company": "Nestlé S.A."}, "denied_company"),
        # excluded keyword: title or description, whole word, case-insensitive
        ({"excluded_keywords": ("php",)}, {"title": "PHP Developer"}, "excluded_keyword"),
        (
            {"excluded_keywords": ("crypto",)},
            {"description_html": "<p>A <b>Crypto</b> exchange</p>"},
            "excluded_keyword",
        ),
        (
            {"excluded_keywords": ("security clearance",)},
            {"description_html": "<li>Active security\n clearance</li>"},
            "excluded_keyword",
        ),
        (
            {"excluded_keywords": ("c++",)},
            {"description_html": "<p>Modern C++ and Rust</p>"},
            "excluded_keyword",
        ),
        # blocked title keyword
        ({"title_blocklist": ("senior",)}, {"title": "Senior Backend Engineer"}, "title_blocklist"),
        ({"title_blocklist": ("intern",)}, {"title": "Intern - Data"}, "title_blocklist"),
        # salary below the floor, after annualizing
        (
            {"salary_floor": Decimal(90000)},
            {"salary_max": Decimal(40), "salary_interval": "hour", "salary_currency": "USD"},
            "salary_floor",
        ),
        (
            {"salary_floor": Decimal(70000)},
            {"salary_min": Decimal(5000), "salary_interval": "month"},  # currency unknown
            "salary_floor",
        ),
        (
            {"salary_floor": Decimal(80000)},
            {"salary_min": Decimal(60000), "salary_max": Decimal(75000), "salary_interval": "year"},
            "salary_floor",
        ),
        (
            {"salary_floor": Decimal(100000), "salary_currency": "EUR"},
            {"salary_max": Decimal(90000), "salary_currency": "eur", "salary_interval": "year"},
            "salary_floor",
        ),
        # workplace not wanted
        ({"remote_preference": "remote_only"}, {"workplace": "hybrid"}, "workplace"),
        ({"remote_preference": "remote_only"}, {"workplace": "onsite"}, "workplace"),
        ({"remote_preference": "remote_or_hybrid"}, {"workplace": "onsite"}, "workplace"),
        ({"remote_preference": "onsite_only"}, {"workplace": "remote"}, "workplace"),
    ],
)
def test_gate_zeroes_score_with_its_reason(
    pref_kwargs: dict[str, Any], post_kwargs: dict[str, Any], rule: str
) -> None:
    result = score_posting(posting(**post_kwargs), prefs(**pref_kwargs), now=NOW)

    assert result.score == 0.0
    assert result.gated
    assert len(result.reasons) == 1
    assert result.reasons[0].rule == rule
    assert result.reasons[0].points == 0.0
    assert result.reasons[0].detail
    assert rule in GATE_RULES


@pytest.mark.parametrize(
    ("pref_kwargs", "post_kwargs"),
    [
        # a denied name is not a substring ban
        ({"denied_companies": ("acme",)}, {"company": "Acmeville"}),
        ({"denied_companies": ("acme",)}, {"company": "Acme Health"}),
        # whole words only
        ({"excluded_keywords": ("java",)}, {"title": "JavaScript Engineer"}),
        ({"excluded_keywords": ("go",)}, {"description_html": "<p>Google Cloud</p>"}),
        # text that is not visible is not searched
        ({"excluded_keywords": ("tracking",)}, {"description_html": "<script>tracking()</script>"}),
        # a tag boundary is a word boundary, but tags themselves are not text
        ({"excluded_keywords": ("div",)}, {"description_html": "<div>Python</div>"}),
        # the blocklist looks at the title only
        ({"title_blocklist": ("senior",)}, {"description_html": "<p>Work with senior staff</p>"}),
        # salary: at the floor passes; hourly annualized above; max preferred over min
        (
            {"salary_floor": Decimal(80000)},
            {"salary_max": Decimal(80000), "salary_interval": "year"},
        ),
        (
            {"salary_floor": Decimal(90000)},
            {"salary_max": Decimal(50), "salary_interval": "hour"},  # 104,000/year
        ),
        (
            {"salary_floor": Decimal(80000)},
            {
                "salary_min": Decimal(50000),
                "salary_max": Decimal(100000),
                "salary_interval": "year",
            },
        ),
        # salary: unknown interval, other currency or no salary is never gated
        ({"salary_floor": Decimal(80000)}, {"salary_max": Decimal(5000), "salary_interval": ""}),
        (
            {"salary_floor": Decimal(80000), "salary_currency": "USD"},
            {"salary_max": Decimal(50000), "salary_currency": "GBP", "salary_interval": "year"},
        ),
        ({"salary_floor": Decimal(80000)}, {}),
        # workplace: admitted kinds, and unknown is never gated
        ({"remote_preference": "remote_only"}, {"workplace": "remote"}),
        ({"remote_preference": "remote_or_hybrid"}, {"workplace": "hybrid"}),
        ({"remote_preference": "onsite_only"}, {"workplace": "hybrid"}),
        ({"remote_preference": "onsite_only"}, {"workplace": "onsite"}),
        ({"remote_preference": "any"}, {"workplace": "onsite"}),
        ({"remote_preference": "remote_only"}, {"workplace": "unknown"}),
        ({"remote_preference": "onsite_only"}, {"workplace": "unknown"}),
    ],
)
def test_not_gated(pref_kwargs: dict[str, Any], post_kwargs: dict[str, Any]) -> None:
    result = score_posting(posting(**post_kwargs), prefs(**pref_kwargs), now=NOW)

    assert not result.gated
    assert [r.rule for r in result.reasons] == list(WEIGHTS)
    assert result.score > 0


def test_first_matching_gate_wins() -> None:
    p = prefs(
        denied_companies=("acme",),
        excluded_keywords=("php",),
        title_blocklist=("senior",),
        remote_preference="remote_only",
    )
    job = posting(title="Senior PHP Engineer", workplace="onsite")

    assert score_posting(job, p, now=NOW).reasons[0].rule == "denied_company"
    p2 = dataclasses.replace(p, denied_companies=())
    assert score_posting(job, p2, now=NOW).reasons[0].rule == "excluded_keyword"
    p3 = dataclasses.replace(p2, excluded_keywords=())
    assert score_posting(job, p3, now=NOW).reasons[0].rule == "title_blocklist"
    p4 = dataclasses.replace(p3, title_blocklist=())
    assert score_posting(job, p4, now=NOW).reasons[0].rule == "workplace"


def test_unknown_workplace_scores_lower_than_a_matching_one() -> None:
    p = prefs(remote_preference="remote_only")
    remote = score_posting(posting(workplace="remote"), p, now=NOW)
    unknown = score_posting(posting(workplace="unknown"), p, now=NOW)

    assert not unknown.gated
    assert 0 < unknown.score < remote.score
    assert points(unknown, "location") < points(remote, "location")


# --------------------------------------------------------------------------- factors


@pytest.mark.parametrize(
    ("keywords", "title", "credit"),
    [
        ((), "Anything At All", NEUTRAL),
        (("backend",), "Senior Backend Engineer", 1.0),
        (("backend", "python"), "Backend Engineer", 0.85),
        (("backend", "python", "platform"), "Python Backend Engineer", 0.9),
        (("backend", "python"), "Frontend Engineer", 0.0),
        (("backend",), "Back-end Engineer", 0.0),  # whole words: no fuzzy spelling
        (("engineer",), "Engineering Manager", 0.0),
        (("data engineer",), "Senior Data  Engineer", 1.0),  # phrase, any whitespace
        (("zurich",), "Engineer, Zürich office", 1.0),  # accent-insensitive
        (("BACKEND",), "backend engineer", 1.0),  # case-insensitive both ways
    ],
)
def test_title_factor(keywords: tuple[str, ...], title: str, credit: float) -> None:
    result = score_posting(posting(title=title), prefs(title_keywords=keywords), now=NOW)

    assert points(result, "title") == pytest.approx(WEIGHTS["title"] * credit, abs=1e-4)


@pytest.mark.parametrize(
    ("boosts", "title", "html", "credit"),
    [
        ({}, "Engineer", "<p>Python</p>", NEUTRAL),
        ({"python": 1.0}, "Engineer", "<p>Nothing relevant</p>", 0.0),
        # the whole (small) list found: full credit
        ({"python": 1.0, "django": 1.0}, "Python Engineer", "<p>Django</p>", 1.0),
        ({"python": 2.0, "django": 1.0}, "Engineer", "<p>Django</p>", 1 / 3),
        # saturation: found weight beyond 3 adds nothing, a big list needs only 3 to be full
        (
            {"python": 1, "django": 1, "postgres": 1, "redis": 1, "aws": 1},
            "Engineer",
            "<ul><li>Python</li><li>Django</li><li>Postgres</li></ul>",
            1.0,
        ),
        (
            {"python": 1, "django": 1, "postgres": 1, "redis": 1, "aws": 1},
            "Engineer",
            "<ul><li>Python</li><li>Django</li></ul>",
            2 / 3,
        ),
        ({"python": 5.0}, "Engineer", "<p>python python python</p>", 1.0),
        # negative weights subtract and never take the factor below 0
        ({"python": 1.0, "php": -1.0}, "Engineer", "<p>Python and PHP</p>", 0.0),
        ({"python": 2.0, "php": -1.0}, "Engineer", "<p>Python and PHP</p>", 0.5),
        ({"php": -2.0}, "Engineer", "<p>PHP</p>", 0.0),
        # HTML is stripped: entities decode, inline tags don't split words, blocks do
        ({"r&d": 1.0}, "Engineer", "<p>R&amp;D team</p>", 1.0),
        ({"kubernetes": 1.0}, "Engineer", "<b>Kuber</b>netes", 1.0),
        ({"pythonic": 1.0}, "Engineer", "<p>Python</p><p>ic</p>", 0.0),
    ],
)
def test_keyword_factor(boosts: dict[str, float], title: str, html: str, credit: float) -> None:
    result = score_posting(
        posting(title=title, description_html=html), prefs(boost_keywords=boosts), now=NOW
    )

    assert points(result, "keywords") == pytest.approx(WEIGHTS["keywords"] * credit, abs=1e-4)


@pytest.mark.parametrize(
    ("remote_pref", "locations", "workplace", "location", "credit"),
    [
        # nothing to judge by
        ("any", (), "hybrid", "Berlin", NEUTRAL),
        # location half: matched / not matched / remote counts as anywhere
        ("any", ("berlin",), "hybrid", "Berlin, Germany", 0.75),
        ("any", ("berlin",), "onsite", "Munich, Germany", 0.25),
        ("any", ("berlin",), "remote", "Remote - US", 0.75),
        ("any", ("new york",), "onsite", "New York, NY", 0.75),
        ("any", ("munchen",), "onsite", "München", 0.75),  # accent-insensitive
        # workplace half: satisfied vs unknown
        ("remote_only", (), "remote", "", 1.0),
        ("remote_only", (), "unknown", "", NEUTRAL),
        ("remote_or_hybrid", ("berlin",), "hybrid", "Berlin", 1.0),
        ("remote_or_hybrid", ("berlin",), "hybrid", "Paris", 0.5),
        ("onsite_only", ("berlin",), "onsite", "Berlin", 1.0),
        ("onsite_only", ("berlin",), "unknown", "Berlin", 0.75),
        ("onsite_only", ("berlin",), "unknown", "Paris", 0.25),
    ],
)
def test_location_factor(
    remote_pref: str, locations: tuple[str, ...], workplace: str, location: str, credit: float
) -> None:
    result = score_posting(
        posting(workplace=workplace, location=location),
        prefs(remote_preference=remote_pref, preferred_locations=locations),
        now=NOW,
    )

    assert points(result, "location") == pytest.approx(WEIGHTS["location"] * credit, abs=1e-4)


@pytest.mark.parametrize(
    ("floor", "target", "salary", "credit"),
    [
        # (salary_min, salary_max, currency, interval)
        (None, None, (None, Decimal(200000), "USD", "year"), NEUTRAL),
        (None, Decimal(100000), (None, None, "", ""), NEUTRAL),
        (None, Decimal(100000), (None, Decimal(150000), "USD", ""), NEUTRAL),
        (None, Decimal(100000), (None, Decimal(150000), "EUR", "year"), NEUTRAL),
        (None, Decimal(100000), (None, Decimal(100000), "USD", "year"), 1.0),
        (None, Decimal(100000), (None, Decimal(130000), "", "year"), 1.0),
        (None, Decimal(100000), (Decimal(50000), None, "USD", "year"), 0.5),
        (None, Decimal(100000), (Decimal(50000), Decimal(80000), "USD", "year"), 0.8),
        (None, Decimal(100000), (None, Decimal(50), "USD", "hour"), 1.0),  # 104,000
        (None, Decimal(100000), (None, Decimal(40), "USD", "hour"), 0.832),  # 83,200
        (None, Decimal(100000), (None, Decimal(300), "USD", "day"), 0.78),  # 78,000
        (None, Decimal(100000), (None, Decimal(1500), "USD", "week"), 0.78),  # 78,000
        (None, Decimal(100000), (None, Decimal(7500), "USD", "month"), 0.9),  # 90,000
        # with a floor, credit runs from 0.25 at the floor to 1 at the target
        (Decimal(80000), Decimal(100000), (None, Decimal(80000), "USD", "year"), 0.25),
        (Decimal(80000), Decimal(100000), (None, Decimal(90000), "USD", "year"), 0.625),
        # only a floor: clearing it is a full match (stated beats unknown)
        (Decimal(80000), None, (None, Decimal(80000), "USD", "year"), 1.0),
        (Decimal(80000), None, (None, None, "", ""), NEUTRAL),
    ],
)
def test_salary_factor(
    floor: Decimal | None,
    target: Decimal | None,
    salary: tuple[Decimal | None, Decimal | None, str, str],
    credit: float,
) -> None:
    lo, hi, currency, interval = salary
    job = posting(salary_min=lo, salary_max=hi, salary_currency=currency, salary_interval=interval)
    result = score_posting(
        job, prefs(salary_floor=floor, salary_target=target, salary_currency="USD"), now=NOW
    )

    assert not result.gated
    assert points(result, "salary") == pytest.approx(WEIGHTS["salary"] * credit, abs=1e-4)


@pytest.mark.parametrize(
    ("posted_at", "credit"),
    [
        (None, NEUTRAL),
        (NOW, 1.0),
        (NOW + timedelta(hours=5), 1.0),  # board clock ahead of ours
        (NOW - timedelta(days=3), 1.0),
        (NOW - timedelta(days=16, hours=12), 0.5),
        (NOW - timedelta(days=30), 0.0),
        (NOW - timedelta(days=400), 0.0),
        # naive datetimes are read as UTC rather than crashing
        ((NOW - timedelta(days=3)).replace(tzinfo=None), 1.0),
    ],
)
def test_recency_factor(posted_at: datetime | None, credit: float) -> None:
    result = score_posting(posting(posted_at=posted_at), prefs(), now=NOW)

    assert points(result, "recency") == pytest.approx(WEIGHTS["recency"] * credit, abs=1e-4)


def test_recency_decays_monotonically() -> None:
    ages = range(0, 40)
    values = [
        points(
            score_posting(posting(posted_at=NOW - timedelta(days=d)), prefs(), now=NOW), "recency"
        )
        for d in ages
    ]
    assert values == sorted(values, reverse=True)


# --------------------------------------------------------------------------- the score


def test_perfect_posting_scores_exactly_one() -> None:
    p = prefs(
        title_keywords=("backend",),
        boost_keywords={"python": 1.0},
        preferred_locations=("berlin",),
        remote_preference="remote_or_hybrid",
        salary_target=Decimal(100000),
        salary_currency="EUR",
    )
    job = posting(
        title="Backend Engineer",
        description_html="<p>Python</p>",
        location="Berlin",
        workplace="hybrid",
        salary_max=Decimal(120000),
        salary_currency="EUR",
        salary_interval="year",
        posted_at=NOW,
    )
    result = score_posting(job, p, now=NOW)

    assert result.score == 1.0
    assert [r.points for r in result.reasons] == [pytest.approx(w) for w in WEIGHTS.values()]


def test_worst_ungated_posting_scores_zero() -> None:
    p = prefs(
        title_keywords=("backend",),
        boost_keywords={"python": 1.0, "php": -5.0},
        preferred_locations=("berlin",),
        salary_target=Decimal(100000),
        salary_floor=Decimal(10),
    )
    job = posting(
        title="Frontend Engineer",
        description_html="<p>PHP</p>",
        location="Paris",
        workplace="onsite",
        salary_max=Decimal(10),
        salary_interval="year",
        posted_at=NOW - timedelta(days=90),
    )
    result = score_posting(job, p, now=NOW)

    # Every factor at 0 except the workplace half under "any" (neutral) and the salary
    # floor credit: the sum stays within bounds and is not negative.
    assert not result.gated
    assert 0.0 <= result.score <= 0.2
    assert all(r.points >= 0 for r in result.reasons)


def test_score_is_the_rounded_sum_of_points() -> None:
    p = prefs(title_keywords=("backend", "python", "data"), boost_keywords={"python": 2})
    result = score_posting(posting(title="Python Backend Engineer"), p, now=NOW)

    assert result.score == pytest.approx(sum(r.points for r in result.reasons), abs=1e-3)
    assert result.score == round(result.score, 4)


def test_reasons_json_is_json_safe() -> None:
    result = score_posting(posting(), prefs(title_keywords=("backend",)), now=NOW)
    data = result.reasons_json()

    assert json.loads(json.dumps(data)) == data
    assert [d["rule"] for d in data] == list(WEIGHTS)
    assert all(set(d) == {"rule", "points", "detail"} for d in data)
    assert Reason("x", 0.5, "why").as_dict() == {"rule": "x", "points": 0.5, "detail": "why"}


def test_gated_reasons_json() -> None:
    result = score_posting(posting(), prefs(denied_companies=("acme",)), now=NOW)

    assert result.reasons_json() == [
        {"rule": "denied_company", "points": 0.0, "detail": "Acme is on your denied list"}
    ]


def test_scoring_is_deterministic() -> None:
    p = prefs(
        title_keywords=("backend", "python"),
        boost_keywords={"django": 2, "postgres": 1},
        preferred_locations=("berlin",),
        salary_target=Decimal(100000),
    )
    job = posting(
        description_html="<p>Django, Postgres</p>",
        salary_max=Decimal(85000),
        salary_interval="year",
        posted_at=NOW - timedelta(days=10),
    )
    first = score_posting(job, p, now=NOW)

    assert all(score_posting(job, p, now=NOW) == first for _ in range(5))
    # Same inputs from fresh objects, too.
    assert score_posting(dataclasses.replace(job), dataclasses.replace(p), now=NOW) == first


_texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
_words = st.lists(st.sampled_from(["python", "backend", "acme", "berlin", "php", "é"]), max_size=3)


@settings(max_examples=150, deadline=None)
@given(
    title=_texts,
    html=_texts,
    location=_texts,
    workplace=st.sampled_from(["remote", "hybrid", "onsite", "unknown"]),
    salary=st.one_of(st.none(), st.decimals(min_value=-10, max_value=10**7, places=2)),
    interval=st.sampled_from(["", "hour", "day", "week", "month", "year"]),
    age=st.one_of(st.none(), st.floats(min_value=-10, max_value=1000)),
    title_keywords=_words,
    boosts=st.dictionaries(st.sampled_from(["python", "django", "php"]), st.floats(-5, 5)),
    remote_pref=st.sampled_from(["any", "remote_only", "remote_or_hybrid", "onsite_only"]),
    target=st.one_of(st.none(), st.decimals(min_value=1, max_value=10**6, places=0)),
)
def test_score_always_between_zero_and_one(
    title: str,
    html: str,
    location: str,
    workplace: str,
    salary: Decimal | None,
    interval: str,
    age: float | None,
    title_keywords: list[str],
    boosts: dict[str, float],
    remote_pref: str,
    target: Decimal | None,
) -> None:
    job = posting(
        title=title,
        description_html=html,
        location=location,
        workplace=workplace,
        salary_max=salary,
        salary_interval=interval,
        posted_at=None if age is None else NOW - timedelta(days=age),
    )
    p = prefs(
        title_keywords=tuple(title_keywords),
        boost_keywords=boosts,
        remote_preference=remote_pref,
        salary_target=target,
    )
    result = score_posting(job, p, now=NOW)

    assert 0.0 <= result.score <= 1.0
    assert all(0.0 <= r.points <= 1.0 for r in result.reasons)
    assert result.reasons
    assert score_posting(job, p, now=NOW) == result


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("amount", "interval", "expected"),
    [
        (Decimal(50), "hour", Decimal(104000)),
        (Decimal(400), "day", Decimal(104000)),
        (Decimal(2000), "week", Decimal(104000)),
        (Decimal(8000), "month", Decimal(96000)),
        (Decimal(90000), "year", Decimal(90000)),
        (Decimal(90000), "YEAR", Decimal(90000)),
        (Decimal(90000), "", None),
        (Decimal(90000), "fortnight", None),
        (None, "year", None),
    ],
)
def test_annualize(amount: Decimal | None, interval: str, expected: Decimal | None) -> None:
    assert annualize(amount, interval) == expected


def test_from_model_normalizes_and_tolerates_junk() -> None:
    row = SimpleNamespace(
        title_keywords=[" Backend ", "PYTHON", "", None, 42, True, ["nested"], "python"],
        title_blocklist="Senior, Lead ,",
        boost_keywords={"Django": 2, "django": 1, " AWS ": "1.5", "k8s": "lots", "": 3, "x": 0},
        excluded_keywords=None,
        denied_companies={"Acme": True},
        preferred_locations=["Berlin", "  new   york "],
        remote_preference="REMOTE_ONLY",
        salary_floor=Decimal("80000.00"),
        salary_target="120000",
        salary_currency="eur ",
        notify_threshold=0.8,
    )
    p = ScoringPrefs.from_model(row)  # type: ignore[arg-type]

    assert p.title_keywords == ("backend", "python", "42")
    assert p.title_blocklist == ("senior", "lead")
    assert p.boost_keywords == {"django": 2.0, "aws": 1.5, "k8s": 1.0}
    assert p.excluded_keywords == ()
    assert p.denied_companies == ("acme",)
    assert p.preferred_locations == ("berlin", "new york")
    assert p.remote_preference == "remote_only"
    assert p.salary_floor == Decimal(80000)
    assert p.salary_target == Decimal(120000)
    assert p.salary_currency == "EUR"
    assert p.notify_threshold == 0.8


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("boost_keywords", ["Python", "Django"], {"python": 1.0, "django": 1.0}),
        ("boost_keywords", None, {}),
        ("boost_keywords", {"php": -1}, {"php": -1.0}),
        ("remote_preference", "sometimes", "any"),
        ("remote_preference", "", "any"),
        ("salary_floor", 0, None),
        ("salary_floor", "not money", None),
        ("salary_target", -5, None),
        ("notify_threshold", 3, 1.0),
        ("notify_threshold", None, 0.7),
    ],
)
def test_from_model_field_fallbacks(field: str, value: Any, expected: Any) -> None:
    values: dict[str, Any] = {
        "title_keywords": [],
        "title_blocklist": [],
        "boost_keywords": {},
        "excluded_keywords": [],
        "denied_companies": [],
        "preferred_locations": [],
        "remote_preference": "any",
        "salary_floor": None,
        "salary_target": None,
        "salary_currency": "USD",
        "notify_threshold": 0.7,
    }
    values[field] = value
    p = ScoringPrefs.from_model(SimpleNamespace(**values))  # type: ignore[arg-type]

    assert getattr(p, field) == expected


def test_from_model_reads_a_real_preferences_row() -> None:
    # Unsaved instance: checks the field names against the model without touching the DB.
    from jobs.models import Preferences

    row = Preferences(
        title_keywords=["Backend"],
        boost_keywords={"Python": 2},
        remote_preference="remote_or_hybrid",
        salary_floor=Decimal("90000.00"),
    )
    p = ScoringPrefs.from_model(row)

    assert p.title_keywords == ("backend",)
    assert p.boost_keywords == {"python": 2.0}
    assert p.remote_preference == "remote_or_hybrid"
    assert p.salary_floor == Decimal(90000)
    assert p.salary_target is None
    assert p.salary_currency == "USD"
    assert p.notify_threshold == 0.7

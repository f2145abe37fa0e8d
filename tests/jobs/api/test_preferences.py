"""/api/v1/preferences/: read, replace (PUT), change (PATCH) → rescore; bad input changes
nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from jobs.models import Job, JobStatus, Preferences
from realtime.models import Event
from tests.factories import make_job

pytestmark = pytest.mark.django_db

URL = "/api/v1/preferences/"

FULL = {
    "title_keywords": ["python", "backend"],
    "title_blocklist": ["intern"],
    "boost_keywords": {"django": 2, "postgres": 1.5, "php": -1},
    "excluded_keywords": ["crypto"],
    "denied_companies": ["Evil Corp"],
    "preferred_locations": ["Berlin", "Remote"],
    "remote_preference": "remote_or_hybrid",
    "salary_floor": "60000.00",
    "salary_target": "90000.00",
    "salary_currency": "eur",
    "notify_threshold": 0.8,
}


def stored() -> dict[str, Any]:
    Preferences.load()
    return dict(Preferences.objects.filter(id=1).values().get())


def test_get_returns_the_single_row_with_defaults(api: APIClient) -> None:
    body = api.get(URL).json()
    assert body["title_keywords"] == []
    assert body["boost_keywords"] == {}
    assert body["remote_preference"] == "any"
    assert body["salary_currency"] == "USD"
    assert body["notify_threshold"] == 0.7
    assert body["salary_floor"] is None
    assert "rescored" not in body
    assert Preferences.objects.count() == 1


def test_put_replaces_everything_and_rescores_open_jobs(api: APIClient) -> None:
    python = make_job(title="Senior Python Engineer", score=0.5, workplace="remote")
    intern = make_job(title="Python Intern", score=0.5)
    closed = make_job(title="Python Engineer", score=0.5, status=JobStatus.CLOSED)

    response = api.put(URL, FULL, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    prefs = Preferences.load()
    assert prefs.title_keywords == ["python", "backend"]
    assert prefs.boost_keywords == {"django": 2.0, "postgres": 1.5, "php": -1.0}
    assert prefs.salary_floor == Decimal("60000.00")
    assert prefs.salary_currency == "EUR"
    assert body["salary_currency"] == "EUR"

    # Only open jobs are rescored, and the answer says how many changed.
    python.refresh_from_db()
    intern.refresh_from_db()
    closed.refresh_from_db()
    assert intern.score == 0.0  # title blocklist
    assert python.score != 0.5
    assert closed.score == 0.5
    assert body["rescored"] == 2
    assert Event.objects.filter(type="jobs_rescored").get().data == {"changed": 2}


def test_put_needs_every_field(api: APIClient) -> None:
    before = stored()
    response = api.put(URL, {"title_keywords": ["python"]}, format="json")
    assert response.status_code == 400
    assert "boost_keywords" in response.json()
    assert "title_keywords" not in response.json()
    assert stored() == before


def test_patch_changes_one_field_and_reports_rescored(api: APIClient) -> None:
    job = make_job(title="Go Developer", score=0.5)
    response = api.patch(URL, {"denied_companies": [job.company]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["rescored"] == 1
    assert response.json()["denied_companies"] == [job.company]
    assert Job.objects.get(pk=job.pk).score == 0.0
    assert Preferences.load().remote_preference == "any"  # untouched


def test_patch_with_no_score_change_rescores_nothing(api: APIClient) -> None:
    api.patch(URL, {"notify_threshold": 0.9}, format="json")
    response = api.patch(URL, {"notify_threshold": 0.5}, format="json")
    assert response.json()["rescored"] == 0
    assert Preferences.load().notify_threshold == 0.5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title_keywords": "python"}, "title_keywords"),
        ({"title_keywords": ["python", 3]}, "title_keywords"),
        ({"title_keywords": [""]}, "title_keywords"),
        ({"title_keywords": [["nested"]]}, "title_keywords"),
        ({"excluded_keywords": {"a": 1}}, "excluded_keywords"),
        ({"boost_keywords": ["python"]}, "boost_keywords"),
        ({"boost_keywords": {"python": "2"}}, "boost_keywords"),
        ({"boost_keywords": {"python": True}}, "boost_keywords"),
        ({"boost_keywords": {"python": None}}, "boost_keywords"),
        ({"boost_keywords": {"python": 1000}}, "boost_keywords"),
        ({"boost_keywords": {" ": 1}}, "boost_keywords"),
        ({"notify_threshold": 1.5}, "notify_threshold"),
        ({"notify_threshold": -0.1}, "notify_threshold"),
        ({"notify_threshold": "nan"}, "notify_threshold"),
        ({"salary_floor": "100", "salary_target": "50"}, "salary_floor"),
        ({"salary_floor": "-5"}, "salary_floor"),
        ({"salary_currency": "EU"}, "salary_currency"),
        ({"salary_currency": "EURO"}, "salary_currency"),
        ({"salary_currency": "E1R"}, "salary_currency"),
        ({"remote_preference": "mars"}, "remote_preference"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "updated_at"),
        ({"rescored": 5}, "rescored"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    job = make_job(title="Python Engineer", score=0.5)
    before = stored()
    response = api.patch(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert stored() == before
    assert Job.objects.get(pk=job.pk).score == 0.5
    assert not Event.objects.filter(type="jobs_rescored").exists()


def test_floor_above_the_stored_target_is_refused(api: APIClient) -> None:
    assert api.patch(URL, {"salary_target": "50000"}, format="json").status_code == 200
    response = api.patch(URL, {"salary_floor": "70000"}, format="json")
    assert response.status_code == 400
    assert Preferences.load().salary_floor is None
    # Clearing the target makes any floor acceptable.
    body = {"salary_floor": "70000", "salary_target": None}
    assert api.patch(URL, body, format="json").status_code == 200

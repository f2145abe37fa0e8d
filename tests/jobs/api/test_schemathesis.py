"""Property-based checks of the API against its own schema (schemathesis, in process over
WSGI): no 5xx, and every answer has a documented status, content type and shape.

Bounded so the whole file stays well under a minute: GET operations plus the two PATCHes a
client uses most (a job's user fields, the preferences).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jobs.models import JobStatus, ScrapeRun, ScrapeStatus
from jobsentinel.wsgi import application
from tests.factories import make_job, make_source

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=20,
    # The same cases every run: CI must not fail by chance. To explore further, run this file
    # with derandomize=False and a larger max_examples (that found the 64-bit id overflow).
    derandomize=True,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=list(HealthCheck),
)


# Loaded at collection: the schema view needs no database. (schemathesis' lazy
# `from_fixture` loader does not work with pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture
def keep_connection() -> Iterator[None]:
    """Like Django's test client: the raw WSGI app would close the database connection after
    each request, and with it the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def rows(db: None, keep_connection: None) -> dict[str, int]:
    """Some rows of every kind, so lists and found objects are checked against the schema
    too, not only 404s."""
    acme = make_source(name="Acme")
    globex = make_source(kind="lever", name="Globex", enabled=False)
    first = make_job(
        acme,
        description_html="<p>Python</p>",
        description_text="Python",
        score_reasons=[{"rule": "title", "points": 0.3, "detail": "title mentions python"}],
        salary_min=Decimal("50000"),
        salary_max=Decimal("70000"),
        salary_currency="EUR",
        salary_interval="year",
        posted_at=datetime(2026, 11, 1, tzinfo=UTC),
        application_status="applied",
        workplace="remote",
    )
    make_job(globex, duplicate_of=first, hidden=True, status=JobStatus.CLOSED)
    run = ScrapeRun.objects.create(source=acme, status=ScrapeStatus.SUCCEEDED, duration_seconds=1.0)
    ScrapeRun.objects.create(source=globex, status=ScrapeStatus.FAILED, error_message="boom")
    return {"job": first.pk, "source": globex.pk, "run": run.pk}


@schema.include(method="GET").parametrize()
@BOUNDED
def test_get_operations(case: Any, rows: dict[str, int]) -> None:
    case.call_and_validate(checks=CHECKS)


@schema.include(method="PATCH", path=["/api/v1/jobs/{id}/", "/api/v1/preferences/"]).parametrize()
@BOUNDED
def test_patch_operations(case: Any, rows: dict[str, int]) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.parametrize(
    ("path", "method", "row", "body"),
    [
        ("/api/v1/jobs/{id}/", "GET", "job", None),
        ("/api/v1/jobs/{id}/", "PATCH", "job", {"starred": True, "application_status": ""}),
        ("/api/v1/sources/{id}/", "GET", "source", None),
        ("/api/v1/sources/{id}/", "PATCH", "source", {"enabled": True, "api_url": ""}),
        ("/api/v1/runs/{id}/", "GET", "run", None),
    ],
)
def test_found_objects_conform(
    rows: dict[str, int], path: str, method: str, row: str, body: dict[str, Any] | None
) -> None:
    """Generated ids rarely hit a row; these answers with real objects must conform too."""
    operation = schema[path][method]
    kwargs: dict[str, Any] = {"path_parameters": {"id": rows[row]}}
    if body is not None:
        kwargs.update(body=body, media_type="application/json")
    response = operation.Case(**kwargs).call_and_validate(checks=CHECKS)
    assert response.status_code == 200

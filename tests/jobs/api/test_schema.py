"""The OpenAPI schema is valid and accurate; the docs page is self-contained."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi(schema: dict) -> None:
    validate_schema(schema)
    # The alerts app's paths are checked in tests/alerts/test_api.py.
    assert {p for p in schema["paths"] if not p.startswith("/api/v1/alerts/")} == {
        "/api/v1/jobs/",
        "/api/v1/jobs/{id}/",
        "/api/v1/sources/",
        "/api/v1/sources/{id}/",
        "/api/v1/sources/{id}/scrape/",
        "/api/v1/runs/",
        "/api/v1/runs/{id}/",
        "/api/v1/preferences/",
    }


def test_schema_generates_without_warnings(tmp_path: Path) -> None:
    # --fail-on-warn: an unresolvable field or serializer would make the schema guess.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_job_filters_are_query_parameters(schema: dict) -> None:
    operation = schema["paths"]["/api/v1/jobs/"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {
        "status", "source", "min_score", "workplace", "company", "q", "starred",
        "application_status", "applied", "gated", "include_hidden", "ordering", "page",
        "page_size",
    }  # fmt: skip
    assert all(p["in"] == "query" for p in params.values())
    assert params["min_score"]["schema"]["minimum"] == 0.0
    assert params["min_score"]["schema"]["maximum"] == 1.0
    assert params["ordering"]["schema"]["enum"] == [
        "score", "-score", "first_seen", "-first_seen", "posted_at", "-posted_at",
    ]  # fmt: skip
    assert set(operation["responses"]) == {"200", "400", "401", "404"}


def test_operations_document_their_answers(schema: dict) -> None:
    paths = schema["paths"]
    scrape = paths["/api/v1/sources/{id}/scrape/"]["post"]
    assert {"202", "404", "409"} <= set(scrape["responses"])
    assert "requestBody" not in scrape
    assert {"200", "400", "404"} <= set(paths["/api/v1/jobs/{id}/"]["patch"]["responses"])
    assert set(paths["/api/v1/jobs/{id}/"]) == {"get", "patch"}
    assert "201" in paths["/api/v1/sources/"]["post"]["responses"]
    prefs = schema["components"]["schemas"]["PreferencesUpdateResult"]
    assert "rescored" in prefs["properties"]


def test_request_bodies_take_no_undocumented_fields(schema: dict) -> None:
    components = schema["components"]["schemas"]
    update = components["PatchedJobUpdateRequest"]
    assert set(update["properties"]) == {"hidden", "starred", "notes", "application_status"}
    assert update["additionalProperties"] is False
    assert components["SourceCreateRequest"]["additionalProperties"] is False


def test_security_schemes_describe_both_key_headers(schema: dict) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key as a bearer token.",
    }
    assert schemes["apiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_schema_is_served_as_json_and_yaml(api: APIClient) -> None:
    as_json = api.get("/api/v1/schema/", {"format": "json"})
    assert as_json.status_code == 200
    assert as_json.json()["info"]["title"] == "JobSentinel API"
    assert api.get("/api/v1/schema/").content.startswith(b"openapi: ")


def test_docs_page_loads_nothing_from_other_hosts(api: APIClient) -> None:
    response = api.get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "/api/v1/schema/" in html
    # No absolute or protocol-relative URL anywhere: no CDN script, style, font or image.
    assert not re.search(r"https?:|(?:src|href)\s*=\s*[\"']?//", html, re.IGNORECASE)
    assert "<link" not in html
    assert not re.search(r"<script[^>]+src", html, re.IGNORECASE)
    assert "default-src 'none'" in html  # and the browser is told so


def test_schema_command_output_is_stable() -> None:
    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    assert '"/api/v1/jobs/"' in out.getvalue()

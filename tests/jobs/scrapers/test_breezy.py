"""Breezy HR: the JSON list of positions, parsing, shape errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import respx

from jobs.scrapers.base import PayloadError, scrape
from jobs.scrapers.breezy import adapter
from jobs.scrapers.http import HttpClient

from .conftest import json_response, load

POSITIONS = load("breezy_positions.json")


def parse(payload: Any = POSITIONS) -> dict[str, Any]:
    return {p.external_id: p for p in adapter.parse([payload], company="Stark")}


def test_endpoint():
    assert adapter.endpoint("stark", None) == "https://stark.breezy.hr/json"
    assert adapter.endpoint("stark", "http://127.0.0.1:9") == "http://127.0.0.1:9/json"


async def test_fetch(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get("https://stark.breezy.hr/json").mock(
        return_value=json_response(POSITIONS)
    )
    result = await scrape(adapter, client, "stark", None, "Stark")
    assert route.call_count == 1
    assert [p.external_id for p in result.postings] == ["a1b2c3d4e5f6", "f6e5d4c3b2a1"]


def test_onsite_position_with_salary():
    job = parse()["a1b2c3d4e5f6"]
    assert job.title == "Product Designer"
    assert job.company == "Stark Industries"
    assert job.url == "https://stark.breezy.hr/p/a1b2c3d4e5f6-product-designer"
    assert job.apply_url == "https://stark.breezy.hr/p/a1b2c3d4e5f6-product-designer/apply"
    assert job.location == "New York, NY"
    assert job.workplace == "onsite"
    assert job.department == "Design"
    assert job.employment_type == "Full-time"
    assert job.posted_at == datetime(2025, 10, 4, 15, 20, tzinfo=UTC)
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(110000),
        Decimal(130000),
        "USD",
        "year",
    )


def test_remote_contract_without_salary():
    job = parse()["f6e5d4c3b2a1"]
    assert job.workplace == "remote"
    assert job.location == "Germany"
    assert job.employment_type == "Contract"
    assert job.salary_min is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"positions": []}, "Breezy jobs should be a JSON array"),
        ([{"id": "x", "name": "n"}], "'url'"),
    ],
)
def test_shape_errors(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([payload], company="S")

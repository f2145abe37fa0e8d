"""Fixtures for adapter tests: vendor payloads from files, and an HttpClient that never
waits (its sleeps are recorded instead) and never reaches the network."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobs.scrapers.http import HttpClient

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeTime:
    """A clock that moves only when someone sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Callable[..., HttpClient]:
    """HttpClient(**overrides) with no pacing, jitter fixed at its midpoint (so backoff is
    exactly base * 2**n) and fake time. respx intercepts its transport."""

    def make(**overrides: Any) -> HttpClient:
        options: dict[str, Any] = {
            "pace_seconds": 0.0,
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "jitter": lambda: 0.5,
        }
        options.update(overrides)
        return HttpClient(**options)

    return make


@pytest.fixture
async def client(make_client: Callable[..., HttpClient]) -> AsyncIterator[HttpClient]:
    async with make_client() as http_client:
        yield http_client


def json_response(payload: Any, status: int = 200, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, json=payload, **kwargs)

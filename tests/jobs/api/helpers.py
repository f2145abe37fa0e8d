"""Small readers of API answers."""

from __future__ import annotations

from typing import Any


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return list(response.json()["results"])


def ids(response: Any) -> list[int]:
    return [row["id"] for row in results(response)]

"""`make bench` runs `python -m bench` with no scenario named: that must mean all of them."""

from __future__ import annotations

import pytest

from bench.__main__ import parse_args


def test_no_scenario_named_means_all() -> None:
    assert parse_args([]).scenarios == ["all"]


def test_named_scenarios_are_kept_in_order() -> None:
    assert parse_args(["latency", "memory", "--quick"]).scenarios == ["latency", "memory"]


def test_an_unknown_scenario_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["fastest"])
    assert "invalid choice: 'fastest'" in capsys.readouterr().err

"""The preference rules shared by the page, the admin and the API, and their text forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from jobs.forms import PreferencesForm
from jobs.models import Preferences
from jobs.preferences import (
    clean_preferences,
    format_boosts,
    format_terms,
    parse_boosts,
    parse_terms,
    stored_boosts,
)


def test_terms_are_typed_comma_separated_or_one_per_line() -> None:
    assert parse_terms("python, go\n  rust \n\n, ") == ["python", "go", "rust"]
    assert format_terms(["a", "b"]) == "a\nb"


def test_boosts_take_a_weight_or_count_one() -> None:
    assert parse_boosts("python: 2\ndjango = 1.5, machine learning, c++ -1") == {
        "python": 2.0,
        "django": 1.5,
        "machine learning": 1.0,
        "c++": -1.0,
    }
    assert format_boosts({"python": 2.0, "go": 1}) == "python: 2\ngo: 1"


def test_a_weight_that_is_not_a_number_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_boosts("python: lots")
    assert "“lots” is not a number" in caught.value.messages[0]


def test_stored_lists_are_read_as_weight_one() -> None:
    # Rows saved before these rules existed: displayed, never a 500.
    assert stored_boosts(["python", "go"]) == {"python": 1.0, "go": 1.0}
    assert stored_boosts({"python": "2", "x": None}) == {"python": 2.0, "x": 1.0}
    assert stored_boosts("junk") == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title_keywords": "python"}, "title_keywords"),
        ({"title_keywords": ["ok", 3]}, "title_keywords"),
        ({"title_keywords": ["x" * 201]}, "title_keywords"),
        ({"denied_companies": [f"c{n}" for n in range(201)]}, "denied_companies"),
        ({"boost_keywords": ["python"]}, "boost_keywords"),
        ({"boost_keywords": {"python": "2"}}, "boost_keywords"),
        ({"boost_keywords": {"python": 101}}, "boost_keywords"),
        ({"boost_keywords": {"python": float("nan")}}, "boost_keywords"),
        ({"notify_threshold": 2}, "notify_threshold"),
        ({"notify_threshold": float("nan")}, "notify_threshold"),
        ({"salary_currency": "EURO"}, "salary_currency"),
        ({"salary_floor": Decimal(-1)}, "salary_floor"),
        ({"salary_floor": Decimal(10), "salary_target": Decimal(5)}, "salary_floor"),
        ({"remote_preference": "mars"}, "remote_preference"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_each_rule_names_its_field(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_preferences(values)
    assert list(caught.value.message_dict) == [field]


def test_clean_values_are_normalized() -> None:
    cleaned = clean_preferences(
        {"title_keywords": ["  Python ", "python", "Go"], "salary_currency": " eur "}
    )
    assert cleaned == {"title_keywords": ["Python", "Go"], "salary_currency": "EUR"}


FORM = {
    "title_keywords": "backend, platform",
    "title_blocklist": "",
    "boost_keywords": "python: 2\ndjango",
    "excluded_keywords": "",
    "denied_companies": "Megacorp",
    "preferred_locations": "Berlin\nRemote",
    "remote_preference": "any",
    "salary_floor": "",
    "salary_target": "90000",
    "salary_currency": "eur",
    "notify_threshold": "0.6",
}


@pytest.mark.django_db
def test_the_form_reads_text_into_values() -> None:
    form = PreferencesForm(FORM, instance=Preferences.load())
    assert form.is_valid(), form.errors
    assert form.values() == {
        "title_keywords": ["backend", "platform"],
        "title_blocklist": [],
        "boost_keywords": {"python": 2.0, "django": 1.0},
        "excluded_keywords": [],
        "denied_companies": ["Megacorp"],
        "preferred_locations": ["Berlin", "Remote"],
        "remote_preference": "any",
        "salary_floor": None,
        "salary_target": Decimal(90000),
        "salary_currency": "EUR",
        "notify_threshold": 0.6,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"boost_keywords": "python: lots"}, "boost_keywords", "not a number"),
        ({"notify_threshold": "high"}, "notify_threshold", "Enter a number"),
        ({"notify_threshold": "3"}, "notify_threshold", "from 0 to 1"),
        ({"salary_floor": "100000"}, "salary_floor", "above the salary target"),
        ({"salary_currency": "euros"}, "salary_currency", "3-letter"),
        ({"salary_target": "lots"}, "salary_target", "Enter a number"),
    ],
)
def test_the_form_puts_each_message_next_to_its_field(
    change: dict[str, str], field: str, message: str
) -> None:
    form = PreferencesForm({**FORM, **change}, instance=Preferences.load())
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert message in " ".join(str(error) for error in form.errors[field])

"""Constraints live in the database, not only in forms."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from jobs.models import Job, Preferences, Source
from tests.factories import make_job, make_source

pytestmark = pytest.mark.django_db


def test_duplicate_source_and_external_id_is_refused() -> None:
    source = make_source()
    make_job(source=source, external_id="42")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_job(source=source, external_id="42")
    make_job(source=make_source(), external_id="42")  # same id on another board is fine


def test_duplicate_source_is_refused() -> None:
    make_source(kind="lever", token="acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_source(kind="lever", token="acme")


@pytest.mark.parametrize(
    "fields",
    [
        {"score": 1.5},
        {"score": -0.1},
        {"status": "archived"},
        {"salary_min": Decimal(200), "salary_max": Decimal(100)},
    ],
)
def test_job_check_constraints(fields: dict) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_job(**fields)


def test_unknown_source_kind_is_refused() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(kind="monster", token="x", name="X")


def test_preferences_is_a_single_row() -> None:
    assert Preferences.load().pk == 1
    assert Preferences.load().pk == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Preferences.objects.create(id=2)


def test_feed_queryset_leaves_out_hidden_jobs() -> None:
    shown = make_job()
    make_job(hidden=True)
    assert list(Job.objects.for_feed()) == [shown]

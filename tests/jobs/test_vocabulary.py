"""jobs.vocabulary: each closed set of values is declared once, and everything speaks it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.db.models import CharField

from jobs.models import Job, Preferences
from jobs.vocabulary import RemotePreference, SalaryInterval, Workplace

ROOT = Path(__file__).resolve().parents[2]


def test_model_fields_take_their_choices_from_the_vocabulary() -> None:
    for model, field, vocabulary in [
        (Job, "workplace", Workplace),
        (Job, "salary_interval", SalaryInterval),
        (Preferences, "remote_preference", RemotePreference),
    ]:
        column = model._meta.get_field(field)
        assert isinstance(column, CharField)
        assert list(column.choices or []) == vocabulary.choices
        assert column.default in vocabulary.values


def test_members_are_plain_strings_to_json_and_comparisons() -> None:
    import json

    assert Workplace.REMOTE == "remote"
    assert json.dumps({"w": Workplace.ONSITE}) == '{"w": "onsite"}'
    assert {"remote": 1}[Workplace.REMOTE] == 1
    assert Workplace.ONSITE.label == "On-site"
    assert SalaryInterval.UNKNOWN.value == ""
    assert RemotePreference.values == ["any", "remote_only", "remote_or_hybrid", "onsite_only"]
    assert Workplace.labels == ["Remote", "Hybrid", "On-site", "Unknown"]


def test_parsers_and_scoring_use_it_without_django() -> None:
    code = (
        "import sys\n"
        "import jobs.scrapers, jobs.scoring, jobs.fingerprints, jobs.vocabulary\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env={"PATH": ""})

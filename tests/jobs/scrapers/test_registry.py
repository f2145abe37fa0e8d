"""Registry, token checks, and that the adapters speak the models' vocabulary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jobs.models import SourceKind
from jobs.scrapers import ADAPTERS, UnknownKind, get_adapter, validate_token
from jobs.scrapers.ashby import AshbyAdapter
from jobs.scrapers.bamboohr import BambooHRAdapter
from jobs.scrapers.breezy import BreezyAdapter
from jobs.scrapers.greenhouse import GreenhouseAdapter
from jobs.scrapers.lever import LeverAdapter
from jobs.scrapers.personio import PersonioAdapter
from jobs.scrapers.recruitee import RecruiteeAdapter
from jobs.scrapers.remotive import RemotiveAdapter
from jobs.scrapers.smartrecruiters import SmartRecruitersAdapter
from jobs.scrapers.workable import WorkableAdapter
from jobs.scrapers.workday import WorkdayAdapter

ROOT = Path(__file__).resolve().parents[3]


def test_one_adapter_per_source_kind():
    assert set(ADAPTERS) == set(SourceKind.values)
    assert {kind: type(adapter) for kind, adapter in ADAPTERS.items()} == {
        "greenhouse": GreenhouseAdapter,
        "lever": LeverAdapter,
        "ashby": AshbyAdapter,
        "remotive": RemotiveAdapter,
        "workday": WorkdayAdapter,
        "smartrecruiters": SmartRecruitersAdapter,
        "workable": WorkableAdapter,
        "recruitee": RecruiteeAdapter,
        "personio": PersonioAdapter,
        "bamboohr": BambooHRAdapter,
        "breezy": BreezyAdapter,
    }
    assert all(adapter.kind == kind for kind, adapter in ADAPTERS.items())


def test_completeness():
    assert {kind: adapter.complete for kind, adapter in ADAPTERS.items()} == {
        "greenhouse": True,
        "lever": True,
        "ashby": True,
        "remotive": False,
        "workday": True,
        "smartrecruiters": True,
        "workable": True,
        "recruitee": True,
        "personio": True,
        "bamboohr": True,
        "breezy": True,
    }


def test_get_adapter():
    assert get_adapter("lever") is ADAPTERS["lever"]


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(UnknownKind) as caught:
        get_adapter("taleo")
    message = str(caught.value)
    assert message == (
        "unknown source kind 'taleo'; valid kinds: ashby, bamboohr, breezy, greenhouse, lever, "
        "personio, recruitee, remotive, smartrecruiters, workable, workday"
    )
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, KeyError)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("acme", "acme"),
        ("  acme-inc \n", "acme-inc"),
        ("Acme_2.0", "Acme_2.0"),
        ("a" * 200, "a" * 200),
    ],
)
def test_validate_token_accepts(token: str, expected: str):
    assert validate_token("greenhouse", token) == expected


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a" * 201, "longer than 200"),
        ("acme/jobs", "only letters, digits"),
        ("acme inc", "only letters, digits"),
        ("acme?x=1", "only letters, digits"),
        ("zürich", "only letters, digits"),
        ("..", "not a board name"),
    ],
)
def test_validate_token_refuses(token: str, message: str):
    with pytest.raises(ValueError, match=message):
        validate_token("lever", token)


def test_validate_token_checks_the_kind():
    with pytest.raises(UnknownKind):
        validate_token("taleo", "acme")


@pytest.mark.parametrize(
    ("kind", "token", "expected"),
    [
        ("workday", " Acme.WD5/External ", "acme.wd5/External"),
        ("workday", "big-co.wd103/Careers_Site", "big-co.wd103/Careers_Site"),
        ("recruitee", "Pied-Piper", "pied-piper"),
        ("personio", "vandelay", "vandelay"),
        ("bamboohr", "DUNDER", "dunder"),
        ("breezy", "stark2", "stark2"),
        ("smartrecruiters", "Umbrella", "Umbrella"),
        ("workable", "hooli", "hooli"),
    ],
)
def test_validate_token_per_kind(kind: str, token: str, expected: str):
    assert validate_token(kind, token) == expected


@pytest.mark.parametrize(
    ("kind", "token", "message"),
    [
        ("workday", "acme", "TENANT"),
        ("workday", "acme.wd5/External/extra", "TENANT"),
        ("workday", "../x.wd1/y", "TENANT"),
        ("recruitee", "pied_piper", "subdomain"),
        ("personio", "a.b", "subdomain"),
        ("bamboohr", "-dunder", "subdomain"),
        ("breezy", "stark/x", "subdomain"),
    ],
)
def test_validate_token_per_kind_refuses(kind: str, token: str, message: str):
    with pytest.raises(ValueError, match=message):
        validate_token(kind, token)


def test_scrapers_never_import_channels_or_realtime():
    code = (
        "import sys, jobs.scrapers; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('channels', 'realtime')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr

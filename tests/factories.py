"""Small builders for test data (plain functions: the models are simple)."""

from __future__ import annotations

import uuid
from itertools import count
from typing import Any

from jobs.models import Job, Source

_ids = count(1)


def make_source(**fields: Any) -> Source:
    n = next(_ids)
    # Unique across processes too: tests also create rows from `manage.py` subprocesses.
    token = f"acme{n}-{uuid.uuid4().hex[:8]}"
    defaults: dict[str, Any] = {"kind": "greenhouse", "token": token, "name": f"Acme {n}"}
    defaults.update(fields)
    return Source.objects.create(**defaults)


def make_job(source: Source | None = None, **fields: Any) -> Job:
    n = next(_ids)
    source = source or make_source()
    defaults: dict[str, Any] = {
        "source": source,
        "external_id": f"ext-{n}",
        "title": f"Backend Engineer {n}",
        "company": source.name,
        "location": "Remote",
        "url": f"https://boards.example.com/jobs/{n}",
        "score": 0.5,
    }
    defaults.update(fields)
    return Job.objects.create(**defaults)

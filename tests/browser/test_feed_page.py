"""The live feed in a real browser against a real daphne: rendered first, then live."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from jobs.models import Job
from tests.boards import BoardServer, greenhouse_job
from tests.conftest import ROOT, Daphne, run_manage
from tests.factories import make_job, make_source

pytestmark = pytest.mark.browser


def elsewhere(server: Daphne, code: str) -> str:
    """Run Python in a separate `manage.py shell` configured like the server."""
    result = run_manage("shell", "--verbosity", "0", "-c", code, env=server.env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def open_feed(page: Any, server: Daphne) -> None:
    page.goto(f"{server.http_url}/")
    page.wait_for_selector('[data-feed][data-connection="connected"]', timeout=10_000)


TITLE_IS = (
    "([id, text]) => "
    "document.querySelector(`[data-job-id='${id}'] .job-title`)?.textContent === text"
)
STATE_IS = (
    "([id, text]) => "
    "document.querySelector(`[data-source-id='${id}'] [data-source-state]`)?.textContent === text"
)


def create_job_elsewhere(server: Daphne, title: str) -> str:
    return elsewhere(
        server, f"from tests.factories import make_job; print(make_job(title={title!r}).pk)"
    )


def row(page: Any, job_id: int | str) -> Any:
    return page.locator(f'[data-job-id="{job_id}"]')


def test_page_loads_with_jobs(page: Any, daphne_factory) -> None:
    source = make_source(name="TechCorp")
    make_job(source=source, title="Senior Backend Engineer", score=0.95)
    make_job(source=source, title="Hidden Job", hidden=True)
    server: Daphne = daphne_factory()
    open_feed(page, server)
    assert page.locator(".job").count() == 1
    assert "Senior Backend Engineer" in page.locator(".job-title").first.inner_text()
    assert page.locator(".job-score").first.inner_text() == "0.95"
    assert "TechCorp" in page.locator("[data-monitor]").inner_text()
    assert page.errors == []


def test_job_from_another_process_appears_within_two_seconds(page: Any, daphne_factory) -> None:
    server: Daphne = daphne_factory()
    open_feed(page, server)
    job_id = elsewhere(
        server,
        "from tests.factories import make_job; print(make_job(title='Fresh Role', score=0.8).pk)",
    )
    committed = time.monotonic()
    row(page, job_id).wait_for(timeout=2_000)
    assert time.monotonic() - committed < 2.0
    assert row(page, job_id).locator(".job-title").inner_text() == "Fresh Role"
    assert page.locator(".job").first.get_attribute("data-job-id") == job_id  # at the top


def test_update_changes_the_row_in_place(page: Any, daphne_factory) -> None:
    job = make_job(title="Backend Engineer", score=0.5)
    make_job(title="Other")
    server: Daphne = daphne_factory()
    open_feed(page, server)
    # Tag the element: "in place" means the same DOM node, not a re-rendered copy.
    row(page, job.pk).evaluate("element => { element.dataset.marker = 'same' }")
    elsewhere(
        server,
        f"from jobs.models import Job; j = Job.objects.get(pk={job.pk}); "
        "j.title = 'Staff Engineer'; j.score = 0.9; j.save(update_fields=['title', 'score'])",
    )
    page.wait_for_function(TITLE_IS, arg=[str(job.pk), "Staff Engineer"], timeout=5_000)
    assert row(page, job.pk).locator(".job-score").inner_text() == "0.90"
    assert page.locator(".job").count() == 2
    assert row(page, job.pk).get_attribute("data-marker") == "same"
    elsewhere(
        server,
        f"from jobs.models import Job; j = Job.objects.get(pk={job.pk}); "
        "j.status = 'closed'; j.save(update_fields=['status'])",
    )
    page.wait_for_selector(f'[data-job-id="{job.pk}"].closed', timeout=5_000)


def test_scrape_shows_running_then_completed(
    page: Any, daphne_factory, board_server: BoardServer
) -> None:
    board_server.board.jobs["acme"] = [greenhouse_job(1, "Platform Engineer")]
    board_server.board.delay = 2.0
    source = make_source(name="Acme", token="acme", api_url=board_server.url)
    server: Daphne = daphne_factory()
    open_feed(page, server)
    scrape = subprocess.Popen([sys.executable, "manage.py", "scrape"], cwd=ROOT, env=server.env)
    try:
        state = page.locator(f'[data-source-id="{source.pk}"] [data-source-state]')
        # The wait includes the start of a `manage.py` process: seconds on a loaded machine.
        page.wait_for_function(STATE_IS, arg=[str(source.pk), "running"], timeout=30_000)
        assert (
            "running for"
            in page.locator(f'[data-source-id="{source.pk}"] [data-source-detail]').inner_text()
        )
        page.wait_for_function(STATE_IS, arg=[str(source.pk), "succeeded"], timeout=30_000)
        assert state.inner_text() == "succeeded"
        assert (
            "1 found, 1 new"
            in page.locator(f'[data-source-id="{source.pk}"] [data-source-detail]').inner_text()
        )
        page.locator(".job-title", has_text="Platform Engineer").wait_for(timeout=5_000)
    finally:
        scrape.wait(timeout=30)


def test_page_reconnects_after_a_restart_and_shows_what_it_missed(
    page: Any, daphne_factory
) -> None:
    server: Daphne = daphne_factory()
    open_feed(page, server)
    server.stop(signal.SIGTERM)
    page.wait_for_selector('[data-feed]:not([data-connection="connected"])', timeout=5_000)
    missed = [create_job_elsewhere(server, f"While down {n}") for n in range(2)]
    server.start()
    for job_id in missed:
        row(page, job_id).wait_for(timeout=20_000)
    page.wait_for_selector('[data-feed][data-connection="connected"]', timeout=5_000)
    assert page.locator(".job").count() == 2  # each exactly once


def test_script_in_a_description_shows_as_text(page: Any, daphne_factory) -> None:
    make_job(
        title="<img src=x onerror=window.__owned=1>",
        description_text="<script>window.__owned=1</script>",
    )
    server: Daphne = daphne_factory()
    open_feed(page, server)
    elsewhere(
        server,
        "from tests.factories import make_job; "
        "make_job(title='<b onmouseover=window.__owned=2>Live</b>', "
        "description_text='<script>window.__owned=3</script>')",
    )
    page.locator(".job-title", has_text="onmouseover").wait_for(timeout=5_000)
    assert page.evaluate("window.__owned") is None
    snippets = page.locator(".job-snippet").all_inner_texts()
    assert "<script>window.__owned=3</script>" in snippets
    assert "<script>window.__owned=1</script>" in snippets
    assert page.locator("script:not([type=module]):not([src])").count() == 0
    assert Job.objects.count() == 2

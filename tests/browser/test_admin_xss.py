"""Markup scraped from a job board is shown as text in the admin, never run: a logged-in
superuser browses the job list and a job's change page in headless Chromium."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User

from jobs.models import Job
from tests.conftest import Daphne
from tests.factories import make_job, make_source

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-staple"
TITLE = "<script>window.__owned=1</script>Staff Engineer"
COMPANY = "<img src=x onerror=window.__owned=2>Acme"
DESCRIPTION = (
    "<script>window.__owned=3</script>\n"
    "<img src=x onerror=window.__owned=4>\n"
    '<a href="javascript:window.__owned=5">apply</a>\n'
    "</div><svg onload=window.__owned=6>"
)
SOURCE_NAME = "<svg onload=window.__owned=7>Board"
LOCATION = "<iframe srcdoc='<script>parent.__owned=8</script>'></iframe>Remote"


def hostile_job() -> Job:
    source = make_source(name=SOURCE_NAME)
    return make_job(
        source=source,
        title=TITLE,
        company=COMPANY,
        location=LOCATION,
        description_text=DESCRIPTION,
    )


def log_in(page: Any, server: Daphne) -> None:
    page.goto(f"{server.http_url}/admin/login/?next=/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{server.http_url}/admin/", timeout=10_000)


def assert_nothing_ran(page: Any) -> None:
    assert page.evaluate("window.__owned") is None
    # The markup did not become elements either.
    assert page.locator("img[src=x], svg[onload], iframe[srcdoc]").count() == 0
    assert page.locator("a[href^=javascript]").count() == 0
    assert page.errors == []


def test_admin_shows_markup_from_boards_as_text(page: Any, daphne_factory) -> None:
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    job = hostile_job()
    server: Daphne = daphne_factory()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:  # alert(), confirm(): a script ran
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page, server)

    # The job list: title, company, location and source are columns.
    page.goto(f"{server.http_url}/admin/jobs/job/")
    row = page.locator("#result_list tbody tr").first
    row.wait_for(timeout=10_000)
    assert_nothing_ran(page)
    cells = row.inner_text()
    for text in (TITLE, COMPANY, LOCATION, SOURCE_NAME):
        assert text in cells, text
    assert page.get_by_role("link", name=TITLE).is_visible()

    # The change page: editable fields hold the text as their value; the read-only
    # description preview shows it as text.
    page.get_by_role("link", name=TITLE).click()
    page.wait_for_url(f"**/admin/jobs/job/{job.pk}/change/", timeout=10_000)
    assert_nothing_ran(page)
    assert page.input_value("#id_title") == TITLE
    assert page.input_value("#id_company") == COMPANY
    assert page.input_value("#id_location") == LOCATION
    assert page.input_value("#id_description_text") == DESCRIPTION
    preview = page.locator(".field-description_preview .readonly")
    assert "<script>window.__owned=3</script>" in preview.inner_text()
    assert "<svg onload=window.__owned=6>" in preview.inner_text()
    assert preview.locator("script, img, svg, a").count() == 0
    assert SOURCE_NAME in page.locator(".field-source .readonly").inner_text()

    # A search for the markup finds the job, and reflects the query back as text.
    query = "<script>window.__owned=1</script>"
    page.goto(f"{server.http_url}/admin/jobs/job/?q={quote(query)}")
    row.wait_for(timeout=10_000)
    assert_nothing_ran(page)
    assert page.input_value("#searchbar") == query
    assert TITLE in row.inner_text()
    assert dialogs == []

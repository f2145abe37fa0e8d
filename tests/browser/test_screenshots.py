"""The main views at desktop and phone size, rendered without a script error. With
JOBSENTINEL_UPDATE_SCREENSHOTS=1 the pictures replace those in docs/img/ that the README shows."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.demo import seed
from tests.conftest import ROOT, Daphne

pytestmark = pytest.mark.browser

DOCS_IMG = ROOT / "docs" / "img"


def test_screenshots_of_the_main_views(browser: Any, daphne_factory, tmp_path: Path) -> None:
    data = seed()
    job = data["jobs"]["demo-1"]
    server: Daphne = daphne_factory()
    shots: list[Path] = []
    for name, path, size, action in [
        ("feed", "/", (1200, 900), "reasons"),
        ("job", f"/jobs/{job.pk}/", (1200, 1100), None),
        ("preferences", "/preferences/", (1000, 1300), None),
        ("sources", "/sources/", (1000, 900), None),
        ("phone", "/", (390, 844), None),
    ]:
        context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, color_scheme="light"
        )
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            page.goto(f"{server.http_url}{path}")
            page.wait_for_selector('[data-page][data-connection="connected"]', timeout=10_000)
            if action == "reasons":
                page.locator(f'[data-job-id="{job.pk}"] .job-reasons summary').click()
            shot = tmp_path / f"{name}.png"
            page.screenshot(path=str(shot))
            shots.append(shot)
            assert errors == [], f"{path}: {errors}"
        finally:
            context.close()
    assert all(shot.stat().st_size > 10_000 for shot in shots)
    if os.environ.get("JOBSENTINEL_UPDATE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, DOCS_IMG / shot.name)

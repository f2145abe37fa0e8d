"""A job seeker's day on the feed, in Debian's Chromium against a real daphne: reasons, the job
page, search and filters that survive a reload, actions that persist and show up live on another
page, live jobs that respect the filters, preferences without JSON, a phone, a keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from jobs.models import Job, Preferences, Source
from tests.boards import BoardServer, greenhouse_job
from tests.browser.demo import seed
from tests.browser.test_feed_page import create_job_elsewhere, elsewhere
from tests.conftest import Daphne
from tests.factories import make_job

pytestmark = pytest.mark.browser
WAIT = 10_000  # ms: a loaded 2-core machine


def open_page(page: Any, server: Daphne, path: str = "/") -> None:
    page.goto(f"{server.http_url}{path}")
    page.wait_for_selector('[data-page][data-connection="connected"]', timeout=WAIT)


def card(page: Any, job: Job | int | str) -> Any:
    job_id = job.pk if isinstance(job, Job) else job
    return page.locator(f'.jobs > [data-job-id="{job_id}"]')


def test_reasons_are_one_click_away_on_the_card(page: Any, daphne_factory) -> None:
    job = seed()["jobs"]["demo-1"]
    server: Daphne = daphne_factory()
    open_page(page, server)
    reasons = card(page, job).locator(".reasons")
    expect(reasons).to_be_hidden()
    card(page, job).locator(".job-reasons summary").click()
    expect(reasons).to_be_visible()
    expect(reasons).to_contain_text("Title +0.27 title matches backend, python")
    expect(reasons).to_contain_text("mentions django (+2), postgresql (+1)")
    meta = card(page, job).locator(".job-meta")
    expect(meta).to_contain_text("85,000\N{EN DASH}105,000 EUR a year")
    expect(meta).to_contain_text("posted 2\N{NO-BREAK SPACE}days ago")
    assert page.errors == []


def test_job_page_with_description_history_and_apply(page: Any, daphne_factory) -> None:
    job = seed()["jobs"]["demo-1"]
    server: Daphne = daphne_factory()
    open_page(page, server)
    card(page, job).locator(".job-title").click()
    page.wait_for_url(f"**/jobs/{job.pk}/", timeout=WAIT)
    expect(page.locator(".description h2")).to_have_text("About the role")
    expect(page.locator(".description li")).to_have_count(3)
    expect(page.locator(".reasons-table tbody tr")).to_have_count(5)
    expect(page.locator("[data-history]")).to_contain_text("First seen")
    apply = page.locator("[data-apply]")
    assert apply.get_attribute("href") == "https://boards.example/acme/apply/1"
    assert apply.get_attribute("target") == "_blank"
    assert "noreferrer" in (apply.get_attribute("rel") or "")
    assert page.locator("[data-board-link]").get_attribute("href") == job.url
    assert page.errors == []


def titles(page: Any) -> list[str]:
    return [text.strip() for text in page.locator(".jobs > .job .job-title").all_inner_texts()]


def test_search_sort_and_filters_survive_a_reload_and_back(page: Any, daphne_factory) -> None:
    seed()
    server: Daphne = daphne_factory()
    open_page(page, server)
    # The denied company's job is gated out (score 0) and hidden by default.
    assert "Data Engineer" not in titles(page)
    page.fill("[data-search]", "engineer")
    page.select_option("[data-sort]", "-score")
    page.fill("[data-min-score]", "0.5")
    page.click("text=Apply filters")
    page.wait_for_url("**/?q=engineer*", timeout=WAIT)
    expected = ["Senior Backend Engineer (Python)", "Platform Engineer"]
    assert titles(page) == expected
    assert "ordering=-score" in page.url
    assert "min_score=0.5" in page.url
    page.reload()
    page.wait_for_selector('[data-page][data-connection="connected"]', timeout=WAIT)
    assert titles(page) == expected
    expect(page.locator("[data-search]")).to_have_value("engineer")
    expect(page.locator("[data-sort]")).to_have_value("-score")
    expect(page.locator("[data-min-score]")).to_have_value("0.5")
    page.check("[data-include-gated]")
    page.fill("[data-min-score]", "")
    page.click("text=Apply filters")
    page.wait_for_url("**include_gated=1*", timeout=WAIT)
    assert titles(page)[-1] == "Data Engineer"
    page.go_back()
    page.wait_for_url("**min_score=0.5*", timeout=WAIT)
    assert titles(page) == expected
    expect(page.locator("[data-include-gated]")).not_to_be_checked()


def test_star_and_status_persist_and_appear_live_on_another_page(
    browser: Any, page: Any, daphne_factory
) -> None:
    job = seed()["jobs"]["demo-2"]
    server: Daphne = daphne_factory()
    other_context = browser.new_context(viewport={"width": 1100, "height": 800})
    try:
        starred_view = other_context.new_page()
        open_page(starred_view, server, "/?starred=1")
        expect(starred_view.locator(".jobs > .job")).to_have_count(0)
        open_page(page, server)
        card(page, job).locator('[data-action="star"]').click()
        expect(card(page, job).locator("[data-action-state]")).to_have_text("Starred")
        # Live on the other page: the Starred view gains the job.
        expect(card(starred_view, job)).to_be_visible(timeout=WAIT)
        star = card(starred_view, job).locator('[data-action="star"]')
        expect(star).to_have_attribute("aria-pressed", "true")
        card(page, job).locator('[data-action="status"]').select_option("interviewing")
        expect(card(starred_view, job).locator(".job-status-badge")).to_have_text(
            "Interviewing", timeout=WAIT
        )
        card(page, job).locator(".job-notes summary").click()
        card(page, job).locator("[data-notes]").fill("Call back on Monday")
        card(page, job).locator('[data-action="notes"]').click()
        expect(card(page, job).locator("[data-action-state]")).to_have_text("Notes saved")
        job.refresh_from_db()
        assert (job.starred, job.application_status, job.notes) == (
            True, "interviewing", "Call back on Monday",
        )  # fmt: skip
        # Unstarred elsewhere: it leaves the Starred view.
        card(page, job).locator('[data-action="star"]').click()
        expect(card(starred_view, job)).to_have_count(0, timeout=WAIT)
        assert page.errors == []
        assert starred_view.errors == [] if hasattr(starred_view, "errors") else True
    finally:
        other_context.close()


def test_hide_removes_the_card_and_keeps_it_hidden(page: Any, daphne_factory) -> None:
    job = seed()["jobs"]["demo-3"]
    server: Daphne = daphne_factory()
    open_page(page, server)
    card(page, job).locator('[data-action="hide"]').click()
    expect(card(page, job)).to_have_count(0, timeout=WAIT)
    page.reload()
    page.wait_for_selector('[data-page][data-connection="connected"]', timeout=WAIT)
    expect(card(page, job)).to_have_count(0)
    assert Job.objects.get(pk=job.pk).hidden


def test_a_live_job_appears_only_when_it_matches_the_search(page: Any, daphne_factory) -> None:
    seed()
    server: Daphne = daphne_factory()
    open_page(page, server, "/?q=python")
    before = titles(page)
    outside = create_job_elsewhere(server, "Sales Lead")
    inside = create_job_elsewhere(server, "Python Developer")
    expect(card(page, inside)).to_be_visible(timeout=WAIT)
    # Events arrive in order: the one outside the search came first and was left out.
    expect(card(page, outside)).to_have_count(0)
    assert titles(page) == ["Python Developer", *before]


def test_preferences_without_json_rescore_the_open_feed(
    browser: Any, page: Any, daphne_factory
) -> None:
    job = seed()["jobs"]["demo-3"]  # "Office Manager": no title keyword matches
    server: Daphne = daphne_factory()
    open_page(page, server)
    old_score = card(page, job).locator(".job-score").inner_text()
    other = browser.new_context(viewport={"width": 1000, "height": 1200})
    try:
        prefs = other.new_page()
        open_page(prefs, server, "/preferences/")
        # A bad weight: the message sits next to its field and nothing is saved.
        prefs.fill("#id_boost_keywords", "django: lots")
        prefs.click("text=Save and rescore")
        expect(prefs.locator("#id_boost_keywords_errors")).to_contain_text("is not a number")
        assert Preferences.load().boost_keywords == {
            "django": 2.0,
            "postgresql": 1.0,
            "kubernetes": 1.0,
        }
        prefs.fill("#id_boost_keywords", "django: 2\npostgresql")
        prefs.fill("#id_title_keywords", "manager, office")
        prefs.click("text=Save and rescore")
        expect(prefs.locator(".messages")).to_contain_text("Preferences saved;", timeout=WAIT)
        saved = Preferences.load()
        assert saved.title_keywords == ["manager", "office"]
        assert saved.boost_keywords == {"django": 2.0, "postgresql": 1.0}
        # The open feed shows the new score without a reload.
        expect(card(page, job).locator(".job-score")).not_to_have_text(old_score, timeout=WAIT)
        job.refresh_from_db()
        assert card(page, job).locator(".job-score").inner_text() == f"{job.score:.2f}"
    finally:
        other.close()


def test_phone_layout_has_the_filters_one_tap_away_at_the_top(browser: Any, daphne_factory) -> None:
    seed()
    make_job(title="A rather long job title that must wrap on a narrow phone screen " * 2)
    server: Daphne = daphne_factory()
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        phone = context.new_page()
        open_page(phone, server)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        filters = phone.locator("[data-filters]")
        search = phone.locator("[data-search]")
        expect(search).to_be_hidden()  # folded
        summary_box = filters.locator("summary").bounding_box()
        first_job_box = phone.locator(".jobs > .job").first.bounding_box()
        assert summary_box["y"] < first_job_box["y"] < 740  # above the jobs, on the first screen
        filters.locator("summary").tap()
        expect(search).to_be_visible()
        search.fill("platform")
        phone.locator("text=Apply filters").tap()
        phone.wait_for_url("**q=platform*", timeout=WAIT)
        assert titles(phone) == ["Platform Engineer"]
        expect(phone.locator("[data-search]")).to_be_visible()  # unfolded when in use
    finally:
        context.close()


def test_keyboard_only(page: Any, daphne_factory) -> None:
    job = seed()["jobs"]["demo-2"]
    server: Daphne = daphne_factory()
    open_page(page, server)

    def tab_to(selector: str, key: str = "Tab", limit: int = 200) -> None:
        for _ in range(limit):
            page.keyboard.press(key)
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to jobs"
    page.keyboard.press("Enter")
    tab_to(f'[data-job-id="{job.pk}"] .job-reasons summary')
    page.keyboard.press("Enter")
    expect(card(page, job).locator(".reasons")).to_be_visible()
    tab_to(f'[data-job-id="{job.pk}"] [data-action="star"]')
    page.keyboard.press("Enter")
    expect(card(page, job).locator('[data-action="star"]')).to_have_attribute(
        "aria-pressed", "true", timeout=WAIT
    )
    assert Job.objects.get(pk=job.pk).starred
    # The search box is reachable and submits with Enter.
    tab_to("[data-search]", key="Shift+Tab")
    page.keyboard.type("platform")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=platform*", timeout=WAIT)
    assert titles(page) == ["Platform Engineer"]


def test_with_api_keys_a_logged_in_page_still_saves_actions(page: Any, daphne_factory) -> None:
    # Private mode: the page's PATCH goes through the session, so it needs the CSRF token and
    # an Origin that is not "null".
    from django.contrib.auth.models import User

    User.objects.create_superuser("owner", "owner@example.com", "a long test password")
    job = seed()["jobs"]["demo-2"]
    server: Daphne = daphne_factory(JOBSENTINEL_API_KEYS="test-key")
    page.goto(f"{server.http_url}/")
    page.wait_for_url("**/admin/login/**", timeout=WAIT)
    page.fill("#id_username", "owner")
    page.fill("#id_password", "a long test password")
    page.click("input[type=submit]")
    page.wait_for_selector('[data-page][data-connection="connected"]', timeout=WAIT)
    card(page, job).locator('[data-action="star"]').click()
    expect(card(page, job).locator("[data-action-state]")).to_have_text("Starred", timeout=WAIT)
    expect(card(page, job).locator('[data-action="star"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert Job.objects.get(pk=job.pk).starred


def test_sources_page_health_scrape_now_and_watch(
    page: Any, daphne_factory, board_server: BoardServer
) -> None:
    data = seed()
    board_server.board.jobs["acme"] = [greenhouse_job(1, "Platform Engineer")]
    Source.objects.filter(pk=data["acme"].pk).update(api_url=board_server.url)
    Source.objects.filter(pk=data["globex"].pk).update(enabled=False)
    server: Daphne = daphne_factory()
    open_page(page, server, "/sources/")
    broken = page.locator(f'[data-source-id="{data["broken"].pk}"]')
    expect(broken.locator("[data-source-health]")).to_contain_text("Failing: 3 failed scrapes")
    expect(broken.locator("[data-source-error]")).to_have_text(
        "Last failure: The board answered 404 Not Found: is the token right?"
    )
    disabled = page.locator(f'[data-source-id="{data["globex"].pk}"]')
    expect(disabled.locator("[data-disabled-badge]")).to_have_text("disabled")
    expect(disabled.locator("[data-scrape-now]")).to_be_disabled()
    acme = page.locator(f'[data-source-id="{data["acme"].pk}"]')
    acme.locator("[data-scrape-now]").click()
    expect(acme.locator("[data-scrape-state]")).to_have_text("Scrape started.", timeout=WAIT)
    page.locator("summary", has_text="Board kind and token").click()
    page.select_option("[data-watch-kind]", "lever")
    page.fill("[data-watch-token]", "newco")
    page.fill("[data-watch-name]", "NewCo")
    page.click("[data-watch-save]")
    expect(page.locator("[data-watch-result]")).to_contain_text("Now watching NewCo", timeout=WAIT)
    added = Source.objects.get(kind="lever", token="newco")
    expect(page.locator(f'[data-source-id="{added.pk}"] .source-name')).to_have_text("NewCo")
    # A second time: the API's refusal is shown in words, and nothing is added.
    page.select_option("[data-watch-kind]", "lever")
    page.fill("[data-watch-token]", "newco")
    page.click("[data-watch-save]")
    expect(page.locator("[data-watch-result]")).to_contain_text("already watched", timeout=WAIT)
    assert Source.objects.filter(token="newco").count() == 1
    assert page.errors == []


def test_job_page_follows_changes_made_elsewhere(page: Any, daphne_factory) -> None:
    job = seed()["jobs"]["demo-1"]
    server: Daphne = daphne_factory()
    open_page(page, server, f"/jobs/{job.pk}/")
    elsewhere(
        server,
        f"from jobs.models import Job; j = Job.objects.get(pk={job.pk}); "
        "j.application_status = 'offer'; j.save(update_fields=['application_status'])",
    )
    expect(page.locator('[data-action="status"]')).to_have_value("offer", timeout=WAIT)
    expect(page.locator("[data-history]")).to_contain_text("Changed: application status")
    assert page.errors == []

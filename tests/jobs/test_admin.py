"""The admin renders for a superuser with jobs present, and its actions emit events."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import Job, Preferences, ScrapeRun
from realtime.models import Event
from tests.factories import make_job, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_with_jobs(admin_client: Client) -> Client:
    source = make_source(name="TechCorp")
    make_job(source=source, title="Senior Backend Engineer", score=0.95, description_text="Python")
    make_job(source=source, title="Frontend Developer", score=0.3)
    ScrapeRun.objects.create(source=source, jobs_found=2, new_jobs=2, duration_seconds=1.5)
    return admin_client


def test_admin_needs_a_login(client: Client) -> None:
    response = client.get(reverse("admin:jobs_job_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?q=backend",
        "?status__exact=open",
        "?score_band=high",
        "?o=4",
        "?workplace__exact=remote",
    ],
)
def test_job_changelist_renders(admin_client_with_jobs: Client, query: str) -> None:
    response = admin_client_with_jobs.get(reverse("admin:jobs_job_changelist") + query)
    assert response.status_code == 200


def test_job_search_finds_by_title_and_description(admin_client_with_jobs: Client) -> None:
    response = admin_client_with_jobs.get(reverse("admin:jobs_job_changelist") + "?q=python")
    assert b"Senior Backend Engineer" in response.content
    assert b"Frontend Developer" not in response.content


def test_score_band_filter(admin_client_with_jobs: Client) -> None:
    response = admin_client_with_jobs.get(reverse("admin:jobs_job_changelist") + "?score_band=low")
    assert b"Frontend Developer" in response.content
    assert b"Senior Backend Engineer" not in response.content


def test_job_change_page_renders_description_as_text(admin_client: Client) -> None:
    job = make_job(description_text="<script>alert(1)</script>")
    response = admin_client.get(reverse("admin:jobs_job_change", args=[job.pk]))
    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


@pytest.mark.parametrize(
    "name",
    [
        "jobs_scraperun_changelist",
        "jobs_source_changelist",
        "jobs_preferences_changelist",
        "realtime_event_changelist",
    ],
)
def test_other_changelists_render(admin_client_with_jobs: Client, name: str) -> None:
    assert admin_client_with_jobs.get(reverse(f"admin:{name}")).status_code == 200


def test_scrape_run_is_read_only(admin_client_with_jobs: Client) -> None:
    run = ScrapeRun.objects.get()
    response = admin_client_with_jobs.get(reverse("admin:jobs_scraperun_change", args=[run.pk]))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content


def test_hide_and_star_actions_update_jobs_and_emit_events(admin_client_with_jobs: Client) -> None:
    ids = list(Job.objects.values_list("id", flat=True))
    before = Event.objects.latest("id").id
    for action in ("hide", "star"):
        response = admin_client_with_jobs.post(
            reverse("admin:jobs_job_changelist"),
            {"action": action, "_selected_action": ids},
        )
        assert response.status_code == 302
    assert set(Job.objects.values_list("hidden", "starred")) == {(True, True)}
    changes = [e.data["changes"] for e in Event.objects.filter(id__gt=before)]
    assert changes == [["hidden"]] * len(ids) + [["starred"]] * len(ids)


@pytest.mark.django_db(transaction=True)
def test_scrape_now_action_runs_a_scrape_in_the_background(
    admin_client: Client, board_server, worker_factory
) -> None:
    import time

    worker_factory("--no-schedule")
    from tests.boards import greenhouse_job

    board_server.board.jobs["acme"] = [greenhouse_job(1, "Backend Engineer")]
    source = make_source(token="acme", api_url=board_server.url)
    response = admin_client.post(
        reverse("admin:jobs_source_changelist"),
        {"action": "scrape_now", "_selected_action": [source.pk]},
    )
    assert response.status_code == 302
    deadline = time.monotonic() + 60
    while (
        ScrapeRun.objects.filter(source=source, status="running").exists()
        or not ScrapeRun.objects.exists()
    ):
        assert time.monotonic() < deadline, "the background scrape did not finish"
        time.sleep(0.1)
    run = ScrapeRun.objects.get(source=source)
    assert (run.status, run.new_jobs) == ("succeeded", 1)
    assert Job.objects.filter(source=source).count() == 1


def test_scrape_now_action_refuses_a_disabled_source_as_the_api_does(
    admin_client: Client,
) -> None:
    source = make_source(token="acme", enabled=False)
    response = admin_client.post(
        reverse("admin:jobs_source_changelist"),
        {"action": "scrape_now", "_selected_action": [source.pk]},
        follow=True,
    )
    assert "is disabled; enable it first" in response.content.decode()
    assert not ScrapeRun.objects.exists()  # nothing started, nothing queued


def test_saving_preferences_in_the_admin_rescores(admin_client: Client) -> None:
    job = make_job(company="Acme", score=0.5)
    prefs = Preferences.load()
    url = reverse("admin:jobs_preferences_change", args=[prefs.pk])
    form = {
        "title_keywords": "", "title_blocklist": "", "boost_keywords": "",
        "excluded_keywords": "", "denied_companies": "acme", "preferred_locations": "",
        "remote_preference": "any", "salary_currency": "USD", "notify_threshold": "0.7",
    }  # fmt: skip
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert job.score == 0.0
    assert Event.objects.filter(type="jobs_rescored").exists()


def test_admin_preferences_take_text_and_the_api_still_reads_them(admin_client: Client) -> None:
    # Once, the admin took a JSON list for the boost keywords, after which
    # GET /api/v1/preferences/ answered 500. Now it takes "keyword: weight" text.
    url = reverse("admin:jobs_preferences_change", args=[Preferences.load().pk])
    form = {
        "title_keywords": "backend, platform", "title_blocklist": "",
        "boost_keywords": "python\ndjango: 2", "excluded_keywords": "", "denied_companies": "",
        "preferred_locations": "Berlin\nRemote", "remote_preference": "any",
        "salary_currency": "eur", "notify_threshold": "0.7",
    }  # fmt: skip
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    prefs = Preferences.load()
    assert prefs.boost_keywords == {"python": 1.0, "django": 2.0}
    assert prefs.title_keywords == ["backend", "platform"]
    assert prefs.salary_currency == "EUR"
    api = admin_client.get("/api/v1/preferences/")
    assert api.status_code == 200
    assert api.json()["boost_keywords"] == {"python": 1.0, "django": 2.0}


def test_admin_refuses_a_bad_weight_next_to_the_field(admin_client: Client) -> None:
    url = reverse("admin:jobs_preferences_change", args=[Preferences.load().pk])
    form = {
        "title_keywords": "", "title_blocklist": "", "boost_keywords": "python: lots",
        "excluded_keywords": "", "denied_companies": "", "preferred_locations": "",
        "remote_preference": "any", "salary_currency": "USD", "notify_threshold": "2",
    }  # fmt: skip
    response = admin_client.post(url, form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "not a number" in errors["boost_keywords"][0]
    assert "from 0 to 1" in errors["notify_threshold"][0]
    assert Preferences.load().boost_keywords == {}


def test_a_stored_list_of_boost_keywords_reads_as_weight_one(admin_client: Client) -> None:
    # Rows written before the rules existed still answer, in the admin and the API.
    Preferences.objects.filter(pk=Preferences.load().pk).update(boost_keywords=["python"])
    response = admin_client.get("/api/v1/preferences/")
    assert response.status_code == 200
    assert response.json()["boost_keywords"] == {"python": 1.0}
    url = reverse("admin:jobs_preferences_change", args=[Preferences.load().pk])
    assert "python: 1" in admin_client.get(url).content.decode()

"""The feed page's server-rendered first paint."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import Preferences, ScrapeRun
from realtime.models import Event
from tests.factories import make_job, make_source

pytestmark = pytest.mark.django_db


def test_feed_renders_visible_jobs_monitor_and_resume_point(client: Client) -> None:
    source = make_source(name="TechCorp")
    make_job(source=source, title="Shown <b>bold</b>", description_text="<script>x()</script>")
    make_job(source=source, title="Hidden one", hidden=True)
    ScrapeRun.objects.create(source=source, status="succeeded", jobs_found=3, new_jobs=2)
    html = client.get("/").content.decode()
    assert "Shown &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "Hidden one" not in html
    assert "3 found, 2 new" in html
    assert f'data-last-event-id="{Event.objects.latest("id").id}"' in html
    assert "<script>x()" not in html


def test_page_assets_are_all_local(client: Client) -> None:
    # With no jobs on the page there is no board link: any absolute URL would be an asset
    # from another host, which would tell that host about the visit.
    html = client.get("/").content.decode()
    assert "http://" not in html
    assert "https://" not in html


def test_job_list_fragment(client: Client) -> None:
    make_job(title="Fragment job")
    response = client.get("/feed/jobs")
    assert response.status_code == 200
    assert "Fragment job" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_with_api_keys_the_feed_needs_a_login(
    client: Client, admin_client: Client, settings
) -> None:
    settings.API_KEYS = frozenset({"k"})
    for path in ("/", "/feed/jobs"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        assert admin_client.get(path).status_code == 200


def test_feed_sends_a_content_security_policy(client: Client) -> None:
    policy = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


# --- the feed's search, sort, filters and paging ----------------------------------------------


def titles(html: str) -> list[str]:
    import re

    return re.findall(r'class="job-title" href="/jobs/\d+/">([^<]*)</a>', html)


def gate(rule: str = "denied_company") -> list[dict[str, object]]:
    return [{"rule": rule, "points": 0.0, "detail": "Acme is on your denied list"}]


def test_feed_searches_sorts_and_filters_like_the_api(client: Client) -> None:
    acme, globex = make_source(name="Acme"), make_source(name="Globex")
    make_job(source=acme, title="Python Developer", score=0.4, workplace="remote")
    make_job(source=acme, title="Go Developer", score=0.9, description_text="Python too")
    make_job(source=globex, title="Sales Lead", score=0.7, starred=True)
    make_job(source=globex, title="Closed Python Role", score=0.8, status="closed")
    make_job(source=globex, title="Gated Python Role", score=0.0, score_reasons=gate())
    assert titles(client.get("/").content.decode()) == [
        "Sales Lead", "Go Developer", "Python Developer",
    ]  # fmt: skip
    assert titles(client.get("/?q=python&ordering=-score").content.decode()) == [
        "Go Developer", "Python Developer",
    ]  # fmt: skip
    everything = "/?q=python&ordering=-score&include_closed=1&include_gated=1"
    assert titles(client.get(everything).content.decode()) == [
        "Go Developer", "Closed Python Role", "Python Developer", "Gated Python Role",
    ]  # fmt: skip
    assert titles(client.get("/?remote=1").content.decode()) == ["Python Developer"]
    assert titles(client.get("/?starred=1").content.decode()) == ["Sales Lead"]
    assert titles(client.get(f"/?source={globex.pk}").content.decode()) == ["Sales Lead"]
    assert titles(client.get("/?min_score=0.8").content.decode()) == ["Go Developer"]
    # The form shows the state it was given, so a reload keeps it.
    html = client.get("/?q=python&ordering=-score&remote=1").content.decode()
    assert 'name="q" value="python"' in html
    assert '<option value="-score" selected>' in html
    assert 'name="remote" value="1" checked' in html


def test_applied_view_and_status_filter(client: Client) -> None:
    make_job(title="Interviewing", application_status="interviewing")
    make_job(title="Just interested", application_status="interested")
    make_job(title="Untouched")
    assert titles(client.get("/?applied=1").content.decode()) == ["Interviewing"]
    assert titles(client.get("/?application_status=interested").content.decode()) == [
        "Just interested"
    ]
    html = client.get("/?applied=1").content.decode()
    assert '<a href="/?applied=1" aria-current="page">Applied</a>' in html


def test_the_api_lists_by_the_same_new_filters(client: Client) -> None:
    make_job(title="Applied one", application_status="offer")
    make_job(title="Gated one", score=0.0, score_reasons=gate("excluded_keyword"))
    make_job(title="Zero without a gate", score=0.0)

    def listed(query: str) -> list[str]:
        return [job["title"] for job in client.get(f"/api/v1/jobs/?{query}").json()["results"]]

    assert listed("applied=true") == ["Applied one"]
    assert listed("gated=true") == ["Gated one"]
    assert sorted(listed("gated=false")) == ["Applied one", "Zero without a gate"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("min_score=lots", "min_score"),
        ("ordering=cost", "ordering"),
        ("ordering=score", "ordering"),
        ("source=x", "source"),
    ],
)
def test_a_bad_filter_is_a_clear_400(client: Client, query: str, name: str) -> None:
    make_job(title="Anything")
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<strong>{name}</strong>" in html
    assert "Anything" not in html


def test_paging_past_the_first_hundred(client: Client) -> None:
    source = make_source()
    for n in range(105):
        make_job(source=source, title=f"Job {n:03d}")
    first = client.get("/").content.decode()
    assert len(titles(first)) == 100
    assert "105 jobs · page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = client.get("/?page=2").content.decode()
    assert sorted(titles(second)) == [f"Job {n:03d}" for n in range(5)]
    assert 'rel="prev" href="?"' in second


def test_live_rows_are_only_those_matching_the_filters(client: Client) -> None:
    match = make_job(title="Python Developer")
    other = make_job(title="Sales Lead")
    response = client.get(f"/feed/jobs?q=python&ids={match.pk},{other.pk}")
    assert response.status_code == 200
    assert titles(response.content.decode()) == ["Python Developer"]
    assert client.get("/feed/jobs?ids=1,x").status_code == 400
    assert client.get("/feed/jobs?min_score=2").status_code == 400


def test_a_card_shows_salary_dates_reasons_and_actions(client: Client) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    now = timezone.now()
    make_job(
        title="Backend Engineer",
        salary_min=Decimal(85000), salary_max=Decimal(105000), salary_currency="EUR",
        salary_interval="year", posted_at=now - timedelta(days=3),
        first_seen=now - timedelta(hours=2), apply_url="https://boards.example/apply/7",
        score_reasons=[{"rule": "title", "points": 0.3, "detail": "title matches backend"}],
        description_text="About us\nWe build things.\nRequirements\nPython\nDjango",
    )  # fmt: skip
    html = client.get("/").content.decode()
    assert "85,000\N{EN DASH}105,000 EUR a year" in html
    assert "posted <time" in html
    assert "3\xa0days ago" in html
    assert "2\xa0hours ago" in html
    assert "title matches backend" in html  # in the card's expander
    assert 'href="https://boards.example/apply/7"' in html
    assert 'data-action="star"' in html
    assert 'data-action="status"' in html
    # Headings and list items no longer run together in the snippet.
    assert "About us · We build things. Requirements · Python · Django" in html


# --- the job page ------------------------------------------------------------------------------


def test_job_page_shows_everything_and_its_history(client: Client) -> None:
    job = make_job(
        title="Platform Engineer", description_html="<h2>Role</h2><ul><li>Kubernetes</li></ul>",
        url="https://boards.example/jobs/9", department="Infra",
        score_reasons=[
            {"rule": "title", "points": 0.3, "detail": "title matches platform"},
            {"rule": "recency", "points": 0.1, "detail": "posted 1 day(s) ago"},
        ],
    )  # fmt: skip
    job.starred = True
    job.save(update_fields=["starred"])
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<h2>Role</h2><ul><li>Kubernetes</li></ul>" in html
    assert "title matches platform" in html
    assert "posted 1 day(s) ago" in html
    assert 'href="https://boards.example/jobs/9"' in html  # Apply falls back to the posting
    assert "Infra" in html
    assert "First seen" in html
    assert "Changed: starred" in html
    assert client.get("/jobs/999999/").status_code == 404


# --- preferences and sources pages -------------------------------------------------------------


def test_preferences_page_saves_text_and_rescores(client: Client) -> None:
    job = make_job(company="Megacorp", score=0.5)
    form = {
        "title_keywords": "backend\nplatform", "title_blocklist": "", "boost_keywords": "python: 2",
        "excluded_keywords": "", "denied_companies": "Megacorp", "preferred_locations": "",
        "remote_preference": "any", "salary_floor": "", "salary_target": "",
        "salary_currency": "usd", "notify_threshold": "0.7",
    }  # fmt: skip
    response = client.post("/preferences/", form, follow=True)
    assert response.status_code == 200
    assert "Preferences saved; 1 job score changed." in response.content.decode()
    prefs = Preferences.load()
    assert prefs.title_keywords == ["backend", "platform"]
    assert prefs.boost_keywords == {"python": 2.0}
    job.refresh_from_db()
    assert job.score == 0.0


def test_preferences_page_shows_errors_next_to_fields_and_saves_nothing(client: Client) -> None:
    form = {
        "title_keywords": "x", "title_blocklist": "", "boost_keywords": "python: lots",
        "excluded_keywords": "", "denied_companies": "", "preferred_locations": "",
        "remote_preference": "any", "salary_floor": "", "salary_target": "",
        "salary_currency": "USD", "notify_threshold": "1.5",
    }  # fmt: skip
    response = client.post("/preferences/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_boost_keywords_errors"' in html
    assert "is not a number" in html
    assert 'id="id_notify_threshold_errors"' in html
    assert Preferences.load().title_keywords == []


def test_form_posts_keep_their_origin(client: Client) -> None:
    # A `no-referrer` page makes browsers send `Origin: null` on its form posts, which CSRF
    # protection refuses; the pages ask for same-origin referrers instead.
    response = client.get("/preferences/")
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in response.content.decode()
    assert "no-referrer" not in response.content.decode()


def test_a_null_origin_post_is_still_refused() -> None:
    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/preferences/")
    token = page.cookies["csrftoken"].value
    response = strict.post(
        "/preferences/", {"csrfmiddlewaretoken": token}, headers={"Origin": "null"}
    )
    assert response.status_code == 403


def test_sources_page_shows_health_and_the_failure_in_words(client: Client) -> None:
    source = make_source(name="Initech", consecutive_failures=2, enabled=False)
    ScrapeRun.objects.create(
        source=source, status="failed", errors=1, error_message="The board answered 404."
    )
    html = client.get("/sources/").content.decode()
    assert "Failing: 2 failed scrapes in a row" in html
    assert "Last failure: The board answered 404." in html
    assert "data-disabled-badge" in html
    assert f'data-scrape-now="{source.pk}"' in html
    assert "Watch a company" in html


def test_navigation_and_event_types_in_words(client: Client) -> None:
    html = client.get("/").content.decode()
    for label, href in [
        ("Feed", "/"), ("Starred", "/?starred=1"), ("Applied", "/?applied=1"),
        ("Sources", "/sources/"), ("Preferences", "/preferences/"), ("Alerts", "/alerts/"),
        ("API docs", "/api/v1/docs/"), ("Admin", "/admin/"),
    ]:  # fmt: skip
        assert f'href="{href}"' in html
        assert f">{label}</a>" in html
    for words in ("New jobs", "Updates", "Scrapes"):
        assert f"> {words}</label>" in html
    assert "> new_job</label>" not in html


def test_job_page_cleans_a_description_written_without_ingest(client: Client) -> None:
    job = make_job(
        description_html='<p>Hi</p><script>alert(1)</script><img src="https://t.example/p">'
    )
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<p>Hi</p>" in html
    assert "alert(1)" not in html
    assert "t.example" not in html

"""The feed page's server-rendered first paint."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import ScrapeRun
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

"""GET /api/v1/jobs/ (filters, ordering, pagination, query count), GET and PATCH one job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from jobs.models import Job, JobStatus
from realtime.models import Event
from tests.factories import make_job, make_source
from tests.jobs.api.helpers import ids, results

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, tzinfo=UTC)
URL = "/api/v1/jobs/"


def detail(job: Job) -> str:
    return f"{URL}{job.pk}/"


@pytest.fixture
def board() -> dict[str, Any]:
    """A small, varied set of jobs on two sources."""
    acme = make_source(name="Acme Robotics")
    globex = make_source(kind="lever", name="Globex")
    jobs = {
        "python": make_job(
            acme,
            title="Senior Python Engineer",
            company="Acme Robotics",
            location="Berlin",
            workplace="hybrid",
            description_text="Django and PostgreSQL",
            score=0.9,
            first_seen=T0,
            posted_at=T0 - timedelta(days=3),
        ),
        "rust": make_job(
            acme,
            title="Rust Developer",
            company="Acme Robotics",
            location="Remote, EU",
            workplace="remote",
            score=0.4,
            starred=True,
            first_seen=T0 + timedelta(hours=1),
            posted_at=T0 - timedelta(days=1),
        ),
        "closed": make_job(
            globex,
            title="Data Engineer",
            company="Globex",
            location="Paris",
            workplace="onsite",
            status=JobStatus.CLOSED,
            score=0.6,
            first_seen=T0 + timedelta(hours=2),
        ),
        "hidden": make_job(
            globex, title="Hidden Python Role", company="Globex", hidden=True, score=0.95,
            first_seen=T0 + timedelta(hours=3),
        ),
    }  # fmt: skip
    jobs["duplicate"] = make_job(
        globex,
        title="Senior Python Engineer",
        company="Acme Robotics",
        duplicate_of=jobs["python"],
        first_seen=T0 + timedelta(hours=4),
    )
    return {"acme": acme, "globex": globex, **jobs}


def pks(board: dict[str, Any], *names: str) -> list[int]:
    return [board[name].pk for name in names]


class TestList:
    def test_default_is_visible_jobs_newest_first(self, api: APIClient, board: dict) -> None:
        response = api.get(URL)
        assert ids(response) == pks(board, "closed", "rust", "python")
        body = response.json()
        assert body["count"] == 3
        row = body["results"][0]
        assert row["source"] == {
            "id": board["globex"].pk,
            "kind": "lever",
            "token": board["globex"].token,
            "name": "Globex",
        }
        assert "description_html" not in row  # list rows stay small

    def test_include_hidden_adds_hidden_jobs_and_duplicates(
        self, api: APIClient, board: dict
    ) -> None:
        response = api.get(URL, {"include_hidden": "true"})
        assert ids(response) == pks(board, "duplicate", "hidden", "closed", "rust", "python")

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"status": "open"}, ["rust", "python"]),
            ({"status": "closed"}, ["closed"]),
            ({"min_score": "0.5"}, ["closed", "python"]),
            ({"min_score": "0.9"}, ["python"]),
            ({"workplace": "remote"}, ["rust"]),
            ({"company": "acme"}, ["rust", "python"]),
            ({"company": "LOBE"}, ["closed"]),
            ({"q": "python"}, ["python"]),
            ({"q": "postgresql"}, ["python"]),  # description_text
            ({"q": "eu remote"}, ["rust"]),  # every word, each in any field
            ({"q": "berlin rust"}, []),
            ({"starred": "true"}, ["rust"]),
            ({"starred": "false"}, ["closed", "python"]),
            ({"status": "open", "min_score": "0.5"}, ["python"]),
        ],
    )
    def test_filters(
        self, api: APIClient, board: dict, params: dict[str, str], expected: list[str]
    ) -> None:
        assert ids(api.get(URL, params)) == pks(board, *expected)

    def test_filter_by_source(self, api: APIClient, board: dict) -> None:
        assert ids(api.get(URL, {"source": board["acme"].pk})) == pks(board, "rust", "python")
        assert ids(api.get(URL, {"source": 999_999})) == []

    def test_hidden_filter_combines_with_include_hidden(self, api: APIClient, board: dict) -> None:
        response = api.get(URL, {"include_hidden": "1", "q": "python"})
        assert ids(response) == pks(board, "duplicate", "hidden", "python")

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("score", ["rust", "closed", "python"]),
            ("-score", ["python", "closed", "rust"]),
            ("first_seen", ["python", "rust", "closed"]),
            ("-first_seen", ["closed", "rust", "python"]),
            # Jobs without a posting date come last in both directions.
            ("posted_at", ["python", "rust", "closed"]),
            ("-posted_at", ["rust", "python", "closed"]),
        ],
    )
    def test_ordering(
        self, api: APIClient, board: dict, ordering: str, expected: list[str]
    ) -> None:
        assert ids(api.get(URL, {"ordering": ordering})) == pks(board, *expected)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"min_score": "abc"}, "min_score"),
            ({"min_score": "2"}, "min_score"),
            ({"min_score": "-0.1"}, "min_score"),
            ({"min_score": "nan"}, "min_score"),
            ({"status": "pending"}, "status"),
            ({"workplace": "moon"}, "workplace"),
            ({"ordering": "title"}, "ordering"),
            ({"source": "acme"}, "source"),
            ({"source": str(2**70)}, "source"),  # no 64-bit column holds it
            ({"starred": "maybe"}, "starred"),
            ({"include_hidden": "perhaps"}, "include_hidden"),
        ],
    )
    def test_bad_filter_values_are_400_naming_the_parameter(
        self, api: APIClient, board: dict, params: dict[str, str], field: str
    ) -> None:
        response = api.get(URL, params)
        assert response.status_code == 400
        assert list(response.json()) == [field]


class TestPagination:
    @pytest.fixture
    def many(self) -> list[Job]:
        source = make_source()
        Job.objects.bulk_create(
            Job(
                source=source,
                external_id=str(n),
                title=f"Job {n}",
                company="Acme",
                url=f"https://example.com/{n}",
                first_seen=T0 + timedelta(minutes=n),
            )
            for n in range(205)
        )
        return list(Job.objects.order_by("-first_seen", "-id"))

    def test_pages_of_50_by_default(self, api: APIClient, many: list[Job]) -> None:
        first = api.get(URL).json()
        assert first["count"] == 205
        assert len(first["results"]) == 50
        assert first["previous"] is None
        assert first["next"].endswith("/api/v1/jobs/?page=2")
        last = api.get(URL, {"page": 5}).json()
        assert [row["id"] for row in last["results"]] == [job.pk for job in many[200:]]
        assert last["next"] is None

    def test_page_size_is_chosen_and_capped(self, api: APIClient, many: list[Job]) -> None:
        page = api.get(URL, {"page_size": 10, "page": 2}).json()
        assert [row["id"] for row in page["results"]] == [job.pk for job in many[10:20]]
        assert len(api.get(URL, {"page_size": 1000}).json()["results"]) == 200

    def test_a_page_past_the_end_is_404(self, api: APIClient, many: list[Job]) -> None:
        assert api.get(URL, {"page": 99}).status_code == 404


@pytest.mark.parametrize("count", [1, 30])
def test_list_query_count_does_not_grow_with_jobs(
    api: APIClient, django_assert_num_queries: Any, count: int
) -> None:
    sources = [make_source() for _ in range(3)]
    for n in range(count):
        make_job(sources[n % 3])
    # One COUNT for the paginator, one SELECT joined with the source.
    with django_assert_num_queries(2):
        response = api.get(URL, {"q": "engineer", "ordering": "-score"})
    assert len(results(response)) == count


class TestDetail:
    def test_shows_description_and_score_reasons(self, api: APIClient) -> None:
        reasons = [{"rule": "title", "points": 0.3, "detail": "title mentions python"}]
        job = make_job(
            description_html="<p>Build <b>things</b></p>",
            description_text="Build things",
            score_reasons=reasons,
            notes="call back",
        )
        body = api.get(detail(job)).json()
        assert body["id"] == job.pk
        assert body["description_html"] == "<p>Build <b>things</b></p>"
        assert body["description_text"] == "Build things"
        assert body["score_reasons"] == reasons
        assert body["notes"] == "call back"
        assert body["source"]["id"] == job.source_id

    def test_hidden_jobs_have_a_detail_too(self, api: APIClient) -> None:
        job = make_job(hidden=True)
        assert api.get(detail(job)).status_code == 200

    @pytest.mark.parametrize("pk", ["999999", "abc", "0.5", "-1", str(2**70)])
    def test_unknown_job_is_a_json_404(self, api: APIClient, pk: str) -> None:
        response = api.get(f"{URL}{pk}/")
        assert response.status_code == 404
        assert set(response.json()) == {"detail"}


class TestPatch:
    def events(self) -> list[dict[str, Any]]:
        return [e.data for e in Event.objects.filter(type="job_updated").order_by("id")]

    def test_changes_user_fields_and_emits_job_updated(self, api: APIClient) -> None:
        job = make_job()
        response = api.patch(
            detail(job), {"starred": True, "notes": "ask about remote"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["starred"] is True
        assert response.json()["notes"] == "ask about remote"
        job.refresh_from_db()
        assert (job.starred, job.notes) == (True, "ask about remote")
        [event] = self.events()
        assert event["job_id"] == job.pk
        assert event["changes"] == ["notes", "starred"]

    def test_every_user_field(self, api: APIClient) -> None:
        job = make_job()
        body = {"hidden": True, "starred": True, "notes": "n", "application_status": "applied"}
        assert api.patch(detail(job), body, format="json").status_code == 200
        job.refresh_from_db()
        assert (job.hidden, job.starred, job.notes, job.application_status) == (
            True,
            True,
            "n",
            "applied",
        )
        assert self.events()[0]["changes"] == ["application_status", "hidden", "notes", "starred"]
        # Back to "not applied" (the blank choice).
        api.patch(detail(job), {"application_status": ""}, format="json")
        job.refresh_from_db()
        assert job.application_status == ""

    def test_same_values_write_nothing_and_emit_nothing(self, api: APIClient) -> None:
        job = make_job(starred=True)
        assert api.patch(detail(job), {"starred": True}, format="json").status_code == 200
        assert self.events() == []

    @pytest.mark.parametrize(
        ("body", "refused"),
        [
            ({"title": "CEO"}, ["title"]),
            ({"starred": True, "score": 1.0}, ["score"]),
            ({"hidden": True, "id": 5, "source": 1}, ["id", "source"]),
            ({"whatever": 1}, ["whatever"]),
            ({"application_status": "hired"}, ["application_status"]),
            ({"starred": "very"}, ["starred"]),
            ({"notes": "x" * 20_001}, ["notes"]),
            ({"application_status": "bogus", "title": "x"}, ["application_status", "title"]),
        ],
    )
    def test_refused_fields_are_400_naming_them_and_change_nothing(
        self, api: APIClient, body: dict[str, Any], refused: list[str]
    ) -> None:
        job = make_job(title="Engineer", score=0.5)
        before = Job.objects.filter(pk=job.pk).values().get()
        response = api.patch(detail(job), body, format="json")
        assert response.status_code == 400
        assert sorted(response.json()) == refused
        assert Job.objects.filter(pk=job.pk).values().get() == before
        assert self.events() == []

    def test_read_only_field_message_says_what_is_writable(self, api: APIClient) -> None:
        job = make_job()
        message = api.patch(detail(job), {"title": "x"}, format="json").json()["title"][0]
        assert "application_status, hidden, notes, starred" in message

    def test_body_must_be_a_json_object(self, api: APIClient) -> None:
        job = make_job()
        response = api.patch(detail(job), [1, 2], format="json")
        assert response.status_code == 400
        response = api.patch(detail(job), "{not json", content_type="application/json")
        assert response.status_code == 400

    def test_form_bodies_are_refused(self, api: APIClient) -> None:
        job = make_job()
        response = api.patch(
            detail(job), "starred=true", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 415
        assert not Job.objects.get(pk=job.pk).starred

    def test_put_and_delete_are_not_offered(self, api: APIClient) -> None:
        job = make_job()
        assert api.put(detail(job), {"starred": True}, format="json").status_code == 405
        assert api.delete(detail(job)).status_code == 405
        assert Job.objects.filter(pk=job.pk).exists()

    def test_unknown_job_is_404(self, api: APIClient) -> None:
        assert api.patch(f"{URL}999999/", {"starred": True}, format="json").status_code == 404

"""Who may call the API: anyone without configured keys; with keys, a key holder (either
header, or `?api_key=`, the socket's rule) or a logged-in session, whose writes need CSRF."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from rest_framework.test import APIClient

from jobs.models import Job, Source
from tests.factories import make_job

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/jobs/"


@pytest.fixture
def keys() -> Iterator[None]:
    with override_settings(API_KEYS=frozenset({"k", "second-key"})):
        yield


def test_open_without_keys(api: APIClient) -> None:
    assert api.get(JOBS).status_code == 200
    job = make_job()
    assert api.patch(f"{JOBS}{job.pk}/", {"starred": True}, format="json").status_code == 200


def test_a_stray_key_is_ignored_when_no_keys_are_configured(api: APIClient) -> None:
    assert api.get(JOBS, HTTP_AUTHORIZATION="Bearer whatever").status_code == 200


@pytest.mark.usefixtures("keys")
class TestWithKeys:
    @pytest.mark.parametrize(
        "path",
        [JOBS, "/api/v1/sources/", "/api/v1/runs/", "/api/v1/preferences/", f"{JOBS}1/"],
    )
    def test_no_credentials_is_401_with_a_bearer_challenge(self, api: APIClient, path: str) -> None:
        response = api.get(path)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_writes_without_credentials_change_nothing(self, api: APIClient) -> None:
        job = make_job()
        response = api.patch(f"{JOBS}{job.pk}/", {"starred": True}, format="json")
        assert response.status_code == 401
        response = api.post("/api/v1/sources/", {"kind": "lever", "token": "x"}, format="json")
        assert response.status_code == 401
        assert not Job.objects.get(pk=job.pk).starred
        assert Source.objects.count() == 1

    @pytest.mark.parametrize(
        "headers",
        [
            {"Authorization": "Bearer k"},
            {"Authorization": "bearer second-key"},
            {"X-API-Key": "k"},
        ],
    )
    def test_a_valid_key_in_either_header(self, api: APIClient, headers: dict[str, str]) -> None:
        assert api.get(JOBS, headers=headers).status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [
            {"Authorization": "Bearer nope"},
            {"Authorization": "Basic aWQ6cHc="},
            {"X-API-Key": "K"},
            {"X-API-Key": "k-and-more"},
        ],
    )
    def test_a_wrong_key_is_401(self, api: APIClient, headers: dict[str, str]) -> None:
        response = api.get(JOBS, headers=headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_key_in_the_query_string_counts_as_on_the_socket(self, api: APIClient) -> None:
        assert api.get(JOBS, {"api_key": "k"}).status_code == 200
        assert api.get(JOBS, {"api_key": "wrong"}).status_code == 401
        # The first way present is the one judged: a wrong header loses a right query key.
        assert api.get(JOBS, {"api_key": "k"}, HTTP_X_API_KEY="wrong").status_code == 401

    def test_key_writes_need_no_csrf(self) -> None:
        job = make_job()
        client = Client(enforce_csrf_checks=True)
        response = client.patch(
            f"{JOBS}{job.pk}/",
            {"starred": True},
            content_type="application/json",
            HTTP_X_API_KEY="k",
        )
        assert response.status_code == 200
        assert Job.objects.get(pk=job.pk).starred

    def test_the_key_is_never_logged(
        self, api: APIClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.DEBUG):
            api.get(JOBS, HTTP_AUTHORIZATION="Bearer wrong-secret-value")
            api.get(JOBS, HTTP_AUTHORIZATION="Bearer k")
        assert "wrong-secret-value" not in caplog.text
        assert "Bearer k" not in caplog.text

    def test_schema_and_docs_stay_readable(self, api: APIClient) -> None:
        assert api.get("/api/v1/schema/").status_code == 200
        assert api.get("/api/v1/docs/").status_code == 200


@pytest.mark.usefixtures("keys")
class TestSession:
    @pytest.fixture
    def user(self) -> User:
        return User.objects.create_user("ada", password="pw-not-used-elsewhere")

    def test_a_logged_in_session_may_read(self, user: User) -> None:
        client = Client()
        client.force_login(user)
        assert client.get(JOBS).status_code == 200

    def test_session_writes_need_the_csrf_token(self, user: User) -> None:
        job = make_job()
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        url = f"{JOBS}{job.pk}/"

        refused = client.patch(url, {"starred": True}, content_type="application/json")
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]
        assert not Job.objects.get(pk=job.pk).starred

        client.get("/admin/login/")  # any page that sets the CSRF cookie
        token = client.cookies["csrftoken"].value
        accepted = client.patch(
            url, {"starred": True}, content_type="application/json", HTTP_X_CSRFTOKEN=token
        )
        assert accepted.status_code == 200
        assert Job.objects.get(pk=job.pk).starred

    def test_anonymous_session_is_401(self) -> None:
        assert Client().get(JOBS).status_code == 401

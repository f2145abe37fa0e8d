"""Security properties on a real daphne, as an attacker or a careless client would meet them:
browser origins, API keys (and keeping them out of the logs), the admin login, and the
per-address connection cap and message rate under a flood from one address."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from django.urls import path
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from tests.conftest import ROOT, Daphne, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5
PING = '{"type": "ping"}'
# Distinctive keys, so that finding one in a log cannot be a coincidence.
KEY_ONE = "k1-7f3a9c2e5b8d4a61"
KEY_TWO = "k2-c0ffee5eed1234ab"


async def recv(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "heartbeat":
            return message


async def close_code_after(ws: ClientConnection) -> int | None:
    """Read until the server closes the socket; its close code."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await recv(ws)
    return ws.close_code


async def active_connections(server: Daphne) -> int:
    async with httpx.AsyncClient(timeout=WAIT) as client:
        response = await client.get(f"{server.http_url}/api/v1/health")
    return int(response.json()["active_connections"])


async def wait_for_active(server: Daphne, wanted: int, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while (count := await active_connections(server)) != wanted:
        assert time.monotonic() < deadline, f"active_connections is {count}, not {wanted}"
        await asyncio.sleep(0.1)


# --- browser origins ------------------------------------------------------------------------------
# One rule (jobsentinel/origins.py) for the socket and for session writes (CSRF): the server's own
# origin exactly (scheme, host and port from the request's Host) or one listed in CORS_ORIGINS.

CORS = "https://dash.example"


def origin_table(server: Daphne) -> list[tuple[str | None, bool]]:
    other_port = server.port + 1 if server.port < 65535 else server.port - 1
    host = server.authority.rsplit(":", 1)[0]
    return [
        (f"http://{server.authority}", True),  # the page the server itself serves
        (f"http://{host}:{other_port}", False),  # any other port of the same host
        (f"http://{host}", False),  # no port: port 80, another origin
        (f"https://{server.authority}", False),  # the other scheme
        (CORS, True),  # CORS_ORIGINS, exactly
        ("http://dash.example", False),  # allowed over https only
        ("https://dash.example.evil.example", False),  # an allowed origin as a prefix
        ("https://evil.example", False),
        ("null", False),  # sandboxed iframes, file:// pages
        ("http://localhost.evil.example", False),
        ("file://", False),
        (None, True),  # no Origin at all: not a browser (wscat, scripts)
    ]


async def socket_admits(server: Daphne, origin: str | None) -> bool:
    try:
        async with connect(server.ws_url, origin=Origin(origin) if origin else None) as ws:
            assert (await recv(ws))["type"] == "connected", origin
            await ws.send(PING)
            assert (await recv(ws))["type"] == "pong", origin
            return True
    except InvalidStatus as denied:
        status = denied.response.status_code
    assert status == 403, origin
    return False


@pytest.mark.parametrize("bind", ["127.0.0.1", "::1"])
async def test_socket_origin_table(daphne_factory, bind: str) -> None:
    server: Daphne = daphne_factory(bind=bind, CORS_ORIGINS=CORS)
    results = {origin: await socket_admits(server, origin) for origin, _ in origin_table(server)}
    assert results == dict(origin_table(server))
    await wait_for_active(server, 0)


def logged_in_client(server: Daphne) -> httpx.Client:
    from django.contrib.auth.models import User

    User.objects.create_superuser("owner", "owner@example.com", "a-long-passphrase-1")
    client = httpx.Client(base_url=server.http_url, timeout=WAIT)
    client.get("/admin/login/")  # the CSRF cookie
    response = client.post(
        "/admin/login/",
        data={
            "username": "owner",
            "password": "a-long-passphrase-1",
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    assert response.status_code == 302, response.text[:500]
    return client


@pytest.mark.parametrize("bind", ["127.0.0.1", "::1"])
def test_session_api_origin_table(daphne_factory, bind: str) -> None:
    from tests.factories import make_job

    server: Daphne = daphne_factory(bind=bind, CORS_ORIGINS=CORS)
    job = make_job()
    results = {}
    client = logged_in_client(server)
    try:
        for origin, _ in origin_table(server):
            headers = {"X-CSRFToken": client.cookies["csrftoken"]}
            if origin is not None:
                headers["Origin"] = origin
            response = client.patch(
                f"/api/v1/jobs/{job.pk}/", json={"starred": True}, headers=headers
            )
            assert response.status_code in {200, 403}, (origin, response.text[:300])
            results[origin] = response.status_code == 200
    finally:
        client.close()
    assert results == dict(origin_table(server))


# --- API keys -------------------------------------------------------------------------------------


def keyed_server(daphne_factory: Any) -> Daphne:
    server: Daphne = daphne_factory(JOBSENTINEL_API_KEYS=f"{KEY_ONE},{KEY_TWO}")
    return server


async def test_socket_without_a_valid_key_is_refused_with_4401(daphne_factory) -> None:
    server = keyed_server(daphne_factory)
    attempts: list[tuple[str, dict[str, str]]] = [
        ("", {}),
        ("?api_key=", {}),
        ("?api_key=wrong-key", {}),
        (f"?api_key={KEY_ONE[:-1]}", {}),  # a prefix of a real key
        ("", {"Authorization": "Bearer wrong-key"}),
        ("", {"Authorization": f"Basic {KEY_ONE}"}),
        ("", {"X-API-Key": "wrong-key"}),
        # Both given: the header is the one checked, so a wrong header loses a right query key.
        (f"?api_key={KEY_TWO}", {"Authorization": "Bearer wrong-key"}),
    ]
    for query, headers in attempts:
        async with connect(server.ws_url + query, additional_headers=headers) as ws:
            first = await recv(ws)
            assert first["type"] == "error", (query, headers)
            assert first["data"]["code"] == "unauthorized"
            assert await close_code_after(ws) == 4401
    await wait_for_active(server, 0)


async def test_bearer_x_api_key_and_query_key_are_accepted(daphne_factory) -> None:
    server = keyed_server(daphne_factory)
    ways: list[tuple[str, dict[str, str]]] = [
        (f"?api_key={KEY_TWO}", {}),
        ("", {"Authorization": f"Bearer {KEY_ONE}"}),
        ("", {"Authorization": f"bearer {KEY_TWO}"}),
        (f"?events=new_job&api_key={KEY_ONE}", {}),
        ("", {"X-API-Key": KEY_TWO}),  # the REST API's header works on the socket too
    ]
    for query, headers in ways:
        async with connect(server.ws_url + query, additional_headers=headers) as ws:
            assert (await recv(ws))["type"] == "connected", (query, headers)
            await ws.send(PING)
            assert (await recv(ws))["type"] == "pong"


def assert_not_logged(server: Daphne, *secrets: str) -> None:
    log = server.log()
    assert '"GET /api/v1/health" 200' in log  # the access log is on, and was read
    for secret in secrets:
        assert secret not in log, f"{secret!r} appears in the server log"


@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
async def test_keys_sent_to_the_socket_never_reach_the_server_log(
    daphne_factory, log_level: str
) -> None:
    """Every way a key can travel to the socket, accepted or refused (and in headers to the
    REST API): the log, daphne's access log and the app's own, never holds it."""
    server: Daphne = daphne_factory(
        JOBSENTINEL_API_KEYS=f"{KEY_ONE},{KEY_TWO}", JOBSENTINEL_LOG_LEVEL=log_level
    )
    wrong = "k3-wrongwrongwrong99"
    for query, headers in [
        (f"?api_key={KEY_TWO}", {}),
        (f"?last_event_id=0&api_key={KEY_ONE}", {}),
        (f"?api_key={wrong}", {}),
        ("", {"Authorization": f"Bearer {KEY_ONE}"}),
        ("", {"Authorization": f"Bearer {wrong}"}),
    ]:
        async with connect(server.ws_url + query, additional_headers=headers) as ws:
            await recv(ws)
            with contextlib.suppress(ConnectionClosed):
                await ws.send(PING)
                await recv(ws)
    # Refused at the handshake (foreign Origin) with a key in the URL.
    url = f"{server.ws_url}?api_key={KEY_TWO}"
    with pytest.raises(InvalidStatus):
        await connect(url, origin=Origin("https://x.example"))
    async with httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as client:
        bearer = {"Authorization": f"Bearer {KEY_ONE}"}
        assert (await client.get("/api/v1/jobs/", headers=bearer)).status_code == 200
        assert (await client.get("/api/v1/jobs/", headers={"X-API-Key": wrong})).status_code == 401
    await wait_for_active(server, 0)
    await asyncio.sleep(0.3)  # let the last lines reach the file
    assert "WSCONNECT /api/v1/ws/jobs" in server.log()
    assert_not_logged(server, KEY_ONE, KEY_TWO, wrong, "api_key=")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/ws/jobs", 426), ("/api/v1/jobs/", 200)],
    ids=["socket-url-over-http", "rest-api"],
)
def test_a_key_in_an_http_query_string_stays_out_of_the_log(
    daphne_factory, path: str, status: int
) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_API_KEYS=f"{KEY_ONE},{KEY_TWO}")
    response = httpx.get(f"{server.http_url}{path}?api_key={KEY_ONE}", timeout=WAIT)
    assert response.status_code == status
    time.sleep(0.3)  # let the access log line reach the file
    assert_not_logged(server, KEY_ONE)


# --- the admin ------------------------------------------------------------------------------------


def test_admin_needs_a_login(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    with httpx.Client(base_url=server.http_url, timeout=WAIT) as client:
        for path in [
            "/admin/",
            "/admin/jobs/job/",
            "/admin/auth/user/",
            "/admin/jobs/job/1/change/",
        ]:
            response = client.get(path)
            assert response.status_code == 302, path
            assert response.headers["location"].startswith("/admin/login/?next="), path
        login = client.get("/admin/login/")
        assert login.status_code == 200
        assert 'name="password"' in login.text
        # A wrong password is refused and stays on the login page.
        token = client.cookies["csrftoken"]
        wrong = client.post(
            "/admin/login/",
            data={"username": "admin", "password": "wrong", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{server.http_url}/admin/login/"},
        )
        assert wrong.status_code == 200
        assert "Please enter the correct username and password" in wrong.text
        assert client.get("/admin/").status_code == 302


# --- floods from one address ----------------------------------------------------------------------


def each_cap(limit: int) -> pytest.MarkDecorator:
    """The test once per connection cap, set to `limit` (as `env`), with a refusal's `reason`."""
    return pytest.mark.parametrize(
        ("env", "reason"),
        [
            (
                {"JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP": str(limit)},
                "too many connections from this address",
            ),
            ({"JOBSENTINEL_WS_MAX_CONNECTIONS": str(limit)}, "server connection limit reached"),
        ],
        ids=["per-address", "per-server"],
    )


@each_cap(20)
async def test_connection_cap_holds_under_a_flood(
    daphne_factory, env: dict[str, str], reason: str
) -> None:
    server: Daphne = daphne_factory(**env)

    async def open_one() -> tuple[ClientConnection, dict[str, Any]]:
        ws = await connect(server.ws_url, open_timeout=30)
        return ws, await recv(ws, timeout=30)

    sockets = await asyncio.gather(*(open_one() for _ in range(60)))
    try:
        admitted = [ws for ws, first in sockets if first["type"] == "connected"]
        refused = [(ws, first) for ws, first in sockets if first["type"] != "connected"]
        assert len(admitted) == 20
        assert len(refused) == 40
        for ws, first in refused:
            assert first["type"] == "error"
            assert first["data"]["code"] == "over_capacity"
            assert first["data"]["message"] == reason
            assert await close_code_after(ws) == 1013
        assert await active_connections(server) == 20
        for ws in admitted:  # the admitted ones work
            await ws.send(PING)
        for ws in admitted:
            assert (await recv(ws))["type"] == "pong"
    finally:
        await asyncio.gather(*(ws.close() for ws, _ in sockets))
    await wait_for_active(server, 0)
    async with connect(server.ws_url) as again:  # the slots were given back
        assert (await recv(again))["type"] == "connected"


async def test_message_rate_holds_under_a_flood(daphne_factory) -> None:
    per_minute = 50
    server: Daphne = daphne_factory(JOBSENTINEL_WS_RATE_PER_MINUTE=str(per_minute))
    async with connect(server.ws_url) as flooder, connect(server.ws_url) as bystander:
        assert (await recv(flooder))["type"] == "connected"
        assert (await recv(bystander))["type"] == "connected"
        started = time.monotonic()
        sent = 0
        with contextlib.suppress(ConnectionClosed):
            for _ in range(500):
                await flooder.send(PING)
                sent += 1
        replies = []
        with contextlib.suppress(ConnectionClosed):
            while True:
                replies.append(await recv(flooder))
        elapsed = time.monotonic() - started
        assert flooder.close_code == 4429

        kinds = [r["type"] if r["type"] != "error" else r["data"]["code"] for r in replies]
        assert set(kinds) <= {"pong", "rate_limited"}, set(kinds)
        pongs = kinds.count("pong")
        # The bucket starts full and refills continuously (one message per 60/50 s).
        assert kinds[:per_minute] == ["pong"] * per_minute
        assert pongs <= per_minute + int(elapsed * per_minute / 60), (pongs, elapsed)
        # Then the warnings: ten refused messages in a row, and the eleventh closes.
        assert kinds[-10:] == ["rate_limited"] * 10
        limited = next(r for r in replies if r["type"] == "error")
        assert limited["data"]["retry_after"] > 0
        assert sent > len(replies)  # the flood was cut off, not served

        # The other client on the same address is unaffected, and a new one gets in.
        await bystander.send(PING)
        assert (await recv(bystander))["type"] == "pong"
    async with connect(server.ws_url) as newcomer:
        assert (await recv(newcomer))["type"] == "connected"
        await newcomer.send(PING)
        assert (await recv(newcomer))["type"] == "pong"


# --- exposure: serve refusals and debug pages --------------------------------------------------


def run_serve(**env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_a_public_host_name_without_keys() -> None:
    """Behind a reverse proxy: loopback bind, a public name in DJANGO_ALLOWED_HOSTS."""
    result = run_serve(
        DJANGO_ALLOWED_HOSTS="jobs.example.com,127.0.0.1",
        JOBSENTINEL_API_KEYS=None,
        JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC=None,
        HOST="127.0.0.1",
    )
    assert result.returncode == 1, result.stderr
    assert "DJANGO_ALLOWED_HOSTS names jobs.example.com" in result.stderr
    assert "JOBSENTINEL_API_KEYS" in result.stderr
    assert "JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC" in result.stderr


@pytest.mark.parametrize(
    ("allowed_hosts", "bind", "keys", "allow", "refused"),
    [
        (["127.0.0.1", "localhost", "[::1]"], "127.0.0.1", set(), False, False),
        ([".localhost", "127.0.0.2"], "::1", set(), False, False),
        (["jobs.example.com"], "127.0.0.1", set(), False, True),
        (["*"], "127.0.0.1", set(), False, True),
        (["jobs.example.com"], "127.0.0.1", {"k"}, False, False),
        (["jobs.example.com"], "127.0.0.1", set(), True, False),
        (["127.0.0.1"], "0.0.0.0", {"k"}, False, True),  # DEBUG on (the test settings' value)
    ],
)
def test_the_exposure_rule(
    allowed_hosts: list[str], bind: str, keys: set[str], allow: bool, refused: bool
) -> None:
    from django.test import override_settings

    from jobsentinel.exposure import serve_refusal

    with override_settings(
        ALLOWED_HOSTS=allowed_hosts,
        API_KEYS=frozenset(keys),
        ALLOW_UNPROTECTED_PUBLIC=allow,
        DEBUG=True,
    ):
        assert (serve_refusal(bind=bind) is not None) == refused


def test_debug_pages_are_shown_to_local_hosts_only(daphne_factory) -> None:
    server: Daphne = daphne_factory(
        DJANGO_DEBUG="true",
        DJANGO_ALLOWED_HOSTS="jobs.example.com,127.0.0.1",
        JOBSENTINEL_API_KEYS=KEY_ONE,
    )
    with httpx.Client(base_url=server.http_url, timeout=WAIT) as client:
        local = client.get("/no-such-page")
        assert local.status_code == 404
        assert "URLconf" in local.text  # the owner, at the machine, gets the debug page
        public = client.get("/no-such-page", headers={"Host": "jobs.example.com"})
        assert public.status_code == 404
        assert public.headers["content-type"].startswith("text/plain")
        assert "URLconf" not in public.text
        stranger = client.get("/", headers={"Host": "evil.example"})  # not an allowed host
        assert stranger.status_code == 400
        assert "ALLOWED_HOSTS" not in stranger.text
        assert "Traceback" not in stranger.text


def boom(request: Any) -> Any:
    raise RuntimeError("a secret detail")


urlpatterns = [path("boom", boom)]


@pytest.mark.parametrize(("host", "debug_page"), [("127.0.0.1", True), ("jobs.example.com", False)])
def test_a_server_error_shows_its_details_to_local_hosts_only(host: str, debug_page: bool) -> None:
    from django.test import Client, override_settings

    with override_settings(
        DEBUG=True, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1", "jobs.example.com"]
    ):
        response = Client(raise_request_exception=False).get("/boom", HTTP_HOST=host)
    assert response.status_code == 500
    assert ("a secret detail" in response.content.decode()) == debug_page


# --- admin login throttling ---------------------------------------------------------------------


def login_attempt(client: httpx.Client, password: str) -> int:
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/",
        data={
            "username": "owner",
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    return response.status_code


def test_admin_login_locks_an_address_out_after_ten_failures(daphne_factory) -> None:
    from django.contrib.auth.models import User

    cooloff_seconds = 12  # long enough for a loaded machine to make the next attempts within it
    server: Daphne = daphne_factory(JOBSENTINEL_LOGIN_COOLOFF_MINUTES=str(cooloff_seconds / 60))
    User.objects.create_superuser("owner", "owner@example.com", "a-long-passphrase-1")
    attacker = httpx.Client(base_url=server.http_url, timeout=WAIT)
    # Another address on this machine (all of 127.0.0.0/8 is loopback): not locked out.
    neighbour = httpx.Client(
        base_url=server.http_url,
        timeout=WAIT,
        transport=httpx.HTTPTransport(local_address="127.0.0.2"),
    )
    try:
        statuses = [login_attempt(attacker, f"guess-{n}") for n in range(10)]
        assert statuses[:9] == [200] * 9  # the login page again, with its error
        assert statuses[9] == 429  # the tenth failure locks the address out
        assert login_attempt(attacker, "a-long-passphrase-1") == 429  # even the right password
        assert login_attempt(neighbour, "a-long-passphrase-1") == 302  # per address
        time.sleep(cooloff_seconds + 1)
        assert login_attempt(attacker, "a-long-passphrase-1") == 302  # after the cool-off
    finally:
        attacker.close()
        neighbour.close()

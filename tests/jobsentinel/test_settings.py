"""Settings: typed env readers, and start-up refusing bad or unsafe configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from jobsentinel.env import env_bool, env_float, env_int, env_list, env_optional, env_str
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("off", False), ("0", False), ("", False)],
)
def test_env_bool_reads_common_spellings(raw: str, expected: bool) -> None:
    assert env_bool("FLAG", not expected, environ={"FLAG": raw}) is expected


def test_env_readers_use_defaults_when_unset() -> None:
    assert env_bool("FLAG", True, environ={}) is True
    assert env_int("N", 7, environ={}) == 7
    assert env_float("F", 1.5, environ={}) == 1.5
    assert env_str("S", "x", environ={"S": "  "}) == "x"
    assert env_optional("S", environ={"S": ""}) is None
    assert env_list("L", ["a"], environ={}) == ["a"]
    assert env_list("L", ["a"], environ={"L": " b, ,c "}) == ["b", "c"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: env_int("PORT", 1, environ={"PORT": "eighty"}),
            "PORT='eighty' is not a whole number",
        ),
        (
            lambda: env_int("PORT", 1, minimum=1, maximum=65535, environ={"PORT": "70000"}),
            "PORT=70000 is above",
        ),
        (lambda: env_int("N", 1, minimum=1, environ={"N": "0"}), "N=0 is below"),
        (
            lambda: env_bool("DJANGO_DEBUG", True, environ={"DJANGO_DEBUG": "maybe"}),
            "DJANGO_DEBUG='maybe' is not a boolean",
        ),
        (lambda: env_float("F", 1.0, environ={"F": "fast"}), "F='fast' is not a number"),
    ],
)
def test_bad_values_name_the_variable(call, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        call()


def start_up(**env: str) -> subprocess.CompletedProcess[str]:
    """Run `manage.py check` with only these variables (plus PATH) in a fresh process."""
    import os

    base = {"PATH": os.environ["PATH"], "JOBSENTINEL_DATA_DIR": str(ROOT / "var" / "settings-test")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_start_with_no_service_at_all() -> None:
    result = start_up()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "abc"}, "PORT='abc' is not a whole number"),
        ({"DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL scheme is not supported"),
        ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
        ({"DJANGO_DEBUG": "false"}, "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off"),
        ({"JOBSENTINEL_WS_HEARTBEAT_SECONDS": "soon"}, "JOBSENTINEL_WS_HEARTBEAT_SECONDS"),
        ({"CORS_ORIGINS": "example.com"}, "CORS_ORIGINS entry 'example.com' must be a full origin"),
    ],
)
def test_bad_configuration_stops_start_up_naming_the_variable(
    env: dict[str, str], message: str
) -> None:
    result = start_up(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_off_with_a_key_starts() -> None:
    result = start_up(
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY="k" * 50, DJANGO_ALLOWED_HOSTS="jobs.example"
    )
    assert result.returncode == 0, result.stderr


def test_redis_url_selects_the_redis_layer_without_idle_drops(settings) -> None:
    import importlib
    import os

    from jobsentinel import settings as module

    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/3"
    try:
        reloaded = importlib.reload(module)
        layer = reloaded.CHANNEL_LAYERS["default"]
        assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
        assert layer["CONFIG"]["hosts"][0]["socket_timeout"] is None
        assert layer["CONFIG"]["capacity"] >= 1000
    finally:
        del os.environ["REDIS_URL"]
        importlib.reload(module)

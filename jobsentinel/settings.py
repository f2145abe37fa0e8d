"""The one settings module. Every value comes from the environment (or an optional `.env`).

With nothing set it runs locally with no service at all: SQLite under `JOBSENTINEL_DATA_DIR`
and the in-memory channel layer ("embedded mode"). `DATABASE_URL` and `REDIS_URL` switch to
PostgreSQL and Redis. Bad values stop start-up with a message naming the variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from jobsentinel import __version__
from jobsentinel.env import env_bool, env_float, env_int, env_list, env_optional, env_str

# Lets typed generics such as `admin.ModelAdmin[Job]` work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
# The process environment wins over `.env`, so a one-off `PORT=9000 make run` works.
load_dotenv(BASE_DIR / ".env", override=False)

VERSION = __version__

DATA_DIR = Path(env_str("JOBSENTINEL_DATA_DIR", str(BASE_DIR / "var"))).expanduser().resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", True)
_secret = env_optional("DJANGO_SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`"
        )
    _secret = "insecure-local-development-key-" + "x" * 24
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CORS_ORIGINS = env_list("CORS_ORIGINS", [])
for _origin in CORS_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"CORS_ORIGINS entry {_origin!r} must be a full origin such as https://example.com"
        )
CSRF_TRUSTED_ORIGINS = list(CORS_ORIGINS)

HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "huey.contrib.djhuey",
    "axes",
    "jobs",
    "realtime",
]

MIDDLEWARE = [
    # Debug pages only for a local Host (jobsentinel/exposure.py): first, so it sees every page.
    "jobsentinel.exposure.LocalDebugPagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Django's CSRF check with the origin rule the socket uses (jobsentinel/origins.py).
    "jobsentinel.origins.OriginCsrfMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lock-out into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jobsentinel.urls"
ASGI_APPLICATION = "jobsentinel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str | None) -> dict[str, Any]:
    if url is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "jobsentinel.sqlite3",
            # The server and a `manage.py scrape` write at the same time: WAL lets readers
            # through, IMMEDIATE takes the write lock up front instead of failing mid-transaction,
            # and the timeout makes a writer wait rather than say "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file (not memory) so test subprocesses (daphne, manage.py) share it; per process
            # so that two test runs on one machine never share one.
            "TEST": {"NAME": DATA_DIR / f"test-jobsentinel-{os.getpid()}.sqlite3"},
        }
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from None
    if config.get("ENGINE") not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme is not supported ({config.get('ENGINE')}); "
            "use postgres://... or sqlite:///path"
        )
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Per process, so that two test runs against one server never share a test database.
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{os.getpid()}"}
    return config


DATABASES = {"default": _database(env_optional("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_optional("REDIS_URL")
if REDIS_URL is not None and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss:// or unix://"
    )
# How many undelivered messages a channel may hold before the layer refuses more. The default
# of 100 silently drops a burst such as a first scrape of a large board.
CHANNEL_CAPACITY = 10_000
# Keys in Redis start with this: instances that share one Redis keep apart with their own.
CHANNEL_PREFIX = env_str("JOBSENTINEL_CHANNEL_PREFIX", "jobsentinel")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "capacity": CHANNEL_CAPACITY,
                "expiry": 60,
                "prefix": CHANNEL_PREFIX,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY, "expiry": 60},
        }
    }

# Background work (scheduled scrapes, "scrape now", alert delivery) runs on huey, in
# `manage.py worker`, never in threads of the web server. Embedded mode keeps the queue in a
# SQLite file in the data dir; with Redis, workers on several machines share one queue. The queue
# is named after the channel prefix, so instances sharing a Redis or a data dir keep apart.
QUEUE_NAME = env_str("JOBSENTINEL_QUEUE_NAME", CHANNEL_PREFIX)
if REDIS_URL:
    HUEY: dict[str, Any] = {
        "huey_class": "huey.RedisHuey",
        "name": QUEUE_NAME,
        "url": REDIS_URL,
        # huey runs tasks inline when DEBUG is on unless told otherwise: never here.
        "immediate": False,
        "utc": True,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": QUEUE_NAME,
        "filename": str(DATA_DIR / f"{QUEUE_NAME}-queue.sqlite3"),
        "immediate": False,
        "utc": True,
    }
# Threads of `manage.py worker`: each runs one task at a time (a scrape mostly waits on the
# network, so more threads than cores is right); fetches are bounded by SCRAPE_CONCURRENCY.
HUEY["consumer"] = {"workers": env_int("JOBSENTINEL_WORKER_THREADS", 16, minimum=1, maximum=64),
                    "worker_type": "thread"}  # fmt: skip

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins from one address, even
# the right password is refused until the cool-off has passed. The address is the one Django
# sees in REMOTE_ADDR: daphne's TCP peer (or the X-Forwarded-For of a trusted proxy when daphne
# runs with --proxy-headers); no request header can pick another.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("JOBSENTINEL_LOGIN_FAILURE_LIMIT", 10, minimum=1, maximum=10)
AXES_COOLOFF_TIME = timedelta(
    minutes=env_float("JOBSENTINEL_LOGIN_COOLOFF_MINUTES", 15.0, minimum=0.01)
)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The feed page sends visitors here when API keys make it private.
LOGIN_URL = "admin:login"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Serve app static files straight from the apps: a self-hosted install needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "jobs.api.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    # Keys first: its challenge makes a missing credential a 401 (not 403), and a key
    # request never meets the session's CSRF check. A session write does (SessionAuthentication
    # enforces CSRF for logged-in users).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "jobs.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["jobs.api.permissions.ApiAccess"],
    # JSON bodies only: a cross-site HTML form (which needs no CORS preflight) cannot post
    # to the API, which matters while it is open on loopback without keys.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "JobSentinel API",
    "DESCRIPTION": (
        "Jobs found on the watched boards, the sources, scrape runs and scoring preferences. "
        "When the server has API keys configured, send one as `Authorization: Bearer KEY` or "
        "`X-API-Key: KEY` (or use a logged-in session, with a CSRF token for writes); "
        "without keys the API is open. Live changes: the WebSocket at /api/v1/ws/jobs."
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes the API, not anyone's data: readable without a key, so the docs
    # page works in any browser.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Separate request and response components: read-only fields are not inputs.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.JobStatus",
        "ScrapeStatusEnum": "jobs.models.ScrapeStatus",
        "SourceKindEnum": "jobs.models.SourceKind",
        "WorkplaceEnum": "jobs.vocabulary.Workplace.choices",
        "ApplicationStatusEnum": "jobs.models.ApplicationStatus",
        "SalaryIntervalEnum": "jobs.vocabulary.SalaryInterval.choices",
        "RemotePreferenceEnum": "jobs.vocabulary.RemotePreference.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "jobs.api.schema.forbid_unknown_request_fields",
    ],
}

# --- JobSentinel ------------------------------------------------------------------------------
API_KEYS = frozenset(env_list("JOBSENTINEL_API_KEYS", []))
ALLOW_UNPROTECTED_PUBLIC = env_bool("JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC", False)
WS_HEARTBEAT_SECONDS = env_float("JOBSENTINEL_WS_HEARTBEAT_SECONDS", 30.0, minimum=0.1)
WS_RATE_PER_MINUTE = env_int("JOBSENTINEL_WS_RATE_PER_MINUTE", 100, minimum=1)
WS_RATE_PER_HOUR = env_int("JOBSENTINEL_WS_RATE_PER_HOUR", 1000, minimum=1)
WS_MAX_CONNECTIONS = env_int("JOBSENTINEL_WS_MAX_CONNECTIONS", 10_000, minimum=1)
WS_MAX_CONNECTIONS_PER_IP = env_int("JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP", 100, minimum=1)
# The app's own limit for one client message; daphne's (set in `make run`) is higher so that
# an oversized message gets a proper 1009 close from us instead of a dropped TCP connection.
WS_MAX_MESSAGE_BYTES = env_int("JOBSENTINEL_WS_MAX_MESSAGE_BYTES", 16 * 1024, minimum=256)
# Bytes waiting to be sent to one socket or event stream before it counts as a stuck reader and
# is closed (a socket with 4408).
WS_MAX_BACKLOG_BYTES = env_int("JOBSENTINEL_WS_MAX_BACKLOG_BYTES", 1024 * 1024, minimum=4096)
# How long a client may stay over that bound (a burst it is catching up on) before it counts as
# stuck; past 8 times the bound it is stuck at once.
WS_SLOW_READER_SECONDS = env_float("JOBSENTINEL_WS_SLOW_READER_SECONDS", 5.0, minimum=0.5)
EVENT_RETENTION_DAYS = env_int("JOBSENTINEL_EVENT_RETENTION_DAYS", 7, minimum=1)
SCRAPE_INTERVAL = env_int("JOBSENTINEL_SCRAPE_INTERVAL", 900, minimum=10)
# What one board may send: bytes of one answer after decompression, bytes of all its answers in
# one scrape (pages, details), and seconds for one request with its retries (a board dripping
# bytes never trips the read timeout). The defaults are jobs.scrapers.http's DEFAULT_* (a test
# keeps them in step; settings import no app).
MAX_RESPONSE_BYTES = env_int("JOBSENTINEL_MAX_RESPONSE_BYTES", 20 * 1024 * 1024, minimum=1024)
MAX_BOARD_BYTES = env_int("JOBSENTINEL_MAX_BOARD_BYTES", 100 * 1024 * 1024, minimum=1024)
FETCH_DEADLINE_SECONDS = env_float("JOBSENTINEL_FETCH_DEADLINE_SECONDS", 120.0, minimum=1.0)
# ...and for all requests of one board (pages, details), pacing included.
BOARD_DEADLINE_SECONDS = env_float("JOBSENTINEL_BOARD_DEADLINE_SECONDS", 900.0, minimum=1.0)
# Web server processes `serve` starts on one listening socket.
WEB_WORKERS_MAX = 64
WEB_WORKERS = env_int("JOBSENTINEL_WEB_WORKERS", 1, minimum=1, maximum=WEB_WORKERS_MAX)
# Set by `serve` for each web process it starts, never by hand: the inherited descriptor of
# the server-wide connection table (realtime/connections.py) and the process's row in it.
# Unset (plain `daphne`, the tests' in-process servers): caps and counts are per process.
_table_fd = env_int("JOBSENTINEL_CONNECTION_TABLE_FD", -1, minimum=-1)
WEB_CONNECTION_TABLE_FD: int | None = None if _table_fd < 0 else _table_fd
WEB_WORKER_INDEX = env_int("JOBSENTINEL_WEB_WORKER_INDEX", 1, minimum=1, maximum=WEB_WORKERS_MAX)
# Board fetches in flight at once in one process (sources on different hosts; one host is
# always asked one request at a time, at its pace). A cycle spends most of its time waiting on
# boards, so at N at once it can be at most about N times faster than one board after another:
# 16 makes a cycle of hundreds of boards a matter of seconds. (The worker's threads match it:
# each scheduled scrape is a task.)
SCRAPE_CONCURRENCY = env_int("JOBSENTINEL_SCRAPE_CONCURRENCY", 16, minimum=1, maximum=64)
# A running scrape renews its run's lease every third of this; a run whose lease ran out (its
# process died) no longer blocks its source and is closed as interrupted by the next sweep.
RUN_LEASE_SECONDS = env_int("JOBSENTINEL_RUN_LEASE_SECONDS", 60, minimum=2, maximum=3600)
# How often the worker sweeps: due sources enqueued, expired leases closed, the event log pruned.
SCHEDULE_TICK_SECONDS = env_float("JOBSENTINEL_SCHEDULE_TICK_SECONDS", 30.0, minimum=0.5)
# Embedded mode: how often the relay looks for events committed by other processes when no
# writer has rung its doorbell (realtime/doorbell.py): a safety net, not the usual latency.
# Each look is a query: 0.5 s keeps an idle server near 0.5% of a core (0.05 s cost 4.4%).
RELAY_POLL_SECONDS = env_float("JOBSENTINEL_RELAY_POLL_SECONDS", 0.5, minimum=0.01)

# --- Alerts (alerts/: channels, rules, deliveries; sent by the worker) ------------------------
INSTALLED_APPS.append("alerts")
EMAIL_URL = env_optional("JOBSENTINEL_EMAIL_URL")
if EMAIL_URL is not None and not EMAIL_URL.startswith(("smtp://", "smtp+tls://", "smtps://")):
    raise ImproperlyConfigured(
        "JOBSENTINEL_EMAIL_URL must look like smtp://host:port, smtp+tls://user:pass@host:port "
        "or smtps://user:pass@host:port"
    )
EMAIL_FROM = env_str("JOBSENTINEL_EMAIL_FROM", "JobSentinel <jobsentinel@localhost>")
# How often the worker looks for new events to alert on, and one attempt's time limit.
ALERTS_POLL_SECONDS = env_float("JOBSENTINEL_ALERTS_POLL_SECONDS", 2.0, minimum=0.1)
ALERTS_TIMEOUT_SECONDS = env_float("JOBSENTINEL_ALERTS_TIMEOUT_SECONDS", 10.0, minimum=0.5)
_enum_names: dict[str, str] = SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]  # type: ignore[assignment]
_enum_names.update(
    {
        "AlertChannelKindEnum": "alerts.models.ChannelKind",
        "AlertJobScopeEnum": "alerts.models.JobScope",
        "AlertModeEnum": "alerts.models.Mode",
        "AlertReasonEnum": "alerts.models.Reason",
        "DeliveryKindEnum": "alerts.models.DeliveryKind",
        "DeliveryStatusEnum": "alerts.models.DeliveryStatus",
    }
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("JOBSENTINEL_LOG_LEVEL", "INFO").upper()},
    # axes says "BEGIN" on every start and logs each failed login; lock-outs are warnings.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

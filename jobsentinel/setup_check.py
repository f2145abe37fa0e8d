"""Refuse to run a command against a database that has not been set up, with a message that
says what to do, instead of a traceback (and, for SQLite, an empty database file left behind
that makes the next attempt fail the same way)."""

from __future__ import annotations

from pathlib import Path

# Commands that work, or set things up, without a migrated database.
NEEDS_NO_SCHEMA = frozenset(
    {
        "migrate", "makemigrations", "help", "version", "check", "showmigrations",
        "sqlmigrate", "squashmigrations", "shell", "dbshell", "test", "collectstatic",
        "findstatic", "startapp", "startproject", "diffsettings", "optimizemigration",
    }
)  # fmt: skip

ADVICE = (
    "The database is not set up yet ({where}). Run `make run` (it sets everything up, then "
    "serves) or `python manage.py migrate`, then try again."
)


def command_name(argv: list[str]) -> str | None:
    return next((arg for arg in argv[1:] if not arg.startswith("-")), None)


def needs_schema(argv: list[str]) -> bool:
    command = command_name(argv)
    return command is not None and command not in NEEDS_NO_SCHEMA


def missing_sqlite_file(argv: list[str]) -> str | None:
    """The advice to print when the command needs a schema and the SQLite file does not exist.
    Checked before Django connects: connecting is what would create the empty file."""
    if not needs_schema(argv):
        return None
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return None
    name = str(database["NAME"])
    if name == ":memory:" or name.startswith("file:") or Path(name).exists():
        return None
    return ADVICE.format(where=f"no database file at {name}")


def unapplied_migrations() -> str | None:
    """The advice to print when the database exists but lacks migrations; None when it is set
    up or cannot be inspected (the original error is then the better message)."""
    try:
        from django.db import DEFAULT_DB_ALIAS, connections
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        return None
    if not plan:
        return None
    return ADVICE.format(where=f"{len(plan)} migration{'s' if len(plan) != 1 else ''} not applied")

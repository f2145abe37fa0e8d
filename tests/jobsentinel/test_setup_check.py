"""`manage.py` on a data dir whose database is not set up: a clear message, no traceback, and
no empty database file left behind."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_manage, subprocess_env

ADVICE = "Run `make run` (it sets everything up, then serves) or `python manage.py migrate`"


def fresh_env(data_dir: Path) -> dict[str, str]:
    return subprocess_env(JOBSENTINEL_DATA_DIR=str(data_dir), DATABASE_URL=None, REDIS_URL=None)


def test_a_command_on_a_new_data_dir_says_what_to_do(tmp_path: Path) -> None:
    result = run_manage("add_source", "greenhouse", "acme", env=fresh_env(tmp_path))
    assert result.returncode == 1
    assert "The database is not set up yet" in result.stderr
    assert ADVICE in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "jobsentinel.sqlite3").exists()


def test_an_empty_database_file_gets_the_same_advice(tmp_path: Path) -> None:
    (tmp_path / "jobsentinel.sqlite3").touch()
    result = run_manage("scrape", env=fresh_env(tmp_path))
    assert result.returncode == 1
    assert "migrations not applied" in result.stderr
    assert ADVICE in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_still_sets_it_up(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    assert run_manage("migrate", "--noinput", env=env).returncode == 0
    result = run_manage("scrape", env=env)
    assert "not set up" not in result.stderr
    assert result.returncode == 0, result.stderr

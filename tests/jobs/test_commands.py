"""add_source and scrape, through call_command and as real subprocesses."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Job, JobStatus, ScrapeRun, Source
from realtime.models import Event
from tests.boards import BoardServer, greenhouse_job
from tests.conftest import ROOT, subprocess_env


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
class TestAddSource:
    def test_adds_a_board(self) -> None:
        output = run("add_source", "greenhouse", "acme", "--name", "Acme Robotics")
        source = Source.objects.get()
        assert (source.kind, source.token, source.name, source.api_url) == (
            "greenhouse",
            "acme",
            "Acme Robotics",
            "",
        )
        assert "Watching Acme Robotics" in output

    def test_name_defaults_to_the_token_and_api_url_is_kept(self) -> None:
        run("add_source", "lever", "acme", "--api-url", "https://api.eu.lever.co/")
        source = Source.objects.get()
        assert source.name == "acme"
        assert source.api_url == "https://api.eu.lever.co"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("monster", "acme"), "unknown kind 'monster'"),
            (("greenhouse", "../etc"), "may contain only letters, digits"),
            (("greenhouse", ""), "must not be empty"),
            (("greenhouse", "acme", "--api-url", "ftp://mirror"), "is not an http(s) URL"),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(
        self, args: tuple[str, ...], message: str
    ) -> None:
        with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
            run("add_source", *args)
        assert not Source.objects.exists()

    def test_duplicate_is_refused(self) -> None:
        run("add_source", "ashby", "acme")
        with pytest.raises(CommandError, match="already watched"):
            run("add_source", "ashby", "acme")
        assert Source.objects.count() == 1


@pytest.fixture
def acme(board_server: BoardServer) -> Source:
    board_server.board.jobs["acme"] = [
        greenhouse_job(1, "Backend Engineer"),
        greenhouse_job(2, "Data Engineer"),
    ]
    return Source.objects.create(
        kind="greenhouse", token="acme", name="Acme", api_url=board_server.url
    )


@pytest.mark.django_db(transaction=True)
class TestScrape:
    def test_scrapes_and_summarises_per_source(self, acme: Source) -> None:
        output = run("scrape")
        assert "Acme (greenhouse:acme): 2 found, 2 new, 0 updated, 0 closed, 0 unchanged" in output
        assert Job.objects.filter(source=acme).count() == 2
        run_row = ScrapeRun.objects.get()
        assert (run_row.status, run_row.jobs_found, run_row.new_jobs, run_row.errors) == (
            "succeeded",
            2,
            2,
            0,
        )
        assert [e.type for e in Event.objects.order_by("id")] == [
            "scrape_started",
            "new_job",
            "new_job",
            "scrape_completed",
        ]

    def test_dry_run_changes_nothing_and_says_what_would(self, acme: Source) -> None:
        before = Event.objects.count()
        output = run("scrape", "--dry-run")
        assert "2 found, 2 new" in output
        assert "dry run" in output
        assert not Job.objects.exists()
        assert not ScrapeRun.objects.exists()
        assert Event.objects.count() == before

    def test_source_selection(self, acme: Source, board_server: BoardServer) -> None:
        Source.objects.create(
            kind="greenhouse", token="other", name="Other", api_url=board_server.url
        )
        board_server.board.jobs["other"] = []
        run("scrape", "--source", "greenhouse:acme")
        assert list(ScrapeRun.objects.values_list("source__token", flat=True)) == ["acme"]
        with pytest.raises(CommandError, match="no source with token 'nope'"):
            run("scrape", "--source", "nope")

    def test_unknown_board_fails_its_run_and_the_command(self, board_server: BoardServer) -> None:
        Source.objects.create(
            kind="greenhouse", token="ghost", name="Ghost", api_url=board_server.url
        )
        with pytest.raises(CommandError, match="every selected source failed"):
            run("scrape")
        failed = ScrapeRun.objects.get()
        assert failed.status == "failed"
        assert failed.errors == 1
        assert failed.error_message
        assert Event.objects.filter(type="scrape_completed").get().data["errors"] == 1

    def test_one_failure_among_several_is_not_a_command_failure(
        self, acme: Source, board_server: BoardServer
    ) -> None:
        Source.objects.create(
            kind="greenhouse", token="ghost", name="Ghost", api_url=board_server.url
        )
        output = run("scrape")
        assert "Ghost (greenhouse:ghost): failed:" in output
        assert ScrapeRun.objects.filter(status="succeeded").count() == 1

    def test_garbage_answer_keeps_the_jobs(self, acme: Source, board_server: BoardServer) -> None:
        run("scrape")
        board_server.board.status, board_server.board.body = 200, "<html>maintenance</html>"
        for _ in range(3):
            with pytest.raises(CommandError):
                run("scrape")
        assert Job.objects.filter(status=JobStatus.OPEN).count() == 2
        assert ScrapeRun.objects.filter(status="failed").count() == 3

    def test_every_must_be_positive(self) -> None:
        with pytest.raises(CommandError, match="--every must be at least 1"):
            run("scrape", "--every", "0")


def _ignoring_sigint() -> None:
    # What a non-interactive shell does to a background job (`make test &`): the child starts
    # with SIGINT ignored, and Python then installs no handler of its own. This is how the
    # scrape used to miss Ctrl-C in full runs of the suite started that way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _scrape_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "scrape", *args],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignoring_sigint,
    )


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_ends_the_run_as_interrupted(acme: Source, board_server: BoardServer) -> None:
    # Far longer than the wait below: a scrape that ignored the signal cannot pass by finishing.
    board_server.board.delay = 300
    process = _scrape_process()
    deadline = time.monotonic() + 60
    # The run exists and its fetch is at the board: the handler was installed before both.
    while not ScrapeRun.objects.exists() or not board_server.board.requests:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the scrape never started"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    interrupted = ScrapeRun.objects.get()
    assert f"run {interrupted.pk} recorded as interrupted" in stderr
    assert interrupted.status == "interrupted"
    assert Event.objects.filter(type="scrape_completed").get().data["status"] == "interrupted"


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_between_cycles_reports_no_run(acme: Source) -> None:
    process = _scrape_process("--every", "600")
    deadline = time.monotonic() + 60
    while not ScrapeRun.objects.filter(status="succeeded").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first cycle never finished"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "no scrape was in progress" in stderr
    assert "recorded as interrupted" not in stderr
    assert list(ScrapeRun.objects.values_list("status", flat=True)) == ["succeeded"]


@pytest.mark.django_db(transaction=True)
def test_an_unexpected_error_fails_the_run_not_the_command(acme: Source, monkeypatch) -> None:
    import jobs.scraping

    def explode(**kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(jobs.scraping, "ingest_postings", explode)
    with pytest.raises(CommandError, match="every selected source failed"):
        run("scrape")
    failed = ScrapeRun.objects.get()
    assert failed.status == "failed"
    assert "ZeroDivisionError" in failed.error_message

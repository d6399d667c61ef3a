"""`hoering responses ...` as staff and scripts run it: separate processes, real flows."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
from rich.console import Console

from cli import output
from cli import responses as cli_responses
from services.intake_report import ImportReport, ReportFollower
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.intake_helpers import DOCX_TYPE as DOCX
from tests.intake_helpers import circulated_hearing, docx_bytes, message

DATA = Path(__file__).parents[1] / "data" / "mail"


@pytest.fixture
def cli_env(flow_env, engine):
    circulated_hearing(engine)
    return dict(flow_env)


def _mail_folder(folder: Path) -> Path:
    folder.mkdir()
    raws = {
        "01-helse-vest.eml": message(
            attachments=[("Høringssvar.docx", docx_bytes("Helse Vest støtter forslaget."), DOCX)]
        ),
        "02-sent.eml": message(
            sender="forsker@mh.ntnu.no",
            message_id="<ntnu@x>",
            body="NTNU har ingen merknader.",
            date="Fri, 31 May 2024 22:10:00 +0000",
        ),
        "03-uten-sak.eml": message(
            sender="ola@gmail.com", subject="Læringsmål", body="Et innspill.", message_id="<o@x>"
        ),
        "04-igjen.eml": message(date="Thu, 30 May 2024 14:06:00 +0200"),  # same Message-ID
        "05-søppel.eml": b"\x00\x01\x02\x03",
    }
    for name, raw in raws.items():
        (folder / name).write_bytes(raw)
    return folder


def test_import_then_list_assign_and_see_who_answered(cli_env, tmp_path):
    folder = _mail_folder(tmp_path / "innboks")
    result = run_hoering(
        "responses", "import", str(folder), "--as-of", "2024-06-03", "--json", env=cli_env
    )
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["counts"] == {"matched": 2, "unmatched": 1, "duplicate": 1, "quarantined": 1}
    assert report["read"] == len(report["messages"]) == 5
    by_file = {Path(m["source"]).name: m for m in report["messages"]}
    assert by_file["01-helse-vest.eml"]["tracking_number"] == "24/750-2"
    assert by_file["02-sent.eml"] | {"source": None} == {
        "source": None,
        "outcome": "matched",
        "case": "24/750",
        "tracking_number": "24/750-3",
        "response_id": by_file["02-sent.eml"]["response_id"],
        "late": True,
        "reason": None,
        "raw_sha256": by_file["02-sent.eml"]["raw_sha256"],
    }
    assert by_file["04-igjen.eml"]["outcome"] == "duplicate"
    assert "Message-ID" in by_file["04-igjen.eml"]["reason"]
    assert by_file["05-søppel.eml"]["reason"].startswith("not an e-mail")
    assert Path(report["report"]).is_file()

    again = run_hoering(
        "responses", "import", str(folder), "--as-of", "2024-06-04", "--json", env=cli_env
    )
    assert again.code == 0, again.stderr
    assert again.json()["counts"] == {
        "matched": 0,
        "unmatched": 0,
        "duplicate": 5,
        "quarantined": 0,
    }

    listed = run_hoering("responses", "list", "24/750", "--json", env=cli_env).json()
    assert [r["tracking_number"] for r in listed] == ["24/750-2", "24/750-3"]
    assert listed[0]["attachments"][0]["text"] == "Helse Vest støtter forslaget."
    assert listed[1]["late"] is True and listed[1]["organisation"].startswith("NTNU")

    people = run_hoering("responses", "list", "24/750", env=cli_env)
    assert people.code == 0 and "Helse Vest støtter forslaget." in people.stdout

    [waiting] = run_hoering("responses", "unmatched", "--json", env=cli_env).json()
    assigned = run_hoering(
        "responses",
        "assign",
        str(waiting["id"]),
        "24/750",
        "--as-of",
        "2024-06-05",
        "--json",
        env=cli_env,
    )
    assert assigned.code == 0, assigned.stderr
    assert assigned.json()["tracking_number"] == "24/750-4"
    assert run_hoering("responses", "unmatched", "--json", env=cli_env).json() == []

    [held] = run_hoering("responses", "quarantine", "--json", env=cli_env).json()
    assert Path(held["raw_path"]).read_bytes() == b"\x00\x01\x02\x03"

    status = run_hoering("hearing", "status", "24/750", "--json", env=cli_env).json()
    answered = {r["stakeholder"] for r in status["recipients"] if r["answered"]}
    assert answered == {"helse-vest-rhf", "ntnu-medisin"}


def test_a_real_world_mailbox_imports_without_a_crash(cli_env):
    result = run_hoering(
        "responses", "import", str(DATA), "--as-of", "2024-06-03", "--json", env=cli_env
    )
    assert result.code == 0, result.stderr
    report = result.json()
    files = sorted(DATA.glob("*.eml"))
    assert report["read"] == len(files) == sum(report["counts"].values())
    assert sorted(Path(m["source"]).name for m in report["messages"]) == [p.name for p in files]


def test_mistakes_end_in_one_line_and_exit_code_2(cli_env, tmp_path, monkeypatch):
    assert_one_line_error(
        run_hoering("responses", "import", str(tmp_path / "mangler"), env=cli_env),
        "no such file or folder",
    )
    assert_one_line_error(
        run_hoering("responses", "import", "imaps://u:pw@127.0.0.1/INBOX", env=cli_env),
        "holds a password",
    )
    no_password = {**cli_env, "HOERING_IMAP_PASSWORD": "", "HOERING_IMAP_PASSWORD_FILE": ""}
    assert_one_line_error(
        run_hoering("responses", "import", "imaps://u@127.0.0.1:1/INBOX", env=no_password),
        "HOERING_IMAP_PASSWORD",
    )
    unreachable = {**cli_env, "HOERING_IMAP_PASSWORD": "x", "HOERING_IMAP_TIMEOUT_S": "5"}
    assert_one_line_error(
        run_hoering("responses", "import", "imaps://u@127.0.0.1:1/INBOX", env=unreachable),
        "cannot connect",
    )
    assert_one_line_error(
        run_hoering("responses", "import", str(DATA), "--as-of", "2024-13-01", env=cli_env),
        "--as-of",
    )
    assert_one_line_error(run_hoering("responses", "list", "24/999", env=cli_env), "24/999")
    assert_one_line_error(
        run_hoering("responses", "assign", "1", "24-750", env=cli_env), "hyphen", "24/750"
    )
    assert_one_line_error(
        run_hoering("responses", "assign", "77", "24/750", env=cli_env), "no response 77"
    )


def test_the_progress_bar_follows_the_report(tmp_path, monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(output, "stderr", Console(file=screen, force_terminal=True, width=80))
    path = tmp_path / "report.jsonl"
    report = ImportReport(path)

    def importing() -> None:
        report.write("source", source="x", total=20)
        for number in range(20):
            report.write("message", outcome="matched", source=f"m{number}")

    thread = threading.Thread(target=importing)
    follower = ReportFollower(path)
    thread.start()
    cli_responses.follow_with_progress(thread, follower, show=True, interval=0.01)
    assert (follower.total, follower.read) == (20, 20)
    assert "importing" in screen.getvalue() and "/20" in screen.getvalue()


def test_no_progress_bar_when_asked_for_none(tmp_path, monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(output, "stderr", Console(file=screen, force_terminal=True, width=80))
    path = tmp_path / "report.jsonl"
    ImportReport(path).write("source", source="x", total=50)
    thread = threading.Thread(target=lambda: None)
    thread.start()
    cli_responses.follow_with_progress(thread, ReportFollower(path), show=False)
    assert screen.getvalue() == ""


def test_the_json_report_is_valid_json_when_nothing_was_read(tmp_path, capsys):
    path = tmp_path / "report.jsonl"
    ImportReport(path).write("start", sources=[])
    cli_responses._print_import_json(
        {"read": 0, "counts": dict.fromkeys(cli_responses.OUTCOMES, 0)}, path
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["messages"] == [] and printed["read"] == 0

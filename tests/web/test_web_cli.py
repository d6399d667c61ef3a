"""`hoering web add-user` writes an argon2 hash the desk accepts; `hoering web` serves the
desk in the foreground until stopped; bad input ends in one line."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from services.desk_users import check_password, load_users
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.installation_helpers import free_port


def test_add_user_writes_an_argon2_hash(tmp_path, monkeypatch):
    users = tmp_path / "users.yaml"
    env = {"HOERING_DATA_DIR": str(tmp_path), "HOERING_WEB_USERS_FILE": str(users)}
    monkeypatch.setattr(sys, "stdin", io.StringIO("hemmelig-passord\n"))
    result = run_hoering(
        "web", "add-user", "marie", "--role", "saksbehandler", "--password-stdin", env=env
    )
    assert result.code == 0, result.stderr
    text = users.read_text(encoding="utf-8")
    assert "$argon2id$" in text and "hemmelig-passord" not in text
    loaded = load_users(users)
    assert check_password(loaded, "marie", "hemmelig-passord") is not None
    assert check_password(loaded, "marie", "feil") is None


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--role", "sjef", "--no-password"), "--role: 'sjef' is no role"),
        (("--role", "leser", "--password-stdin"), "shorter than 8"),
    ],
)
def test_add_user_refuses_bad_input_in_one_line(tmp_path, monkeypatch, args, fragment):
    users = tmp_path / "users.yaml"
    monkeypatch.setattr(sys, "stdin", io.StringIO("kort\n"))
    env = {"HOERING_DATA_DIR": str(tmp_path), "HOERING_WEB_USERS_FILE": str(users)}
    assert_one_line_error(run_hoering("web", "add-user", "lars", *args, env=env), fragment)
    assert not users.exists()


def test_a_users_file_with_a_bad_role_is_refused_in_one_line(tmp_path):
    users = tmp_path / "users.yaml"
    users.write_text("users:\n  - name: marie\n    role: sjef\n", encoding="utf-8")
    with pytest.raises(Exception) as refused:
        load_users(users)
    assert "users.yaml" in str(refused.value) and "line 3" in str(refused.value)


def test_hoering_web_serves_the_desk_until_stopped(hoering_env, tmp_path):
    run = run_hoering("init", env=hoering_env)
    assert run.code == 0, run.stderr
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "web", "--port", str(port)],
        env={**os.environ, **hoering_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None, process.stderr.read() if process.poll() is not None else ""
        assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/"
        assert (tmp_path / "var" / "web-secret").exists()  # made on first start
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode is not None

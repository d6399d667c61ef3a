"""The end-of-session check finds the processes this suite started, and only those."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import SESSION_MARK, _marked_processes


def test_a_process_started_by_the_suite_is_found_until_it_is_stopped():
    mark = os.environ[SESSION_MARK]
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        found = _marked_processes(mark)
        assert any(line.startswith(f"{child.pid}:") for line in found), found
    finally:
        child.kill()
        child.wait()
    assert not any(line.startswith(f"{child.pid}:") for line in _marked_processes(mark))


def test_a_process_of_another_session_is_not_counted():
    env = {**os.environ, SESSION_MARK: "another-session"}
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    try:
        found = _marked_processes(os.environ[SESSION_MARK])
        assert not any(line.startswith(f"{child.pid}:") for line in found), found
    finally:
        child.kill()
        child.wait()

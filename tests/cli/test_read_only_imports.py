"""Read-only commands import only what they use: none of the heavy libraries
(spreadsheets, numpy, PDF, Word, HTML, Prefect, templates) is loaded to show a status,
a list or the next ID (issue 13, point 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.services.test_review_storage import CASE, hearing_with_responses

HEAVY = ("openpyxl", "numpy", "pypdf", "docx", "html2text", "prefect", "jinja2")
READ_ONLY = [
    ["hearing", "status", CASE],
    ["hearing", "list"],
    ["ids", "next", "BLS"],
    ["ids", "list"],
    ["goals", "list"],
    ["review", "list", CASE],
    ["review", "history", CASE],
    ["responses", "list", CASE],
    ["outbox"],
]
PROBE = """
import json, sys
from cli.main import run
code = run(sys.argv[1:])
heavy = sorted(m for m in json.loads(HEAVY) if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_read_only_commands_load_no_heavy_library(engine, tmp_path, hoering_env):
    hearing_with_responses(engine, tmp_path)  # a hearing with responses: rows to show
    probe = PROBE.replace("HEAVY", repr(json.dumps(HEAVY)))
    loaded = {}
    for args in READ_ONLY:
        result = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            env={**os.environ, **hoering_env},
            timeout=120,
        )
        assert result.returncode == 0, (args, result.stderr)
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["code"] == 0, (args, result.stderr)
        loaded[" ".join(args)] = report["heavy"]
    assert loaded == {" ".join(args): [] for args in READ_ONLY}

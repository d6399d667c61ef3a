"""Every file a person writes goes through one loader: the most specific problem first
(a misspelt field named at its own line, with the field it resembles), and no YAML
anchor or alias, so that a "billion laughs" file ends in one line at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from config.settings import default_data_dir
from domain.decisions import parse_decisions
from domain.errors import UserError
from domain.hearing_spec import parse_hearing_spec
from domain.review_file import parse_review_file
from domain.yaml_lines import SafeLineLoader
from services import reference_files, review
from services.reference_files import load_reference_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "hearings"
SPEC_TEXT = (EXAMPLES / "24-750-kliniske-studier.yaml").read_text(encoding="utf-8")
DECISIONS_TEXT = (EXAMPLES / "24-750-vedtak.yaml").read_text(encoding="utf-8")
REVIEW_TEXT = (EXAMPLES / "24-750-review.yaml").read_text(encoding="utf-8")

# Nine levels of nine: 387 420 489 "lol"s once expanded (the 9-line file of issue 11).
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)
MB = 1024 * 1024


def _line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def _refusal(parse: Callable[[], object]) -> str:
    with pytest.raises(UserError) as refused:
        parse()
    message = str(refused.value)
    assert "\n" not in message
    return message


# --- the most specific problem first ------------------------------------------------------


def test_a_misspelt_spec_field_is_named_at_its_line_not_as_the_missing_one():
    text = SPEC_TEXT.replace("deadline: 2024-05-31", "dedline: 2024-05-31")
    message = _refusal(lambda: parse_hearing_spec(text, "spec.yaml"))
    line = _line_of(text, "dedline:")
    assert message.startswith(
        f"spec.yaml line {line}, dedline: unknown field 'dedline'; did you mean deadline?"
    ), message
    assert "(1 more problem after this one)" in message  # the missing deadline comes after


def test_a_misspelt_decisions_field_suggests_the_known_one():
    text = DECISIONS_TEXT.replace("decided_on:", "decidet_on:", 1)
    message = _refusal(lambda: parse_decisions(text, "vedtak.yaml"))
    assert message.startswith(f"vedtak.yaml line {_line_of(text, 'decidet_on:')}, decidet_on:")
    assert "did you mean decided_on?" in message


def test_a_misspelt_kind_or_choice_suggests_the_known_one():
    text = SPEC_TEXT.replace("kind: new_goal", "kind: new_gaol", 1)
    message = _refusal(lambda: parse_hearing_spec(text, "spec.yaml"))
    assert message.startswith(f"spec.yaml line {_line_of(text, 'new_gaol')}, items[0].kind:")
    assert "unknown kind 'new_gaol'; did you mean new_goal?" in message
    text = DECISIONS_TEXT.replace("decision: adopt\n", "decision: adpot\n", 1)
    message = _refusal(lambda: parse_decisions(text, "vedtak.yaml"))
    assert "'adpot' is not allowed; did you mean adopt?" in message


def test_a_misspelt_review_field_and_csv_column_suggest_the_known_one():
    text = REVIEW_TEXT.replace("    stance: støtter\n", "    stnace: støtter\n", 1)
    message = _refusal(lambda: parse_review_file(text, "r.yaml"))
    assert message.startswith(f"r.yaml line {_line_of(text, 'stnace:')}, reviews[0].stnace:")
    assert "did you mean stance?" in message
    csv_text = "response;stnace\n24/750-1;støtter\n"
    message = _refusal(lambda: parse_review_file(csv_text, "r.csv"))
    assert message.startswith("r.csv line 1: unknown column 'stnace'; did you mean stance?")


def test_a_csv_review_row_error_names_its_line():
    csv_text = 'response,campaign,note\n24/750-1,ja,"to\nlinjer"\n\n24/750-2,kanskje,\n'
    message = _refusal(lambda: parse_review_file(csv_text, "r.csv"))
    assert message.startswith("r.csv line 5, reviews[1].campaign: must be true or false"), message


def test_yaml_and_csv_review_files_give_the_same_rows():
    yaml_text = 'case: "24/750"\nreviews:\n  - response: 24/750-3\n    stance: støtter\n'
    yaml_text += "    items: [KIR]\n    campaign: ja\n"
    case, from_yaml = parse_review_file(yaml_text, "r.yaml")
    _, from_csv = parse_review_file("id;stance;items;campaign\n24/750-3;støtter;KIR;ja\n", "r.csv")
    assert case == "24/750"
    shape = [(r.response, r.stance, r.items, r.campaign) for r in from_yaml]
    assert shape == [(r.response, r.stance, r.items, r.campaign) for r in from_csv]
    assert shape == [("24/750-3", "støtter", ("KIR",), True)]
    assert from_yaml[0].where == "r.yaml line 3, reviews[0]"
    assert from_csv[0].where == "r.csv line 2"


def test_a_misspelt_reference_field_suggests_the_known_one(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    path = data / "specialties.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("AMM, name:", "AMM, nmae:", 1), encoding="utf-8")
    message = _refusal(lambda: load_reference_data(data))
    assert message.startswith(f"{path} line {_line_of(path.read_text(), 'nmae:')}: unknown field")
    assert "did you mean name?" in message


# --- anchors and aliases: one loader, refused at once --------------------------------------


def _write_reference_bomb(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    (data / "specialties.yaml").write_text(BOMB, encoding="utf-8")
    return data


def _parsers(tmp_path: Path) -> dict[str, Callable[[], object]]:
    data = _write_reference_bomb(tmp_path)
    return {
        "spec": lambda: parse_hearing_spec(BOMB, "bomb.yaml"),
        "decisions": lambda: parse_decisions(BOMB, "bomb.yaml"),
        "review": lambda: parse_review_file(BOMB, "bomb.yaml"),
        "reference": lambda: load_reference_data(data),
    }


@pytest.mark.parametrize("kind", ["spec", "decisions", "review", "reference"])
def test_a_billion_laughs_is_refused_in_one_line_fast_and_small(tmp_path, kind):
    parse = _parsers(tmp_path)[kind]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = _refusal(parse)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "line 1" in message and "anchors and aliases (&a) are not allowed" in message
    assert elapsed < 1.0, elapsed
    assert peak < 100 * MB, peak


def test_every_yaml_file_kind_uses_the_one_loader(tmp_path, monkeypatch):
    calls: list[int] = []
    original = SafeLineLoader.compose_node

    def counting(self, parent, index):
        calls.append(1)
        return original(self, parent, index)

    monkeypatch.setattr(SafeLineLoader, "compose_node", counting)
    for kind, parse in _parsers(tmp_path).items():
        calls.clear()
        _refusal(parse)
        assert calls, kind
    # No second parser: the services hand text to the domain's loaders and models.
    for module in (reference_files, review):
        assert not {"yaml", "csv"} & set(vars(module)), module.__name__


# Runs a command and writes its exit code and peak RSS (KiB) to a file. A small process of
# its own, so the child's peak is not the test process's size inherited through fork.
MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[2:]).returncode; "
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "open(sys.argv[1], 'w').write(f'{code} {peak}')"
)


def test_a_bomb_given_to_the_command_exits_2_in_one_line_quickly(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    env = {**os.environ, "HOERING_DATA_DIR": str(tmp_path / "var")}
    report = tmp_path / "measured.txt"
    command = [sys.executable, "-m", "cli.main", "hearing", "create", str(bomb)]
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, str(report), *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    code, peak_kib = (int(value) for value in report.read_text().split())
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert code == 2, (code, proc.stdout, proc.stderr)
    assert len(lines) == 1 and "bomb.yaml line 1" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    # The whole command, interpreter start and CLI imports included.
    assert elapsed < 15, elapsed
    assert peak_kib * 1024 < 200 * MB, peak_kib


def test_deep_nesting_is_refused_in_one_line_not_a_recursion_error():
    deep = "a: " + "[" * 20_000 + "]" * 20_000
    message = _refusal(lambda: parse_hearing_spec(deep, "deep.yaml"))
    assert message.startswith("deep.yaml line 1: the YAML is nested more than")


def test_an_oversized_csv_cell_is_one_line():
    text = "response,note\n24/750-1," + "x" * 200_000 + "\n"
    message = _refusal(lambda: parse_review_file(text, "r.csv"))
    assert message.startswith("r.csv line 2: not valid CSV (field larger than field limit")

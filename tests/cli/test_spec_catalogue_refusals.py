"""Items on existing goals checked against the catalogue at `hearing create`: each refusal
is one line naming the spec file, line and field, and the goal; exit 2; before Prefect."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import assert_one_line_error, run_hoering

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "hearings" / "25-1201-blodsykdommer-revisjon.yaml"
DAY = "2025-03-03"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    content = SPEC.read_text(encoding="utf-8")
    assert old in content, old
    start = content.index(old)
    if new.endswith("\n    x:"):  # replace the whole line
        end = content.index("\n", start)
        old, new = content[start:end], new.removesuffix("\n    x:")
    path = tmp_path / "spec.yaml"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(fragment))


CASES = [
    pytest.param(
        "    old_text: Ha god kunnskap om og beherske utredning og behandling av primær",
        "    old_text: Ha god kunnskap om utredning av primær hemokromatose.\n    x:",
        "    old_text: Ha god kunnskap om utredning",
        "items[1].old_text: BLS-012's text on 2025-03-03 is 'Ha god kunnskap om og beherske "
        "utredning og behandling av primær hemokromatose.', not 'Ha god kunnskap om utredning av "
        "primær hemokromatose.'; write the catalogue's (see 'hoering goals list --specialty "
        "BLS')",
        id="wrong-old-text",
    ),
    pytest.param(
        "    from_heading: Maligne blodsykdommer, diagnostikk",
        "    from_heading: Benigne blodsykdommer\n    x:",
        "    from_heading: Benigne blodsykdommer",
        "items[3].from_heading: BLS-033's heading on 2025-03-03 is 'Maligne blodsykdommer, "
        "diagnostikk og behandling inkludert stamcelletransplantasjon', not 'Benigne "
        "blodsykdommer'; write the catalogue's (see 'hoering goals list --specialty BLS')",
        id="wrong-from-heading",
    ),
    pytest.param(
        "    specialty: BLS\n    goal_id: BLS-010",
        "    specialty: KIR\n    goal_id: BLS-010",
        "    specialty: KIR",
        "items[2].specialty: BLS-010 is a goal of BLS, not KIR; write `specialty: BLS` or fix "
        "`goal_id`",
        id="goal-of-another-specialty",
    ),
    pytest.param(
        "    goal_id: BLS-013",
        "    goal_id: BLS-014",
        "    goal_id: BLS-014",
        "items[6].goal_id: no learning goal BLS-014 in the catalogue on 2025-03-03; check the "
        "ID with 'hoering goals list --specialty BLS'",
        id="unknown-goal",
    ),
    pytest.param(
        "    heading: Benigne blodsykdommer\n    reason:",
        "    heading: Hemostase, blødning og trombose\n    reason:",
        "    heading: Hemostase, blødning og trombose",
        "items[6].heading: BLS-013's heading on 2025-03-03 is 'Benigne blodsykdommer', not "
        "'Hemostase, blødning og trombose'; write the catalogue's (see 'hoering goals list "
        "--specialty BLS')",
        id="deleted-goal-wrong-heading",
    ),
    pytest.param(
        "    old_heading: Hemostase, blødningstilstander og tromboembolisk sykdom",
        "    old_heading: Hemostase",
        "    old_heading: Hemostase",
        "items[5].old_heading: no goal of BLS has the heading 'Hemostase' on 2025-03-03; write "
        "a heading from 'hoering goals list --specialty BLS'",
        id="unknown-heading",
    ),
    pytest.param(
        "    specialty: BLS\n    ref: BLS-ny-vexas",
        "    catalogue: LIS1\n    prefix: KLX\n    ref: BLS-ny-vexas",
        "    prefix: KLX",
        "items[0].prefix: a new goal in LIS1 needs the ID prefix it is numbered under; write "
        "`prefix:` with one of KLK, KLP, KLS (not KLX)",
        id="prefix-not-of-the-catalogue",
    ),
    pytest.param(
        "    specialty: BLS\n    ref: BLS-ny-vexas",
        "    catalogue: XYZ\n    ref: BLS-ny-vexas",
        "    catalogue: XYZ",
        "items[0].catalogue: unknown catalogue 'XYZ'; use one of FKM, LIS1, or `specialty: "
        "PREFIX` for a specialty's goals",
        id="unknown-catalogue",
    ),
]


@pytest.mark.parametrize(("old", "new", "marker", "message"), CASES)
def test_item_not_matching_the_catalogue_is_refused(
    hoering_env, tmp_path, old, new, marker, message
):
    path = _variant(tmp_path, old, new)
    result = run_hoering("hearing", "create", str(path), "--as-of", DAY, env=hoering_env)
    expected = f"hoering: error: {path} line {_line_of(path, marker)}, {message}"
    assert_one_line_error(result, expected)
    assert result.stderr.strip() == expected
    assert run_hoering("hearing", "list", "--json", env=hoering_env).json() == []

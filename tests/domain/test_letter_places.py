"""A moved goal's row says where it goes: another heading, or another training part."""

from __future__ import annotations

from pathlib import Path

from domain.hearing_spec import parse_hearing_spec
from domain.letter_building import SpecialtyInfo, change_item_rows

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hearings"
REVISION = EXAMPLES / "25-1201-blodsykdommer-revisjon.yaml"


def test_a_change_of_training_part_only_names_the_part_not_the_same_heading_twice():
    spec = parse_hearing_spec(REVISION.read_text(encoding="utf-8"), REVISION.name)
    names = {"BLS": SpecialtyInfo(name="Blodsykdommer", group="indremedisinsk")}
    shown = {goal.ref: f"BLS-{150 + n}" for n, goal in enumerate(spec.new_goals)}
    rows = {row.goal_id_display: row for row in change_item_rows(spec, names, shown)}
    part_only = rows["BLS-027"]
    assert (part_only.old_text, part_only.new_text) == (None, "del 2")
    assert part_only.change_nb == "Læringsmålet flyttes til «del 2»."
    moved = [r for r in rows.values() if r.kind.value == "moved_goal" and r is not part_only]
    assert moved and all(r.old_text != r.new_text for r in moved)

"""Which catalogue a spec item changes, and the pure catalogue checks and sheet diff."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.catalogue_sheet import GoalState, diff_catalogue, parse_catalogue_sheet
from domain.errors import UserError
from domain.hearing_spec import parse_hearing_spec
from domain.reference import CatalogueKind, Stakeholder, StakeholderGroup
from domain.spec_catalogue import CatalogueFacts, GoalFacts, check_spec_catalogues

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hearings"
FKM = (EXAMPLES / "25-2210-fkm-kliniske-studier.yaml").read_text(encoding="utf-8")
LM75 = GoalFacts(
    "LM-75",
    "FKM",
    "Ha kjennskap til kliniske studier, herunder formål, krav til godkjenninger, krav til "
    "datahåndtering, krav til informert samtykke og pasienters reservasjonsrett.",
    None,
    None,
)
CATALOGUES = {
    "FKM": CatalogueFacts("FKM", CatalogueKind.COMMON, ("LM",)),
    "LIS1": CatalogueFacts("LIS1", CatalogueKind.LIS1, ("KLK", "KLP", "KLS")),
    "BLS": CatalogueFacts("BLS", CatalogueKind.SPECIALTY, ("BLS",)),
}
ON = date(2025, 9, 1)


def _spec(text: str = FKM, **replacements: str):
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return parse_hearing_spec(text, "fkm.yaml")


def test_items_name_their_catalogue_and_new_goals_their_prefix():
    spec = _spec()
    amended, new = spec.items
    assert (amended.catalogue_code, new.catalogue_code, new.id_prefix) == ("FKM", "FKM", "LM")
    assert spec.affected_specialties == () and spec.affected_catalogues == ("FKM",)
    check_spec_catalogues(spec, CATALOGUES, {"LM-75": LM75}, {}, ON)  # no problem


def test_an_item_names_exactly_one_catalogue():
    with pytest.raises(UserError, match=r"items\[0\]\.specialty: name the catalogue"):
        _spec(
            **{
                "    catalogue: FKM\n    goal_id": "    catalogue: FKM\n    specialty: BLS\n"
                "    goal_id"
            }
        )
    with pytest.raises(UserError, match="takes the prefix BLS; remove `prefix:`"):
        _spec(**{"    catalogue: FKM\n    prefix: LM": "    specialty: BLS\n    prefix: LM"})


def test_catalogue_problems_name_the_line_and_the_goal():
    with pytest.raises(UserError) as err:
        check_spec_catalogues(_spec(), CATALOGUES, {}, {}, ON)
    assert str(err.value).startswith("fkm.yaml line ")
    assert "items[0].goal_id: no learning goal LM-75 in the catalogue on 2025-09-01" in str(
        err.value
    )
    with pytest.raises(UserError, match=r"items\[0\]\.catalogue: BLS is a specialty's catalogue"):
        check_spec_catalogues(
            _spec(**{"    catalogue: FKM\n    goal_id": "    catalogue: BLS\n    goal_id"}),
            CATALOGUES,
            {"LM-75": LM75},
            {},
            ON,
        )
    with pytest.raises(UserError, match="prefix:` with one of LM"):
        check_spec_catalogues(
            _spec(**{"    prefix: LM": "    prefix: KLS"}), CATALOGUES, {"LM-75": LM75}, {}, ON
        )


def test_fkm_items_bring_in_every_committee():
    committees = [
        Stakeholder(
            f"k-{p}", f"Komité {p}", StakeholderGroup.SPESIALITETSKOMITE, f"{p}@x.no", True, (), p
        )
        for p in ("BLS", "KIR")
    ]
    spec = _spec()
    assert spec.resolve_recipients(committees) == ()
    assert len(spec.resolve_recipients(committees, {"FKM"})) == 2


def test_sheet_rows_and_diff():
    cells = [
        ["Læringsmåls-ID", "Læringsmål", "Del", "Status"],
        ["LM-75", "Ha kjennskap til  kliniske studier.", "del 2", None],
        [None, None, None, None],
        ["LM-76", "Ha kunnskap om melding.", 2, "utgått"],
    ]
    rows = parse_catalogue_sheet(cells, "fkm.xlsx", "FKM", {"LM": 0})
    assert [(r.id, r.training_part, r.status) for r in rows] == [
        ("LM-75", 2, "active"),
        ("LM-76", 2, "retired"),
    ]
    loaded = [
        GoalState("LM-75", "Ha kjennskap til kliniske studier.", None, None, None, "active"),
        GoalState("LM-74", "Gammelt mål.", None, None, None, "active"),
    ]
    diff = diff_catalogue("FKM", loaded, map(GoalState.of_row, rows))
    assert diff.as_json() == {
        "catalogue": "FKM",
        "added": ["LM-76"],
        "changed": {"LM-75": ["training_part"]},  # white space in the text is no change
        "removed": ["LM-74"],
    }
    with pytest.raises(
        UserError, match=r"fkm.xlsx, sheet 'FKM' row 3, column A .*write it as LM-75"
    ):
        parse_catalogue_sheet(
            [cells[0], cells[1], ["LM-075", "x", None, None]], "fkm.xlsx", "FKM", {"LM": 0}
        )
    with pytest.raises(UserError, match=r"row 3, column A .*LM-75 is already on row 2"):
        parse_catalogue_sheet([cells[0], cells[1], cells[1]], "fkm.xlsx", "FKM", {"LM": 0})


def test_a_goal_of_another_catalogue_names_the_field_to_write():
    spec = _spec(**{"    catalogue: FKM\n    goal_id": "    specialty: BLS\n    goal_id"})
    with pytest.raises(
        UserError,
        match=r"items\[0\]\.specialty: LM-75 is a goal of FKM, not BLS; write `catalogue: FKM`",
    ):
        check_spec_catalogues(spec, CATALOGUES, {"LM-75": LM75}, {}, ON)

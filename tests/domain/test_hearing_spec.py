"""Hearing spec and decisions files: the 24/750 examples, and one-line errors with lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.change_items import AmendedText, DeletedGoal, HeadingChange, MovedGoal, NewGoal
from domain.competence import CompetenceLevel
from domain.decisions import Decisions, Outcome, parse_decisions
from domain.errors import UserError
from domain.hearing_spec import HearingSpec, parse_hearing_spec
from domain.reference import ReferenceData, Stakeholder, StakeholderGroup

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hearings"
SPEC_FILE = EXAMPLES / "24-750-kliniske-studier.yaml"
DECISIONS_FILE = EXAMPLES / "24-750-vedtak.yaml"
SPEC_TEXT = SPEC_FILE.read_text(encoding="utf-8")
DECISIONS_TEXT = DECISIONS_FILE.read_text(encoding="utf-8")
LETTER_ORDER = [
    "AMM", "BLS", "GER", "HJS", "MED", "LUN", "NYR", "KIR", "NKI", "URO", "PED", "NEV", "ONC",
]  # fmt: skip
LETTER_IDS = {
    "AMM": "AMM-068", "BLS": "BLS-154", "GER": "GER-064", "MED": "MED-106", "LUN": "LUN-061",
    "NYR": "NYR-067", "KIR": "KIR-174", "NKI": "NKI-037", "URO": "URO-090", "PED": "PED-165",
    "NEV": "NEV-068", "ONC": "ONC-069",
}  # fmt: skip

MINIMAL = """\
case: "25/12"
title: Endring i læringsmål
introduction: Innledning.
background: Bakgrunn.
purpose: Formål.
deadline: 2025-06-02
planned_codification: "2025-09"
contact: {name: Kari Nordmann, title: seniorrådgiver, email: kari@helsedir.no}
case_officer: {name: Kari Nordmann}
signatories:
  - {name: Ola Nordmann, title: avdelingsdirektør, on_behalf: true}
recipients:
  groups: [rhf]
items:
  - kind: new_goal
    specialty: BLS
    heading: Kliniske studier
    training_part: 3
    text: Ha kunnskap om kliniske studier.
"""


def spec_error(text: str, source: str = "x.yaml") -> str:
    with pytest.raises(UserError) as info:
        parse_hearing_spec(text, source)
    message = str(info.value)
    assert "\n" not in message
    return message


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


@pytest.fixture(scope="module")
def spec() -> HearingSpec:
    return parse_hearing_spec(SPEC_TEXT, str(SPEC_FILE))


# --- the 24/750 example ---------------------------------------------------------------------


def test_example_reproduces_the_24_750_letter(spec: HearingSpec) -> None:
    assert spec.case == "24/750"
    assert spec.title.startswith("Kompetanse om kliniske studier i spesialistutdanningen")
    assert spec.deadline == date(2024, 5, 31)
    assert spec.planned_codification == date(2024, 9, 1)
    assert spec.effective_date == date(2025, 9, 1)
    assert spec.short_deadline_reason is None
    assert (spec.contact.name, spec.contact.title, spec.contact.email) == (
        "Marie Thoresen",
        "seniorrådgiver",
        "marie.thoresen@helsedir.no",
    )
    assert [(s.name, s.title, s.on_behalf) for s in spec.signatories] == [
        ("Heidi Stien", "prosjektleder", True),
        ("Marie Thoresen", "seniorrådgiver", False),
    ]
    assert len(spec.questions) == 5
    assert spec.recipients.committees_for_affected_specialties
    assert {"rhf", "regut", "legeforeningen", "fakultet"} <= set(spec.recipients.groups)


def test_example_has_13_new_goals_in_the_letters_order(spec: HearingSpec) -> None:
    assert [item.specialty for item in spec.items] == LETTER_ORDER
    assert spec.affected_specialties == tuple(LETTER_ORDER)
    assert all(isinstance(item, NewGoal) for item in spec.items)
    assert {i.heading for i in spec.new_goals} == {"Kliniske studier"}
    assert {i.training_part for i in spec.new_goals} == {3}
    assert {i.ref: i.expected_id for i in spec.new_goals if i.expected_id} == LETTER_IDS


def test_example_items_take_the_shared_goal_text(spec: HearingSpec) -> None:
    assert spec.shared_goal is not None
    for goal in spec.new_goals:
        assert goal.text == spec.shared_goal.text
        assert goal.elaboration == spec.shared_goal.elaboration
    assert spec.shared_goal.text.startswith("Ha kunnskap om kliniske studier")
    assert spec.shared_goal.elaboration.startswith("Med begrepet klinisk studie menes")


def test_example_defers_only_hjs_with_the_letters_reason(spec: HearingSpec) -> None:
    deferred = [g for g in spec.new_goals if g.deferred]
    assert [g.specialty for g in deferred] == ["HJS"]
    assert deferred[0].expected_id is None
    assert "revisjon av læringsmålene" in deferred[0].defer_reason


def test_example_comments_follow_the_letter(spec: HearingSpec) -> None:
    comments = {g.specialty: g.comment for g in spec.new_goals if g.comment}
    assert set(comments) == {"GER", "KIR", "PED"}
    assert "barn og eldre" in comments["GER"]
    assert "selvstendig kunne" in comments["KIR"]


def test_source_is_not_part_of_a_specs_value(spec: HearingSpec) -> None:
    other = parse_hearing_spec(SPEC_TEXT, "elsewhere.yaml")
    assert other == spec
    assert other.locate(("deadline",)) != spec.locate(("deadline",))
    assert (
        spec.locate(("deadline",))
        == f"{SPEC_FILE} line {line_of(SPEC_TEXT, 'deadline:')}, deadline"
    )


def test_a_dumped_spec_validates_to_the_same_spec(spec: HearingSpec) -> None:
    assert HearingSpec.model_validate(spec.model_dump(mode="json")) == spec


def test_a_changed_field_makes_specs_unequal(spec: HearingSpec) -> None:
    changed = parse_hearing_spec(
        SPEC_TEXT.replace("deadline: 2024-05-31", "deadline: 2024-06-03"), "x"
    )
    assert changed != spec


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("31.5.24", date(2024, 5, 31)),
        ("31.05.2024", date(2024, 5, 31)),
        ("2024-05-31", date(2024, 5, 31)),
        ('"2024-05-31"', date(2024, 5, 31)),
        ("3.6.2024", date(2024, 6, 3)),
    ],
)
def test_deadline_in_norwegian_or_iso_form(written: str, expected: date) -> None:
    text = MINIMAL.replace("deadline: 2025-06-02", f"deadline: {written}").replace(
        '"2025-09"', '"2024-09"'
    )
    assert parse_hearing_spec(text, "x.yaml").deadline == expected


@pytest.mark.parametrize(
    "written", ["31.2.24", "2024-02-30", "31/5/24", "neste fredag", "2024-13-01"]
)
def test_a_bad_date_is_one_line_with_its_line_number(written: str) -> None:
    text = MINIMAL.replace("deadline: 2025-06-02", f"deadline: {written}")
    message = spec_error(text)
    assert message.startswith(f"x.yaml line {line_of(text, 'deadline:')}, deadline: ")
    assert "not a valid date" in message
    assert "2024-05-31" in message  # says how to write it


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('"2024-09"', date(2024, 9, 1)),
        ('"9.2025"', date(2025, 9, 1)),
        ("september 2025", date(2025, 9, 1)),
    ],
)
def test_planned_codification_month_forms(written: str, expected: date) -> None:
    text = MINIMAL.replace('planned_codification: "2025-09"', f"planned_codification: {written}")
    text = text.replace("deadline: 2025-06-02", "deadline: 2024-05-31")
    assert parse_hearing_spec(text, "x.yaml").planned_codification == expected


# --- structural errors ----------------------------------------------------------------------


def test_unknown_specialty_format_names_file_line_and_path() -> None:
    text = SPEC_TEXT.replace("specialty: URO", "specialty: uro")
    message = spec_error(text, "examples/x.yaml")
    assert message.startswith(
        f"examples/x.yaml line {line_of(text, 'specialty: uro')}, items[9].specialty: 'uro'"
    )
    assert "BLS" in message  # the fix: how a prefix looks


def test_unknown_kind_points_at_the_kind_line() -> None:
    text = SPEC_TEXT.replace(
        "kind: new_goal\n    specialty: NEV", "kind: new_gaol\n    specialty: NEV"
    )
    message = spec_error(text)
    assert message.startswith(f"x.yaml line {line_of(text, 'new_gaol')}, items[11].kind: ")
    assert "'new_gaol'" in message and "amended_text" in message


def test_unknown_field_lists_the_allowed_fields() -> None:
    text = SPEC_TEXT.replace(
        "    expected_id: BLS-154", "    expected_id: BLS-154\n    utdypende: x"
    )
    message = spec_error(text)
    assert message.startswith(f"x.yaml line {line_of(text, 'utdypende: x')}, items[1].utdypende: ")
    assert "elaboration" in message and "defer_reason" in message


def test_an_id_on_a_new_goal_points_to_expected_id() -> None:
    text = SPEC_TEXT.replace("expected_id: BLS-154", "id: BLS-154")
    message = spec_error(text)
    assert message.startswith(f"x.yaml line {line_of(text, 'id: BLS-154')}, items[1].id: ")
    assert "expected_id" in message and "ledger" in message


def test_an_empty_item_list_is_refused() -> None:
    text = SPEC_TEXT[: SPEC_TEXT.index("items:")] + "items: []\n"
    message = spec_error(text)
    assert message.startswith(f"x.yaml line {line_of(text, 'items: []')}, items: must not be empty")


def test_missing_field_points_at_the_enclosing_item() -> None:
    text = SPEC_TEXT.replace("    expected_id: MED-106\n", "").replace(
        "    specialty: MED\n    heading: Kliniske studier\n", "    specialty: MED\n"
    )
    message = spec_error(text)
    item_line = line_of(text, "specialty: MED") - 1  # the "- kind:" line
    assert message.startswith(f"x.yaml line {item_line}, items[4].heading: ")
    assert "missing" in message


def test_missing_goal_text_without_shared_goal_says_where_to_write_it() -> None:
    text = MINIMAL.replace("    text: Ha kunnskap om kliniske studier.\n", "")
    message = spec_error(text)
    assert "items[0].text" in message and "shared_goal" in message


def test_case_number_must_be_quoted_text() -> None:
    message = spec_error(MINIMAL.replace('case: "25/12"', "case: 25.12"))
    assert message.startswith("x.yaml line 1, case: ")
    assert "quotes" in message
    message = spec_error(MINIMAL.replace('case: "25/12"', 'case: "2025-12"'))
    assert "YY/NNNN" in message and '"24/750"' in message


def test_expected_id_must_belong_to_the_specialty() -> None:
    text = SPEC_TEXT.replace("expected_id: NKI-037", "expected_id: URO-037")
    message = spec_error(text)
    assert message.startswith(f"x.yaml line {line_of(text, 'URO-037')}, items[8].expected_id: ")
    assert "NKI-" in message


def test_expected_id_and_defer_reason_exclude_each_other() -> None:
    text = SPEC_TEXT.replace(
        "    defer_reason: >-", "    expected_id: HJS-100\n    defer_reason: >-"
    )
    message = spec_error(text)
    assert "items[3].expected_id" in message and "defer_reason" in message


def test_two_items_with_the_same_ref_are_refused() -> None:
    text = SPEC_TEXT.replace("specialty: ONC", "specialty: NEV").replace(
        "expected_id: ONC-069", "expected_id: NEV-069"
    )
    message = spec_error(text)
    assert "items[11] and items[12]" in message and "ref:" in message


def test_codification_planned_before_the_deadline_is_refused() -> None:
    text = SPEC_TEXT.replace('planned_codification: "2024-09"', 'planned_codification: "2024-04"')
    message = spec_error(text)
    assert message.startswith(
        f"x.yaml line {line_of(text, 'planned_codification')}, planned_codification"
    )


def test_effective_date_before_the_deadline_is_refused() -> None:
    message = spec_error(
        SPEC_TEXT.replace("effective_date: 2025-09-01", "effective_date: 2024-03-01")
    )
    assert "effective_date" in message and "not after the deadline" in message


def test_no_recipients_is_refused() -> None:
    message = spec_error(MINIMAL.replace("  groups: [rhf]", "  groups: []"))
    assert message.startswith(
        f"x.yaml line {line_of(MINIMAL, 'recipients:')}, recipients: no recipients"
    )


def test_empty_text_is_refused() -> None:
    message = spec_error(MINIMAL.replace("purpose: Formål.", 'purpose: "  "'))
    assert "purpose" in message and "must not be empty" in message


def test_several_problems_report_the_first_by_line_and_count_the_rest() -> None:
    text = MINIMAL.replace("title: Endring i læringsmål", "title: ''").replace(
        "specialty: BLS", "specialty: bls"
    )
    message = spec_error(text)
    assert message.startswith("x.yaml line 2, title: ")
    assert "1 more problem" in message


def test_duplicate_key_is_refused_with_both_lines() -> None:
    text = MINIMAL + "deadline: 2025-06-03\n"
    message = spec_error(text)
    assert f"line {text.count(chr(10))}, deadline" in message
    assert f"first on line {line_of(text, 'deadline:')}" in message


def test_yaml_syntax_error_names_the_line() -> None:
    text = MINIMAL.replace("title: Endring i læringsmål", "title: [Endring")
    message = spec_error(text)
    assert message.startswith("x.yaml line ")
    assert "YAML syntax error" in message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert spec_error(text).startswith("x.yaml")


# --- other change kinds ---------------------------------------------------------------------

OTHER_ITEMS = """
  - kind: amended_text
    specialty: BLS
    goal_id: BLS-101
    heading: Laboratoriemedisin
    old_text: Ha kunnskap om metoder for farging av blod- og benmargsutstryk.
    new_text: Beherske metoder for farging av blod- og benmargsutstryk.
    comment: Nivået heves.
  - kind: moved_goal
    specialty: BLS
    goal_id: BLS-024
    from_heading: Trombocytter
    to_heading: Hemostase
  - kind: deleted_goal
    specialty: BLS
    goal_id: BLS-027
    reason: Dekkes av BLS-025.
  - kind: heading_change
    specialty: BLS
    old_heading: Trombose
    new_heading: Trombose og hemostase
"""


def test_other_change_kinds_parse_with_derived_refs() -> None:
    spec = parse_hearing_spec(MINIMAL + OTHER_ITEMS, "x.yaml")
    kinds = [type(i) for i in spec.items]
    assert kinds == [NewGoal, AmendedText, MovedGoal, DeletedGoal, HeadingChange]
    assert [i.ref for i in spec.items] == [
        "BLS",
        "BLS-101",
        "BLS-024",
        "BLS-027",
        "BLS: Trombose",
    ]
    assert spec.item("BLS-027") is spec.items[3]
    assert spec.item("XYZ") is None
    assert HearingSpec.model_validate(spec.model_dump(mode="json")) == spec


def test_amended_text_reports_levels_and_stricter() -> None:
    spec = parse_hearing_spec(MINIMAL + OTHER_ITEMS, "x.yaml")
    amended = spec.items[1]
    assert isinstance(amended, AmendedText)
    assert amended.level_before == CompetenceLevel.MIDDLE
    assert amended.level_after == CompetenceLevel.HIGHEST
    assert amended.stricter
    lowered = amended.model_copy(update={"new_text": "Kjenne til metoder for farging."})
    assert not lowered.stricter


def test_explicit_ref_disambiguates_two_items_of_one_specialty() -> None:
    second = """
  - kind: new_goal
    specialty: BLS
    ref: BLS-2
    heading: Kliniske studier
    training_part: 3
    text: Kjenne til registerstudier.
"""
    spec = parse_hearing_spec(MINIMAL + second, "x.yaml")
    assert [i.ref for i in spec.items] == ["BLS", "BLS-2"]


# --- references held elsewhere --------------------------------------------------------------

KNOWN_PREFIXES = set(LETTER_ORDER)
KNOWN_STAKEHOLDERS = {
    "helse-sor-ost",
    "helse-vest",
    "helse-midt-norge",
    "helse-nord",
    "oslo-universitetssykehus",
    "helse-bergen",
    "sykehuset-innlandet",
}
KNOWN_GROUPS = {g.value for g in StakeholderGroup}


def test_example_references_are_known(spec: HearingSpec) -> None:
    spec.validate_references(KNOWN_PREFIXES, KNOWN_STAKEHOLDERS, KNOWN_GROUPS)


def test_example_references_match_the_reference_data_files(
    spec: HearingSpec, reference_data: ReferenceData
) -> None:
    spec.validate_references(
        {s.prefix for s in reference_data.specialties},
        {s.key for s in reference_data.stakeholders},
        {s.group.value for s in reference_data.stakeholders},
    )
    committees = [
        s.key
        for s in spec.resolve_recipients(reference_data.stakeholders)
        if s.group == StakeholderGroup.SPESIALITETSKOMITE
    ]
    assert len(committees) == 13


def test_unknown_specialty_reference_names_the_line(spec: HearingSpec) -> None:
    with pytest.raises(UserError) as info:
        spec.validate_references(KNOWN_PREFIXES - {"NYR"}, KNOWN_STAKEHOLDERS, KNOWN_GROUPS)
    assert str(info.value).startswith(
        f"{SPEC_FILE} line {line_of(SPEC_TEXT, 'specialty: NYR')}, items[6].specialty: "
        "unknown specialty 'NYR'"
    )


def test_unknown_stakeholder_and_group_references_name_the_line(spec: HearingSpec) -> None:
    with pytest.raises(UserError) as info:
        spec.validate_references(
            KNOWN_PREFIXES, KNOWN_STAKEHOLDERS - {"helse-bergen"}, KNOWN_GROUPS
        )
    assert str(info.value).startswith(
        f"{SPEC_FILE} line {line_of(SPEC_TEXT, '- helse-bergen')}, recipients.stakeholders[1]: "
    )
    with pytest.raises(UserError) as info:
        spec.validate_references(KNOWN_PREFIXES, KNOWN_STAKEHOLDERS, KNOWN_GROUPS - {"fakultet"})
    assert "recipients.groups[3]: unknown group 'fakultet'" in str(info.value)


def test_reserved_id_differing_from_expected_id_is_refused(spec: HearingSpec) -> None:
    reserved = dict(LETTER_IDS)
    spec.check_reserved_ids(reserved)
    reserved["BLS"] = "BLS-155"
    with pytest.raises(UserError) as info:
        spec.check_reserved_ids(reserved)
    message = str(info.value)
    assert f"line {line_of(SPEC_TEXT, 'BLS-154')}, items[1].expected_id" in message
    assert "BLS-155" in message and "BLS-154" in message


def _stakeholder(key: str, group: StakeholderGroup, specialty: str | None = None) -> Stakeholder:
    return Stakeholder(key, key, group, f"{key}@example.no", True, specialty=specialty)


def test_resolve_recipients_expands_groups_keys_and_affected_committees() -> None:
    spec = parse_hearing_spec(MINIMAL, "x.yaml")  # groups [rhf], new goal in BLS
    spec = spec.model_copy(
        update={
            "recipients": spec.recipients.model_copy(
                update={
                    "stakeholders": ["helse-bergen"],
                    "committees_for_affected_specialties": True,
                }
            )
        }
    )
    everyone = [
        _stakeholder("helse-vest", StakeholderGroup.RHF),
        _stakeholder("helse-nord", StakeholderGroup.RHF),
        _stakeholder("helse-bergen", StakeholderGroup.HELSEFORETAK),
        _stakeholder("st-olavs-hospital", StakeholderGroup.HELSEFORETAK),
        _stakeholder("komite-bls", StakeholderGroup.SPESIALITETSKOMITE, "BLS"),
        _stakeholder("komite-nev", StakeholderGroup.SPESIALITETSKOMITE, "NEV"),
        _stakeholder("legeforeningen", StakeholderGroup.LEGEFORENINGEN),
    ]
    keys = [s.key for s in spec.resolve_recipients(everyone)]
    assert keys == ["helse-vest", "helse-nord", "helse-bergen", "komite-bls"]


# --- decisions ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def decisions() -> Decisions:
    return parse_decisions(DECISIONS_TEXT, str(DECISIONS_FILE))


def test_example_decisions_fit_the_example_spec(spec: HearingSpec, decisions: Decisions) -> None:
    assert decisions.case == "24/750"
    assert decisions.decided_on.year == 2024 and decisions.decided_on.month == 9
    assert decisions.decided_on.weekday() < 5
    assert decisions.effective_date == date(2025, 9, 1)
    assert [d.item for d in decisions.decisions] == LETTER_ORDER
    assert all(d.assessment for d in decisions.decisions)
    assert decisions.for_item("HJS").resolve_id == "next"
    assert {d.resolve_id for d in decisions.decisions if d.item != "HJS"} == {None}
    assert decisions.problems_against(spec) == []
    decisions.check_against(spec)


def test_decisions_missing_the_deferred_resolution(spec: HearingSpec) -> None:
    text = DECISIONS_TEXT.replace("    resolve_id: next\n", "")
    decisions = parse_decisions(text, "v.yaml")
    with pytest.raises(UserError) as info:
        decisions.check_against(spec)
    message = str(info.value)
    assert message.startswith(
        f"v.yaml line {line_of(text, 'item: HJS')}, decisions[3].resolve_id: "
    )
    assert "resolve_id: next" in message


def test_decisions_for_unknown_and_missing_items(spec: HearingSpec) -> None:
    decisions = parse_decisions(DECISIONS_TEXT.replace("item: NEV", "item: NEW"), "v.yaml")
    messages = [decisions.describe(p) for p in decisions.problems_against(spec)]
    assert any("decisions[11].item: no change item 'NEW'" in m for m in messages)
    assert any("no decision for item 'NEV'" in m for m in messages)


def test_decisions_resolving_an_id_that_was_not_deferred(spec: HearingSpec) -> None:
    text = DECISIONS_TEXT.replace(
        "  - item: MED\n    decision: adopt\n",
        "  - item: MED\n    decision: adopt\n    resolve_id: next\n",
    )
    problems = parse_decisions(text, "v.yaml").problems_against(spec)
    assert [p.path for p in problems] == [("decisions", 4, "resolve_id")]


def test_decisions_for_another_case(spec: HearingSpec) -> None:
    problems = parse_decisions(
        DECISIONS_TEXT.replace('"24/750"', '"24/751"'), "v"
    ).problems_against(spec)
    assert [p.path for p in problems] == [("case",)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("adopt\n    resolve_id", "adopt_amended\n    resolve_id", "decisions[3].text"),
        ("resolve_id: next", "resolve_id: nxt", "decisions[3].resolve_id: 'nxt'"),
        ("adopt\n    resolve_id", "drop\n    resolve_id", "decisions[3].resolve_id"),
        ("item: NEV", "item: ONC", "decisions[12].item: item 'ONC' is decided twice"),
        ("NEV\n    decision: adopt", "NEV\n    decision: adoptt", "[11].decision: 'adoptt'"),
        ("decided_on: 2024-09-16", "decided_on: 16.9", "decided_on: 16.9 is not a valid date"),
    ],
)  # fmt: skip
def test_bad_decisions_give_one_line(old: str, new: str, expected: str) -> None:
    text = DECISIONS_TEXT.replace(old, new, 1)
    assert text != DECISIONS_TEXT
    with pytest.raises(UserError) as info:
        parse_decisions(text, "v.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("v.yaml line ")
    assert expected in message


def test_adopt_amended_carries_the_new_text(spec: HearingSpec) -> None:
    text = DECISIONS_TEXT.replace(
        "  - item: KIR\n    decision: adopt\n",
        "  - item: KIR\n    decision: adopt_amended\n"
        "    text: Selvstendig kunne informere om studier.\n",
    )
    decisions = parse_decisions(text, "v.yaml")
    kir = decisions.for_item("KIR")
    assert kir.decision == Outcome.ADOPT_AMENDED
    assert kir.text == "Selvstendig kunne informere om studier."
    assert decisions.problems_against(spec) == []

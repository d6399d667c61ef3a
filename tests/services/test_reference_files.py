"""The reference data in data/ and its validating loader (services/reference_files.py)."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from config.settings import default_data_dir
from domain.errors import UserError
from domain.reference import (
    CatalogueKind,
    ReferenceData,
    SpecialtyGroup,
    StakeholderGroup,
)
from services.reference_files import load_reference_data

# Hearing letter 24/750: the next ID per specialty and how the letter groups them.
NEXT_IDS_24_750 = {
    "AMM": 68, "BLS": 154, "GER": 64, "MED": 106, "LUN": 61, "NYR": 67,
    "KIR": 174, "NKI": 37, "URO": 90, "PED": 165, "NEV": 68, "ONC": 69,
}  # fmt: skip
GROUPS_24_750 = {
    **dict.fromkeys(["AMM", "BLS", "GER", "HJS", "MED", "LUN", "NYR"], "indremedisinsk"),
    **dict.fromkeys(["KIR", "NKI", "URO"], "kirurgisk"),
    **dict.fromkeys(["PED", "NEV", "ONC"], "annen"),
}
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.fixture(scope="module")
def data() -> ReferenceData:
    return load_reference_data(default_data_dir())


# --- the real data ----------------------------------------------------------------------


def test_default_data_dir_is_the_repository_data_folder() -> None:
    assert default_data_dir() == Path(__file__).resolve().parents[2] / "data"
    assert (default_data_dir() / "specialties.yaml").is_file()


def test_46_specialties_and_only_the_13_of_24_750_have_verified_prefixes(data) -> None:
    prefixes = [s.prefix for s in data.specialties]
    assert len(prefixes) == 46
    assert len(set(prefixes)) == 46
    assert len({s.name for s in data.specialties}) == 46
    assert {s.prefix for s in data.specialties if s.prefix_verified} == set(GROUPS_24_750)
    by_prefix = {s.prefix: s for s in data.specialties}
    for prefix, group in GROUPS_24_750.items():
        assert by_prefix[prefix].group == SpecialtyGroup(group), prefix


def test_groups_of_the_placeholder_specialties(data) -> None:
    by_name = {s.name: s for s in data.specialties}
    for name in ("Endokrinologi", "Fordøyelsessykdommer", "Infeksjonssykdommer"):
        assert by_name[name].group is SpecialtyGroup.INDREMEDISINSK
    for s in data.specialties:
        if "kirurgi" in s.name.lower():
            assert s.group is SpecialtyGroup.KIRURGISK, s.name


def test_every_specialty_has_its_own_catalogue_with_three_digit_ids(data) -> None:
    catalogues = {c.code: c for c in data.catalogues}
    for s in data.specialties:
        c = catalogues[s.prefix]
        assert c.kind is CatalogueKind.SPECIALTY and c.specialty == s.prefix
        assert [(p.prefix, p.padding) for p in c.prefixes] == [(s.prefix, 3)]
    assert [(p.prefix, p.padding) for p in catalogues["FKM"].prefixes] == [("LM", 0)]
    assert catalogues["FKM"].kind is CatalogueKind.COMMON
    lis1 = catalogues["LIS1"]
    assert lis1.kind is CatalogueKind.LIS1
    assert {(p.prefix, p.padding) for p in lis1.prefixes} == {("KLS", 3), ("KLP", 3), ("KLK", 3)}
    all_prefixes = [p.prefix for c in data.catalogues for p in c.prefixes]
    assert len(all_prefixes) == len(set(all_prefixes))


def test_bls_goals_appear_once_and_are_exactly_the_ids_of_the_courses(data) -> None:
    bls = [g.goal_id for g in data.goals if g.catalogue == "BLS"]
    assert len(bls) == len(set(bls))
    in_courses = {gid for c in data.courses if c.catalogue == "BLS" for gid in c.goal_ids}
    assert set(bls) == in_courses
    assert len(bls) == 133  # distinct BLS ids on the public BLS page (seeds/000)
    assert all(re.fullmatch(r"BLS-\d{3}", gid) for gid in bls)


def test_bls_goals_keep_their_bullet_lists(data) -> None:
    goals = {g.goal_id: g for g in data.goals}
    lines = goals["BLS-141"].text.splitlines()
    assert lines[0].endswith("ervervet trombosetendens, herunder:")
    assert lines[1:] == [
        "- antifosfolipidsyndrom",
        "- heparinindusert trombocytopeni",
        "- paroxysmal nattlig hemoglobinuri",
        "- myeloproliferative neoplasier",
        "- annen kreftsykdom",
    ]
    bullets_148 = goals["BLS-148"].text.splitlines()[1:]
    assert len(bullets_148) == 5
    assert all(line.startswith("- ") for line in bullets_148)
    assert "- transfusjonsassosiert akutt lungeskade (TRALI)" in bullets_148


def test_bls_headings_are_course_names_and_goals_have_no_start_date(data) -> None:
    course_names = [c.name for c in data.courses if c.catalogue == "BLS"]
    for goal in (g for g in data.goals if g.catalogue == "BLS"):
        first_course = next(c.name for c in data.courses if goal.goal_id in c.goal_ids)
        assert goal.heading == first_course
        assert goal.valid_from is None
    assert len(course_names) == 7
    assert course_names[0] == "Hematologi med vekt på morfologisk diagnostikk"


def test_every_course_goal_is_a_goal_of_its_catalogue(data) -> None:
    goals = {(g.catalogue, g.goal_id) for g in data.goals}
    assert data.courses
    for course in data.courses:
        assert len(course.goal_ids) == len(set(course.goal_ids))
        for goal_id in course.goal_ids:
            assert (course.catalogue, goal_id) in goals


@pytest.mark.skipif(not SEEDS.is_dir(), reason="source documents (../shared/seeds) not present")
def test_bls_texts_match_the_public_page(data) -> None:
    page = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8")
    on_page = set(re.findall(r"^(BLS-\d{3})", page, flags=re.MULTILINE))
    goals = {g.goal_id: g for g in data.goals if g.catalogue == "BLS"}
    assert set(goals) == on_page
    lines = set(page.splitlines())
    for goal in goals.values():
        if "\n" not in goal.text and goal.goal_id != "BLS-057":  # 057 is wrapped on the page
            assert goal.goal_id + goal.text in lines, goal.goal_id


def test_floors_are_next_id_minus_one_from_24_750(data) -> None:
    floors = {f.prefix: f for f in data.floors}
    for prefix, next_id in NEXT_IDS_24_750.items():
        assert floors[prefix].highest_used == next_id - 1, prefix
        assert floors[prefix].verified is True
        assert "24/750" in floors[prefix].source
    assert floors["HJS"].verified is False
    assert floors["LM"].highest_used == 75
    assert len(floors) == len(data.floors)


def test_lm_75_from_footnote_3_enters_on_1_september_2024(data) -> None:
    goals = {g.goal_id: g for g in data.goals}
    lm75 = goals["LM-75"]
    assert lm75.catalogue == "FKM"
    assert lm75.text.startswith("Ha kjennskap til kliniske studier, herunder formål")
    assert lm75.text.endswith("pasienters reservasjonsrett.")
    assert lm75.elaboration is not None
    assert lm75.elaboration.startswith("Med begrepet klinisk studie menes")
    assert lm75.valid_from == date(2024, 9, 1)


def test_stakeholder_rules(data) -> None:
    by_group = Counter(s.group for s in data.stakeholders)
    assert by_group[StakeholderGroup.RHF] == 4
    assert by_group[StakeholderGroup.REGUT] == 4
    assert by_group[StakeholderGroup.LEGEFORENINGEN] == 1
    assert by_group[StakeholderGroup.FAKULTET] == 4
    committees = [s for s in data.stakeholders if s.group is StakeholderGroup.SPESIALITETSKOMITE]
    assert sorted(c.specialty for c in committees) == sorted(s.prefix for s in data.specialties)
    assert all(c.domains == () and c.email.endswith("@legeforeningen.no") for c in committees)
    keys = [s.key for s in data.stakeholders]
    emails = [s.email for s in data.stakeholders]
    domains = [d for s in data.stakeholders for d in s.domains]
    assert len(keys) == len(set(keys))
    assert len(emails) == len(set(emails))
    assert len(domains) == len(set(domains))
    for d in domains:
        assert not any(d.endswith("." + other) for other in domains), d


def test_only_the_address_seen_in_the_seeds_is_verified(data) -> None:
    verified = {s.key: s.email for s in data.stakeholders if s.email_verified}
    assert verified == {"regut-helse-sor-ost": "regutpost@ous-hf.no"}
    owners = {d: s.key for s in data.stakeholders for d in s.domains}
    assert owners["ous-hf.no"] == "oslo-universitetssykehus"
    assert owners["ntnu.no"] == "ntnu-medisin"
    assert owners["legeforeningen.no"] == "legeforeningen"
    names = {s.name for s in data.stakeholders}
    assert "Senter for sjeldne diagnoser (SSD)" in names
    assert "Nasjonal kompetansetjeneste for gastroenterologisk ultralyd (NSGU)" in names
    assert "Flerregional behandlingstjeneste for kirurgi ved bensarkom" in names


# --- broken copies of the data ----------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target)
    return target


def edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old` in `path`; returns its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert text.count(needle) == 1
    return text[: text.index(needle)].count("\n") + 1


def load_error(data_dir: Path) -> str:
    with pytest.raises(UserError) as info:
        load_reference_data(data_dir)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_an_unchanged_copy_loads(data_dir: Path, data) -> None:
    assert load_reference_data(data_dir) == data


def test_duplicate_prefix(data_dir: Path) -> None:
    path = data_dir / "specialties.yaml"
    first = line_of(path, "{prefix: AMM,")
    line = edit(path, "{prefix: ALM,", "{prefix: AMM,")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: prefix 'AMM'")
    assert f"already used at line {first}" in message


def test_bad_prefix(data_dir: Path) -> None:
    path = data_dir / "specialties.yaml"
    line = edit(path, "{prefix: BLS,", "{prefix: Ab1,")
    message = load_error(data_dir)
    assert message == (
        f"{path} line {line}: prefix 'Ab1' must be 2-5 capital letters (A-Z); "
        "fix the file and run 'hoering init' again"
    )


def test_unknown_specialty_group(data_dir: Path) -> None:
    path = data_dir / "specialties.yaml"
    line = edit(path, "name: Geriatri, group: indremedisinsk", "name: Geriatri, group: medisin")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: group 'medisin' must be one of ")
    assert "indremedisinsk, kirurgisk, annen" in message


def test_unknown_stakeholder_group(data_dir: Path) -> None:
    path = data_dir / "stakeholders.yaml"
    line = edit(path, "    group: privat\n    email: post@aleris.no", "    group: firma\n"
                "    email: post@aleris.no")  # fmt: skip
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: group 'firma' must be one of rhf, regut")


def test_bad_yaml_syntax(data_dir: Path) -> None:
    path = data_dir / "id_schemes.yaml"
    line = edit(path, "    kind: common\n", "    kind: [common\n")
    message = load_error(data_dir)
    assert re.match(rf"{re.escape(str(path))} line (\d+) column (\d+): not valid YAML \(", message)
    reported = int(re.search(r" line (\d+) ", message).group(1))
    assert line <= reported <= line + 2  # yaml reports where it noticed the missing ']'


def test_missing_file(data_dir: Path) -> None:
    path = data_dir / "id_floors.yaml"
    path.unlink()
    message = load_error(data_dir)
    assert message.startswith(f"{path}: file not found")


def test_unknown_field_is_reported_at_its_line(data_dir: Path) -> None:
    path = data_dir / "specialties.yaml"
    line = edit(path, "{prefix: NEV, name:", "{prefix: NEV, nmae:")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: unknown field 'nmae'")


def test_duplicate_field_in_one_entry(data_dir: Path) -> None:
    path = data_dir / "stakeholders.yaml"
    line = edit(path, "  - key: aleris\n", "  - key: aleris\n    key: aleris-2\n") + 1
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: field 'key' appears twice")


def test_goal_id_of_another_catalogue(data_dir: Path) -> None:
    path = data_dir / "catalogues" / "BLS.yaml"
    line = edit(path, "- id: BLS-002\n", "- id: NEV-002\n")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: id 'NEV-002' belongs to catalogue NEV")


def test_goal_id_with_wrong_padding(data_dir: Path) -> None:
    path = data_dir / "catalogues" / "FKM.yaml"
    line = edit(path, "- id: LM-75\n", "- id: LM-075\n")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: id 'LM-075' ")
    assert "write it as LM-75" in message


def test_course_goal_that_is_not_in_the_catalogue(data_dir: Path) -> None:
    path = data_dir / "catalogues" / "BLS.yaml"
    text = path.read_text(encoding="utf-8")
    courses_at = text.index("\ncourses:")
    first_in_course = text.index("      - BLS-001\n", courses_at)
    path.write_text(
        text[:first_in_course] + "      - BLS-999\n" + text[first_in_course + 16 :],
        encoding="utf-8",
    )
    line = text[:first_in_course].count("\n") + 1
    message = load_error(data_dir)
    assert message.startswith(
        f"{path} line {line}: goals: 'BLS-999' is not a goal of catalogue BLS"
    )


def test_duplicate_domain(data_dir: Path) -> None:
    path = data_dir / "stakeholders.yaml"
    first = line_of(path, "domains: [uio.no]")
    line = edit(path, "domains: [uib.no]", "domains: [uib.no, uio.no]")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: domains: 'uio.no' is already listed at "
                              f"line {first}")  # fmt: skip


def test_subdomain_of_a_listed_domain(data_dir: Path) -> None:
    path = data_dir / "stakeholders.yaml"
    line = edit(path, "domains: [ntnu.no]", "domains: [ntnu.no, mh.ntnu.no]")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: domains: 'mh.ntnu.no' is a subdomain of "
                              "'ntnu.no'")  # fmt: skip


def test_duplicate_email(data_dir: Path) -> None:
    path = data_dir / "stakeholders.yaml"
    line = edit(path, "email: post@aleris.no", "email: postmottak@lds.no")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: email 'postmottak@lds.no' is already used")


def test_bad_date(data_dir: Path) -> None:
    path = data_dir / "catalogues" / "FKM.yaml"
    line = edit(path, "valid_from: 2024-09-01", "valid_from: 1.9.2024")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: valid_from '1.9.2024' must be an ISO date")


def test_date_that_does_not_exist(data_dir: Path) -> None:
    path = data_dir / "catalogues" / "FKM.yaml"
    line = edit(path, "valid_from: 2024-09-01", "valid_from: 2024-02-30")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: valid_from '2024-02-30'")
    assert "does not exist" in message


def test_floor_of_unknown_prefix(data_dir: Path) -> None:
    path = data_dir / "id_floors.yaml"
    line = edit(path, "{prefix: GER, highest_used: 63,", "{prefix: GEX, highest_used: 63,")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: prefix 'GEX' is not a known ID prefix")


def test_floor_below_an_existing_goal(data_dir: Path) -> None:
    path = data_dir / "id_floors.yaml"
    line = edit(path, "{prefix: BLS, highest_used: 153,", "{prefix: BLS, highest_used: 150,")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: highest_used 150 for BLS is below BLS-151")


def test_specialty_without_committee(data_dir: Path) -> None:
    path = data_dir / "stakeholders.yaml"
    text = path.read_text(encoding="utf-8")
    kept = [ln for ln in text.splitlines(keepends=True) if "key: spesialitetskomite-bls," not in ln]
    assert len(kept) == len(text.splitlines()) - 1
    path.write_text("".join(kept), encoding="utf-8")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line_of(path, 'stakeholders:')}: no "
                              "spesialitetskomite for specialty BLS")  # fmt: skip


def test_committee_for_unknown_specialty(data_dir: Path) -> None:
    path = data_dir / "stakeholders.yaml"
    line = edit(path, "specialty: BLS,", "specialty: XYZ,")
    message = load_error(data_dir)
    assert message.startswith(f"{path} line {line}: specialty 'XYZ' is not a prefix")

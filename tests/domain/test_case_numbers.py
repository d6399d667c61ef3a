"""Finding, normalising and matching case numbers (saksnummer) such as 24/750."""

from __future__ import annotations

import pytest

from domain.case_numbers import find_case_numbers, match_case_number, normalise_case_number
from domain.errors import UserError


@pytest.mark.parametrize(
    "text",
    [
        "24/750",
        "Høringssvar 24/750",
        "sak 24/750",
        "Sak 24/750",
        "saksnr. 24/750",
        "Saksnr.: 24/750",
        "Saksnummer: 24/750",
        "sak nr. 24/750",
        "Deres ref.: 24/750-1",
        "Deres referanse: 24/750-12",
        "ref. 24/750",
        "Ref: 24/750",
        "Vår ref 24/750",
        "Vår ref.: 24/750-3",
        "Arkivsak 24/750",
        "Saksnr. 2024/750",
        "Høring – læringsmål om kliniske studier, sak 24/750.",
        "(24/750)",
        "SV: Høring 24/750-2",
    ],
)
def test_the_usual_ways_of_quoting_a_case_number_are_found(text: str) -> None:
    assert find_case_numbers(text) == ["24/750"]


@pytest.mark.parametrize(
    "text",
    [
        "31/5",  # a date, and a one-digit second part
        "1/2024",  # a month, and a one-digit first part
        "31/05",  # day 31, month 05
        "24/12",  # Christmas Eve, not case 12 of 2024
        "Frist 15/06 kl 12",
        "24/12/2024",
        "05/2024",  # May 2024
        "2023/24",  # a school year as written in the hearing letter
        "studieåret 23/24",
        "fordelingen 80/20",
        "50/50 i praksis",
        "3/4 av kandidatene",
        "24/7",
        "ca. 75/100 %",
        "https://www.helsedirektoratet.no/24/750",
        "24/7500000",
        "1.24/750",
        "",
    ],
)
def test_dates_years_ratios_and_paths_are_not_case_numbers(text: str) -> None:
    assert find_case_numbers(text) == []


def test_a_prefix_admits_a_short_sequence_number_that_alone_would_be_a_date() -> None:
    assert find_case_numbers("Se sak 24/12 og Deres ref. 23/05-1") == ["24/12", "23/5"]
    assert find_case_numbers("Møte 24/12 og 23/05") == []


def test_prefixed_numbers_come_first_and_each_case_only_once() -> None:
    text = "Vi viser til 23/999 og 24/100. Vår ref.: 24/750-3. Deres ref.: 2024/750-1, se 23/999."
    assert find_case_numbers(text) == ["24/750", "23/999", "24/100"]


def test_leading_zeros_of_the_sequence_number_are_dropped() -> None:
    assert find_case_numbers("sak 24/0750") == ["24/750"]


def test_the_hearing_letter_paragraph_yields_the_reference_case_only() -> None:
    letter = (
        "Forslaget har i 2023/24 vært på innspillsrunde hos Legeforeningen. Helsedirektoratet "
        "gjennomførte høring i 2022/23. Høringssvar sendes til postmottak@helsedir.no, gjerne "
        "med referanse til saksnummer 24/750. Frist 31/5."
    )
    assert find_case_numbers(letter) == ["24/750"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/750", "24/750"),
        ("  24/750 ", "24/750"),
        ("24/750-1", "24/750"),
        ("2024/750", "24/750"),
        ("1999/12", "99/12"),
        ("24/0750", "24/750"),
        ("24/7", "24/7"),
    ],
)
def test_normalise_accepts_the_canonical_and_archive_forms(text: str, expected: str) -> None:
    assert normalise_case_number(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("24-750", "write it as 24/750"),
        ("2024-750", "write it as 24/750"),
        ("sak 24/750", "write only 24/750"),
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "is not a case number"),
        ("1/2024", "is not a case number"),
        ("224/750", "is not a case number"),
        ("1850/750", "the year must be"),
        ("24/0", "at least 1"),
        ("24/1234567", "is not a case number"),
    ],
)
def test_normalise_rejects_malformed_input_with_a_one_line_hint(text: str, hint: str) -> None:
    with pytest.raises(UserError) as caught:
        normalise_case_number(text, where="--case")
    message = str(caught.value)
    assert message.startswith("--case: ")
    assert hint in message
    assert "\n" not in message


def test_match_prefers_the_subject_over_the_body() -> None:
    known = ["24/750", "23/999"]
    subject = "SV: Høring – læringsmål om kliniske studier, sak 24/750"
    body = "Deres ref.: 23/999-4\nVi støtter forslaget."
    assert match_case_number(subject, body, known) == "24/750"


def test_match_falls_back_to_the_body_and_skips_unknown_cases() -> None:
    subject = "Høringssvar fra Helse Vest RHF (vår ref. 24/1234)"
    body = "Vi viser til høringsbrev av 3. mai, saksnummer 24/750."
    assert match_case_number(subject, body, ["24/750"]) == "24/750"
    assert match_case_number(subject, body, ["23/1"]) is None


def test_match_normalises_the_known_cases() -> None:
    assert match_case_number(None, "Deres ref. 24/750-1", ["2024/0750"]) == "24/750"


def test_match_without_any_text_finds_nothing() -> None:
    assert match_case_number(None, None, ["24/750"]) is None
    assert match_case_number("", "", []) is None


def test_match_rejects_a_malformed_known_case() -> None:
    with pytest.raises(UserError, match="known case"):
        match_case_number("sak 24/750", None, ["24-750"])

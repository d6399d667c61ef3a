"""Suggesting a hearing for an unmatched response by the subject it names."""

from __future__ import annotations

import pytest

from domain.hearing_suggestions import HearingTitle, significant_words, stem, suggest_hearings

KLINISKE = HearingTitle(
    "24/750",
    "Kompetanse om kliniske studier i spesialistutdanningen for leger: Høring om innføring "
    "av ett læringsmål i enkelte utvalgte legespesialiteter",
)
AKUTT = HearingTitle("25/100", "Endring av læringsmål i akutt- og mottaksmedisin")
OPEN = [KLINISKE, AKUTT]


def test_words_are_stemmed_and_generic_words_dropped():
    assert stem("kliniske") == stem("klinisk") == "klinisk"
    assert stem("studier") == stem("studiene") == stem("studie") == "studi"
    assert significant_words(KLINISKE.title) == ("klinisk", "studi")
    assert significant_words("SV: Høringssvar – innspill til læringsmålene") == ()


@pytest.mark.parametrize(
    "subject",
    [
        "Innspill til høring – kliniske studier",
        "SV: Høring om klinisk studie",
        "KLINISKE STUDIER",
        "Høringsinnspill: Kliniske studier i spesialistutdanningen",
    ],
)
def test_a_subject_naming_the_hearing_suggests_it(subject):
    [suggestion] = suggest_hearings(subject, "", OPEN)
    assert (suggestion.case, suggestion.score, suggestion.matched) == (
        "24/750",
        1.0,
        ("klinisk", "studi"),
    )


@pytest.mark.parametrize(
    "subject",
    ["Høringssvar", "Innspill til læringsmål", "SV: Høring", "Kliniske", "Studier av akutt"],
)
def test_generic_or_thin_subjects_suggest_nothing(subject):
    assert suggest_hearings(subject, "Se vedlegg.", OPEN) == []


def test_a_subject_mostly_about_something_else_suggests_nothing():
    subject = "Spørsmål om permisjon, turnus, lønn og kliniske studier"
    assert suggest_hearings(subject, "", OPEN) == []


def test_a_generic_subject_with_the_phrase_in_the_body_suggests_with_a_lower_score():
    [suggestion] = suggest_hearings(
        "Høringssvar", "Vi støtter forslaget om kliniske studier i utdanningen.", OPEN
    )
    assert (suggestion.case, suggestion.score) == ("24/750", 0.5)
    # the two words apart in the body are not the hearing's subject
    assert suggest_hearings("Høringssvar", "Studier viser at kliniske forhold", OPEN) == []


def test_each_hearing_is_suggested_by_its_own_subject():
    [akutt] = suggest_hearings("Innspill: akutt- og mottaksmedisin", None, OPEN)
    assert akutt.case == "25/100"
    assert akutt.as_json() == {
        "case": "25/100",
        "title": AKUTT.title,
        "score": 1.0,
        "matched": ["akutt", "mottaksmedisin"],
    }

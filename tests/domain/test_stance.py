"""Suggested stances from Norwegian hearing responses, and stances typed by people."""

from __future__ import annotations

import pytest

from domain.stance import STANCE_ORDER, Stance, parse_stance, suggest_stance

S, SC, OP, N = (
    Stance.SUPPORTS,
    Stance.SUPPORTS_WITH_COMMENTS,
    Stance.OPPOSES,
    Stance.NO_COMMENTS,
)

# (text, expected stance, the phrase that must be reported)
CASES = [
    # support
    (
        "Den norske legeforening viser til høringsbrev av 22. mars 2024. Legeforeningen "
        "støtter forslaget om å innføre læringsmålet i de 13 spesialitetene.",
        S,
        "støtter forslaget",
    ),
    ("Helse Vest RHF slutter seg til forslaget fra Helsedirektoratet.", S, "slutter seg til"),
    ("Fakultetet stiller seg bak innføringen av læringsmålet.", S, "stiller seg bak"),
    ("Vi har ingen innvendinger mot forslaget.", S, "ingen innvendinger"),
    ("Forslaget støttes.", S, "støttes"),
    ("Vi er enige i at læringsmålet er faglig riktig.", S, "er enige i"),
    ("Vi gir vår fulle støtte til forslaget.", S, "gir vår fulle støtte til"),
    # support in nynorsk
    ("Helse Vest RHF støttar framlegget om nytt læringsmål.", S, "støttar framlegget"),
    # negations that are not opposition
    ("Vi støtter ikke bare forslaget, vi mener det burde kommet før.", S, "støtter"),
    ("Det er ingen tvil om at vi støtter forslaget.", S, "støtter forslaget"),
    ("Vi går ikke imot forslaget.", S, "går ikke imot"),
    ("Vi kan ikke se grunn til å gå imot forslaget.", S, "ikke se grunn til å gå imot"),
    ("Vi har ingen merknader og støtter forslaget.", S, "støtter forslaget"),
    ("Vi støtter forslaget og har ingen ytterligere merknader.", S, "støtter forslaget"),
    # support with comments
    (
        "Vi støtter forslaget, men mener nivået bør være «selvstendig kunne» i generell kirurgi.",
        SC,
        "støtter forslaget, men",
    ),
    (
        "Helse Bergen støtter forslaget med følgende merknader:\n1. Kapasiteten ...",
        SC,
        "med følgende merknader",
    ),
    ("Vi støtter i hovedsak forslaget.", SC, "i hovedsak"),
    ("Vi har følgende innspill til høringen:\n- Nivået er for lavt.", SC, "har følgende innspill"),
    (
        "Fakultetet er positive til forslaget. Vi fraråder imidlertid at nivået økes.",
        SC,
        "fraråder",
    ),
    (
        "Vi har ingen merknader til forslaget, men vil påpeke at kapasiteten er begrenset.",
        SC,
        "ingen merknader til forslaget, men",
    ),
    ("Vi har ingen innvendingar, men ønskjer eit høgare nivå.", SC, "ingen innvendingar, men"),
    # opposition
    ("Vi går imot forslaget om et nytt læringsmål i generell kirurgi.", OP, "går imot"),
    ("Spesialitetskomiteen fraråder at læringsmålet innføres nå.", OP, "fraråder"),
    ("Vi kan ikke støtte forslaget slik det foreligger.", OP, "kan ikke støtte"),
    ("Fagmiljøet støtter ikke forslaget.", OP, "støtter ikke"),
    ("Forslaget støttes ikke av avdelingen.", OP, "støttes ikke"),
    ("Vi er ikke enige i forslaget.", OP, "er ikke enige i"),
    ("Vi er uenige i at læringsmålet skal gjelde alle.", OP, "uenige"),
    ("Vi kan ikke anbefale at forslaget vedtas.", OP, "kan ikke anbefale"),
    ("Vi går imot forslaget, men støtter intensjonen.", OP, "går imot"),
    # opposition in nynorsk
    ("Vi støttar ikkje framlegget om nytt læringsmål.", OP, "støttar ikkje"),
    ("Vi kan ikkje støtte framlegget.", OP, "kan ikkje støtte"),
    ("Fagrådet går imot framlegget.", OP, "går imot"),
    # no comments
    ("Helse Nord RHF har ingen merknader til høringen.", N, "ingen merknader"),
    ("Helse Midt-Norge RHF har ingen kommentarer til saken.", N, "ingen kommentarer"),
    ("Vi har ikke noen merknader.", N, "ikke noen merknader"),
    ("Helse Vest RHF har ingen merknader.\n\nVenleg helsing\nKari", N, "ingen merknader"),
]


@pytest.mark.parametrize(("text", "stance", "phrase"), CASES, ids=[c[0][:40] for c in CASES])
def test_suggestion_and_triggering_phrase(text: str, stance: Stance, phrase: str) -> None:
    suggestion = suggest_stance(text)
    assert suggestion is not None
    assert suggestion.stance is stance
    assert suggestion.phrase == phrase
    # The position points at the phrase in the original text (whitespace may differ).
    assert " ".join(text[suggestion.position :].split()).startswith(phrase)


@pytest.mark.parametrize(
    "text",
    [
        "Takk for muligheten til å gi innspill.",
        "Vedlagt følger vårt høringssvar.",
        "Legeforeningen har tidligere støttet utformingen av læringsmålet.",  # past tense
        "",
    ],
)
def test_no_suggestion_without_a_stance_phrase(text: str) -> None:
    assert suggest_stance(text) is None


def test_quoted_reply_lines_are_not_read() -> None:
    text = (
        "Vi har ingen merknader.\n\n"
        "> Helsedirektoratet foreslår et nytt læringsmål.\n"
        "> Legeforeningen støtter forslaget.\n"
    )
    suggestion = suggest_stance(text)
    assert suggestion is not None
    assert suggestion.stance is N
    assert suggestion.position == text.index("ingen merknader")


def test_opposition_in_a_later_sentence_qualifies_support() -> None:
    text = (
        "Helse Sør-Øst RHF støtter forslaget. Vi går likevel imot at læringsmålet innføres "
        "i nevrokirurgi før kapasiteten er utredet."
    )
    suggestion = suggest_stance(text)
    assert suggestion is not None
    assert suggestion.stance is SC
    assert suggestion.phrase == "går likevel imot"


def test_case_and_line_breaks_do_not_matter() -> None:
    suggestion = suggest_stance("VI GÅR\nIMOT FORSLAGET")
    assert suggestion is not None
    assert suggestion.stance is OP
    assert suggestion.phrase == "GÅR IMOT"


@pytest.mark.parametrize(
    ("typed", "stance"),
    [
        ("støtter", S),
        ("Støtter med merknader", SC),
        ("stotter-med-merknader", SC),
        ("går imot", OP),
        ("gar_imot", OP),
        ("ingen merknader", N),
        ("supports_with_comments", SC),
        ("opposes", OP),
        ("støttar", S),
    ],
)
def test_parse_stance_accepts_labels_and_values(typed: str, stance: Stance) -> None:
    assert parse_stance(typed) is stance


def test_parse_stance_refuses_unknown_words() -> None:
    assert parse_stance("kanskje") is None


def test_every_stance_has_a_bokmaal_label_in_the_standard_order() -> None:
    assert [s.label_nb for s in STANCE_ORDER] == [
        "støtter",
        "støtter med merknader",
        "går imot",
        "ingen merknader",
    ]

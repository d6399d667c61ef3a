"""The competence-level classifier on Helsedirektoratet's vocabulary and the 24/750 goal."""

from __future__ import annotations

import pytest

from domain.competence import (
    CompetenceLevel,
    find_corresponding_sentences,
    find_level_changes,
    is_stricter,
    level_of_sentence,
    level_of_text,
    split_sentences,
)

GOAL_24_750 = (
    "Ha kunnskap om kliniske studier, herunder formål, krav til godkjenninger, krav til "
    "datahåndtering, krav til informert samtykke og pasienters reservasjonsrett4. "
    "Under supervisjon kunne finne frem til relevant klinisk studie eller studier for "
    "pasienter.\nUnder supervisjon kunne informere pasienten om studien, hvordan og hvor de "
    "kan inkluderes, samt kommunisere til pasienten hva informert samtykke og reservasjonsrett "
    "betyr."
)
LM_75 = (
    "Ha kjennskap til kliniske studier, herunder formål, krav til godkjenninger, krav til "
    "datahåndtering, krav til informert samtykke og pasienters reservasjonsrett."
)
BLS_001 = (
    "Ha god kunnskap om og beherske utredning og behandling av anemi som skyldes mangel på "
    "jern, vitamin B12 og folat."
)
BLS_101 = "Ha kunnskap om metoder for farging av blod- og benmargsutstryk."

LOW, MID, HIGH = CompetenceLevel.LOWEST, CompetenceLevel.MIDDLE, CompetenceLevel.HIGHEST


@pytest.mark.parametrize(
    ("sentence", "level"),
    [
        ("Ha kjennskap til vurderinger knyttet til bærere av hemofili.", LOW),
        ("Kjenne til prinsippene for stamcelletransplantasjon.", LOW),
        ("Ha kunnskap om metoder for farging av blod- og benmargsutstryk.", MID),
        ("Under supervisjon kunne finne frem til relevant klinisk studie.", MID),
        ("Ha god kunnskap om mekanismene for hemostase.", HIGH),
        ("Beherske aspirasjon og biopsi av benmarg.", HIGH),
        ("Selvstendig kunne informere pasienten om studien.", HIGH),
        (BLS_001, HIGH),
        ("HA  KUNNSKAP  OM analyser for vurdering av koagulasjon.", MID),
        ("Ha kjennskap til og under supervisjon kunne utføre punksjon.", MID),
        ("Utredning og behandling av anemi.", None),
    ],
)
def test_level_of_sentence_follows_the_vocabulary(
    sentence: str, level: CompetenceLevel | None
) -> None:
    assert level_of_sentence(sentence) == level


def test_a_phrase_inside_a_longer_word_is_not_a_level() -> None:
    assert level_of_sentence("Forbeherske er ikke et ord.") is None


def test_level_of_text_is_the_highest_of_its_sentences() -> None:
    assert level_of_text(GOAL_24_750) == MID
    assert level_of_text(LM_75 + " Beherske samtale om studien.") == HIGH
    assert level_of_text("Ingen nivåfrase her.") is None


def test_split_sentences_of_the_24_750_goal() -> None:
    sentences = split_sentences(GOAL_24_750)
    assert len(sentences) == 3
    assert sentences[0].startswith("Ha kunnskap om kliniske studier")
    assert sentences[1] == (
        "Under supervisjon kunne finne frem til relevant klinisk studie eller studier for "
        "pasienter."
    )
    assert sentences[2].endswith("reservasjonsrett betyr.")


def test_split_sentences_keeps_abbreviations_and_lower_case_continuations() -> None:
    text = (
        "Ha kunnskap om f.eks. Fanconi anemi. Beherske behandling, jf. retningslinjen. Kjenne til X"
    )
    assert split_sentences(text) == [
        "Ha kunnskap om f.eks. Fanconi anemi.",
        "Beherske behandling, jf. retningslinjen.",
        "Kjenne til X",
    ]
    assert split_sentences("   ") == []


def test_24_750_first_sentence_raises_lm_75_from_lowest_to_middle() -> None:
    existing = {"LM-75": LM_75, "BLS-001": BLS_001, "BLS-101": BLS_101}
    changes = find_level_changes(GOAL_24_750, existing)
    assert len(changes) == 1
    change = changes[0]
    assert change.goal_id == "LM-75"
    assert change.sentence_index == 0
    assert change.existing_sentence == LM_75
    assert (change.level_before, change.level_after) == (LOW, MID)
    assert change.stricter
    assert change.similarity >= 0.85


def test_a_matching_sentence_at_the_same_level_is_no_level_change() -> None:
    same = LM_75.replace("Ha kjennskap til", "Kjenne til")
    matches = find_corresponding_sentences(same, {"LM-75": LM_75})
    assert [m.goal_id for m in matches] == ["LM-75"]
    assert not matches[0].level_changed
    assert find_level_changes(same, {"LM-75": LM_75}) == []


def test_a_lower_level_is_a_change_but_not_stricter() -> None:
    lowered = BLS_101.replace("Ha kunnskap om", "Kjenne til")
    (change,) = find_level_changes(lowered, {"BLS-101": BLS_101})
    assert (change.level_before, change.level_after) == (MID, LOW)
    assert not change.stricter


def test_different_content_below_the_threshold_is_not_matched() -> None:
    other = "Ha god kunnskap om kliniske retningslinjer for behandling av hjertesvikt."
    assert find_corresponding_sentences(other, {"LM-75": LM_75}) == []
    # The same pair matches once the threshold is low enough: the threshold decides.
    assert find_corresponding_sentences(other, {"LM-75": LM_75}, threshold=0.1)


def test_is_stricter_compares_overall_and_sentence_levels() -> None:
    assert is_stricter(LM_75, GOAL_24_750)
    assert not is_stricter(GOAL_24_750, LM_75)
    # Highest level unchanged (both HIGH), but the first sentence goes up: still stricter.
    old = BLS_101 + " Beherske vurdering av blod- og benmargsutstryk."
    new = BLS_101.replace("Ha kunnskap om", "Beherske") + (
        " Beherske vurdering av blod- og benmargsutstryk."
    )
    assert level_of_text(old) == level_of_text(new) == HIGH
    assert is_stricter(old, new)

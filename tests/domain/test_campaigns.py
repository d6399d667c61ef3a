"""Near-duplicate grouping of responses (campaigns of form letters)."""

from __future__ import annotations

import random

from domain.campaigns import comparison_words, group_near_duplicates, shingle_hashes

FORM_LETTER = (
    "Som lege i spesialisering ønsker jeg å gi innspill til høringen om læringsmål i kliniske "
    "studier. Jeg støtter intensjonen om mer klinisk forskning, men mener at læringsmålet vil "
    "bli vanskelig å oppnå for mange LIS uten at det settes av tid og ressurser. Ved mange "
    "avdelinger finnes det få eller ingen pågående studier, og det er uklart hvordan "
    "læringsmålet skal dokumenteres og vurderes. Jeg ber derfor Helsedirektoratet om å sikre "
    "at læringsmålet kan oppnås ved alle helseforetak før det forskriftsfestes."
)

OTHER_LETTERS = [
    (
        "Helse Bergen HF støtter forslaget. Avdelingene har god tilgang til kliniske studier "
        "gjennom forskningsposten, og leger i spesialisering deltar allerede i inklusjon av "
        "pasienter. Vi ser derfor ingen praktiske hindringer for å innføre læringsmålet, men "
        "anbefaler at det utarbeides en felles veileder for hvordan det skal vurderes."
    ),
    (
        "Spesialitetskomiteen i generell kirurgi mener at nivået i læringsmålet er for lavt. "
        "Kirurger i spesialisering bør selvstendig kunne finne relevante studier og informere "
        "pasienter om dem, slik at læringsmålet får reelt innhold. Vi foreslår derfor at "
        "nivået endres til selvstendig kunne for generell kirurgi."
    ),
    (
        "Universitetet i Oslo viser til høringsbrevet og har ingen innvendinger mot forslaget. "
        "Fakultetet vil likevel peke på at undervisningen i forskningsmetode i grunnutdanningen "
        "allerede dekker mye av det teoretiske innholdet, og at læringsmålet derfor bør "
        "vektlegge den praktiske delen i møte med pasienter."
    ),
]


def signed(
    body: str, name: str, greeting: str = "Hei,", closing: str = "Med vennlig hilsen"
) -> str:
    return f"{greeting}\n\n{body}\n\n{closing}\n{name}\nLIS, Medisinsk klinikk\n{name.lower()}@x.no"


def test_form_letter_copies_with_small_edits_are_one_group() -> None:
    copies = {
        1: signed(FORM_LETTER, "Kari Nordmann"),
        2: signed(FORM_LETTER, "Ola Hansen", greeting="Til Helsedirektoratet", closing="Mvh"),
        3: signed(FORM_LETTER.replace("vanskelig", "krevende"), "Siri Berg"),  # changed word
        4: signed(f"Mitt navn er Lars Dahl. {FORM_LETTER}", "Lars Dahl"),  # a name added
        5: signed(f"{FORM_LETTER} Jeg jobber selv ved et mindre sykehus.", "Nora Lie"),
        6: signed(FORM_LETTER.replace("derfor", "dermed"), "Emil Moe", greeting=""),
    }
    texts = {**copies, **{10 + i: signed(t, "Anne Bakke") for i, t in enumerate(OTHER_LETTERS)}}
    groups = group_near_duplicates(texts)
    assert [g.members for g in groups] == [(1, 2, 3, 4, 5, 6)]
    assert groups[0].size == 6


def test_different_letters_on_the_same_topic_are_not_grouped() -> None:
    texts = {i: signed(t, "Kari Nordmann") for i, t in enumerate(OTHER_LETTERS)}
    assert group_near_duplicates(texts) == []
    # Two copies of the form letter, and a letter that borrows its first sentence only.
    texts[7] = signed(FORM_LETTER, "Ola Hansen")
    texts[8] = signed(FORM_LETTER, "Siri Berg")
    texts[9] = signed(FORM_LETTER.split(". ")[0] + ". " + OTHER_LETTERS[0], "Lars Dahl")
    assert [g.members for g in group_near_duplicates(texts)] == [(7, 8)]


def test_one_added_sentence_still_makes_a_copy() -> None:
    texts = {i: signed(t, "Kari Nordmann") for i, t in enumerate(OTHER_LETTERS)}
    texts[9] = signed("Vi har drøftet saken i komiteen. " + OTHER_LETTERS[1], "Ola Hansen")
    assert [g.members for g in group_near_duplicates(texts)] == [(1, 9)]


def test_short_answers_are_alike_but_not_a_campaign() -> None:
    texts = {i: signed("Vi har ingen merknader til høringen.", f"Person {i}") for i in range(8)}
    assert group_near_duplicates(texts) == []
    # With the minimum lowered they are identical texts and do group.
    assert [g.size for g in group_near_duplicates(texts, min_words=1)] == [8]


def test_signature_greeting_quotes_and_addresses_do_not_count() -> None:
    text = (
        "Hei Helsedirektoratet!\n\nVi støtter forslaget.\n"
        "Kontakt: kari.nordmann@gmail.com, https://example.no/side\n"
        "> sitert tekst fra høringsbrevet\n\n"
        "Med vennlig hilsen\nKari Nordmann\nTlf 900 00 000"
    )
    assert comparison_words(text) == ["vi", "støtter", "forslaget", "kontakt"]


def test_changing_one_word_changes_only_nearby_shingles() -> None:
    words = comparison_words(FORM_LETTER)
    edited = comparison_words(FORM_LETTER.replace("vanskelig", "krevende"))
    a, b = set(shingle_hashes(words).tolist()), set(shingle_hashes(edited).tolist())
    assert len(a) == len(words) - 2  # all 3-shingles distinct in this letter
    assert len(a - b) == 3 and len(b - a) == 3


def test_grouping_is_deterministic_and_keeps_input_order() -> None:
    texts = [(f"r{i}", signed(FORM_LETTER, f"Navn {i}")) for i in range(5)]
    texts.insert(2, ("other", signed(OTHER_LETTERS[0], "Navn")))
    first = group_near_duplicates(texts)
    assert first == group_near_duplicates(list(texts))
    assert first[0].members == ("r0", "r1", "r2", "r3", "r4")


def test_campaigns_among_many_unique_responses_are_found_exactly() -> None:
    """A scaled-down version of benchmarks/campaigns.py: 1,500 responses, two campaigns."""
    rng = random.Random(3)
    vocabulary = sorted(set(" ".join([*OTHER_LETTERS, FORM_LETTER]).lower().split()))
    texts: dict[int, str] = {}
    planted: dict[int, int] = {}
    second = OTHER_LETTERS[1]
    for i in range(1500):
        roll = rng.random()
        if roll < 0.2:
            body = FORM_LETTER.replace("derfor", rng.choice(["derfor", "dermed", "også"]))
            planted[i] = 0
        elif roll < 0.25:
            body = f"{second} {rng.choice(['Takk for muligheten.', 'Dette haster.', ''])}"
            planted[i] = 1
        else:
            body = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(40, 90)))
        texts[i] = signed(body, f"Person {i}")
    groups = group_near_duplicates(texts)
    expected = sorted(
        (tuple(sorted(k for k, c in planted.items() if c == n)) for n in (0, 1)),
        key=len,
        reverse=True,
    )
    assert [g.members for g in groups] == expected

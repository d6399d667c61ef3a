"""Near-duplicate grouping of responses (campaigns of form letters)."""

from __future__ import annotations

import json
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
    # Two copies of the form letter, and a letter that borrows its first sentence only:
    # it does not join the form letter's copies (it is letter 0 with a sentence added).
    texts[7] = signed(FORM_LETTER, "Ola Hansen")
    texts[8] = signed(FORM_LETTER, "Siri Berg")
    texts[9] = signed(FORM_LETTER.split(". ")[0] + ". " + OTHER_LETTERS[0], "Lars Dahl")
    assert [g.members for g in group_near_duplicates(texts)] == [(0, 9), (7, 8)]


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


LIS_TEMPLATE = (
    "Som {lege i spesialisering|LIS-lege} ønsker jeg å gi innspill til høringen om "
    "læringsmål i kliniske studier. Jeg støtter intensjonen om mer klinisk forskning, men "
    "mener at læringsmålet vil bli {vanskelig å oppnå|svært krevende å nå} for mange LIS uten "
    "at det settes av tid og ressurser. Ved mange avdelinger finnes det {få eller ingen "
    "pågående studier|knapt noen aktive studier}, og det er uklart hvordan læringsmålet skal "
    "dokumenteres og vurderes. Jeg ber derfor Helsedirektoratet om å {sikre at|sørge for at} "
    "læringsmålet kan oppnås ved alle helseforetak før det forskriftsfestes."
)
PROPOSAL = (
    "Hensikten med innføring av dette læringsmålet er å stimulere til at en nyutdannet "
    "spesialist skal kunne ha oversikt over aktuelle kliniske studier i sin spesialitet, kunne "
    "informere pasienter om disse og kunne diskutere reservasjonsrett med pasientene."
)


def _lis_letter(rng: random.Random, number: int) -> str:
    """The issue's example: two of the four phrases reworded, signed with the sender's own
    name, street address and phone number."""
    reworded = set(rng.sample(range(4), k=2))
    parts = LIS_TEMPLATE.replace("}", "{").split("{")
    body = "".join(
        part.split("|")[1 if i // 2 in reworded else 0] if i % 2 else part
        for i, part in enumerate(parts)
    )
    name = f"{rng.choice(['Kari', 'Ola', 'Siri', 'Lars'])} {rng.choice(['Berg', 'Lie', 'Moe'])}"
    street = f"{rng.choice(['Storgata', 'Kirkeveien', 'Fjordgata'])} {number + 1}, 0155 Oslo"
    phone = f"9{rng.randint(1000000, 9999999)}"
    return (
        f"Kjære Helsedirektoratet,\n\n{body}\n\nMed vennlig hilsen\n{name}\n{street}\n"
        f"Tlf. {phone[:3]} {phone[3:5]} {phone[5:]}\n"
    )


def test_twenty_five_lis_letters_with_two_of_four_phrases_reworded_are_one_group() -> None:
    rng = random.Random(25)
    texts = {n: _lis_letter(rng, n) for n in range(25)}
    texts.update({100 + i: signed(t, "Anne Bakke") for i, t in enumerate(OTHER_LETTERS)})
    groups = group_near_duplicates(texts, quoted=PROPOSAL)
    assert [g.members for g in groups] == [tuple(range(25))]


def test_letters_quoting_the_same_proposal_passage_are_not_a_campaign() -> None:
    texts = {
        i: signed(f'I høringsnotatet står det: "{PROPOSAL}"\n\n{own}', "Kari Nordmann")
        for i, own in enumerate(OTHER_LETTERS)
    }
    assert group_near_duplicates(texts, quoted=PROPOSAL) == []
    # Short comments around the quotation: without the proposal to take out, the shared
    # quotation is most of each letter and makes a false campaign.
    short = {
        i: signed(f'{own.split(". ")[0]}. Forslaget sier: "{PROPOSAL}"', "Kari Nordmann")
        for i, own in enumerate(OTHER_LETTERS)
    }
    assert [g.members for g in group_near_duplicates(short)] == [(0, 1, 2)]
    assert group_near_duplicates(short, quoted=PROPOSAL) == []


def test_letterhead_address_and_phone_do_not_count() -> None:
    text = (
        "Kari Nordmann\nStorgata 1, 0155 Oslo\nMobil 912 34 567\n\nKjære Helsedirektoratet,\n\n"
        "Vi støtter forslaget.\n\nHilsen\nKari"
    )
    assert comparison_words(text) == ["vi", "støtter", "forslaget"]


def test_the_service_takes_out_every_text_of_the_hearing_spec() -> None:
    from services.campaigns import proposal_text

    spec = {"case": "24/750", "purpose": PROPOSAL, "items": [{"text": "Nytt læringsmål."}]}
    text = proposal_text(json.dumps(spec))
    assert PROPOSAL in text.splitlines() and "Nytt læringsmål." in text.splitlines()
    letters = {
        i: signed(f'{own.split(". ")[0]}. Forslaget sier: "{PROPOSAL}"', "Kari Nordmann")
        for i, own in enumerate(OTHER_LETTERS)
    }
    assert group_near_duplicates(letters, quoted=text) == []


def test_every_edit_family_of_the_hard_benchmark_is_found_at_small_scale() -> None:
    """A scaled-down `benchmarks/campaigns.py --only hard`: five campaigns of 40 copies,
    each copy edited as one family, 300 letters quoting the proposal, 1,500 others."""
    from benchmarks import campaign_letters
    from benchmarks.campaigns import family_scores, generate_hard

    texts, labels, families = generate_hard(2000, seed=5, sizes=(40,) * 5, quoting=300)
    groups = group_near_duplicates(list(enumerate(texts)), quoted=campaign_letters.PROPOSAL)
    scores = family_scores(groups, labels, families)
    for family in campaign_letters.FAMILIES:
        precision, recall, _ = scores[family]
        assert precision >= 0.95 and recall >= 0.95, family
    for control in campaign_letters.CONTROLS:
        assert scores[control][2] <= 0.01 * families.count(control), control


def test_grouping_in_batches_is_grouping_at_once() -> None:
    """The grouping as responses arrive (`GroupingState` fed three batches, carrying only
    what it remembers) finds the groups of grouping everything at once: near-duplicates,
    edited copies, exact copies, letters quoting the proposal and unrelated letters."""
    from benchmarks import campaign_letters
    from benchmarks.campaigns import generate_hard
    from domain.campaigns import GroupingState, signatures

    texts, _, _ = generate_hard(900, seed=13, sizes=(60, 40, 25), quoting=80)
    texts += texts[:30]  # exact copies arriving later
    quoted = campaign_letters.PROPOSAL
    whole = group_near_duplicates(list(enumerate(texts)), quoted=quoted)
    state = GroupingState()
    for start, end in ((0, 250), (250, 700), (700, len(texts))):
        state.add(signatures([(i, texts[i]) for i in range(start, end)], quoted))
    batched = {tuple(m) for m in state.groups().values() if len(m) >= 2}
    assert batched == {g.members for g in whole}
    assert len(whole) >= 3 and sum(g.size for g in whole) >= 150

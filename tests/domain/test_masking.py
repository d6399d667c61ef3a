"""Masking a private sender's name and e-mail address in published text."""

from __future__ import annotations

import re

import pytest

from domain.masking import EMAIL_MASK, NAME_MASK, PrivateMask, name_from_address
from domain.personal_data import ADDRESS_MASK as STREET_MASK
from domain.personal_data import (
    BIRTH_DATE_MASK,
    NATIONAL_ID_MASK,
    PHONE_MASK,
    is_national_id,
    mask_identifiers,
)
from domain.response_masking import ResponseMasker

MESSAGE = """From: Kari Anne Nordmann-Øverås <kari.overaas@gmail.com>
To: postmottak@helsedir.no
Subject: Innspill til 24/750 fra KARI ANNE NORDMANN-ØVERÅS

Hei!

Jeg, kari anne nordmann-øverås, er LIS i indremedisin. Nordmann-Øverås, Kari Anne mener at
læringsmålet er viktig. Ta kontakt på mailto:kari.overaas@gmail.com eller skriv til
kari.overaas i Teams. K.A. Nordmann-Øverås signerte også oppropet, og K. Nordmann-Øverås
står på listen.

Per dag ser vi mange pasienter; Kari-prosjektet og Mai-kurset er ikke personer.

Med vennlig hilsen
Kari
LIS, Oslo universitetssykehus
"""


@pytest.fixture
def mask() -> PrivateMask:
    return PrivateMask.for_sender("Kari Anne Nordmann-Øverås", "kari.overaas@gmail.com")


def test_name_and_address_are_gone_from_headers_body_and_signature(mask: PrivateMask) -> None:
    masked = mask.mask(MESSAGE)
    lowered = masked.lower()
    for trace in ("nordmann", "øverås", "kari.overaas", "gmail"):
        assert trace not in lowered, (trace, masked)
    lines = masked.splitlines()
    assert lines[0] == f"From: {NAME_MASK} <{EMAIL_MASK}>"
    assert lines[2] == f"Subject: Innspill til 24/750 fra {NAME_MASK}"
    assert f"Jeg, {NAME_MASK}, er LIS" in masked
    assert f"{NAME_MASK} mener at" in masked
    assert f"mailto:{EMAIL_MASK} eller skriv til\n{EMAIL_MASK} i Teams" in masked
    # The first name alone in the signature is masked ...
    assert lines[-3:] == ["Med vennlig hilsen", NAME_MASK, "LIS, Oslo universitetssykehus"]


def test_organisations_and_common_words_are_left_alone(mask: PrivateMask) -> None:
    masked = mask.mask(MESSAGE)
    # ... but not in the body, where "Kari-prosjektet" is not the person.
    assert "Per dag ser vi mange pasienter; Kari-prosjektet og Mai-kurset" in masked
    assert "To: postmottak@helsedir.no" in masked
    assert "Oslo universitetssykehus" in masked


def test_last_name_first_and_line_breaks_between_parts() -> None:
    mask = PrivateMask.for_sender("Nordmann, Ola", "ola@nordmann.no")
    text = "Ola\nNordmann skrev. NORDMANN OLA. Nordmann, O. og O. Nordmann. ola@NORDMANN.no"
    assert mask.mask(text) == (
        f"{NAME_MASK} skrev. {NAME_MASK}. {NAME_MASK} og {NAME_MASK}. {EMAIL_MASK}"
    )


def test_a_surname_that_is_a_common_word_is_masked_only_as_a_name() -> None:
    mask = PrivateMask.for_sender("Per Berg", "per.berg@online.no")
    text = "Per Berg mener at berg og dal er like. Hilsen fra Berg. Per uke: to vakter."
    assert mask.mask(text) == (
        f"{NAME_MASK} mener at berg og dal er like. Hilsen fra {NAME_MASK}. Per uke: to vakter."
    )


def test_without_display_name_the_name_comes_from_the_address() -> None:
    assert name_from_address("ola.hansen@online.no") == "Ola Hansen"
    assert name_from_address("oh1977@online.no") is None
    mask = PrivateMask.for_sender(None, "ola.hansen@online.no")
    assert mask.mask("Jeg heter Ola Hansen.") == f"Jeg heter {NAME_MASK}."


def test_decomposed_letters_are_matched() -> None:
    mask = PrivateMask.for_sender("Åse Ødegård", "ase@example.no")
    text = "Skrevet av A\u030ase Ødega\u030ard."  # Å and å written as a letter + ring
    assert mask.mask(text) == f"Skrevet av {NAME_MASK}."


def test_a_mask_without_name_or_address_changes_nothing() -> None:
    mask = PrivateMask.for_sender(None, None)
    assert mask.is_empty
    assert mask.mask(MESSAGE) == MESSAGE


# --- structured identifiers and names found in the text (domain.personal_data, name_finding)

PHONES = ("912 34 567", "+47 41234567", "98 76 54 32", "+4799887766", "004791122334", "22 33 44 55")


@pytest.mark.parametrize("number", PHONES)
def test_phone_numbers_in_every_common_form_are_masked(number: str) -> None:
    assert mask_identifiers(f"Ring meg på {number}, eller skriv.") == (
        f"Ring meg på {PHONE_MASK}, eller skriv."
    )
    assert mask_identifiers(f"({number})") == f"({PHONE_MASK})"


def test_national_ids_are_masked_only_with_valid_check_digits() -> None:
    assert is_national_id("01018010018") and is_national_id("41018010001")  # D-nummer
    assert not is_national_id("01018012345") and not is_national_id("99999999999")
    text = "Fnr 01018010018, D-nummer 410180 10001, kontonr. 01018012345."
    assert mask_identifiers(text) == (
        f"Fnr {NATIONAL_ID_MASK}, D-nummer {NATIONAL_ID_MASK}, kontonr. 01018012345."
    )


def test_case_numbers_dates_and_goal_ids_are_never_masked() -> None:
    text = (
        "Sak 24/750 og 23/1412, vår ref. 24/750-12, mottatt 12.05.2024 (2024-05-12), "
        "læringsmål BLS-154 og KIR-012, 31. mai 2024, 20240512, versjon 2.1.3."
    )
    assert mask_identifiers(text) == text
    masker = ResponseMasker.for_response("Kari Nordmann", "kari@example.no", [text])
    assert masker.mask(text) == text


def test_addresses_birth_dates_and_private_e_mail_are_masked() -> None:
    text = (
        "Jeg bor i Storgata 1, 0155 Oslo og er født 12.03.1987. Post til Kirkeveien 12B\n"
        "0368 OSLO. Fødd 3. mars 1990. Skriv til tom.h@gmail.com, ikke postmottak@helsedir.no."
    )
    assert mask_identifiers(text) == (
        f"Jeg bor i {STREET_MASK} og er født {BIRTH_DATE_MASK}. Post til {STREET_MASK}. "
        f"Fødd {BIRTH_DATE_MASK}. Skriv til {EMAIL_MASK}, ikke postmottak@helsedir.no."
    )


RESPONSE = """Hei,

Jeg støtter BLS-154. Kontakt min kollega Per Olsen på 912 34 567 eller Siv Bråten-Li
(siv.bl@online.no) for å høre mer.

Med vennlig hilsen
Tom Hagen

Den 3. mars 2024 kl. 10.12 skrev Åse Bjørnstad <ase.b@online.no>:
> Enig i sak 24/750.
> Bjørnstad, Åse

---------- Videresendt melding ---------
Fra: Ola Nordbø <ola.n@hotmail.com>
Til: Helsedirektoratet <postmottak@helsedir.no>

Hilsen
Ola
"""


def test_names_are_found_by_where_they_stand() -> None:
    masker = ResponseMasker.for_response(None, "tom.h@gmail.com", [RESPONSE])
    masked = masker.mask(RESPONSE)
    for name in ("Tom", "Hagen", "Per Olsen", "Bråten", "Åse", "Bjørnstad", "Ola", "Nordbø"):
        assert not re.search(rf"(?<!\w){name}(?!\w)", masked), (name, masked)
    assert "Jeg støtter BLS-154. Kontakt min kollega [navn skjermet] på " in masked
    assert f"> {NAME_MASK}\n" in masked and "Helsedirektoratet <postmottak@helsedir.no>" in masked
    assert masked.rstrip().endswith(f"Hilsen\n{NAME_MASK}")
    assert masker.mask_file_name("Høringssvar_Tom_Hagen.docx") == f"Høringssvar {NAME_MASK}.docx"


@pytest.mark.parametrize(
    "signature",
    [
        "Med vennlig hilsen\nDr. Kari Nordmann\n",
        "Mvh\nKari Nordmann, LIS 2 i indremedisin\n",
        "Venleg helsing\n\nKARI NORDMANN\n",
        "Hilsen Kari Nordmann\n",
    ],
)
def test_a_signature_gives_the_name_in_its_usual_forms(signature: str) -> None:
    text = f"Innspill til BLS-154.\n\n{signature}"
    masker = ResponseMasker.for_response(None, "kn1987@online.no", [text])
    masked = masker.mask(text)
    assert "Kari" not in masked and "Nordmann" not in masked.title(), masked
    assert masked.startswith("Innspill til BLS-154.") and NAME_MASK in masked


def test_organisations_and_roles_in_a_signature_are_not_names() -> None:
    text = "Hei.\n\nMvh\nOslo universitetssykehus HF\nLIS\n"
    assert ResponseMasker.for_response(None, "x@online.no", [text]).mask(text) == text
    text = "Spør Sykehuset Innlandet, tlf. 62 53 40 00, eller Per Olsen på 912 34 567."
    assert ResponseMasker.for_response(None, None, [text]).mask(text) == (
        f"Spør Sykehuset Innlandet, tlf. {PHONE_MASK}, eller {NAME_MASK} på {PHONE_MASK}."
    )


def test_a_longer_name_is_masked_whole_before_the_senders_surname_alone() -> None:
    text = "Mitt navn er Sindre Håkon Sandnes.\n\nVenleg helsing Sindre Håkon Sandnes"
    masker = ResponseMasker.for_response(None, "sindre.sandnes@outlook.com", [text])
    assert masker.mask(text) == f"Mitt navn er {NAME_MASK}.\n\nVenleg helsing {NAME_MASK}"


def test_numbers_that_are_no_phone_numbers_stay() -> None:
    text = "Saksnr. 20241234, org.nr. 983 971 636, kl. 0800-1600, 2024-2025, nr. 12 av 14."
    assert mask_identifiers(text) == text


def test_dates_with_dots_stay_but_a_number_that_is_no_date_is_masked() -> None:
    text = "Høringsfrist 31.05.2024, møte 1.9.2025, gjelder fra 31.12.2025."
    assert mask_identifiers(text) == text
    assert mask_identifiers("Ring 31.35.20.24 eller 91.23.45.67") == (
        f"Ring {PHONE_MASK} eller {PHONE_MASK}"
    )


def test_family_members_quoted_first_names_and_contact_labels() -> None:
    text = (
        "Jeg heter Ola Hagen. Barnet mitt, Emma Hagen, er også enig. Spør Hagen om det.\n"
        "Mvh Ola\nMob: 957 12 345\n\n> 12. mai 2024 skrev Petter Dass <pd@gmail.com>:\n"
        "> Hei Ola, hva synes du om BLS-154?\n>\n> Petter\n"
    )
    masked = ResponseMasker.for_response("Ola", "anonym@hagen.no", [text]).mask(text)
    assert masked == (
        f"Jeg heter {NAME_MASK}. Barnet mitt, {NAME_MASK}, er også enig. Spør {NAME_MASK} om "
        f"det.\nMvh {NAME_MASK}\nMob: {PHONE_MASK}\n\n> 12. mai 2024 skrev {NAME_MASK} "
        f"<{EMAIL_MASK}>:\n> Hei {NAME_MASK}, hva synes du om BLS-154?\n>\n> {NAME_MASK}\n"
    )
    assert PrivateMask.for_sender(None, "anonym@proton.me").mask("Jeg vil være anonym.") == (
        "Jeg vil være anonym."
    )

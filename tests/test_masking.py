"""Masking a private sender's name and e-mail address in published text."""

from __future__ import annotations

import pytest

from domain.masking import EMAIL_MASK, NAME_MASK, PrivateMask, name_from_address

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

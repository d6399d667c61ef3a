"""Unverified reference data: one warning line per kind, and which IDs are provisional."""

from __future__ import annotations

from domain.unverified_data import (
    ItemId,
    RecipientAddress,
    UnverifiedData,
    provisional_refs,
    unverified_warnings,
)

RAD = ItemId(ref="RAD", shown="RAD-041", prefix="RAD", new=True)
ALM = ItemId(ref="ALM", shown="ALM-121", prefix="ALM", new=True)
BLS = ItemId(ref="BLS", shown="BLS-154", prefix="BLS", new=True)
HJS = ItemId(ref="HJS", shown="HJS-xxx", prefix="HJS", new=True)
AMENDED = ItemId(ref="BLS-010", shown="BLS-010", prefix="BLS", new=False)
VERIFIED = RecipientAddress("RegUt Helse Sør-Øst", True)


def test_an_unverified_prefix_is_one_line_naming_the_file():
    data = UnverifiedData(prefixes=frozenset({"RAD"}))
    assert unverified_warnings([RAD, BLS], [VERIFIED], data) == [
        "unverified ID prefix RAD (prefix_verified: false); confirm it against "
        "Kompetanseportalen and set prefix_verified: true in data/specialties.yaml"
    ]


def test_ids_from_unverified_floors_are_one_line_with_each_floor():
    data = UnverifiedData(floors={"RAD": 40, "ALM": 120, "HJS": 100})
    assert unverified_warnings([RAD, ALM, BLS, HJS], [VERIFIED], data) == [
        "RAD-041, ALM-121, HJS-xxx rest on an unverified ID floor (highest_used RAD 40, "
        "ALM 120, HJS 100, verified: false): the numbers may already be in use; confirm the "
        "highest number in use and set verified: true in data/id_floors.yaml"
    ]
    # an existing goal's ID does not come from the floor
    assert unverified_warnings([AMENDED], [VERIFIED], UnverifiedData(floors={"BLS": 1})) == []


def test_unverified_addresses_are_counted_in_one_line():
    recipients = [VERIFIED] + [RecipientAddress(f"Instans {n}", False) for n in range(1, 65)]
    assert unverified_warnings([BLS], recipients, UnverifiedData()) == [
        "64 of 65 recipient addresses are unverified placeholders: Instans 1, Instans 2, "
        "Instans 3 and 61 more; confirm them in data/stakeholders.yaml (email_verified: true)"
    ]


def test_nothing_unverified_gives_no_warning():
    assert unverified_warnings([BLS, AMENDED], [VERIFIED], UnverifiedData()) == []


def test_provisional_ids_are_numbers_resting_on_unverified_data():
    data = UnverifiedData(prefixes=frozenset({"BLS"}), floors={"RAD": 40, "HJS": 100})
    assert provisional_refs([RAD, ALM, BLS, HJS, AMENDED], data) == {"RAD", "BLS", "BLS-010"}

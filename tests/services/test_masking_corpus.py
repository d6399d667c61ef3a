"""The publication export on a generated corpus (60 private persons, 15 organisations):
every structured identifier and at least 95 % of planted names masked, no case number,
date or goal ID masked, organisations published byte for byte. The full-size run (200 +
50) is `python -m benchmarks.masking`."""

from __future__ import annotations

from tests.masking_measure import publish_corpus


def test_the_export_masks_the_planted_personal_data(engine, tmp_path):
    figures, _ = publish_corpus(engine, tmp_path, private=60, organisations=15, seed=11)
    assert figures.private == 60 and figures.organisations == 15
    assert figures.identifiers > 300 and figures.names > 100  # every kind was planted
    assert figures.identifier_rate == 1.0, figures.leaks
    assert figures.name_rate >= 0.95, figures.leaks
    assert figures.kept > 300 and figures.kept_lost == 0, figures.leaks
    assert figures.organisations_identical == 15

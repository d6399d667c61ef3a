import pytest

from domain.errors import InvalidGoalId
from domain.goal_ids import IdRegistry, LearningGoalId

REGISTRY = IdRegistry.from_pairs([("BLS", 3), ("HJS", 3), ("LM", 0), ("KLS", 3)])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BLS-154", "BLS-154"),
        (" bls-154 ", "BLS-154"),
        ("Bls - 001", "BLS-001"),
        ("LM-75", "LM-75"),
        ("lm-7", "LM-7"),
        ("KLS-012", "KLS-012"),
    ],
)
def test_parse_normalises(raw, expected):
    assert str(REGISTRY.parse(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("BLS154", "hyphen is missing"),
        ("BLS154", "BLS-154"),
        ("BLS-15a", "digits only"),
        ("XYZ-001", "unknown ID prefix 'XYZ'"),
        ("BLS-15", "exactly 3 digits; write it as BLS-015"),
        ("BLS-0154", "exactly 3 digits"),
        ("LM-075", "not zero-padded; write it as LM-75"),
        ("BLS-000", "numbers start at 1"),
        ("", "empty"),
        ("B1S-001", "expected PREFIX-NUMBER"),
        ("BLS-xxx", "digits only"),
    ],
)
def test_parse_rejects_with_precise_message(raw, fragment):
    with pytest.raises(InvalidGoalId) as err:
        REGISTRY.parse(raw)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_ordering_is_by_prefix_then_number():
    ids = [REGISTRY.parse(x) for x in ["BLS-010", "BLS-002", "HJS-001", "BLS-100"]]
    assert [str(i) for i in sorted(ids)] == ["BLS-002", "BLS-010", "BLS-100", "HJS-001"]
    assert LearningGoalId("BLS", 2) < LearningGoalId("BLS", 10)


def test_deferred_placeholder_is_recognised_only_for_known_prefixes():
    assert REGISTRY.is_deferred("HJS-xxx")
    assert REGISTRY.is_deferred("hjs-XXX")
    assert not REGISTRY.is_deferred("XYZ-xxx")
    assert not REGISTRY.is_deferred("HJS-001")

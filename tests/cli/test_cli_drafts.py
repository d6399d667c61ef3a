"""`hoering hearing revise` and `hearing create --reuse-withdrawn-case` as staff run them."""

from __future__ import annotations

import re

from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.hearing_helpers import spec_text
from tests.services.test_drafts import ONC_ITEM, SECOND_BLS_ITEM


def test_revise_a_draft_then_refuse_after_circulation_and_reuse_the_case(flow_env, tmp_path):
    original, revised = tmp_path / "24-750.yaml", tmp_path / "24-750-revidert.yaml"
    original.write_text(spec_text())
    revised.write_text(spec_text(**{ONC_ITEM: SECOND_BLS_ITEM}))
    created = run_hoering(
        "hearing", "create", str(original), "--as-of", "2024-03-20", "--json", env=flow_env
    )
    assert created.code == 0, created.stderr
    warnings = created.json()["warnings"]  # the HJS floor, the placeholder addresses
    assert len(warnings) == 2 and "HJS-xxx rests on an unverified ID floor" in warnings[0]
    assert created.stderr.splitlines() == [f"hoering: warning: {w}" for w in warnings]

    changed = run_hoering("hearing", "create", str(revised), "--as-of", "2024-03-20", env=flow_env)
    assert_one_line_error(changed, "already exists with a different spec", "hearing revise 24/750")

    result = run_hoering(
        "hearing",
        "revise",
        "24/750",
        str(revised),
        "--as-of",
        "2024-03-21",
        "--json",
        env=flow_env,
    )
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["new_ids"] == {"BLS-praktisk": "BLS-155"} and data["burned_ids"] == ["ONC-069"]
    assert data["kept_ids"]["AMM"] == "AMM-068"
    history = run_hoering("hearing", "history", "24/750", "--json", env=flow_env).json()
    assert [e["action"] for e in history] == ["create", "revise"]

    run_hoering("hearing", "circulate", "24/750", "--as-of", "2024-03-22", env=flow_env)
    assert_one_line_error(
        run_hoering("hearing", "revise", "24/750", str(original), env=flow_env),
        "cannot revise hearing 24/750: it is circulated",
    )

    withdrawn = run_hoering(
        "hearing",
        "withdraw",
        "24/750",
        "--reason",
        "Forslaget omarbeides.",
        "--as-of",
        "2024-03-25",
        env=flow_env,
    )
    assert withdrawn.code == 0, withdrawn.stderr
    fresh = tmp_path / "24-750-ny.yaml"
    fresh.write_text(re.sub(r"\n    expected_id: [A-Z]+-\d+", "", spec_text()))
    assert_one_line_error(
        run_hoering("hearing", "create", str(fresh), env=flow_env), "--reuse-withdrawn-case"
    )
    reused = run_hoering(
        "hearing",
        "create",
        str(fresh),
        "--reuse-withdrawn-case",
        "--as-of",
        "2024-04-02",
        "--json",
        env=flow_env,
    )
    assert reused.code == 0, reused.stderr
    assert reused.json()["ids"]["BLS"] == "BLS-156"  # 154 burned by the withdrawal, 155 too
    listed = run_hoering("hearing", "list", "--json", env=flow_env).json()
    assert [(h["case"], h["state"]) for h in listed] == [
        ("24/750~1", "withdrawn"),
        ("24/750", "draft"),
    ]

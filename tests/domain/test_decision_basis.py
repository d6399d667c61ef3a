"""What a decision followed: the basis the høringsoppsummering lists under a decision."""

from __future__ import annotations

import pytest

from domain.decision_basis import Basis, decision_basis, split_by_basis
from domain.decisions import Outcome
from domain.stance import Stance


@pytest.mark.parametrize("outcome", [Outcome.ADOPT, Outcome.ADOPT_AMENDED])
def test_an_adopted_change_follows_support_and_goes_against_objections(outcome):
    assert decision_basis(outcome, Stance.SUPPORTS) is Basis.FOLLOWED
    assert decision_basis(outcome, Stance.SUPPORTS_WITH_COMMENTS) is Basis.FOLLOWED
    assert decision_basis(outcome, Stance.OPPOSES) is Basis.NOT_FOLLOWED


def test_a_dropped_change_follows_objections_and_goes_against_support():
    assert decision_basis(Outcome.DROP, Stance.OPPOSES) is Basis.FOLLOWED
    assert decision_basis(Outcome.DROP, Stance.SUPPORTS) is Basis.NOT_FOLLOWED
    assert decision_basis(Outcome.DROP, Stance.SUPPORTS_WITH_COMMENTS) is Basis.NOT_FOLLOWED


@pytest.mark.parametrize("outcome", list(Outcome))
def test_unreviewed_input_and_no_comments_are_neither(outcome):
    assert decision_basis(outcome, None) is Basis.NEITHER
    assert decision_basis(outcome, Stance.NO_COMMENTS) is Basis.NEITHER


def test_split_keeps_the_order_and_leaves_out_what_is_neither():
    views = [
        ("a", Stance.OPPOSES),
        ("b", Stance.SUPPORTS),
        ("c", None),
        ("d", Stance.SUPPORTS_WITH_COMMENTS),
        ("e", Stance.OPPOSES),
    ]
    followed, against = split_by_basis(Outcome.ADOPT, views, lambda view: view[1])
    assert [name for name, _ in followed] == ["b", "d"]
    assert [name for name, _ in against] == ["a", "e"]
    followed, against = split_by_basis(Outcome.DROP, views, lambda view: view[1])
    assert [name for name, _ in followed] == ["a", "e"]
    assert [name for name, _ in against] == ["b", "d"]

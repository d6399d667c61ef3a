"""The tilbaketrekking's context, built from a withdrawn hearing's record. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.hearing_spec import HearingSpec
from domain.letter_building import RecipientInfo, recipient_groups
from domain.letter_context import Contact, Signatory, WithdrawalLetterContext
from domain.reference import StakeholderGroup


def withdrawal_letter_context(
    spec: HearingSpec,
    reason: str,
    circulated_on: date,
    letter_date: date,
    withdrawn_ids: Sequence[str],
    recipients: Sequence[RecipientInfo],
) -> WithdrawalLetterContext:
    """The letter that tells every høringsinstans the hearing is withdrawn, and why."""
    return WithdrawalLetterContext(
        case_number=spec.case,
        title=spec.title,
        letter_date=letter_date,
        case_officer=spec.case_officer.name,
        contact=Contact(title=spec.contact.title, name=spec.contact.name, email=spec.contact.email),
        circulated_date=circulated_on,
        deadline=spec.deadline,
        reason=reason.strip(),
        withdrawn_ids=tuple(withdrawn_ids),
        # the høringsbrev asks the RHFs to pass it on only when it names specialties
        forwarded=bool(spec.affected_specialties)
        and any(r.group == StakeholderGroup.RHF for r in recipients),
        signatories=tuple(
            Signatory(name=s.name, title=s.title, on_behalf=s.on_behalf) for s in spec.signatories
        ),
        recipient_groups=recipient_groups(recipients),
    )

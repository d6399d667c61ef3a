"""Matching a response to a hearing and to a stakeholder.

- the case: the case number quoted in the subject, then the body, then the text of the
  attachments (`domain.case_numbers.match_case_number`), among the hearings that take
  responses (every state but draft);
- the sender: a stakeholder by exact address, else by mail domain including subdomains
  (mh.ntnu.no, then ntnu.no; never a top-level domain alone); anyone else is a private
  person or unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from domain.case_numbers import match_case_number
from domain.email_intake import ParsedMessage
from domain.hearing_spec import HearingSpec
from services import hearings
from storage.hearing_models import HearingRow
from storage.models import StakeholderDomainRow, StakeholderRow


@dataclass(frozen=True)
class SenderMatch:
    stakeholder_key: str | None
    organisation: str | None
    matched_by: str | None  # "address", "domain" or None (private person / unknown)


class StakeholderDirectory:
    """Stakeholders by exact address, then by mail domain including subdomains."""

    def __init__(self, session: Session) -> None:
        rows = session.exec(select(StakeholderRow.key, StakeholderRow.name, StakeholderRow.email))
        self.names: dict[str, str] = {}
        self.by_address: dict[str, str] = {}
        for key, name, email in rows.all():
            self.names[key] = name
            self.by_address[email.strip().lower()] = key
        self.by_domain = {
            domain.lower(): key
            for domain, key in session.exec(
                select(StakeholderDomainRow.domain, StakeholderDomainRow.stakeholder_key)
            ).all()
        }

    def match(self, address: str | None) -> SenderMatch:
        if not address or "@" not in address:
            return SenderMatch(None, None, None)
        address = address.strip().lower()
        key = self.by_address.get(address)
        if key is not None:
            return SenderMatch(key, self.names.get(key), "address")
        labels = address.rsplit("@", 1)[1].strip(".").split(".")
        for start in range(len(labels) - 1):  # mh.ntnu.no, then ntnu.no; never "no"
            key = self.by_domain.get(".".join(labels[start:]))
            if key is not None:
                return SenderMatch(key, self.names.get(key), "domain")
        return SenderMatch(None, None, None)


# --- the hearings a message can belong to ------------------------------------------------


class HearingDirectory:
    """Hearings that take responses (every state but draft), loaded once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        rows = session.exec(select(HearingRow).where(HearingRow.state != "draft")).all()
        self.by_case = {row.case_number: row for row in rows}
        self._specs: dict[int, HearingSpec] = {}

    def match(self, parsed: ParsedMessage, attachment_texts: Iterable[str]) -> str | None:
        if not self.by_case:
            return None
        found = match_case_number(parsed.subject, parsed.combined_text, self.by_case)
        if found is None:
            for attachment_text in attachment_texts:
                found = match_case_number(None, attachment_text, self.by_case)
                if found is not None:
                    break
        return found

    def spec(self, hearing: HearingRow) -> HearingSpec:
        assert hearing.id is not None
        if hearing.id not in self._specs:
            self._specs[hearing.id] = hearings.load_spec(hearing)
        return self._specs[hearing.id]

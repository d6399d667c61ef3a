"""Who is a private person: the one rule the publication export, the public summary and
the review desk share."""

from __future__ import annotations


def is_private_sender(stakeholder_key: str | None) -> bool:
    """A sender that matched no stakeholder is treated as a private person: what is
    published of them is masked, and they are named only as "Privatperson"."""
    return stakeholder_key is None


__all__ = ["is_private_sender"]

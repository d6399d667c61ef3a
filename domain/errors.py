"""Errors a user can cause and fix.

Every error raised for bad input is a `UserError`: its message is one line that says
what is wrong, where, and how to fix it. The CLI prints it and exits with code 2.
"""


class UserError(Exception):
    """Bad input from a user or a stakeholder; the message is shown as is."""

    exit_code: int = 2  # 1 for a condition that passes (the database busy), not bad input


class InvalidGoalId(UserError):
    """A learning-goal ID that is malformed or has an unknown prefix."""


class TransitionRefused(UserError):
    """A lifecycle transition whose conditions are not met."""

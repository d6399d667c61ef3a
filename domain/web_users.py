"""The users of the review desk (`hoering web`): who may sign in, with which role.

The users file (YAML, `HOERING_WEB_USERS_FILE`) lists each user's name, role and argon2
password hash; `saksbehandler` may review and assign, `leser` may only read. A user
without a hash can sign in only through a trusted reverse proxy's header.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from domain.yaml_lines import FileModel, custom_error


class Role(StrEnum):
    SAKSBEHANDLER = "saksbehandler"
    LESER = "leser"

    @property
    def may_change(self) -> bool:
        """The one rule of who may change anything (review, excerpt, assign)."""
        return self is Role.SAKSBEHANDLER


class WebUser(FileModel):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    password_hash: str | None = None

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("$argon2"):
            raise custom_error("hash", "not an argon2 hash; write it with 'hoering web add-user'")
        return value


class WebUsersFile(FileModel):
    users: list[WebUser] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _unique(cls, users: list[WebUser]) -> list[WebUser]:
        seen: set[str] = set()
        for user in users:
            if user.name in seen:
                raise custom_error("duplicate", f"user '{user.name}' is listed twice")
            seen.add(user.name)
        return users

    def find(self, name: str) -> WebUser | None:
        return next((u for u in self.users if u.name == name), None)

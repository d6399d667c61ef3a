"""The review desk's users: read from the users file, passwords checked with argon2, new users
written with their hash (`hoering web add-user`)."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.settings import Settings
from domain.errors import UserError
from domain.web_users import Role, WebUser, WebUsersFile
from domain.yaml_lines import load_yaml_mapping, validate_file
from fileio.atomic import write_atomically

log = logging.getLogger("hoering.web")
_HASHER = PasswordHasher()
# Checked when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("no such user")


def users_file(settings: Settings) -> Path:
    return settings.web.users_file or settings.data_dir / "web-users.yaml"


def load_users(path: Path) -> WebUsersFile:
    if not path.exists():
        return WebUsersFile()
    data, source_map = load_yaml_mapping(path.read_text(encoding="utf-8"), str(path))
    return validate_file(WebUsersFile, data, source_map)


def check_password(users: WebUsersFile, name: str, password: str) -> WebUser | None:
    """The user when the password is theirs; None (and a log line without it) if not."""
    user = users.find(name)
    try:
        _HASHER.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        log.warning("sign-in refused: wrong name or password")
        return None
    return user if user is not None and user.password_hash else None


def add_user(path: Path, name: str, role: Role, password: str | None) -> WebUser:
    """Add or replace a user in the users file, with the argon2 hash of `password`."""
    users = load_users(path)
    hashed = _HASHER.hash(password) if password else None
    try:
        user = WebUser(name=name, role=role, password_hash=hashed)
    except ValueError:
        raise UserError(
            f"NAME: '{name}' is not a user name; use letters, digits and . _ @ - only"
        ) from None
    kept = [u for u in users.users if u.name != name] + [user]
    document = {"users": [u.model_dump(exclude_none=True, mode="json") for u in kept]}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, yaml.safe_dump(document, sort_keys=False).encode("utf-8"))
    return user

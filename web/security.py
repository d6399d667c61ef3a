"""Who is signed in, and the CSRF token every form carries.

Sessions are Starlette's signed cookies (itsdangerous); the key is HOERING_WEB_SECRET or
a random one kept in `<data dir>/web-secret`, made on first start. With
HOERING_WEB_TRUSTED_USER_HEADER set, a reverse proxy that signs people in names the
user in that header; the name must still be in the users file, for its role.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path

from starlette.requests import Request

from config.settings import Settings
from domain.web_users import WebUser, WebUsersFile
from services.desk_users import load_users, users_file

log = logging.getLogger("hoering.web")
CSRF_FIELD = "csrf"


def session_secret(settings: Settings) -> str:
    if settings.web.secret is not None:
        return settings.web.secret.get_secret_value()
    path = settings.data_dir / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


class UserDirectory:
    """The users file, read again when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._users = WebUsersFile()

    @classmethod
    def for_settings(cls, settings: Settings) -> UserDirectory:
        return cls(users_file(settings))

    def current(self) -> WebUsersFile:
        stamp = self.path.stat().st_mtime if self.path.exists() else None
        if stamp != self._stamp:
            self._users, self._stamp = load_users(self.path), stamp
        return self._users


def current_user(request: Request) -> WebUser | None:
    users: WebUsersFile = request.app.state.users.current()
    header = request.app.state.settings.web.trusted_user_header
    if header:
        name = request.headers.get(header)
        if name:
            return users.find(name.strip())
    name = request.session.get("user")
    return users.find(name) if isinstance(name, str) else None


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_valid(request: Request, given: object) -> bool:
    expected = request.session.get(CSRF_FIELD)
    valid = (
        isinstance(given, str)
        and isinstance(expected, str)
        and hmac.compare_digest(given.encode(), expected.encode())
    )
    if not valid:
        log.warning("form refused: no valid CSRF token (%s %s)", request.method, request.url.path)
    return valid

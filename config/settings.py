"""All settings of hoering, from the environment (prefix HOERING_), with embedded defaults.

One `Settings` object is built per command (`load_settings()`) and handed down: the
flows and the CLI pass the section a service needs (`settings.mail`, `settings.imap`,
`settings.intake`, `settings.outbox`, `settings.reminders`); no service reads the
environment itself. Each section keeps its variables' established names: a section's
field `batch_size` with prefix `HOERING_OUTBOX_` is `HOERING_OUTBOX_BATCH_SIZE`. The
README's configuration section lists every variable.
"""

from __future__ import annotations

import functools
import os
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from domain.email_intake import MailLimits
from domain.errors import UserError
from domain.reminder_policy import ReminderPolicy, parse_reminder_days

PREFIX = "HOERING_"
MB = 1024 * 1024
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_PROCESSED_FOLDER = "INBOX.hoering-processed"


class Section(BaseModel):
    """A group of settings whose variables share `env_prefix`."""

    model_config = ConfigDict(extra="forbid")
    env_prefix: ClassVar[str] = PREFIX

    @classmethod
    def variable(cls, field: str) -> str:
        return (cls.env_prefix + field).upper()


class MailSettings(Section):
    """How mail leaves hoering (HOERING_MAIL_*, HOERING_SMTP_*)."""

    data_dir: Path = Path("var")
    mail_transport: Literal["folder", "smtp"] = "folder"
    mail_from: str = "postmottak@helsedir.no"
    mail_from_name: str = "Helsedirektoratet"
    mail_pdf: bool = True  # attach a PDF of each .docx where LibreOffice is installed
    smtp_host: str | None = None
    smtp_port: int | None = None  # default by security: 587, 465 or 25
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = None
    smtp_ca_file: Path | None = None  # trust this CA (a private server's certificate)
    smtp_timeout_s: float = 30.0

    @property
    def resolved_smtp_port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.smtp_security]

    def smtp_password_value(self) -> str | None:
        """The password from HOERING_SMTP_PASSWORD or the file HOERING_SMTP_PASSWORD_FILE."""
        if self.smtp_password is not None:
            return self.smtp_password.get_secret_value()
        if self.smtp_password_file is None:
            return None
        try:
            return self.smtp_password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(
                f"HOERING_SMTP_PASSWORD_FILE: cannot read {self.smtp_password_file} "
                f"({exc.strerror}); point it at a readable file holding the password"
            ) from None


class ImapSettings(Section):
    """The mailbox the scheduled import reads (HOERING_IMAP_*)."""

    env_prefix: ClassVar[str] = PREFIX + "IMAP_"

    url: str | None = None
    password: str | None = None
    password_file: Path | None = None
    processed_folder: str = DEFAULT_PROCESSED_FOLDER
    ca_file: Path | None = None  # a CA or self-signed certificate to trust
    timeout_s: float = 60.0


class IntakeSettings(Section):
    """Import limits and batch size (HOERING_INTAKE_*)."""

    env_prefix: ClassVar[str] = PREFIX + "INTAKE_"

    batch_size: int = Field(default=200, ge=1, le=10_000)
    # Processes parsing batches while the importer writes; 0: one per CPU, 1: none.
    parse_workers: int = Field(default=0, ge=0, le=64)
    # Sharded import (flows.intake_shards): a shard run with no batch committed for this
    # long is taken for dead and handed to a new run, at most `shard_attempts` runs.
    shard_stall_s: float = Field(default=120.0, gt=0, le=86_400)
    shard_attempts: int = Field(default=3, ge=1, le=100)
    max_message_bytes: int = Field(default=50 * MB, ge=1024)
    max_depth: int = Field(default=10, ge=1, le=100)
    max_attachments: int = Field(default=100, ge=1)
    max_attachment_bytes: int = Field(default=25 * MB, ge=1)
    # The budget for reading one attachment's text (services.attachment_reading).
    attachment_timeout_s: float = Field(default=20.0, gt=0, le=3600)
    attachment_memory_mb: int = Field(default=1024, ge=64)

    def limits(self) -> MailLimits:
        return MailLimits(
            max_total_bytes=self.max_message_bytes,
            max_depth=self.max_depth,
            max_attachments=self.max_attachments,
            max_attachment_bytes=self.max_attachment_bytes,
        )


class OutboxSettings(Section):
    """Sending retries and batch size (HOERING_OUTBOX_*)."""

    env_prefix: ClassVar[str] = PREFIX + "OUTBOX_"

    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_minutes: float = Field(default=5.0, gt=0)
    batch_size: int = Field(default=50, ge=1, le=10_000)


class ReminderSettings(Section):
    """Default reminder days before a deadline (HOERING_REMINDER_DAYS)."""

    reminder_days: str = "14,3"

    @model_validator(mode="after")
    def _parses(self) -> ReminderSettings:
        self.policy()  # a malformed value fails when the settings are loaded, in one line
        return self

    def policy(self) -> ReminderPolicy:
        return parse_reminder_days(self.reminder_days, self.variable("reminder_days"))


class WebSettings(Section):
    """The review desk, `hoering web` (HOERING_WEB_*)."""

    env_prefix: ClassVar[str] = PREFIX + "WEB_"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret: SecretStr | None = None  # signs the session cookie; default: a file in data dir
    users_file: Path | None = None  # default: <data dir>/web-users.yaml
    trusted_user_header: str | None = None  # e.g. X-Remote-User from a signing-in proxy


class Settings(BaseSettings):
    """Where hoering keeps its data, how it reaches its database, and its sections.

    The defaults need nothing installed: a SQLite file under `./var`, mail to a folder.
    """

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    reference_dir: Path | None = None
    sqlite_busy_timeout_s: float = 60.0
    # Processes that mask private persons for `hearing publish`; 0: one per CPU.
    publication_workers: int = Field(default=0, ge=0, le=64)
    mail: MailSettings = Field(default_factory=MailSettings)
    imap: ImapSettings = Field(default_factory=ImapSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _SectionSource(settings_cls), env_settings)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hoering.db').resolve()}"

    @property
    def resolved_reference_dir(self) -> Path:
        return self.reference_dir or default_data_dir()


def _sections(settings_cls: type[BaseModel]) -> dict[str, type[Section]]:
    return {
        name: info.annotation
        for name, info in settings_cls.model_fields.items()
        if isinstance(info.annotation, type) and issubclass(info.annotation, Section)
    }


class _SectionSource(PydanticBaseSettingsSource):
    """Each section's fields from its own variables (`HOERING_OUTBOX_BATCH_SIZE`), so the
    sections keep the flat names users already set."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # all work is done in __call__

    def __call__(self) -> dict[str, Any]:
        environ = {key.upper(): value for key, value in os.environ.items()}
        found: dict[str, Any] = {}
        for name, section in _sections(self.settings_cls).items():
            values = {
                field: environ[section.variable(field)]
                for field in section.model_fields
                if section.variable(field) in environ
            }
            found[name] = values
        return found


def load_settings() -> Settings:
    """The settings of this command, or one UserError line naming the bad variable.

    Built once per environment: a command that asks again gets the same object, and a
    changed HOERING_ variable (a test's monkeypatch) gives a new one.
    """
    variables = sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(PREFIX))
    return _load(os.getcwd(), tuple(variables))  # the default data dir is relative


@functools.lru_cache(maxsize=4)
def _load(cwd: str, variables: tuple[tuple[str, str], ...]) -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(part) for part in error["loc"]]
        sections = _sections(Settings)
        if len(loc) >= 2 and loc[0] in sections:
            name = sections[loc[0]].variable(loc[1])
        else:
            name = (PREFIX + (loc[0] if loc else "*")).upper()
        raise UserError(f"{name}: {error['msg']}; fix or unset the environment variable") from None


def default_data_dir() -> Path:
    """The repository's `data/` folder: the reference data shipped with hoering."""
    return Path(__file__).resolve().parents[1] / "data"

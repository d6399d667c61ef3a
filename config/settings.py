"""Settings from the environment (prefix HOERING_), with embedded defaults."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where hoering keeps its data and how it reaches its database.

    The defaults need nothing installed: a SQLite file under `./var`.
    """

    model_config = SettingsConfigDict(env_prefix="HOERING_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    reference_dir: Path | None = None
    sqlite_busy_timeout_s: float = 60.0

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hoering.db').resolve()}"

    @property
    def resolved_reference_dir(self) -> Path:
        from services.reference_files import default_data_dir

        return self.reference_dir or default_data_dir()


def load_settings() -> Settings:
    return Settings()

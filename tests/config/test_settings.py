"""One settings object: every HOERING_ variable in one place, read once, documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from config.settings import Section, Settings, load_settings
from domain.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
NO_ENVIRONMENT = ("domain", "storage", "rendering", "mail", "services")


def _variables() -> list[str]:
    names = []
    for name, info in Settings.model_fields.items():
        section = info.annotation
        if isinstance(section, type) and issubclass(section, Section):
            names += [section.variable(field) for field in section.model_fields]
        else:
            names.append(f"HOERING_{name.upper()}")
    return names


def test_every_variable_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    configuration = readme[readme.index("## Configuration") :]
    configuration = configuration[: configuration.index("\n## ", 1)]
    documented = set(re.findall(r"`(HOERING_[A-Z0-9_]+)`", configuration))
    missing = [name for name in _variables() if name not in documented]
    assert not missing, f"not in the README's configuration section: {missing}"
    assert len(_variables()) >= 30


def test_sections_keep_the_established_variable_names(monkeypatch, tmp_path):
    monkeypatch.setenv("HOERING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOERING_OUTBOX_BATCH_SIZE", "7")
    monkeypatch.setenv("HOERING_SMTP_PORT", "2525")
    monkeypatch.setenv("HOERING_MAIL_PDF", "false")
    monkeypatch.setenv("HOERING_IMAP_URL", "imaps://post@imap.example.no/INBOX")
    monkeypatch.setenv("HOERING_INTAKE_MAX_ATTACHMENTS", "3")
    monkeypatch.setenv("HOERING_REMINDER_DAYS", "10,2")
    settings = load_settings()
    assert settings.data_dir == tmp_path and settings.mail.data_dir == tmp_path
    assert settings.outbox.batch_size == 7
    assert (settings.mail.resolved_smtp_port, settings.mail.mail_pdf) == (2525, False)
    assert settings.imap.url == "imaps://post@imap.example.no/INBOX"
    assert settings.intake.limits().max_attachments == 3
    assert settings.reminders.policy().days_before == (10, 2)


def test_loaded_once_per_environment(monkeypatch):
    monkeypatch.setenv("HOERING_OUTBOX_BATCH_SIZE", "9")
    first = load_settings()
    assert load_settings() is first  # asked again within a command: the same object
    monkeypatch.setenv("HOERING_OUTBOX_BATCH_SIZE", "8")
    assert load_settings() is not first and load_settings().outbox.batch_size == 8


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOERING_OUTBOX_MAX_ATTEMPTS", "0"),
        ("HOERING_SMTP_SECURITY", "tls"),
        ("HOERING_IMAP_TIMEOUT_S", "lenge"),
        ("HOERING_INTAKE_BATCH_SIZE", "0"),
        ("HOERING_SQLITE_BUSY_TIMEOUT_S", "x"),
        ("HOERING_REMINDER_DAYS", "ti"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(UserError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith(f"{variable}: ") and "\n" not in message, message


def test_no_settings_class_or_environment_read_outside_config():
    offenders = []
    for folder in (*NO_ENVIRONMENT, "flows", "cli"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", None) == "BaseSettings" for base in node.bases
                ):
                    offenders.append(f"{path.relative_to(ROOT)}: class {node.name}")
                reads = isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
                if reads and folder in NO_ENVIRONMENT:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} reads os.{node.attr}")
    assert not offenders, offenders

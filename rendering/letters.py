"""Letters: Jinja2 templates -> restricted Markdown -> .docx (python-docx).

A template in `templates/letters/<kind>.md.j2` renders a letter context (see
`domain.letter_context`) to Markdown. Record values go in through the `md` filter,
which backslash-escapes every Markdown-special character, so a name such as
`Ås & Co | #1 *x*` can never change the letter's structure; staff Markdown
(introduction, background, ...) goes in as Markdown.

Markdown becomes .docx in `rendering.markdown_docx`; the deterministic .docx file
(fixed core properties and zip entry times) is made in `rendering.docx_files`.
"""

from __future__ import annotations

import re
import textwrap
import traceback
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from domain.calendar import format_date_nb, format_date_short_nb, format_month_nb
from domain.errors import UserError
from domain.letter_context import CONTEXT_TYPES, LetterContext, LetterKind
from fileio.atomic import write_atomically
from rendering.docx_files import build_docx
from rendering.markdown_docx import LetterTemplateError

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "letters"


# --- Markdown escaping -----------------------------------------------------------------

# Every ASCII punctuation character that can start or end Markdown structure. CommonMark
# allows a backslash before any ASCII punctuation, and the parser removes it again.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~&=])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_markdown(value: object) -> str:
    """A record value as literal inline Markdown: one line, every special char escaped."""
    text = " ".join(_CONTROL.sub("", str(value)).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_markdown_lines(value: object) -> str:
    """Like `escape_markdown`, but keeps line breaks (blank lines separate paragraphs)."""
    paragraphs: list[list[str]] = [[]]
    for raw in _CONTROL.sub("", str(value)).splitlines():
        line = escape_markdown(raw)
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join("\n".join(lines) for lines in paragraphs if lines)


def markdown_block(value: object) -> str:
    """Staff Markdown, dedented (YAML block scalars) so indentation never makes code."""
    return textwrap.dedent(_CONTROL.sub("", str(value))).strip()


# --- Rendering to Markdown -------------------------------------------------------------


@lru_cache(maxsize=8)
def letter_environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The Jinja2 environment of the letter templates (Markdown: no autoescape)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=escape_markdown,
        md_lines=escape_markdown_lines,
        markdown_block=markdown_block,
        date_nb=format_date_nb,
        date_short_nb=format_date_short_nb,
        month_nb=format_month_nb,
    )
    return env


def template_name(kind: str) -> str:
    return f"{_letter_kind(kind).value}.md.j2"


def _letter_kind(kind: str) -> LetterKind:
    try:
        return LetterKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in LetterKind)
        raise UserError(f"unknown letter kind '{kind}': use one of {known}") from None


def context_variables(context: LetterContext) -> dict[str, Any]:
    """The template's variables: the context's fields, unconverted (nested values keep
    their properties, e.g. `row.change_nb`)."""
    return {f.name: getattr(context, f.name) for f in fields(context)}


def render_markdown(
    kind: str, context: LetterContext, *, templates_dir: Path = TEMPLATES_DIR
) -> str:
    """Render the letter `kind` with `context` to Markdown (deterministic text)."""
    letter_kind = _letter_kind(kind)
    expected = CONTEXT_TYPES[letter_kind]
    if not isinstance(context, expected):
        raise TypeError(
            f"letter '{letter_kind}' needs a {expected.__name__}, got {type(context).__name__}"
        )
    name = template_name(letter_kind)
    try:
        template = letter_environment(templates_dir).get_template(name)
        text = template.render(context_variables(context))
    except jinja2.UndefinedError as error:
        where = _template_location(error, templates_dir / name)
        raise LetterTemplateError(
            f"{where}: {error.message}; add the field to {expected.__name__} "
            "or correct the template"
        ) from error
    except jinja2.TemplateSyntaxError as error:
        raise LetterTemplateError(
            f"{error.filename or name}, line {error.lineno}: {error.message}; "
            "correct the template syntax"
        ) from error
    return _tidy_markdown(text)


def _template_location(error: BaseException, fallback: Path) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    if frames:
        return f"{frames[-1].filename}, line {frames[-1].lineno}"
    return str(fallback)


def _tidy_markdown(text: str) -> str:
    text = _CONTROL.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def render_docx(
    kind: str, context: LetterContext, path: Path, *, templates_dir: Path = TEMPLATES_DIR
) -> str:
    """Render the letter `kind` to a .docx at `path` (atomically); returns its sha256 hex."""
    markdown = render_markdown(kind, context, templates_dir=templates_dir)
    data = build_docx(
        markdown,
        title=context.title,
        subject=f"Sak {context.case_number}",
        day=context.letter_date,
    )
    return write_atomically(Path(path), data)

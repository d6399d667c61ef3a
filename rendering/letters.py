"""Letters: Jinja2 templates -> restricted Markdown -> .docx (python-docx).

A template in `templates/letters/<kind>.md.j2` renders a letter context (see
`domain.letter_context`) to Markdown. Record values go in through the `md` filter,
which backslash-escapes every Markdown-special character, so a name such as
`Ås & Co | #1 *x*` can never change the letter's structure; staff Markdown
(introduction, background, ...) goes in as Markdown.

The converter understands headings, paragraphs, bold/italic, links, bullet and
ordered lists, block quotes, pipe tables, and three block markers, each alone in
its own paragraph:

- `[[lines]]` ... `[[/lines]]`: line breaks inside a paragraph are kept (letterhead,
  reference block, signatures);
- `[[indent]]` ... `[[/indent]]`: the same, indented (the proposed goal text);
- `[[pagebreak]]`: a page break (before the appendix).

The .docx is deterministic: fixed core properties (author Helsedirektoratet,
created/modified at the letter date) and fixed zip entry times, so the same
context always gives the same bytes and the same sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import textwrap
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

import jinja2
from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from domain.calendar import format_date_nb, format_date_short_nb, format_month_nb
from domain.errors import UserError
from domain.letter_context import CONTEXT_TYPES, LetterContext, LetterKind

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "letters"
AUTHOR = "Helsedirektoratet"
LANGUAGE = "nb-NO"


class LetterTemplateError(UserError):
    """A letter template that uses a field its context does not have, or bad markers."""


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


# --- Markdown to docx ------------------------------------------------------------------

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_MARKER = re.compile(r"^\[\[(/?)(lines|indent|pagebreak)\]\]$")
_BLOCK_MARKERS = ("lines", "indent")
_INDENT = Cm(1)
_CHAR_WIDTH = Cm(0.23)  # an average Arial 11 character, generously
_CELL_PADDING = Cm(0.4)


@dataclass
class _ListState:
    ordered: bool
    next_number: int = 1
    fresh_item: bool = False


class _DocxWriter:
    """Walks markdown-it block tokens and appends the matching python-docx objects."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self.lists: list[_ListState] = []
        self.blocks: list[tuple[str, int]] = []  # open markers with their source line
        self.quote_depth = 0
        self.page_break_pending = False

    def write(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                level = min(int(token.tag[1:]), 9)
                paragraph = self.document.add_heading("", level=level)
                self._take_page_break(paragraph)
                self._inline(paragraph, tokens[i + 1].children or [])
                i += 3
                continue
            if kind == "paragraph_open":
                inline = tokens[i + 1]
                marker = _MARKER.match(inline.content.strip())
                if marker:
                    self._marker(marker.group(1) == "/", marker.group(2), inline)
                else:
                    self._inline(self._paragraph(), inline.children or [])
                i += 3
                continue
            if kind == "table_open":
                if self.page_break_pending:
                    self._take_page_break(self.document.add_paragraph())
                end = _closing_index(tokens, i, "table_close")
                self._table(tokens[i : end + 1])
                i = end + 1
                continue
            self._structure(token)
            i += 1
        if self.blocks:
            name, line = self.blocks[-1]
            raise LetterTemplateError(
                f"letter Markdown line {line}: [[{name}]] is never closed; add [[/{name}]]"
            )

    def _structure(self, token: Token) -> None:
        kind = token.type
        if kind == "bullet_list_open":
            self.lists.append(_ListState(ordered=False))
        elif kind == "ordered_list_open":
            self.lists.append(
                _ListState(ordered=True, next_number=int(token.attrGet("start") or 1))
            )
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "list_item_open":
            self.lists[-1].fresh_item = True
        elif kind == "blockquote_open":
            self.quote_depth += 1
        elif kind == "blockquote_close":
            self.quote_depth -= 1
        elif kind in ("code_block", "fence"):
            self._paragraph().add_run(token.content.rstrip("\n"))
        elif kind == "hr":
            self.document.add_paragraph()

    def _marker(self, closing: bool, name: str, inline: Token) -> None:
        line = (inline.map[0] + 1) if inline.map else 0
        if name == "pagebreak":
            if closing:
                raise LetterTemplateError(
                    f"letter Markdown line {line}: [[/pagebreak]] has no meaning; "
                    "write [[pagebreak]]"
                )
            self.page_break_pending = True
        elif not closing:
            self.blocks.append((name, line))
        elif self.blocks and self.blocks[-1][0] == name:
            self.blocks.pop()
        else:
            raise LetterTemplateError(
                f"letter Markdown line {line}: [[/{name}]] closes no open [[{name}]]; "
                "remove it or open the block first"
            )

    def _take_page_break(self, paragraph: Paragraph) -> None:
        # A page break as a property of the next paragraph, so the new page does not
        # start with an empty line.
        if self.page_break_pending:
            paragraph.paragraph_format.page_break_before = True
            self.page_break_pending = False

    @property
    def _keep_breaks(self) -> bool:
        return any(name in _BLOCK_MARKERS for name, _ in self.blocks)

    def _paragraph(self) -> Paragraph:
        prefix = ""
        style: str | None = None
        if self.lists:
            state = self.lists[-1]
            level = min(len(self.lists), 3)
            suffix = "" if level == 1 else f" {level}"
            if not state.fresh_item:
                style = f"List Continue{suffix}"
            elif state.ordered:
                style = f"List{suffix}"
                prefix = f"{state.next_number}.\t"
                state.next_number += 1
            else:
                style = f"List Bullet{suffix}"
            state.fresh_item = False
        paragraph = self.document.add_paragraph(style=style)
        self._take_page_break(paragraph)
        indent = self.quote_depth + sum(1 for name, _ in self.blocks if name == "indent")
        if indent:
            paragraph.paragraph_format.left_indent = _INDENT * indent
        if prefix:
            paragraph.add_run(prefix)
        return paragraph

    def _inline(self, paragraph: Paragraph, children: Sequence[Token], bold: bool = False) -> None:
        _add_inline_runs(paragraph, children, keep_breaks=self._keep_breaks, bold=bold)

    def _table(self, tokens: Sequence[Token]) -> None:
        rows: list[tuple[bool, list[Token]]] = []
        in_head = False
        for index, token in enumerate(tokens):
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open":
                rows.append((in_head, []))
            elif token.type in ("th_open", "td_open"):
                rows[-1][1].append(tokens[index + 1])
        columns = max(len(cells) for _, cells in rows)
        table = self.document.add_table(rows=len(rows), cols=columns)
        table.style = self.document.styles["Table Grid"]
        # Row by row: table.cell(r, c) rebuilds the cell grid on every call (quadratic).
        for row, (is_header, cells) in zip(table.rows, rows, strict=True):
            if is_header:
                _repeat_as_header(row._tr)
            for cell, inline in zip(row.cells, cells, strict=False):
                _add_inline_runs(
                    cell.paragraphs[0], inline.children or [], keep_breaks=False, bold=is_header
                )
        _set_column_widths(self.document, table, rows, columns)


def _closing_index(tokens: Sequence[Token], start: int, closing: str) -> int:
    for index in range(start, len(tokens)):
        if tokens[index].type == closing:
            return index
    raise ValueError(f"no {closing} after token {start}")


def _add_inline_runs(
    paragraph: Paragraph, children: Sequence[Token], *, keep_breaks: bool, bold: bool
) -> None:
    """Append the inline tokens as runs; adjacent text of one format becomes one run and
    line breaks are '\n' inside it (python-docx writes them as <w:br/>)."""
    strong = 1 if bold else 0
    emphasis = 0
    links: list[tuple[str, list[str]]] = []
    pending: list[str] = []
    pending_format: tuple[bool, bool, bool] = (False, False, False)

    def flush() -> None:
        if not pending:
            return
        run = paragraph.add_run("".join(pending))
        is_bold, is_italic, is_mono = pending_format
        if is_bold:
            run.bold = True
        if is_italic:
            run.italic = True
        if is_mono:
            run.font.name = "Courier New"
        pending.clear()

    def add(text: str, *, mono: bool = False) -> None:
        nonlocal pending_format
        if not text:
            return
        text_format = (strong > 0, emphasis > 0, mono)
        if text_format != pending_format:
            flush()
            pending_format = text_format
        pending.append(text)
        for _, seen in links:
            seen.append(text)

    for child in children:
        match child.type:
            case "text" | "html_inline":
                add(child.content)
            case "code_inline":
                add(child.content, mono=True)
            case "softbreak":
                add("\n" if keep_breaks else " ")
            case "hardbreak":
                add("\n")
            case "strong_open":
                strong += 1
            case "strong_close":
                strong -= 1
            case "em_open":
                emphasis += 1
            case "em_close":
                emphasis -= 1
            case "link_open":
                links.append((str(child.attrGet("href") or ""), []))
            case "link_close":
                href, seen = links.pop()
                target = href.removeprefix("mailto:")
                if target and target not in "".join(seen):
                    add(f" ({target})")
            case "image":
                add(child.content)
    flush()


def _repeat_as_header(tr: Any) -> None:
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr.get_or_add_trPr().append(header)


def _set_column_widths(
    document: DocxDocument, table: Any, rows: list[tuple[bool, list[Token]]], columns: int
) -> None:
    """Each column at least as wide as its longest word (so 'Læringsmåls-ID' is not
    split), the rest of the line shared in proportion to the column's longest text."""
    section = document.sections[-1]
    usable = section.page_width - section.left_margin - section.right_margin
    longest_word = [1] * columns
    weight = [1] * columns
    for is_header, cells in rows:
        for column, inline in enumerate(cells):
            words = inline.content.split() or [""]
            scale = 1.15 if is_header else 1.0  # header cells are bold
            longest_word[column] = max(longest_word[column], int(max(map(len, words)) * scale))
            weight[column] = max(weight[column], min(len(inline.content), 60))
    minimum = [min(_CHAR_WIDTH * n + _CELL_PADDING, usable // columns) for n in longest_word]
    spare = max(usable - sum(minimum), 0)
    widths = [m + spare * w // sum(weight) for m, w in zip(minimum, weight, strict=True)]
    table.autofit = False
    for column, width in enumerate(widths):
        table.columns[column].width = width
        for cell in table.columns[column].cells:
            cell.width = width


def markdown_to_docx(markdown: str, document: DocxDocument) -> None:
    """Append the restricted Markdown `markdown` to `document` (see the module doc)."""
    _DocxWriter(document).write(_PARSER.parse(markdown))


# --- The .docx file --------------------------------------------------------------------


def new_letter_document() -> DocxDocument:
    """An empty A4 document with the letter's base style (Arial 11, bokmål)."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    r_pr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE)
    r_pr.append(lang)
    _drop_thumbnail(document)
    return document


def _drop_thumbnail(document: DocxDocument) -> None:
    # The template's thumbnail shows an empty page in file browsers: not our letter.
    package = document.part.package
    for r_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(r_id)


def set_core_properties(document: DocxDocument, *, title: str, subject: str, day: date) -> None:
    """Fixed metadata: the same letter gives the same bytes."""
    stamp = datetime.combine(day, time(0, 0), tzinfo=UTC)
    props = document.core_properties
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = stamp
    props.modified = stamp
    props.revision = 1
    props.title = title
    props.subject = subject
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.language = LANGUAGE


def build_docx(markdown: str, *, title: str, subject: str, day: date) -> bytes:
    """The .docx bytes of `markdown`, deterministic for the same arguments."""
    document = new_letter_document()
    markdown_to_docx(markdown, document)
    set_core_properties(document, title=title, subject=subject, day=day)
    buffer = BytesIO()
    document.save(buffer)
    return normalise_zip(buffer.getvalue(), day)


def normalise_zip(data: bytes, day: date) -> bytes:
    """Rewrite an OOXML zip with every entry dated `day` 00:00 and the same attributes,
    keeping the entry order ([Content_Types].xml first)."""
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    output = BytesIO()
    with ZipFile(BytesIO(data)) as source, ZipFile(output, "w", ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            target.writestr(entry, source.read(info.filename))
    return output.getvalue()


def write_atomically(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temporary file in the same folder and a rename, so
    readers see the old file or the new one, never half of it; returns the sha256 hex."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return hashlib.sha256(data).hexdigest()


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

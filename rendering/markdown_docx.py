"""Restricted Markdown -> .docx paragraphs, lists, quotes and tables (python-docx).

The converter understands headings, paragraphs, bold/italic, links, bullet and
ordered lists, block quotes, pipe tables, and three block markers, each alone in
its own paragraph:

- `[[lines]]` ... `[[/lines]]`: line breaks inside a paragraph are kept (letterhead,
  reference block, signatures);
- `[[indent]]` ... `[[/indent]]`: the same, indented (the proposed goal text);
- `[[pagebreak]]`: a page break (before the appendix).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from domain.errors import UserError


class LetterTemplateError(UserError):
    """A letter template that uses a field its context does not have, or bad markers."""


_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_MARKER = re.compile(r"^\[\[(/?)(lines|indent|pagebreak)\]\]$")
_BLOCK_MARKERS = ("lines", "indent")
_CUT_BEFORE = re.compile(r"^(?:- |#{1,6} )")
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
        self.style_ids: dict[str, str | None] = {}

    def _style_id(self, name: str) -> str | None:
        """The paragraph style's id, looked up once per document (python-docx looks it
        up among all styles on every paragraph: most of the time of a long list)."""
        if name not in self.style_ids:
            probe = self.document.add_paragraph(style=name)
            self.style_ids[name] = probe._p.style
            probe._p.getparent().remove(probe._p)
        return self.style_ids[name]

    def write(self, tokens: Sequence[Token], *, last: bool = True) -> None:
        """Append the blocks of `tokens`; `last=False`: more Markdown follows, so a
        marker block may stay open."""
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
        if last:
            self.close()

    def close(self) -> None:
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
        paragraph = self.document.add_paragraph()
        if style is not None:
            paragraph._p.style = self._style_id(style)
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


class _Runs:
    """Inline text collected into runs: adjacent text of one format becomes one run."""

    def __init__(self, paragraph: Paragraph, *, keep_breaks: bool, bold: bool) -> None:
        self.paragraph = paragraph
        self.keep_breaks = keep_breaks
        self.strong = 1 if bold else 0
        self.emphasis = 0
        self.links: list[tuple[str, list[str]]] = []
        self.pending: list[str] = []
        self.pending_format: tuple[bool, bool, bool] = (False, False, False)

    def flush(self) -> None:
        if not self.pending:
            return
        run = self.paragraph.add_run("".join(self.pending))
        is_bold, is_italic, is_mono = self.pending_format
        if is_bold:
            run.bold = True
        if is_italic:
            run.italic = True
        if is_mono:
            run.font.name = "Courier New"
        self.pending.clear()

    def add(self, text: str, *, mono: bool = False) -> None:
        if not text:
            return
        text_format = (self.strong > 0, self.emphasis > 0, mono)
        if text_format != self.pending_format:
            self.flush()
            self.pending_format = text_format
        self.pending.append(text)
        for _, seen in self.links:
            seen.append(text)

    def token(self, child: Token) -> None:
        match child.type:
            case "text" | "html_inline":
                self.add(child.content)
            case "code_inline":
                self.add(child.content, mono=True)
            case "softbreak":
                self.add("\n" if self.keep_breaks else " ")
            case "hardbreak":
                self.add("\n")
            case "strong_open":
                self.strong += 1
            case "strong_close":
                self.strong -= 1
            case "em_open":
                self.emphasis += 1
            case "em_close":
                self.emphasis -= 1
            case "link_open":
                self.links.append((str(child.attrGet("href") or ""), []))
            case "link_close":
                href, seen = self.links.pop()
                target = href.removeprefix("mailto:")
                if target and target not in "".join(seen):
                    self.add(f" ({target})")
            case "image":
                self.add(child.content)


def _add_inline_runs(
    paragraph: Paragraph, children: Sequence[Token], *, keep_breaks: bool, bold: bool
) -> None:
    """Append the inline tokens as runs; adjacent text of one format becomes one run and
    line breaks are '\n' inside it (python-docx writes them as <w:br/>)."""
    runs = _Runs(paragraph, keep_breaks=keep_breaks, bold=bold)
    for child in children:
        runs.token(child)
    runs.flush()


def _repeat_as_header(tr: Any) -> None:
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr.get_or_add_trPr().append(header)


def _length(value: int | None) -> int:
    """A page measure in EMU; python-docx's default template sets every one."""
    if value is None:
        raise ValueError("the letter template's page size or margins are not set")
    return int(value)


def _set_column_widths(
    document: DocxDocument, table: Any, rows: list[tuple[bool, list[Token]]], columns: int
) -> None:
    """Each column at least as wide as its longest word (so 'Læringsmåls-ID' is not
    split), the rest of the line shared in proportion to the column's longest text."""
    section = document.sections[-1]
    usable = (
        _length(section.page_width) - _length(section.left_margin) - _length(section.right_margin)
    )
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


class MarkdownPieces:
    """`markdown_to_docx` for Markdown that comes in pieces (a summary of a million
    responses): each piece ends where a block ends (see `markdown_pieces`), and open
    marker blocks and a pending page break carry over to the next piece."""

    def __init__(self, document: DocxDocument) -> None:
        self._writer = _DocxWriter(document)

    def add(self, markdown: str) -> None:
        self._writer.write(_PARSER.parse(markdown), last=False)

    def close(self) -> None:
        self._writer.close()


def markdown_pieces(text: Iterable[str], lines: int = 2000) -> Iterator[str]:
    """The Markdown streamed in `text` (fragments of any size) cut into pieces of about
    `lines` lines, each cut before a bullet item or a heading at the start of a line
    (outside fenced code), where no block continues across the cut."""
    buffer: list[str] = []
    fenced = False
    pending = ""
    for fragment in text:
        pending += fragment
        *complete, pending = pending.split("\n")
        for line in complete:
            if line.startswith(("```", "~~~")):
                fenced = not fenced
            if len(buffer) >= lines and not fenced and _CUT_BEFORE.match(line):
                yield "\n".join(buffer) + "\n"
                buffer = []
            buffer.append(line)
    buffer.append(pending)
    yield "\n".join(buffer)

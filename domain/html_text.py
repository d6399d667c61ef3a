"""Readable plain text from the HTML of e-mails and .html attachments (standard library only).

Paragraphs, headings, lists, tables and quotes become blank lines, `- ` and `1. ` items,
` | ` between cells and `> ` lines; `<br>` is a line break; entities are decoded
(`&aring;` is å); script, style, head and images are dropped, and a link keeps its
text (the address is not copied into the response text).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DROPPED = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})
_PARAGRAPHS = frozenset(
    [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "table",
        "blockquote",
        "pre",
        "dl",
        "figure",
        "address",
        "hr",
    ]
)
_LINES = frozenset(
    [
        "div",
        "tr",
        "li",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
        "caption",
        "form",
        "fieldset",
        "center",
    ]
)
_VOID = frozenset({"br", "hr", "img", "wbr", "input", "meta", "link", "col", "area", "base"})
_SPACE = re.compile(r"\s+")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pending = 0  # line breaks owed before the next text
        self.at_start = True  # nothing written on the current line yet
        self.dropped = 0  # depth inside script/style/head
        self.quotes = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # one [next number] per open <ol>, [0] for <ul>
        self.bullet = ""  # list marker to write before the next text
        self.cells = 0  # cells written in the current table row

    # --- output ---

    def _break(self, count: int) -> None:
        if self.out:
            self.pending = max(self.pending, count)

    def _text(self, text: str) -> None:
        if self.pending:
            self.out.append("\n" * self.pending)
            self.pending, self.at_start = 0, True
        if self.at_start:
            text = text.lstrip(" ") if not self.pre else text
            if not text:
                return
            indent = "  " * max(len(self.lists) - 1, 0) if self.bullet else ""
            self.out.append("> " * self.quotes + indent + self.bullet)
            self.bullet, self.at_start = "", False
        elif text.startswith(" ") and self.out[-1].endswith(" ") and not self.pre:
            text = text[1:]
        self.out.append(text)

    # --- parser callbacks ---

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropped += tag not in _VOID
            return
        if self.dropped:
            return
        self._break(self._breaks(tag))
        if tag == "br":
            self.pending += 1 if self.out else 0
        elif tag == "hr":
            self._text("---")
            self._break(2)
        elif tag == "blockquote":
            self.quotes += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else 0])
        elif tag == "li":
            self._list_item()
        elif tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self._text(" | ")
            self.cells += 1

    def _list_item(self) -> None:
        if self.lists and self.lists[-1][0]:
            self.bullet = f"{self.lists[-1][0]}. "
            self.lists[-1][0] += 1
        else:
            self.bullet = "- "

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropped = max(self.dropped - 1, 0)
            return
        if self.dropped:
            return
        if tag == "blockquote":
            self._break(2)
            self.quotes = max(self.quotes - 1, 0)
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        self._break(self._breaks(tag))

    def _breaks(self, tag: str) -> int:
        """Line breaks around `tag`: a paragraph's blank line, one for a line, none inline."""
        if tag in ("ul", "ol") and self.lists:
            return 1  # a list inside a list item
        return 2 if tag in _PARAGRAPHS else 1 if tag in _LINES else 0

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        if self.pre:
            for number, line in enumerate(data.split("\n")):
                if number:
                    self.pending += 1
                if line:
                    self._text(line)
            return
        text = _SPACE.sub(" ", data)
        if text.strip() or (text and not self.at_start and not self.pending):
            self._text(text)


def html_to_text(html: str) -> str:
    """The text of `html`, lines and paragraphs kept (trailing spaces are left to tidy up)."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    return "".join(converter.out)

"""Documents to PDF with ReportLab's platypus: the only module that imports reportlab.

Services describe a document in the small vocabulary below (lines of text, tables, gaps) and
`render` lays it out on A4 with a footer "Page x of y". There is no HTML or CSS in between:
parsing and cascading them cost more than the layout itself (docs/decisions.md, Performance).

Fonts are TrueType, registered once per process and embedded (subset) in each document: DejaVu
Sans when the system has it (Debian's fonts-dejavu-core), else Bitstream Vera, which ships inside
reportlab (both draw €, ¥, £ and accents); `MAIS_PDF_FONT`/`MAIS_PDF_FONT_BOLD` override.

ReportLab draws each run of text in one font and has no per-glyph fallback, so `FontRuns` puts
the characters the main font lacks in runs of a fallback font that has them (Devanagari, Hebrew,
CJK, then symbols and emoji in monochrome); characters no installed font has are left out rather
than drawn as empty boxes. A fallback is registered the first time a document needs it and is
embedded only in documents that use it. Arabic is joined with arabic-reshaper into DejaVu's
presentation forms and right-to-left text is put in display order with python-bidi; Devanagari
is drawn glyph by glyph (ReportLab does not shape it): legible, but vowel signs such as ि are
not moved before their consonant.
"""
from __future__ import annotations

import base64
import binascii
import functools
import io
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import arabic_reshaper
from bidi import get_display
from markupsafe import escape
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    Image,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

log = logging.getLogger(__name__)
FONT_NAME = "MaisSans"
_SYSTEM_FONTS = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
]


class RenderError(Exception):
    """The document could not be laid out; nothing is stored."""


def _font_files() -> tuple[str, str]:
    override = os.environ.get("MAIS_PDF_FONT")
    if override:
        bold = os.environ.get("MAIS_PDF_FONT_BOLD", override)
        return override, bold
    for regular, bold in _SYSTEM_FONTS:
        if os.path.exists(regular) and os.path.exists(bold):
            return regular, bold
    import reportlab

    fonts = Path(reportlab.__file__).parent / "fonts"
    return str(fonts / "Vera.ttf"), str(fonts / "VeraBd.ttf")


_fonts: tuple[str, str] | None = None


def font_files() -> tuple[str, str]:
    """The regular and bold TTF files the documents embed."""
    global _fonts
    if _fonts is None:
        _fonts = _font_files()
    return _fonts


# Fallbacks in the order they are tried, from Debian packages (Makefile `system-deps`):
# fonts-noto-core, fonts-droid-fallback, fonts-symbola. Missing files are skipped.
_FALLBACKS = [
    ("MaisDeva", "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
     "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Bold.ttf"),
    ("MaisHebrew", "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
     "/usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf"),
    ("MaisCJK", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
     "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    ("MaisSymbols", "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
     "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"),
]
# Invisible joiners of emoji sequences and variation selectors: drawn as boxes if kept.
_DROPPED = {0x200D, 0xFE0E, 0xFE0F, 0x20E3}


def fallback_fonts() -> list[tuple[str, str, str]]:
    return [(name, r, b) for name, r, b in _FALLBACKS if os.path.exists(r) and os.path.exists(b)]


_registered: dict[str, frozenset[int]] = {}
_registering = threading.Lock()


def registered_fonts() -> frozenset[str]:
    """The font families this process has registered so far."""
    return frozenset(_registered)


def _family(name: str) -> frozenset[int]:
    """Register a family (regular and bold) with ReportLab once per process, and return the
    code points its regular face draws. Parsing a TrueType file is the expensive part of a
    first render (DroidSansFallbackFull is 4 MB), so it is never repeated; ReportLab keeps each
    document's subset apart on the one font object."""
    coverage = _registered.get(name)
    if coverage is not None:
        return coverage
    with _registering:
        if name in _registered:
            return _registered[name]
        if name == FONT_NAME:
            regular, bold = font_files()
        else:
            regular, bold = next((r, b) for n, r, b in fallback_fonts() if n == name)
        face = TTFont(name, regular)
        pdfmetrics.registerFont(face)
        bold_name = name
        if bold != regular:
            bold_name = f"{name}-Bold"
            pdfmetrics.registerFont(TTFont(bold_name, bold))
        pdfmetrics.registerFontFamily(name, normal=name, bold=bold_name, italic=name,
                                      boldItalic=bold_name)
        coverage = frozenset(cp for cp, glyph in face.face.charToGlyph.items() if glyph)
        _registered[name] = coverage
        return coverage


def _font_for(cp: int) -> str | None:
    """FONT_NAME, a fallback's name, or None when no installed font draws this character."""
    if cp in _family(FONT_NAME):
        return FONT_NAME
    for name, _, _ in fallback_fonts():
        if cp in _family(name):
            return name
    return None


_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
# Joins letters but writes no ligatures: DejaVu lacks some (e.g. Allah), and one missing
# ligature would otherwise cost a whole paragraph its joining.
_plain_reshaper = arabic_reshaper.ArabicReshaper(configuration={"support_ligatures": False})


def _display_order(text: str) -> str:
    """Right-to-left runs joined (Arabic) and reversed into the order they are drawn in, in a
    left-to-right document. Applied to a whole value before it is wrapped: a right-to-left
    paragraph longer than a line wraps with its lines in reverse order."""
    if not _RTL.search(text):
        return text
    drawable = _family(FONT_NAME)
    shaped = arabic_reshaper.reshape(text)
    if any(ord(c) not in drawable for c in set(shaped) - set(text)):
        shaped = _plain_reshaper.reshape(text)
    return "\n".join(get_display(line, base_dir="L") for line in shaped.split("\n"))


class FontRuns:
    """Turns user text into ReportLab paragraph markup: escaped, with what the main font cannot
    draw in runs of a fallback font, remembering which fallbacks the document needs."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def runs(self, text: str) -> str:
        pieces: list[tuple[str | None, list[str]]] = []
        for char in _display_order(text):
            cp = ord(char)
            if cp in _DROPPED:
                continue
            if cp < 0x370 or char.isspace():
                font = FONT_NAME  # ASCII, Latin and punctuation: always the main font
            elif unicodedata.category(char) in ("Mn", "Mc") and pieces:
                font = pieces[-1][0]  # a combining mark stays with its base letter
            else:
                font = _font_for(cp)
            if font is None:
                continue
            if pieces and pieces[-1][0] == font:
                pieces[-1][1].append(char)
            else:
                pieces.append((font, [char]))
        out = []
        for font, chars in pieces:
            text_run = str(escape("".join(chars))).replace("\n", "<br/>")
            if font == FONT_NAME:
                out.append(text_run)
            else:
                self.used.add(font)
                out.append(f'<font face="{font}">{text_run}</font>')
        return "".join(out)


# The vocabulary services describe a document in.

class Bold(str):
    """A part of a `Line` drawn in bold."""


@dataclass(frozen=True)
class Line:
    """One paragraph. Its parts are user text (escaped when drawn); `Bold` parts are bold.
    Styles: body, strong, muted, title (the vendor's name), heading (the document's kind),
    total (the grand total row)."""
    parts: tuple[str, ...]
    style: str = "body"
    color: str | None = None


def line(*parts: str, style: str = "body", color: str | None = None) -> Line:
    return Line(tuple(parts), style, color)


@dataclass(frozen=True)
class Logo:
    """An image given as a data: URI (nothing is fetched), drawn `height` points high."""
    uri: str
    height: float = 36


Cell = Sequence[Line | Logo]


@dataclass(frozen=True)
class Grid:
    """A table. `widths` are fractions of the text width; `header` is bold, ruled below and
    repeated on each page the table continues on; `ruled` draws a light rule under each row;
    `total_last` rules above the last row (a grand total)."""
    widths: tuple[float, ...]
    rows: Sequence[Sequence[Cell]]
    header: Sequence[str] | None = None
    right: frozenset[int] = field(default_factory=frozenset)
    ruled: bool = False
    total_last: bool = False


@dataclass(frozen=True)
class Gap:
    """The space between sections."""


Block = Line | Grid | Gap

# Color objects, not strings: ReportLab parses a string colour each time it draws with it.
INK, MUTED, RULE, LIGHT_RULE = (colors.HexColor(c) for c in ("#222222", "#666666", "#444444", "#cccccc"))
PAGE_MARGIN, BOTTOM_MARGIN, FOOTER_TOP = 1.6 * cm, 2.2 * cm, 1.8 * cm
_BASE = ParagraphStyle("mais", fontName=FONT_NAME, fontSize=9.5, leading=14.25, textColor=INK)
_STYLES = {
    "body": _BASE,
    "strong": _BASE,
    "muted": ParagraphStyle("muted", _BASE, textColor=MUTED),
    "title": ParagraphStyle("title", _BASE, fontSize=18, leading=27),
    "heading": ParagraphStyle("heading", _BASE, fontSize=12, leading=18),
    "total": ParagraphStyle("total", _BASE, fontSize=11, leading=16.5),
}
_BOLD_STYLES = {"strong", "title", "heading", "total"}


@functools.cache
def _style(name: str, color: str | None, align_right: bool) -> ParagraphStyle:
    style = _STYLES[name]
    if color or align_right:
        style = ParagraphStyle(name, style, textColor=colors.toColor(color) if color else style.textColor,
                               alignment=TA_RIGHT if align_right else style.alignment)
    return style


class _Document:
    """One render: the paragraph markup of its text, and the fallback fonts it uses."""

    def __init__(self) -> None:
        self.fonts = FontRuns()

    def paragraph(self, item: Line, align_right: bool = False) -> Paragraph:
        markup = "".join(f"<b>{self.fonts.runs(p)}</b>" if isinstance(p, Bold) else self.fonts.runs(p)
                         for p in item.parts)
        if item.style in _BOLD_STYLES:
            markup = f"<b>{markup}</b>"
        return Paragraph(markup, _style(item.style, item.color, align_right))

    def cell(self, content: Cell, align_right: bool) -> list:
        out = []
        for item in content:
            out += self.logo(item) if isinstance(item, Logo) else [self.paragraph(item, align_right)]
        return out

    def logo(self, logo: Logo) -> list:
        match = re.fullmatch(r"data:image/[\w.+-]+;base64,(.+)", logo.uri, re.S)
        try:
            data = base64.b64decode(match.group(1) if match else "", validate=True)
            width, height = ImageReader(io.BytesIO(data)).getSize()
        except (binascii.Error, OSError, ValueError):
            log.warning("pdf: logo is not a readable data: URI image; left out")
            return []
        drawn = Image(io.BytesIO(data), width=width * logo.height / height, height=logo.height)
        drawn.hAlign = "LEFT"
        return [drawn, Spacer(0, 9)]  # the line the logo sat on in the HTML layout

    def grid(self, grid: Grid, text_width: float) -> Table:
        rows = [[self.cell(content, i in grid.right) for i, content in enumerate(row)]
                for row in grid.rows]
        if grid.header is not None:
            rows.insert(0, [[self.paragraph(line(h, style="strong"), i in grid.right)]
                            for i, h in enumerate(grid.header)])
        style = [("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("TOPPADDING", (0, 0), (-1, -1), 2.25), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.25),
                 ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
        first = 0
        if grid.header is not None:
            style.append(("LINEBELOW", (0, 0), (-1, 0), 0.75, RULE))
            first = 1
        if grid.ruled and len(rows) > first:
            style.append(("LINEBELOW", (0, first), (-1, -1), 0.4, LIGHT_RULE))
        if grid.total_last:
            style.append(("LINEABOVE", (0, -1), (-1, -1), 0.75, RULE))
        return Table(rows, colWidths=[w * text_width for w in grid.widths], style=TableStyle(style),
                     repeatRows=first, hAlign="LEFT")

    def flowables(self, blocks: Sequence[Block], text_width: float) -> list:
        out = []
        for block in blocks:
            if isinstance(block, Gap):
                out.append(Spacer(0, 10.5))
            elif isinstance(block, Grid):
                out.append(self.grid(block, text_width))
            else:
                out.append(self.paragraph(block))
        return out


def _numbered_canvas(document: _Document, footer: str, text_width: float) -> type[Canvas]:
    """A canvas that keeps its pages until the end, so each footer can say "Page x of y" after
    one layout pass."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                row = document.grid(Grid(widths=(0.7, 0.3), right=frozenset({1}), rows=[[
                    [line(footer, style="muted")],
                    [line(f"Page {number} of {total}", style="muted")]]]), text_width)
                _, height = row.wrapOn(self, text_width, 1 * cm)
                row.drawOn(self, PAGE_MARGIN, FOOTER_TOP - height)
                super().showPage()
            super().save()

    return NumberedCanvas


def render(blocks: Sequence[Block], *, title: str, footer: str) -> bytes:
    """Lay the blocks out on A4 pages; raises RenderError rather than storing a broken PDF."""
    _family(FONT_NAME)
    document = _Document()
    out = io.BytesIO()
    template = BaseDocTemplate(out, pagesize=A4, title=title, leftMargin=PAGE_MARGIN,
                               rightMargin=PAGE_MARGIN, topMargin=PAGE_MARGIN,
                               bottomMargin=BOTTOM_MARGIN)
    template.addPageTemplates(PageTemplate(frames=[Frame(
        template.leftMargin, template.bottomMargin, template.width, template.height,
        leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)]))
    try:
        story = document.flowables(blocks, template.width)
        template.build(story, canvasmaker=_numbered_canvas(document, footer, template.width))
    except Exception as exc:  # ReportLab raises LayoutError, ValueError, ...: none is stored
        raise RenderError(f"the document could not be laid out: {exc}") from exc
    return out.getvalue()


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page\b")


def page_count(content: bytes) -> int:
    """Pages in a PDF reportlab wrote (its page objects are never inside compressed streams)."""
    return len(_PAGE_OBJECT.findall(content))

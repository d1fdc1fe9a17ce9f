"""HTML to PDF with xhtml2pdf: the only module that imports it.

xhtml2pdf understands a subset of CSS 2: tables with explicit widths, no float, grid or calc.
A Unicode TrueType font is registered so €, ¥, £ and accented names render; DejaVu Sans when the
system has it (Debian's fonts-dejavu-core), else Bitstream Vera, which ships inside reportlab.

ReportLab draws each run of text in one font and has no per-glyph fallback, so `font_runs`
wraps the characters the main font lacks in spans naming a fallback that has them (Devanagari,
CJK, then symbols and emoji in monochrome); characters no installed font has are left out
rather than drawn as empty boxes. Fallback fonts are embedded (subset) only in documents that
use them. Arabic is joined by xhtml2pdf with arabic-reshaper into DejaVu's presentation forms and
ordered by its bidi algorithm; Devanagari is drawn glyph by glyph (ReportLab does not shape it):
legible, but vowel signs such as ि are not moved before their consonant.
"""
from __future__ import annotations

import io
import logging
import os
import re
import unicodedata
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape
from reportlab.pdfbase.ttfonts import TTFontFile
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

log = logging.getLogger(__name__)
FONT_NAME = "MaisSans"
_SYSTEM_FONTS = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
]


class RenderError(Exception):
    """xhtml2pdf reported an error while laying out the document."""


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


@cache
def _coverage(path: str) -> frozenset[int]:
    """Code points a TrueType file has glyphs for (parsed once per process)."""
    return frozenset(cp for cp, glyph in TTFontFile(path).charToGlyph.items() if glyph)


def _font_for(cp: int) -> str | None:
    """FONT_NAME, a fallback's name, or None when no installed font draws this character."""
    if cp in _coverage(font_files()[0]):
        return FONT_NAME
    for name, regular, _ in fallback_fonts():
        if cp in _coverage(regular):
            return name
    return None


class FontRuns:
    """A Jinja `finalize`: escapes a value and wraps what the main font cannot draw in spans of
    a fallback font, remembering which fallbacks the document needs."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, value):
        if isinstance(value, Markup) or not isinstance(value, str):
            return value
        return self.runs(value)

    def runs(self, text: str) -> Markup:
        pieces: list[tuple[str | None, list[str]]] = []
        for char in text:
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
            text_run = escape("".join(chars))
            if font == FONT_NAME:
                out.append(text_run)
            else:
                self.used.add(font)
                out.append(Markup('<span style="font-family: {}">{}</span>').format(font, text_run))
        return Markup("").join(out)


def _policy() -> ResourceAccessPolicy:
    """Nothing remote, and only the font files' directories on disk: the HTML holds user text."""
    files = [*font_files(), *(f for _, r, b in fallback_fonts() for f in (r, b))]
    dirs = sorted({str(Path(f).parent) for f in files})
    return ResourceAccessPolicy(allow_remote=False, base_dir=Path(dirs[0]),
                                extra_roots=tuple(Path(d) for d in dirs[1:]))


def font_face_css(fallbacks: set[str] | frozenset[str] = frozenset()) -> str:
    """@font-face rules for the template: xhtml2pdf embeds (a subset of) the TTF it is pointed
    at. Fallback fonts only when named, i.e. when the document has text that needs them."""
    faces = [(FONT_NAME, *font_files())]
    faces += [face for face in fallback_fonts() if face[0] in fallbacks]
    return "".join(
        f'@font-face {{ font-family: "{name}"; src: url("{regular}"); }}\n'
        f'@font-face {{ font-family: "{name}"; font-weight: bold; src: url("{bold}"); }}\n'
        for name, regular, bold in faces)


def html_to_pdf(html: str) -> bytes:
    """Render one HTML document; raises RenderError rather than storing a broken PDF."""
    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=_policy())
    if status.err:
        raise RenderError(f"xhtml2pdf reported {status.err} error(s)")
    return out.getvalue()


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page\b")


def page_count(content: bytes) -> int:
    """Pages in a PDF reportlab wrote (its page objects are never inside compressed streams)."""
    return len(_PAGE_OBJECT.findall(content))

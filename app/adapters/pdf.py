"""HTML to PDF with xhtml2pdf: the only module that imports it.

xhtml2pdf understands a subset of CSS 2: tables with explicit widths, no float, grid or calc.
A Unicode TrueType font is registered so €, ¥, £ and accented names render; DejaVu Sans when the
system has it (Debian's fonts-dejavu-core), else Bitstream Vera, which ships inside reportlab.
"""
from __future__ import annotations

import io
import logging
import os
import re
from pathlib import Path

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


def _policy() -> ResourceAccessPolicy:
    """Nothing remote, and only the font files' directories on disk: the HTML holds user text."""
    dirs = sorted({str(Path(f).parent) for f in font_files()})
    return ResourceAccessPolicy(allow_remote=False, base_dir=Path(dirs[0]),
                                extra_roots=tuple(Path(d) for d in dirs[1:]))


def font_face_css() -> str:
    """@font-face rules for the template: xhtml2pdf embeds the TTF it is pointed at."""
    regular, bold = font_files()
    return (f'@font-face {{ font-family: "{FONT_NAME}"; src: url("{regular}"); }}\n'
            f'@font-face {{ font-family: "{FONT_NAME}"; font-weight: bold; src: url("{bold}"); }}\n')


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

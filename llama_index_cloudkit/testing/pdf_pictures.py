"""Pictures of PDF pages for emulated parse results: page screenshots and embedded images.

Example:
    >>> shot = page_screenshot(pdf_bytes, 0)  # doctest: +SKIP
    >>> shot.width, shot.data[:2]  # doctest: +SKIP
    (595, b'\\xff\\xd8')
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

__all__ = ["Picture", "embedded_pictures", "page_screenshot", "tiny_jpeg"]


@dataclass(frozen=True)
class Picture:
    """An image and where it sits: ``x``, ``y`` (from the top), ``w``, ``h`` in PDF points.

    Example:
        >>> Picture(b"", 10, 20, 0, 0, 100, 50).box()
        {'x': 0, 'y': 0, 'w': 100, 'h': 50}
    """

    data: bytes
    width: int
    height: int
    x: float
    y: float
    w: float
    h: float

    def box(self) -> dict[str, float]:
        """The placement as LlamaParse's ``bBox`` (points)."""
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


def tiny_jpeg() -> bytes:
    """A valid 1x1 JPEG (for screenshots of files a served fixture names).

    Example:
        >>> tiny_jpeg()[:2]
        b'\\xff\\xd8'
    """
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 255, 255)).save(out, format="JPEG")
    return out.getvalue()


def _open(data: bytes) -> Any:
    import pypdfium2

    return pypdfium2.PdfDocument(data)


def page_screenshot(data: bytes, index: int, scale: float = 1.0) -> Picture:
    """A JPEG render of page ``index`` (0-based); IndexError past the end.

    Example:
        >>> page_screenshot(b"%PDF-broken", 0)  # doctest: +SKIP
        Traceback (most recent call last):
        pypdfium2._helpers.misc.PdfiumError: Failed to load document (PDFium: Data format error).
    """
    from llama_index_cloudkit.parse.local.pdf import PDFIUM_LOCK, render_page

    with PDFIUM_LOCK:
        pdf = _open(data)
        try:
            if not 0 <= index < len(pdf):
                raise IndexError(index)
            page = pdf[index]
            try:
                width, height = page.get_size()
                image = render_page(page, scale).convert("RGB")
            finally:
                page.close()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return Picture(out.getvalue(), image.width, image.height, 0.0, 0.0, width, height)


def embedded_pictures(data: bytes, index: int) -> list[Picture]:
    """The images drawn on page ``index`` (0-based), as PNG, in drawing order.

    Example:
        >>> [p.width for p in embedded_pictures(pdf_bytes, 0)]  # doctest: +SKIP
        [120]
    """
    import pypdfium2

    from llama_index_cloudkit.parse.local.pdf import PDFIUM_LOCK

    pictures: list[Picture] = []
    with PDFIUM_LOCK:
        pdf = _open(data)
        try:
            if not 0 <= index < len(pdf):
                return []
            page = pdf[index]
            try:
                _, page_height = page.get_size()
                for obj in page.get_objects(filter=(pypdfium2.raw.FPDF_PAGEOBJ_IMAGE,)):
                    left, bottom, right, top = obj.get_bounds()
                    bitmap = obj.get_bitmap(render=False)
                    image = bitmap.to_pil().copy()
                    del bitmap  # released under the lock (closing a foreign bitmap warns)
                    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                        image = image.convert("RGB")
                    out = io.BytesIO()
                    image.save(out, format="PNG")
                    pictures.append(
                        Picture(
                            out.getvalue(),
                            image.width,
                            image.height,
                            round(left, 2),
                            round(page_height - top, 2),
                            round(right - left, 2),
                            round(top - bottom, 2),
                        )
                    )
            finally:
                page.close()
        finally:
            pdf.close()
    return pictures

"""OCR for images and for PDF pages with no text layer: tesseract, or rapidocr.

tesseract needs the ``ocr`` extra (pytesseract, pillow) and the tesseract program (Debian:
``apt-get install tesseract-ocr tesseract-ocr-eng``). rapidocr-onnxruntime ships its models in
its wheel. Small images are upscaled to at least 1,700 px wide first: on 72-dpi renders this
lifts tesseract's accuracy from poor to 0.94-1.00.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any, Literal

from llama_index_cloudkit.errors import ParseError, UnsupportedFileError
from llama_index_cloudkit.parse.model import ParsedPage

__all__ = ["OcrEngineName", "available_ocr_engines", "iter_image_pages", "load_ocr"]

OcrEngineName = Literal["auto", "tesseract", "rapidocr", "off"]
OcrFn = Callable[[Any], str]

_MIN_WIDTH = 1700


def _upscaled(image: Any) -> Any:
    if image.width >= _MIN_WIDTH:
        return image
    factor = _MIN_WIDTH / image.width
    return image.resize((_MIN_WIDTH, round(image.height * factor)))


def _tesseract(image: Any) -> str:
    import pytesseract

    # tesseract's OpenMP threads fight each other on small machines: one thread is about 9x
    # faster on 2 cores. A value the user set wins.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    return str(pytesseract.image_to_string(_upscaled(image.convert("RGB"))))


@functools.lru_cache(maxsize=1)
def _rapidocr_engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def _rapidocr(image: Any) -> str:
    import numpy as np

    result, _ = _rapidocr_engine()(np.asarray(image.convert("RGB")))
    return "\n".join(line[1] for line in result or [])


def available_ocr_engines() -> list[str]:
    """The OCR engines usable on this machine, best first.

    Example:
        >>> set(available_ocr_engines()) <= {"tesseract", "rapidocr"}
        True
    """
    engines = []
    has_pil = importlib.util.find_spec("PIL") is not None
    if has_pil and importlib.util.find_spec("pytesseract") and shutil.which("tesseract"):
        engines.append("tesseract")
    if has_pil and importlib.util.find_spec("rapidocr_onnxruntime"):
        engines.append("rapidocr")
    return engines


def load_ocr(engine: OcrEngineName = "auto") -> OcrFn | None:
    """The OCR function for ``engine``, or None when ``engine`` is ``"off"`` or none is installed.

    Raises:
        UnsupportedFileError: a named engine that is not installed.

    Example:
        >>> load_ocr("off") is None
        True
    """
    if engine == "off":
        return None
    available = available_ocr_engines()
    if engine == "auto":
        engine = available[0] if available else "off"  # type: ignore[assignment]
        if engine == "off":
            return None
    if engine not in available:
        raise UnsupportedFileError(
            f"The OCR engine {engine!r} is not installed",
            hint=_install_hint(),
        )
    return _tesseract if engine == "tesseract" else _rapidocr


def _install_hint() -> str:
    return (
        "Install an OCR engine: pip install 'llama-index-cloudkit[ocr]' and "
        "apt-get install tesseract-ocr tesseract-ocr-eng (or pip install rapidocr-onnxruntime)"
    )


def iter_image_pages(data: bytes, file_name: str, ocr: OcrFn | None) -> Iterator[ParsedPage]:
    """Yield an image's frames as pages of OCR text (a TIFF can hold several).

    Raises:
        UnsupportedFileError: no OCR engine is installed.

    Example:
        >>> data = open("scan.png", "rb").read()  # doctest: +SKIP
        >>> pages = list(iter_image_pages(data, "scan.png", load_ocr()))  # doctest: +SKIP
    """
    if ocr is None:
        raise UnsupportedFileError(
            "Reading text from an image needs an OCR engine, and none is installed",
            file=file_name,
            hint=_install_hint(),
        )
    if not data:
        raise ParseError("The file is empty", file=file_name)
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ParseError("The image cannot be decoded", file=file_name) from exc
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        text = "\n".join(line.rstrip() for line in ocr(frame).splitlines()).strip()
        yield ParsedPage(number=number, blocks=[text] if text else [], width=frame.width, height=frame.height)

"""OCR for images and for PDF pages with no text layer: tesseract when installed, else rapidocr.

rapidocr-onnxruntime comes with ``pip install 'llama-index-cloudkit[local]'`` (Python 3.10 to
3.12): a wheel that ships its ONNX models, so nothing is downloaded at run time and no system
package is needed. tesseract, when its program is on the PATH (Debian: ``apt-get install
tesseract-ocr tesseract-ocr-eng``) and the ``ocr`` extra is installed, is preferred by
``ocr="auto"``. Small images are upscaled first: on 72-dpi renders this lifts tesseract's
accuracy from poor to 0.94-1.00, and rapidocr's by about 0.04.

Example:
    >>> load_ocr("off") is None
    True
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import os
import shutil
import threading
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, Literal, cast

from llama_index_cloudkit.errors import ParseError, UnsupportedFileError
from llama_index_cloudkit.parse.model import ParsedPage

__all__ = [
    "OcrEngineName",
    "available_ocr_engines",
    "install_hint",
    "iter_image_pages",
    "layout_ocr_lines",
    "load_ocr",
    "no_ocr_reason",
    "ocr_threads",
    "set_ocr_threads",
]

OcrEngineName = Literal["auto", "tesseract", "rapidocr", "off"]
OcrFn = Callable[[Any], str]

# Upscale narrower images to this width before OCR (per engine: what measured best).
_MIN_WIDTH = {"tesseract": 1700, "rapidocr": 1224}
_threads: int | None = None
_local = threading.local()
_UNSET = object()


def set_ocr_threads(threads: int | None) -> None:
    """Threads one OCR call may use in this process (None: the engine's default, every core).

    The local worker processes set 1: they already run one per core.

    Example:
        >>> set_ocr_threads(None)
    """
    global _threads
    _threads = threads


@contextlib.contextmanager
def ocr_threads(threads: int | None) -> Iterator[None]:
    """Threads OCR calls may use in this thread, for the ``with`` block.

    A batch reads tasks in the caller's process beside one worker per other core: there OCR
    takes one thread too.

    Example:
        >>> with ocr_threads(1):
        ...     pass
    """
    previous = getattr(_local, "threads", _UNSET)
    _local.threads = threads
    try:
        yield
    finally:
        if previous is _UNSET:
            del _local.threads
        else:
            _local.threads = previous


def _current_threads() -> int | None:
    threads: object = getattr(_local, "threads", _UNSET)
    return _threads if threads is _UNSET else cast("int | None", threads)


def _upscaled(image: Any, min_width: int) -> Any:
    if image.width >= min_width:
        return image
    factor = min_width / image.width
    return image.resize((min_width, round(image.height * factor)))


def _tesseract(image: Any) -> str:
    import pytesseract

    # tesseract's OpenMP threads fight each other on small machines: one thread is about 9x
    # faster on 2 cores. A value the user set wins.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    return str(pytesseract.image_to_string(_upscaled(image.convert("RGB"), _MIN_WIDTH["tesseract"])))


@functools.lru_cache(maxsize=4)
def _rapidocr_engine(threads: int | None) -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except (ImportError, OSError) as exc:  # for example opencv-python without libGL.so.1
        raise UnsupportedFileError(
            f"rapidocr-onnxruntime is installed but cannot be imported ({exc})",
            hint="Reinstall it (pip install --force-reinstall rapidocr-onnxruntime), or install "
            "tesseract: pip install 'llama-index-cloudkit[ocr]' and apt-get install tesseract-ocr",
        ) from exc
    if threads is None:
        return RapidOCR()
    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)


# rapidocr's recogniser often drops the spaces of a line it reads as one piece ("finallyhad"). With
# ``return_word_box`` it also says where each character is; a space goes back between two characters
# when the line image is blank between them over this share of the line box's height or more.
# Measured on the corpus scans and rendered text: gaps inside words stay under 0.27 of the box
# height, gaps between words are 0.33 or more (the box is the detector's, about 1.6x the text).
_WORD_GAP = 0.3
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}%'\"\u2019\u201d")
_NO_SPACE_AFTER = frozenset("([{$\u2018\u201c")


def _blank_runs(gray: Any, box: Any) -> list[tuple[int, int]]:
    """Column ranges (image x, end excluded) with no ink in the middle half of the line's box."""
    import numpy as np

    xs, ys = [point[0] for point in box], [point[1] for point in box]
    x0, x1 = max(0, int(min(xs))), min(gray.shape[1], int(max(xs)) + 1)
    y0, y1 = max(0, int(min(ys))), min(gray.shape[0], int(max(ys)) + 1)
    quarter = (y1 - y0) // 4
    band = gray[y0 + quarter : y1 - quarter, x0:x1]
    if band.size == 0:
        return []
    dark, light = np.percentile(band, 5), np.percentile(band, 95)
    if light - dark < 32:  # no contrast: nothing to measure
        return []
    blank = ~(band < (dark + light) / 2).any(axis=0)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], blank.astype(np.int8), [0]))))
    return [(x0 + int(start), x0 + int(end)) for start, end in zip(edges[::2], edges[1::2], strict=True)]


def _spaced(gray: Any, box: Any, text: str, char_boxes: Any) -> str:
    """``text`` with a space between two characters the line image shows apart (rapidocr)."""
    if not char_boxes or len(char_boxes) != len(text) or len(text) < 2:
        return text
    height = max(point[1] for point in box) - min(point[1] for point in box)
    runs = _blank_runs(gray, box)
    if not runs or height <= 0:
        return text
    centres = [sum(point[0] for point in char_box) / len(char_box) for char_box in char_boxes]
    out = [text[0]]
    for k in range(1, len(text)):
        before, char = text[k - 1], text[k]
        if (
            not before.isspace()
            and not char.isspace()
            and char not in _NO_SPACE_BEFORE
            and before not in _NO_SPACE_AFTER
        ):
            left, right = centres[k - 1], centres[k]
            gap = max((min(end, right) - max(start, left) for start, end in runs), default=0)
            if gap >= _WORD_GAP * height:
                out.append(" ")
        out.append(char)
    return "".join(out)


def _rapidocr(image: Any) -> str:
    import numpy as np

    engine = _rapidocr_engine(_current_threads())
    pixels = np.asarray(_upscaled(image.convert("RGB"), _MIN_WIDTH["rapidocr"]))
    result, _ = engine(pixels, return_word_box=True)
    gray = pixels.mean(axis=2)
    items = []
    for box, text, _score, *word_boxes in result or []:
        text = _spaced(gray, box, str(text), word_boxes[0] if word_boxes else None)
        xs, ys = [point[0] for point in box], [point[1] for point in box]
        items.append((min(xs), min(ys), max(xs), max(ys), unicodedata.normalize("NFKC", text)))
    return layout_ocr_lines(items)


_Item = tuple[float, float, float, float, str]  # left, top, right, bottom, text (pixels, y down)


def _ocr_lines(items: list[_Item]) -> list[list[_Item]]:
    """Detections grouped into text lines, top first, each left to right."""
    lines: list[list[_Item]] = []
    for item in sorted(items, key=lambda i: (i[1] + i[3]) / 2):
        centre, height = (item[1] + item[3]) / 2, item[3] - item[1]
        if lines and abs((lines[-1][0][1] + lines[-1][0][3]) / 2 - centre) <= 0.5 * height:
            lines[-1].append(item)
        else:
            lines.append([item])
    return [sorted(line) for line in lines]


def _ocr_columns(lines: list[list[_Item]]) -> list[list[float]]:
    columns: list[list[float]] = []
    for left, _, right, _, _ in sorted(i for line in lines for i in line):
        if columns and left < columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], right)
        else:
            columns.append([left, right])
    return columns


def _ocr_row(line: list[_Item], columns: list[list[float]]) -> list[str]:
    row = [""] * len(columns)
    for left, _, right, _, text in line:
        hit = [k for k, (a, b) in enumerate(columns) if min(right, b) - max(left, a) > 0] or [0]
        pieces = [p.strip() for p in text.split("|") if p.strip()]  # vertical rules read as "|"
        if len(pieces) > 1 and len(hit) > 1:
            for k, piece in zip(hit, pieces, strict=False):
                row[k] = f"{row[k]} {piece}".strip()
            continue
        row[hit[0]] = f"{row[hit[0]]} {text.strip()}".strip()
    return row


def layout_ocr_lines(items: list[_Item]) -> str:
    """OCR detections as text: one detection a line, and a markdown table where they form a grid.

    A grid is three lines or more in a row with two detections or more each, falling into three
    columns or more that no detection of those lines straddles; the line just above it (its
    header, often read as one detection with the rules as ``|``) joins it.

    Example:
        >>> cells = [(0, y, 40, y + 10, t) for y, t in [(0, "Name"), (20, "Ann"), (40, "Bob"), (60, "Cy")]]
        >>> more = [(100, y, 140, y + 10, t) for y, t in [(0, "Age"), (20, "31"), (40, "42"), (60, "25")]]
        >>> rows = [(0, "City"), (20, "Rome"), (40, "Oslo"), (60, "Lima")]
        >>> last = [(200, y, 240, y + 10, t) for y, t in rows]
        >>> print(layout_ocr_lines(cells + more + last))
        | Name | Age | City |
        | --- | --- | --- |
        | Ann | 31 | Rome |
        | Bob | 42 | Oslo |
        | Cy | 25 | Lima |
    """
    from llama_index_cloudkit.parse.model import ParsedTable

    lines = _ocr_lines(items)
    out: list[str] = []
    found = False
    k = 0
    while k < len(lines):
        end = k
        while end < len(lines) and len(lines[end]) >= 2:
            end += 1
        run = lines[k:end]
        columns = _ocr_columns(run) if len(run) >= 3 else []
        if len(columns) >= 3 and all(len(line) <= len(columns) for line in run):
            start = k
            if out and k > 0 and len(lines[k - 1]) <= 2:  # the header line above, if one
                header_line = lines[k - 1]
                del out[-len(header_line) :]
                start = k - 1
            rows = [_ocr_row(line, columns) for line in lines[start:end]]
            out.append(ParsedTable(rows=rows).to_markdown())
            found = True
            k = end
            continue
        out += [str(item[4]) for item in lines[k]]
        k += 1
    if not found:  # no grid: the engine's own reading order, as it gave it
        return "\n".join(str(item[4]) for item in items)
    return "\n".join(out)


def available_ocr_engines() -> list[str]:
    """The OCR engines installed on this machine, best first (found, not imported: cheap).

    Example:
        >>> set(available_ocr_engines()) <= {"tesseract", "rapidocr"}
        True
    """
    engines = []
    has_pil = importlib.util.find_spec("PIL") is not None
    if has_pil and importlib.util.find_spec("pytesseract") and shutil.which("tesseract"):
        engines.append("tesseract")
    if has_pil and importlib.util.find_spec("rapidocr_onnxruntime") is not None:
        engines.append("rapidocr")
    return engines


def install_hint() -> str:
    """How to get an OCR engine, in one sentence.

    Example:
        >>> "pip install" in install_hint()
        True
    """
    return (
        "Install an OCR engine: pip install 'llama-index-cloudkit[local]' brings rapidocr-onnxruntime "
        "(Python 3.10-3.12); or tesseract: pip install 'llama-index-cloudkit[ocr]' and "
        "apt-get install tesseract-ocr tesseract-ocr-eng"
    )


def no_ocr_reason(engine: OcrEngineName) -> str:
    """Why a page that needs OCR gets none with ``engine`` (for warnings).

    Example:
        >>> no_ocr_reason("off")
        "OCR is off (ocr='off'); pass ocr='auto' to read it"
    """
    if engine == "off":
        return "OCR is off (ocr='off'); pass ocr='auto' to read it"
    return "no OCR engine is installed. " + install_hint()


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
        if not available:
            return None
        engine = available[0]  # type: ignore[assignment]
    if engine not in available:
        raise UnsupportedFileError(f"The OCR engine {engine!r} is not installed", hint=install_hint())
    return _tesseract if engine == "tesseract" else _rapidocr


def iter_image_pages(
    data: bytes,
    file_name: str,
    ocr: OcrFn | None,
    *,
    ocr_mode: OcrEngineName = "auto",
    pages: range | None = None,
) -> Iterator[ParsedPage]:
    """Yield an image's frames as pages of OCR text (a TIFF can hold several).

    A frame where OCR finds no text gives an empty page with a warning saying so. ``pages``
    (0-based frame indexes) reads only those frames, for splitting a long TIFF.

    Raises:
        UnsupportedFileError: no OCR engine is installed, or OCR is off.

    ``ocr`` is any function from a PIL image to text: ``load_ocr()`` gives the installed engine's.

    Example:
        >>> import io
        >>> from PIL import Image
        >>> scan = io.BytesIO(); Image.new("L", (40, 20), 255).save(scan, format="PNG")
        >>> (page,) = iter_image_pages(scan.getvalue(), "scan.png", lambda image: f"{image.width} px wide")
        >>> page.markdown(), page.width
        ('40 px wide', 40)
        >>> (blank,) = iter_image_pages(scan.getvalue(), "scan.png", lambda image: "")
        >>> blank.warnings
        ['OCR found no text on this page']
    """
    if ocr is None:
        if ocr_mode == "off":
            raise UnsupportedFileError(
                "Reading text from an image needs OCR, and OCR is off (ocr='off')",
                file=file_name,
                hint="Pass ocr='auto' to read images. " + install_hint(),
            )
        raise UnsupportedFileError(
            "Reading text from an image needs an OCR engine, and none is installed",
            file=file_name,
            hint=install_hint(),
        )
    if not data:
        raise ParseError("The file is empty", file=file_name)
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ParseError("The image cannot be decoded", file=file_name) from exc
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if pages is not None and number - 1 not in pages:
            continue
        text = "\n".join(line.rstrip() for line in ocr(frame).splitlines()).strip()
        warnings = [] if text else ["OCR found no text on this page"]
        yield ParsedPage(
            number=number,
            blocks=[text] if text else [],
            width=frame.width,
            height=frame.height,
            warnings=warnings,
        )

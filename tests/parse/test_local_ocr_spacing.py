"""OCR keeps the spaces between words: rapidocr's lines are re-spaced from the gaps in the image."""

from __future__ import annotations

import functools
import io

import pytest

from llama_index_cloudkit.parse.local.ocr import available_ocr_engines, iter_image_pages, load_ocr

pytestmark = [
    pytest.mark.skipif("rapidocr" not in available_ocr_engines(), reason="rapidocr is not installed"),
    pytest.mark.timeout(300),
]

LETTER = [
    "Dear Sir, after many years the center of the village finally had",
    "a new well, and the people of the town were glad of it.",
]
FONT = "DejaVuSerif.ttf"


def _letter(size: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype(FONT, size)
    except OSError:  # the font is not installed: Pillow's own scalable font
        font = ImageFont.load_default(size)
    width = int(size * 0.62 * len(LETTER[0])) + 40
    image = Image.new("L", (width, int(size * 1.6 * len(LETTER)) + 40), 255)
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(LETTER):
        draw.text((20, 20 + int(size * 1.6) * k), line, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@functools.cache
def _read(size: int) -> str:
    (page,) = iter_image_pages(_letter(size), "letter.png", load_ocr("rapidocr"))
    return page.text()


# Both sizes glue words without the re-spacing ("anewwell," and "gladofit.").
@pytest.mark.parametrize("size", [20, 28])
def test_words_of_a_scanned_letter_come_out_separated(size: int) -> None:
    words = _read(size).split()
    for word in ("the", "center", "of", "village", "finally", "had", "a", "new", "well", "and", "glad", "it"):
        assert word in words or f"{word}," in words or f"{word}." in words, (word, _read(size))
    assert "".join(LETTER).replace(" ", "") in "".join(words)  # nothing lost, nothing reordered


def test_punctuation_stays_attached_to_its_word() -> None:
    text = " ".join(_read(28).split())
    assert "Sir," in text and "well," in text and "it." in text
    assert " ," not in text and " ." not in text

"""The beneficiary's virtual card ("carteirinha virtual") as a PNG drawn with Pillow.

RN 389/2015 (ANS) asks the card to identify the operator, the beneficiary, the card
number and the plan with its ANS registration.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from services.rules.card_numbers import format_card_number
from services.rules.formats import format_date
from services.rules.waiting import waiting_summary

OPERATOR_NAME = "Sorriso Odontologia"
SIZE = (856, 540)  # ID-1 card proportions (85.6 x 54 mm)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
BLUE = (18, 86, 148)
LIGHT = (232, 242, 250)
WHITE = (255, 255, 255)
INK = (28, 36, 48)
GREY = (96, 108, 124)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(size: int, bold: bool = False) -> Font:
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int, bold: bool = False) -> Font:
    """The largest font up to `size` in which `text` fits in `width` pixels."""
    font = _font(size, bold)
    while size > 12 and draw.textlength(text, font=font) > width:
        size -= 2
        font = _font(size, bold)
    return font


def virtual_card_png(
    name: str,
    card_number: str,
    plan_name: str,
    company_name: str,
    ans_registration: str,
    effective_date: date,
    waiting: Mapping[str, object] | None = None,
    *,
    show_waiting: bool = True,
) -> bytes:
    """The virtual card of one beneficiary, as PNG bytes; at the bottom its waiting
    periods (carência) per procedure group, "Isento", or "não calculada" (`waiting`
    as in Beneficiary.waiting_periods)."""
    width, height = SIZE
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=36, fill=LIGHT, outline=BLUE)
    draw.rounded_rectangle((0, 0, width - 1, 120), radius=36, fill=BLUE)
    draw.rectangle((0, 84, width - 1, 120), fill=BLUE)
    margin = 44
    draw.text((margin, 30), OPERATOR_NAME, font=_font(44, bold=True), fill=WHITE)
    draw.text((width - margin, 44), "Carteirinha virtual", font=_font(24), fill=WHITE, anchor="ra")

    inner = width - 2 * margin
    draw.text((margin, 150), "Beneficiário", font=_font(20), fill=GREY)
    draw.text((margin, 176), name, font=_fit(draw, name, 38, inner, bold=True), fill=INK)
    draw.text((margin, 240), "Número da carteirinha", font=_font(20), fill=GREY)
    number = format_card_number(card_number)
    draw.text((margin, 266), number, font=_fit(draw, number, 46, inner, bold=True), fill=BLUE)

    third = inner // 3
    columns = (
        ("Plano", plan_name),
        ("Registro ANS do plano", ans_registration),
        ("Início de vigência", format_date(effective_date)),
    )
    for i, (label, value) in enumerate(columns):
        x = margin + i * third
        draw.text((x, 344), label, font=_font(20), fill=GREY)
        draw.text((x, 370), value, font=_fit(draw, value, 28, third - 16), fill=INK)
    draw.text((margin, 424), "Empresa", font=_font(20), fill=GREY)
    draw.text((margin, 450), company_name, font=_fit(draw, company_name, 28, inner), fill=INK)
    if show_waiting:
        for i, line in enumerate(waiting_lines(waiting)):
            draw.text((margin, 490 + 20 * i), line, font=_font(15), fill=GREY)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def waiting_lines(waiting: Mapping[str, object] | None, width: int = 98) -> list[str]:
    """The card's "Carência: ..." text in at most two lines (the rest cut with "…")."""
    text = f"Carência: {waiting_summary(waiting)}"
    lines = textwrap.wrap(text, width=width) or [text]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width=width, placeholder=" …")]
    return lines

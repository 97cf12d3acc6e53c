"""pt-BR display formats, in one place: money ``R$ 1.234,56``, numbers ``1.234,5``,
percentages ``12,50%``, chart magnitudes ``25 mil``, dates ``dd/mm/aaaa``, months
``março/2026`` and ``03/2026``, moments in Brasília time, and the masks of CPF (full and
LGPD-masked), CNPJ (numeric and alphanumeric), CAEPF, CNS, card numbers, CEP and phone.

Numbers, month and weekday names come from the Unicode CLDR locale data through babel
(``pt_BR``): grouping with ".", decimal comma, lower-case month names. Decimals stay
``Decimal`` (never float) and are rounded half-even, as Python's own ``format`` does.
Every ``format_*`` takes ``None`` (and NaN, as pandas gives for a missing number) and
shows a dash for a missing number or date and nothing for a missing document.

The document masks are implemented beside their check digits (services.rules.documents,
services.rules.card_numbers); this module is how everything else reaches them.

Sources: ABNT NBR 5891 and the CLDR pt_BR data for numbers; Lei 13.709/2018 (LGPD),
art. 6, III (data minimisation) for the masked CPF.

The LGPD masks are explained in docs/domain/lgpd.md.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import NumberPattern, format_currency, parse_pattern

from services.rules.card_numbers import format_card_number as _card
from services.rules.documents import DocumentType, only_digits
from services.rules.documents import format_caepf as _caepf
from services.rules.documents import format_cep as _cep
from services.rules.documents import format_cnpj as _cnpj
from services.rules.documents import format_cns as _cns
from services.rules.documents import format_company_document as _company_document
from services.rules.documents import format_cpf as _cpf
from services.rules.documents import mask_cpf as _mask_cpf

LOCALE = Locale.parse("pt_BR")
BRT = ZoneInfo("America/Sao_Paulo")  # Brasília time; no daylight saving since 2019
DASH = "—"
MONTHS: tuple[str, ...] = tuple(LOCALE.months["format"]["wide"][m] for m in range(1, 13))
WEEKDAYS: tuple[str, ...] = tuple(LOCALE.days["format"]["wide"][d] for d in range(7))

Number = Decimal | float | int


def _missing(value: object) -> bool:
    return value is None or value != value  # NaN is not equal to itself


@lru_cache(maxsize=32)
def _pattern(decimals: int, grouped: bool = True) -> NumberPattern:
    whole = "#,##0" if grouped else "0"
    return parse_pattern(whole + ("." + "0" * decimals if decimals > 0 else ""))


def _apply(value: Number, decimals: int, grouped: bool = True) -> str:
    """``value`` with exactly ``decimals`` places, half-even, in pt-BR digits."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return _pattern(decimals, grouped).apply(exact, LOCALE)


# ---------------------------------------------------------------- numbers


def format_number(value: Number | None, decimals: int = 2) -> str:
    """``1.234,56`` (always ``decimals`` places); a missing value is a dash."""
    if _missing(value):
        return DASH
    assert value is not None
    return _apply(value, decimals)


def format_int(value: Number | None) -> str:
    """Whole number with dots for thousands: ``1.234.567`` (rounded half-even)."""
    return format_number(value, 0)


def format_money(amount: Number | None) -> str:
    """``R$ 1.234,56``; negative amounts ``-R$ 12,30``; a missing amount is a dash."""
    if _missing(amount):
        return DASH
    assert amount is not None
    exact = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    sign = "-" if exact < 0 else ""  # -0.0 is shown as R$ 0,00, not -R$ 0,00
    # CLDR's pt_BR pattern puts a no-break space after "R$": the portal writes a plain one.
    shown = format_currency(
        abs(exact), "BRL", format="¤ #,##0.00", locale=LOCALE, currency_digits=False
    )
    return sign + shown


def format_percent(value: Number | None, decimals: int = 2) -> str:
    """Percentage points as ``12,50%`` (12.5 is 12,50%, not 1250%)."""
    if _missing(value):
        return DASH
    return format_number(value, decimals) + "%"


def decimal_comma(value: Number, decimals: int = 2) -> str:
    """A plain number with a decimal comma and no grouping, ``1234,56``: how a CSV for a
    pt-BR spreadsheet and a rule's message write a figure that is read back."""
    return _apply(value, decimals, grouped=False)


_COMPACT = ((10**9, "bi"), (10**6, "mi"), (10**3, "mil"))


def format_compact(value: Number, *, money: bool = False) -> str:
    """Short pt-BR magnitude for chart ticks: ``25 mil``, ``1,2 mi``, ``3 bi``, ``950``
    (never the SI ``25k``); ``money`` prefixes ``R$``."""
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    text = ""
    for size, word in _COMPACT:
        scaled = round(v / size, 1)
        # 999.999 is "1 mi", not "1.000 mil"; below a thousand, the number itself
        if v >= size or (size > 1000 and round(v / (size // 1000), 1) >= 1000):
            shown = format_number(scaled, 1).removesuffix(",0")
            text = f"{shown} {word}"
            break
    if not text:
        if v == int(v):
            text = format_number(v, 0)
        else:
            text = format_number(v, 2)
            text = text if money else text.rstrip("0").removesuffix(",")
    return f"{sign}R$ {text}" if money else f"{sign}{text}"


def format_size(n_bytes: int) -> str:
    """A file size for a message: ``1,5 MB``, ``20 MB``, ``512 KB``, ``300 bytes``."""
    if n_bytes >= 1024 * 1024:
        return format_number(Decimal(n_bytes) / (1024 * 1024), 1).removesuffix(",0") + " MB"
    if n_bytes >= 1024:
        return f"{format_int(n_bytes // 1024)} KB"
    return f"{n_bytes} bytes"


# ---------------------------------------------------------------- dates


def format_date(d: date | None) -> str:
    """``07/03/2026``; a missing date is a dash."""
    return f"{d:%d/%m/%Y}" if d else DASH  # strftime: four times babel's speed, same text


def format_datetime(dt: datetime | None) -> str:
    """``07/03/2026 12:30`` in Brasília time; a missing moment is a dash."""
    return dt.astimezone(BRT).strftime("%d/%m/%Y %H:%M") if dt else DASH


def format_month(d: date) -> str:
    """A month in words: ``março/2026``."""
    return f"{MONTHS[d.month - 1]}/{d.year}"


def format_month_numeric(d: date) -> str:
    """A month in digits, as files and headings write it: ``03/2026``."""
    return f"{d:%m/%Y}"


def format_month_short(d: date) -> str:
    """A month for a chart axis or a table column: ``mar/2026``."""
    return f"{MONTHS[d.month - 1][:3]}/{d.year}"


def format_weekday(d: date) -> str:
    """``sábado``, ``segunda-feira``."""
    return WEEKDAYS[d.weekday()]


# ---------------------------------------------------------------- documents


def format_cpf(value: str | None) -> str:
    """``000.000.000-00`` (a value that is not a CPF is shown as it is)."""
    return _cpf(value) if value else ""


def mask_cpf(value: str | None) -> str:
    """LGPD mask ``***.982.247-**`` (anything but a CPF is masked whole)."""
    return _mask_cpf(value) if value else ""


def format_cnpj(value: str | None) -> str:
    """``00.000.000/0000-00`` (alphanumeric CNPJs too)."""
    return _cnpj(value) if value else ""


def format_caepf(value: str | None) -> str:
    """``000.000.000/000-00``."""
    return _caepf(value) if value else ""


def format_company_document(value: str | None, doc_type: DocumentType | str) -> str:
    """The CNPJ or CAEPF mask, after the company's document type."""
    return _company_document(value, doc_type) if value else ""


def format_cns(value: str | None) -> str:
    """``000 0000 0000 0000``."""
    return _cns(value) if value else ""


def format_card(value: str | None) -> str:
    """Card number in groups of four: ``0001 0000 0000 0123``."""
    return _card(value) if value else ""


def format_cep(value: str | None) -> str:
    """``00000-000``."""
    return _cep(value) if value else ""


def format_phone(value: str | None) -> str:
    """``(11) 98765-4321`` or ``(11) 3333-4444``; anything else as it is."""
    if not value:
        return ""
    d = only_digits(value)
    if len(d) == 10:
        return f"({d[:2]}) {d[2:6]}-{d[6:]}"
    if len(d) == 11:
        return f"({d[:2]}) {d[2:7]}-{d[7:]}"
    return value


def digits_of(value: str | None) -> str:
    """What was typed, without punctuation (CPF, CNPJ, card: with or without mask)."""
    return only_digits(value or "")


# ---------------------------------------------------------------- stored records

_MONTH_KEYS = {"billing_month", "competencia", "reference_month"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")


def format_field(key: str, value: Any) -> str:
    """A stored record's value (a JSON record: audit before/after, LGPD dossier) as a
    person reads it: ISO dates as dd/mm/aaaa (months mm/aaaa), ISO moments as dd/mm/aaaa
    HH:MM in Brasília, "amount" as R$ 1.234,56, cards in groups of four, Sim/Não; a nested
    record as JSON with its text values formatted the same way."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, dict):
        shown = {k: format_field(k, v) if isinstance(v, str) else v for k, v in value.items()}
        return json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, default=str)
    text = str(value)
    if "card" in key or key == "carteirinha":
        return format_card(text)
    if key == "amount":
        try:
            return format_money(Decimal(text))
        except InvalidOperation:
            return text
    try:
        if _ISO_DATETIME.fullmatch(text):
            moment = datetime.fromisoformat(text)
            return format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        if _ISO_DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return format_month_numeric(day) if key in _MONTH_KEYS else format_date(day)
    except ValueError:
        return text
    return text


def latin1(text: str) -> str:
    """Text for the PDF core fonts, which speak Latin-1: anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")

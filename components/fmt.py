"""pt-BR formatting for the interface, in one place: dates dd/mm/aaaa, money R$ 1.234,56,
numbers 1.234,5 and "25 mil", CPF 000.000.000-00, CNPJ 00.000.000/0000-00 and card
numbers in groups of four (0001 0000 0000 0123).

Pages and components format through this module only. The document and card masks are
the pure rules' own (services.rules), which services use for the tables they build: one
implementation of each, re-exported here under the interface's names.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from services.rules.card_numbers import format_card_number
from services.rules.documents import (
    DocumentType,
    format_cep,
    format_cnpj,
    format_company_document,
    format_cpf,
    mask_cpf,
    only_digits,
)
from services.rules.registration import format_phone

BRT = ZoneInfo("America/Sao_Paulo")
MONTHS = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
]
WEEKDAYS = [
    "segunda-feira",
    "terça-feira",
    "quarta-feira",
    "quinta-feira",
    "sexta-feira",
    "sábado",
    "domingo",
]


def fmt_date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


def fmt_datetime(dt: datetime | None) -> str:
    return dt.astimezone(BRT).strftime("%d/%m/%Y %H:%M") if dt else "—"


def fmt_weekday(d: date) -> str:
    return WEEKDAYS[d.weekday()]


def fmt_month(d: date) -> str:
    return f"{MONTHS[d.month - 1]}/{d.year}"


def _missing(value: object) -> bool:
    return value is None or value != value  # NaN is not equal to itself


def _swap(text: str) -> str:
    """English grouping and decimal point (1,234.5) to pt-BR (1.234,5)."""
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_money(amount: Decimal | float | int | None) -> str:
    """``R$ 1.234,56``; negative amounts ``-R$ 12,30``; None is a dash."""
    if _missing(amount):
        return "—"
    sign = "-" if amount < 0 else ""
    return f"{sign}R$ {_swap(f'{abs(amount):,.2f}')}"


def fmt_int(n: int | float | Decimal | None) -> str:
    """Whole number with dots for thousands: ``1.234.567``."""
    if _missing(n):
        return "—"
    return _swap(f"{round(n):,}")


def fmt_number(value: float | Decimal | int | None, decimals: int = 2) -> str:
    """``1.234,56`` (always ``decimals`` places)."""
    if _missing(value):
        return "—"
    return _swap(f"{value:,.{decimals}f}")


def fmt_pct(value: float | Decimal | int | None, decimals: int = 2) -> str:
    """``12,50%``."""
    if _missing(value):
        return "—"
    return fmt_number(value, decimals) + "%"


_COMPACT = ((10**9, "bi"), (10**6, "mi"), (10**3, "mil"))


def fmt_compact(value: float | Decimal | int, *, money: bool = False) -> str:
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
            shown = fmt_number(scaled, 1).removesuffix(",0")
            text = f"{shown} {word}"
            break
    if not text:
        if v == int(v):
            text = fmt_number(v, 0)
        else:
            text = fmt_number(v, 2)
            text = text if money else text.rstrip("0").removesuffix(",")
    return f"{sign}R$ {text}" if money else f"{sign}{text}"


def fmt_cpf(value: str | None) -> str:
    """``000.000.000-00`` (a value that is not a CPF is shown as it is)."""
    return format_cpf(value) if value else ""


def fmt_cpf_masked(value: str | None) -> str:
    """LGPD mask ``***.982.247-**``."""
    return mask_cpf(value) if value else ""


def fmt_cnpj(value: str | None) -> str:
    """``00.000.000/0000-00`` (alphanumeric CNPJs too)."""
    return format_cnpj(value) if value else ""


def fmt_company_document(value: str | None, doc_type: DocumentType | str) -> str:
    """The CNPJ or CAEPF mask."""
    return format_company_document(value, doc_type) if value else ""


def fmt_card(value: str | None) -> str:
    """Card number in groups of four: ``0001 0000 0000 0123``."""
    return format_card_number(value) if value else ""


def fmt_cep(value: str | None) -> str:
    """``00000-000``."""
    return format_cep(value) if value else ""


def fmt_phone(value: str | None) -> str:
    """``(11) 98765-4321`` or ``(11) 3333-4444``."""
    return format_phone(value) if value else ""


_MONTH_KEYS = {"billing_month", "competencia", "reference_month"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")


def fmt_field(key: str, value: Any) -> str:
    """A stored record's value (a JSON record: audit before/after, LGPD dossier) as a
    person reads it: ISO dates as dd/mm/aaaa (months mm/aaaa), ISO moments as dd/mm/aaaa
    HH:MM in Brasília, "amount" as R$ 1.234,56, cards in groups of four, Sim/Não; a nested
    record as JSON with its text values formatted the same way."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, dict):
        shown = {k: fmt_field(k, v) if isinstance(v, str) else v for k, v in value.items()}
        return json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, default=str)
    text = str(value)
    if "card" in key or key == "carteirinha":
        return fmt_card(text)
    if key == "amount":
        try:
            return fmt_money(Decimal(text))
        except InvalidOperation:
            return text
    try:
        if _ISO_DATETIME.fullmatch(text):
            moment = datetime.fromisoformat(text)
            return fmt_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        if _ISO_DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return f"{day:%m/%Y}" if key in _MONTH_KEYS else fmt_date(day)
    except ValueError:
        return text
    return text


def digits_of(value: str | None) -> str:
    """What was typed, without punctuation (CPF, CNPJ, card: with or without mask)."""
    return only_digits(value or "")


def today_local() -> date:
    return datetime.now(BRT).date()


def latin1(text: str) -> str:
    """Text for the PDF core fonts, which speak Latin-1: anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")

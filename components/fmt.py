"""pt-BR formatting for the interface: dates dd/mm/aaaa, money R$ 1.234,56."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

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


def fmt_money(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def today_local() -> date:
    return datetime.now(BRT).date()


def latin1(text: str) -> str:
    """Text for the PDF core fonts, which speak Latin-1: anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")

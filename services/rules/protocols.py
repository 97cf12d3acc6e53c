"""Protocol numbers and the deadline for a conclusive answer.

Source: ANS, RN 395/2016, replaced by RN 623/2024 (in force since 2025-07-01):
every request gets a protocol number as its first act, and a non-care request
gets a conclusive answer within 7 business days ("em análise" is not an
answer). The number's layout is not fixed by the norm (unverified): by default
the operator's ANS registration (6 digits) + the date AAAAMMDD + a daily
sequence of 6 digits, configurable through ``template``.

Explained in docs/domain/protocols-and-deadlines.md, "Protocols".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from services.rules.calendar import add_business_days
from services.rules.errors import DomainError

DEFAULT_TEMPLATE = "{ans}{date:%Y%m%d}{seq:06d}"
ANSWER_BUSINESS_DAYS = 7
MAX_DAILY_SEQUENCE = 999_999


def protocol_number(
    ans_registration: str,
    day: date,
    sequence: int,
    template: str = DEFAULT_TEMPLATE,
) -> str:
    """Protocol number of the ``sequence``-th request of ``day``.

    ``template`` receives ``ans`` (the registration zero-padded to 6 digits),
    ``date`` (a ``date``) and ``seq`` (an ``int``).
    """
    registration = ans_registration.strip()
    if not registration.isascii() or not registration.isdigit() or len(registration) > 6:
        raise DomainError(
            "Registro ANS da operadora inválido: informe até 6 dígitos.", "ans_registration"
        )
    if not 0 <= sequence <= MAX_DAILY_SEQUENCE:
        raise DomainError(
            "Sequência diária de protocolos esgotada ou inválida (0 a 999999).", "sequence"
        )
    return template.format(ans=registration.zfill(6), date=day, seq=sequence)


def protocol_deadline(
    opened_on: date,
    business_days: int = ANSWER_BUSINESS_DAYS,
    holidays: Collection[date] | None = None,
) -> date:
    """Last day for a conclusive answer: ``business_days`` business days after the opening."""
    return add_business_days(opened_on, business_days, holidays)

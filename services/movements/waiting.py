"""Waiting periods at inclusion: what the movement engine needs from the database and
the rule (services/rules/waiting.py) applied to an inclusion request.

The number of participants (RN 195 art. 6: 30 or more) is counted at the request: the
company's active beneficiaries when the snapshot was loaded, plus the inclusions
checked on that snapshot so far, this one included (the earlier lines of the same
file). When the law counts them is unverified: that is this module's choice, passed to
the rule as a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Beneficiary
from services.batch.layout import MOVEMENT_CODES
from services.rules.documents import only_digits
from services.rules.movements import MovementKind, PersonData
from services.rules.waiting import WaitingResult, waiting_periods, waiting_summary

KEY_CHUNK = 2000  # cards per lookup query (SQLite caps bound parameters)
# An applied line's message names the card it issued: "Protocolo N; carteirinha C".
_CARD_RE = re.compile(r"carteirinha\s+([\d .\-]+)")


class ContractView(Protocol):
    contract_start: date
    waiting_days: Mapping[str, Any] | None


def active_participants(session: Session, company_id: int) -> int:
    """The company's active beneficiaries (holders and dependents) now."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Beneficiary)
            .where(Beneficiary.company_id == company_id, Beneficiary.status == "active")
        )
        or 0
    )


def inclusion_waiting(
    contract: ContractView,
    *,
    person: PersonData,
    relationship: int,
    holder: PersonData | None,
    effective: date,
    requested: date,
    participants: int,
) -> WaitingResult:
    """The waiting periods of an inclusion requested on `requested`. A dependent's link
    to the company is its holder's admission."""
    return waiting_periods(
        contract_days=contract.waiting_days,
        effective=effective,
        requested=requested,
        participants=participants,
        contract_start=contract.contract_start,
        admission_date=holder.admission_date if holder is not None else person.admission_date,
        relationship=relationship,
        birth_date=person.birth_date,
        holder_admission=holder is not None,
    )


def batch_line_waiting(
    session: Session,
    company_id: int,
    lines: Iterable[tuple[int, str, str | None, Mapping[str, Any] | None]],
) -> dict[int, str]:
    """The waiting periods of each applied inclusion line of a batch, as one line of
    text ("Isento", "Ortodontia até 01/06/2027; ...", "não calculada"), by line number.

    `lines` are (line number, status, message, stored data) as in `batch_line`; the
    beneficiary is the card the applied line's message names."""
    cards: dict[int, str] = {}
    for number, status, message, data in lines:
        code = (data or {}).get("tipo_movimento")
        if status != "applied" or MOVEMENT_CODES.get(str(code)) is not MovementKind.INCLUSION:
            continue
        found = _CARD_RE.search(message or "")
        if found:
            cards[number] = only_digits(found.group(1))
    wanted = sorted(set(cards.values()))
    stored: dict[str, Any] = {}
    for start in range(0, len(wanted), KEY_CHUNK):
        for card, periods in session.execute(
            select(Beneficiary.card_number, Beneficiary.waiting_periods).where(
                Beneficiary.company_id == company_id,
                Beneficiary.card_number.in_(wanted[start : start + KEY_CHUNK]),
            )
        ):
            stored[card] = periods
    return {n: waiting_summary(stored[c]) for n, c in cards.items() if c in stored}

"""Waiting periods at inclusion: what the movement engine needs from the database and
the rule (services/rules/waiting.py) applied to an inclusion request.

The number of participants (RN 195 art. 6: 30 or more) is counted at the request: the
company's active beneficiaries when the snapshot was loaded, plus the inclusions
checked on that snapshot so far, this one included (the earlier lines of the same
file). When the law counts them is unverified: that is this module's choice, passed to
the rule as a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Beneficiary
from services.rules.movements import PersonData
from services.rules.waiting import WaitingResult, waiting_periods


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

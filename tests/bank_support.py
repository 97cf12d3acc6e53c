"""The bank agreement tests give the operator (boletos are refused without one).

`DEMO_BANK` is what the demo operator should carry (Banco do Brasil, 7-digit agreement,
wallet 17); `configure_bank_if_missing` sets it on a database whose operator has none yet
(a demo seeded before the demo got its agreement), and leaves a configured one alone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from data.models import Operator

DEMO_BANK = {
    "bank_code": "001",
    "bank_agreement": "1234567",
    "bank_wallet": "17",
    "bank_branch": "1234-3",
    "bank_account": "56789-2",
}


def set_bank(session: Session, **values: str) -> None:
    """Set the first operator's agreement fields (DEMO_BANK, overridden by ``values``)."""
    op = session.scalars(select(Operator).order_by(Operator.id)).first()
    assert op is not None
    for name, value in {**DEMO_BANK, **values}.items():
        setattr(op, name, value)


def configure_bank_if_missing(engine: Engine) -> None:
    with Session(engine) as session:
        op = session.scalars(select(Operator).order_by(Operator.id)).first()
        if op is not None and not op.bank_agreement:
            set_bank(session, bank_code=op.bank_code)
            session.commit()

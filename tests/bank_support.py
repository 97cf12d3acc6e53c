"""A bank agreement for tests whose operator they build themselves (boletos are refused
without one; the demo operator carries its own, demo/generator.py BANK_AGREEMENT)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Operator

TEST_BANK = {
    "bank_code": "001",
    "bank_agreement": "1234567",
    "bank_wallet": "17",
    "bank_branch": "1234-3",
    "bank_account": "56789-2",
}


def set_bank(session: Session, **values: str) -> None:
    """Set the first operator's agreement fields (TEST_BANK, overridden by ``values``)."""
    op = session.scalars(select(Operator).order_by(Operator.id)).first()
    assert op is not None
    for name, value in {**TEST_BANK, **values}.items():
        setattr(op, name, value)

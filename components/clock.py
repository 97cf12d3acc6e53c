"""The interface's clock: today in Brasília. Rules and services never read the clock
(they take ``today``/``now`` as parameters); the pages ask here."""

from __future__ import annotations

from datetime import date, datetime

from services.rules.formats import BRT


def today_local() -> date:
    """Today's date in Brasília."""
    return datetime.now(BRT).date()

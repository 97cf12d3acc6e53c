"""Whether the portal can serve: the database answers (and its schema is current)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("portal")


def database_reachable(open_database: Callable[[], object]) -> bool:
    """Run `open_database` (connect and migrate); False, logged, when the database fails."""
    try:
        open_database()
    except SQLAlchemyError as exc:
        log.error("database unreachable at start: %s", exc.__class__.__name__)
        return False
    return True

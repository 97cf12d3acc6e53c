"""The migrated database (SQLite and PostgreSQL) accepts exactly the movement kinds of the
enum: a kind added to `MovementKind` without a migration is caught here."""

from __future__ import annotations

import re

from sqlalchemy import Engine, inspect

from services.rules.movements import MovementKind


def test_the_migrated_movement_table_allows_exactly_the_kinds_of_the_enum(engine: Engine):
    checks = inspect(engine).get_check_constraints("movement")
    (kind,) = [c for c in checks if re.search(r"\bkind\b", c["sqltext"])]
    allowed = set(re.findall(r"'([a-z_]+)'", kind["sqltext"]))
    assert allowed == {k.value for k in MovementKind}

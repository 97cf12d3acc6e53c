"""The migrations and the models describe the same schema, on both databases."""

from __future__ import annotations

from itertools import product

from alembic import command
from sqlalchemy import inspect

from data.db import alembic_config, upgrade_to_head
from data.models import INVOICE_LINE_KINDS
from services.rules.ledger import charge


def test_migrations_create_exactly_the_models_schema(engine):
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises when the models differ from the migrated schema


def test_upgrading_twice_changes_nothing(engine):
    before = sorted(inspect(engine).get_table_names())
    upgrade_to_head(engine)
    assert sorted(inspect(engine).get_table_names()) == before
    assert {"beneficiary", "movement", "invoice", "protocol", "app_user"} <= set(before)


def test_the_invoice_line_kinds_are_exactly_those_the_ledger_rule_writes():
    written = {
        line[0]
        for target, kind, charged, invoice_month in product(
            (0, 100, 150), (None, "regular", "stay"), (0, 100), (False, True)
        )
        if (line := charge(target, kind, charged, invoice_month)) is not None
    }
    assert written == set(INVOICE_LINE_KINDS)

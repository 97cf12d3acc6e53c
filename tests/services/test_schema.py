"""The migrations and the models describe the same schema, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from data.db import alembic_config, upgrade_to_head


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

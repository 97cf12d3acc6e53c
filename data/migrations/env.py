"""Alembic environment: uses the connection handed over by data.db, or the URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from data.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    # From the command line (`alembic upgrade head`): the portal's own database setting.
    url = os.environ.get("PORTAL_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set PORTAL_DATABASE_URL or sqlalchemy.url in alembic.ini")
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

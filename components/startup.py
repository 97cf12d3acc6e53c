"""What must hold before the portal serves anyone: production settings and the database."""

from __future__ import annotations

import logging

import streamlit as st

from components.context import session_factory
from config import get_settings
from services.health import database_reachable

log = logging.getLogger("portal")

DATABASE_DOWN_MESSAGE = (
    "O Portal Empresa está temporariamente indisponível: não foi possível conectar ao "
    "banco de dados. Tente de novo em alguns minutos; se persistir, avise o suporte da "
    "operadora."
)


def require_ready() -> None:
    """Stop the page with a clear message when the portal must not or cannot serve."""
    problems = get_settings().production_problems()
    if problems:
        log.critical("refusing to serve in production: %s", " | ".join(problems))
        st.error(
            "O Portal Empresa não inicia em produção com esta configuração:\n\n"
            + "\n".join(f"- {p}" for p in problems)
        )
        st.stop()
    if not database_reachable(session_factory):
        # Not cached: the next page load tries again.
        st.error(DATABASE_DOWN_MESSAGE)
        st.stop()

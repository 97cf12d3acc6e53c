"""What must hold before the portal serves anyone: production settings and the database."""

from __future__ import annotations

import logging

import streamlit as st
from streamlit.runtime.state.common import TESTING_KEY

from components.context import session_factory
from config import get_settings
from services.health import database_reachable
from services.jobs.consumer import embedded_worker
from services.jobs.queue import QueueConfigError, queue_for

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


def start_jobs() -> None:
    """The embedded task queue's consumer threads, started once per process on the
    portal's first run, so its periodic jobs (resuming a batch a killed process left
    half applied, e-mail retries, billing at the cut-off) run without anyone opening a
    batch page. Nothing to start when jobs run at once ("immediate") or on Redis
    (`portal-worker` serves them), nor in a page test (Streamlit's AppTest), which must
    not leave threads behind."""
    if TESTING_KEY in st.session_state:
        return
    try:
        _start_jobs(get_settings().database_url)
    except QueueConfigError:
        # The portal still serves; the batch pages show the same error when used.
        log.exception("task queue not started")


@st.cache_resource(show_spinner=False)
def _start_jobs(database_url: str) -> None:
    embedded_worker(queue_for(database_url))

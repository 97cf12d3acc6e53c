"""The bell of the sidebar: the unread notices of the company in context, a link to Avisos.

Cheap on every run: one indexed count (`notice_unread_count`). Where no task queue runs
the scheduled job (page tests, `PORTAL_QUEUE_URL=immediate`, an embedded portal that was
not running at the hour), the notices of the company in context are generated here, at
most once a day per company and process (remembered in `_generated`), for its own users
only (account managers receive no scheduled notices). E-mails that generation recorded
are handed to the task queue (`deliver_mail`), never sent while the page is drawn.
"""

from __future__ import annotations

import logging
import threading
from datetime import date

import streamlit as st

from components.context import new_uow, now_utc
from config import get_settings
from services.actors import Actor
from services.jobs.queue import enqueue, queue_for
from services.notices import notice_unread_count, notices_generate
from services.numbering import local_date

log = logging.getLogger("portal")

NOTICES_PAGE = "pages/notices.py"
# (database URL, company id) -> the operator's day its notices were last generated here.
_generated: dict[tuple[str, int], date] = {}
_lock = threading.Lock()


def _generate_once(company_id: int) -> None:
    now = now_utc()
    today = local_date(now)
    key = (get_settings().database_url, company_id)
    with _lock:
        if _generated.get(key) == today:
            return
        _generated[key] = today
    try:
        run = notices_generate(uow=new_uow(), now=now, today=today, company_ids=[company_id])
        if run.mail and get_settings().smtp_host:
            enqueue(queue_for(), "deliver_mail", [q.id for q in run.mail])
    except Exception:  # noqa: BLE001 - the bell must never stop a page
        log.exception("notices of company %s not generated", company_id)
        with _lock:
            _generated.pop(key, None)


def notices_bell(actor: Actor, company_id: int | None) -> None:
    """The bell: the unread count, a link to the notices page."""
    if company_id is None or not actor.can_see_company(company_id):
        return
    if not actor.is_account_manager:
        _generate_once(company_id)
    unread = notice_unread_count(uow=new_uow(company_id), actor=actor)
    # Never just "Avisos": that is the menu entry's name (a link of its own).
    plural = "s" if unread != 1 else ""
    label = f"{unread} aviso{plural} não lido{plural}" if unread else "Nenhum aviso não lido"
    st.page_link(
        NOTICES_PAGE,
        label=label,
        icon=":material/notifications_active:" if unread else ":material/notifications:",
        help="Avisos da empresa em contexto: data de corte, faturas vencidas, exclusões "
        "agendadas, dependentes que perdem a elegibilidade e lotes concluídos.",
        width="stretch",
    )

"""Who is logged in and which company is in context; the login guard of every page."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import streamlit as st

from config import get_settings
from data.db import SessionFactory, make_engine, make_session_factory, upgrade_to_head
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.companies import CompanySummary, company_list_for_actor
from services.movements.coverage import settle

ACTOR_KEY = "actor"
COMPANY_KEY = "company_id"
LAST_SEEN_KEY = "last_seen"


@st.cache_resource(show_spinner=False)
def _session_factory(url: str) -> SessionFactory:
    engine = make_engine(url)
    upgrade_to_head(engine)
    return make_session_factory(engine)


def session_factory() -> SessionFactory:
    return _session_factory(get_settings().database_url)


def new_uow(company_id: int | None = None) -> UnitOfWork:
    return UnitOfWork(session_factory(), company_id)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    actor: Actor
    company: CompanySummary
    companies: list[CompanySummary]

    @property
    def company_id(self) -> int:
        return self.company.id

    def uow(self) -> UnitOfWork:
        return new_uow(self.company.id)

    def can(self, permission: Permission) -> bool:
        return self.actor.can(permission)


def current_actor() -> Actor | None:
    return st.session_state.get(ACTOR_KEY)


def set_actor(actor: Actor) -> None:
    st.session_state[ACTOR_KEY] = actor
    st.session_state[LAST_SEEN_KEY] = now_utc()
    if st.session_state.get(COMPANY_KEY) not in actor.company_ids:
        st.session_state[COMPANY_KEY] = actor.home_company_id


def clear_actor() -> None:
    for key in (ACTOR_KEY, COMPANY_KEY, LAST_SEEN_KEY, "companies"):
        st.session_state.pop(key, None)


def session_expired() -> bool:
    """True (and the session is cleared) after the configured inactivity."""
    last = st.session_state.get(LAST_SEEN_KEY)
    now = now_utc()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if last is not None and now - last > idle:
        return True
    st.session_state[LAST_SEEN_KEY] = now
    return False


def companies_of(actor: Actor) -> list[CompanySummary]:
    cached = st.session_state.get("companies")
    if cached is None or cached[0] != actor.user_id:
        cached = (actor.user_id, company_list_for_actor(uow=new_uow(), actor=actor))
        st.session_state["companies"] = cached
    return cached[1]


def get_context(permission: Permission | None = None) -> Context:
    """Login guard: the page stops here unless someone is logged in (and may use it)."""
    actor = current_actor()
    if actor is None:
        st.info("Faça login para usar o Portal Empresa.")
        st.stop()
    companies = companies_of(actor)
    if not companies:
        st.warning("Seu usuário não tem empresas vinculadas. Fale com o seu gestor de contas.")
        st.stop()
    # Scheduled movements due today take effect before anything is shown (one indexed
    # lookup when nothing is due).
    settle(new_uow(), now_utc())
    by_id = {c.id: c for c in companies}
    chosen: int | None = st.session_state.get(COMPANY_KEY)
    company = (by_id.get(chosen) if chosen is not None else None) or companies[0]
    st.session_state[COMPANY_KEY] = company.id
    if permission is not None and not actor.can(permission):
        st.error("Seu usuário não tem permissão para esta área. Peça ao usuário master.")
        st.stop()
    return Context(actor=actor, company=company, companies=companies)


def client_address() -> str:
    """The browser's address ("local" when unknown), for rate limits and the audit trail.

    Behind our proxy (PORTAL_BEHIND_PROXY) every connection comes from nginx, so the
    address is nginx's X-Real-IP, which it sets from the connection and never takes from
    the browser; without that setting the header is ignored (a browser could send one)."""
    try:
        if get_settings().behind_proxy:
            real = _valid_address(st.context.headers.get("X-Real-IP"))
            if real:
                return real
        return st.context.ip_address or "local"
    except Exception:  # noqa: BLE001 - outside a browser session (AppTest, bare mode)
        return "local"


def _valid_address(value: str | None) -> str | None:
    """`value` when it is one IP address (v4 or v6), else None."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def portal_base_url() -> str:
    """Where e-mailed links point: PORTAL_BASE_URL, or this server's own port on
    localhost (`make run PORT=8620` gives links to 8620). Never the request's Host
    header, which a visitor chooses (a reset link to someone else's site)."""
    port: int | None
    try:
        port = int(st.get_option("server.port"))
    except (TypeError, ValueError, RuntimeError):
        port = None
    return get_settings().link_base(port)

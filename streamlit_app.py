"""Portal Empresa: the frame. Login gate, navigation by role, company switcher."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import auth, navigation
from components.context import COMPANY_KEY, companies_of, current_actor, session_expired
from components.downloads import keep_built_downloads
from components.language import declare_language
from components.notices_bell import notices_bell
from components.page_load import prepare_page_load
from components.safe_text import plain
from components.startup import require_ready, start_jobs
from config import get_settings
from services.actors import Actor

st.set_page_config(page_title="Portal Empresa · Sorriso", page_icon="🦷", layout="wide")
prepare_page_load()  # no file names, no empty grey box while the app starts or reruns
declare_language()  # <html lang="pt-BR">
require_ready()
start_jobs()  # the embedded task queue's consumer, once per process
keep_built_downloads()  # a built download is not deleted before the browser fetches it

PUBLIC_PAGES = [
    ("login", "pages/login.py", "Entrar", ":material/login:", "entrar"),
    (
        "first_access",
        "pages/first_access.py",
        "Meu primeiro acesso",
        ":material/person_add:",
        "primeiro-acesso",
    ),
    (
        "forgot_password",
        "pages/forgot_password.py",
        "Esqueci minha senha",
        ":material/key:",
        "esqueci-senha",
    ),
    (
        "forgot_user",
        "pages/forgot_user.py",
        "Esqueci meu usuário",
        ":material/badge:",
        "esqueci-usuario",
    ),
    (
        "validate_document",
        "pages/validate_document.py",
        "Validar documento",
        ":material/verified:",
        "validar-documento",
    ),
    (
        "reset_password",
        "pages/reset_password.py",
        "Redefinir senha",
        ":material/lock_reset:",
        "redefinir-senha",
    ),
    (
        "access_link",
        "pages/access_link.py",
        "Ativar acesso",
        ":material/how_to_reg:",
        "ativar-acesso",
    ),
]
# Pages opened only from an e-mailed link (base_url/?PARAM=TOKEN): query parameter -> page.
LINK_PAGES = {"reset": "reset_password", "ativar": "access_link", "convite": "access_link"}


def _landing() -> str:
    """The page an e-mailed link opens, or the login."""
    for param, key in LINK_PAGES.items():
        if param in st.query_params:
            return key
    return "login"


def _public_pages(default: str) -> list[st.Page]:
    """The access pages; those of e-mailed links only when opened from one."""
    link_only = set(LINK_PAGES.values())
    return [
        st.Page(path, title=title, icon=icon, url_path=url, default=key == default)
        for key, path, title, icon, url in PUBLIC_PAGES
        if key not in link_only or key == default
    ]


OUTBOX = st.Page(
    "pages/outbox.py", title="Caixa de saída", icon=":material/outbox:", url_path="caixa-de-saida"
)


def _logged_in_pages(actor: Actor) -> dict[str, list[st.Page]]:
    groups: dict[str, list[st.Page]] = {}
    for spec in navigation.pages_for(actor):
        groups.setdefault(spec.area, []).append(
            st.Page(
                spec.path,
                title=spec.title,
                icon=spec.icon,
                url_path=spec.url_path,
                default=spec.path == "pages/home.py",
            )
        )
    if get_settings().show_outbox:
        groups["Demonstração"] = [OUTBOX]
    return groups


def _sidebar(actor: Actor) -> DeltaGenerator:
    """Who is logged in, the company switcher and the logout; returns the place of the
    notices' bell, drawn once the navigation is known (its link needs the pages)."""
    companies = companies_of(actor)
    with st.sidebar:
        role = {
            "account_manager": "Gestor de contas",
            "master": "Usuário master",
            "user": "Usuário",
        }[actor.role.value]
        st.markdown(f"**{plain(actor.name)}**  \n{role} · código {actor.user_code}")
        bell = st.container()
        if companies:
            ids = [c.id for c in companies]
            labels = {c.id: c.label for c in companies}
            current = st.session_state.get(COMPANY_KEY)

            def switch() -> None:
                st.session_state[COMPANY_KEY] = st.session_state["company_switcher"]

            st.selectbox(
                "Empresa em contexto",
                ids,
                index=ids.index(current) if current in ids else 0,
                format_func=labels.__getitem__,
                key="company_switcher",
                on_change=switch,
                disabled=len(ids) == 1,
                help="Troca empresa: todas as páginas passam a mostrar só esta empresa.",
            )
        st.button(
            "Sair",
            icon=":material/logout:",
            width="stretch",
            key="logout_button",
            on_click=auth.logout,
        )
    return bell


# The login gate, without reruns: whatever ends the session here, this same run goes on
# logged out and draws the login page (which says why).
if (known := current_actor()) is None:
    auth.restore_from_cookie()
elif session_expired():
    auth.logout("expired")
    st.session_state["expired"] = True
else:
    auth.refresh(known)

auth.sync_cookie()  # the browser's login cookie follows the session (hidden, no space)
actor = current_actor()
if actor is None:
    # E-mailed links are base_url/?reset=, ?ativar= or ?convite=TOKEN: open their form.
    # Never the outbox: it holds reset links (logged-in users only, see pages/outbox.py).
    pages = _public_pages(_landing())
    nav = st.navigation(pages)
else:
    # An e-mailed link's one-time token has no use once logged in: out of the address bar
    # (and of the history), and a logout lands on the login, not on the used link's page.
    for param in LINK_PAGES:
        if param in st.query_params:
            del st.query_params[param]
    bell = _sidebar(actor)
    nav = st.navigation(_logged_in_pages(actor), expanded=True)
    with bell:
        notices_bell(actor, st.session_state.get(COMPANY_KEY))
nav.run()

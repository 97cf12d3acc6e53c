"""Login: our own small form, the session on the server, an opaque signed cookie.

The credentials, the bcrypt hashes, the failed attempts and the lock, the neutral
message and the sessions (`user_session`, the user's session epoch) live in the
database and in `services.access.accounts`. streamlit-authenticator (0.4.2) is not used:
its login checks a credentials dict, its lockout counts attempts in the browser session,
its cookie re-authenticates any user name of that dict with no server-side session,
and its cookie is written by a component whose answer reruns the page. Giving it our
database meant replacing a private method and re-signing its cookie by hand (the
adapter before issue 13). What is left is public Streamlit API:

- the form is `st.form`; its button's callback logs in before the script runs, so the
  run that follows the click already draws the home page (no extra rerun);
- the browser's cookie is read with `st.context.cookies` (the cookies of the page load);
- the cookie is written and deleted by a tiny script (`st.html` with
  `unsafe_allow_javascript`, our constant text, never user input) in a hidden keyed
  container (`components.page_load` hides it): `Path=/; SameSite=Strict`, `Secure` over
  https, `Max-Age` of PORTAL_COOKIE_EXPIRY_DAYS. A script cannot make it HttpOnly (no
  public Streamlit API sends a Set-Cookie header); the cookie library used before was a
  script too, so nothing is lost. The cookie only carries the session's token signed
  with PORTAL_COOKIE_KEY (`accounts.session_cookie_value`); the server decides: it is
  worthless once its session has ended (logout, idle expiry, password change,
  inactivation, lock) and it logs nobody in by itself.
"""

from __future__ import annotations

import json

import streamlit as st

from components.context import (
    clear_actor,
    client_address,
    current_actor,
    new_uow,
    now_utc,
    set_actor,
)
from components.page_load import COOKIE_CONTAINER
from config import get_settings
from services.access import accounts as access
from services.actors import Actor
from services.rules.errors import DomainError

LOGIN_ERROR_KEY = "login_error"
SESSION_ENDED_KEY = "session_ended"
# A message for the login page after a session ended on purpose (lock on password change).
LOGIN_NOTICE_KEY = "login_notice"
USER_CODE_KEY = "login_user_code"
PASSWORD_KEY = "login_password"
# The cookie this browser session wrote: (session token, cookie value, lifetime in s).
COOKIE_KEY = "login_cookie"
# Set by a logout (or a cookie the server refused): the browser's cookie is to be deleted.
COOKIE_CLEAR_KEY = "login_cookie_clear"
# The browser's cookie is read once per browser session, at its first run.
COOKIE_READ_KEY = "login_cookie_read"
FORM_TITLE = "Entrar no Portal Empresa"


def _log_in() -> None:
    """The form's callback: runs before the script, so a successful login is drawn as
    the home page by the very run the click started. The password leaves the session
    state at once."""
    user_code = str(st.session_state.get(USER_CODE_KEY) or "")
    password = str(st.session_state.get(PASSWORD_KEY) or "")
    st.session_state[PASSWORD_KEY] = ""
    try:
        actor = access.auth_login(
            uow=new_uow(),
            user_code=user_code,
            password=password,
            now=now_utc(),
            client=client_address(),
        )
    except DomainError as exc:
        st.session_state[LOGIN_ERROR_KEY] = exc.message
        return
    st.session_state.pop(LOGIN_ERROR_KEY, None)
    st.session_state.pop(COOKIE_CLEAR_KEY, None)
    set_actor(actor)


def login_form() -> None:
    """The login form; the neutral message (or the lock) after a refusal."""
    with st.form("login"):
        st.subheader(FORM_TITLE)
        st.text_input("Código de usuário", key=USER_CODE_KEY, autocomplete="username")
        st.text_input("Senha", type="password", key=PASSWORD_KEY, autocomplete="current-password")
        st.form_submit_button("Entrar", type="primary", on_click=_log_in)
    if message := st.session_state.pop(LOGIN_ERROR_KEY, None):
        st.error(message)


def _browser_cookie() -> str | None:
    try:
        value = st.context.cookies.get(get_settings().cookie_name)
    except Exception:  # noqa: BLE001 - outside a browser session (AppTest, bare mode)
        return None
    # AppTest's stand-in runtime answers with a mock, not a string.
    return value if isinstance(value, str) else None


def restore_from_cookie() -> None:
    """Log the browser back in from its cookie, if the server still holds its session.

    Read once per browser session (the cookies Streamlit has are those of the page
    load); a cookie the server refuses is deleted from the browser."""
    if st.session_state.get(COOKIE_READ_KEY):
        return
    st.session_state[COOKIE_READ_KEY] = True
    value = _browser_cookie()
    if not value:
        return
    now = now_utc()
    token = access.session_token_from_cookie(value, now)
    actor = (
        access.actor_from_session_token(uow=new_uow(), token=token, now=now)
        if token is not None
        else None
    )
    if actor is None:
        st.session_state[COOKIE_CLEAR_KEY] = True
        return
    set_actor(actor)


def refresh(actor: Actor) -> bool:
    """Reload the logged-in actor from the database; False (and logged out) when its
    session has ended: user inactivated, or the password changed in another session."""
    fresh = access.actor_refresh(uow=new_uow(), actor=actor, now=now_utc())
    if fresh is None:
        logout("ended")
        st.session_state[SESSION_ENDED_KEY] = True
        return False
    if fresh != actor:
        set_actor(fresh)
    return True


def keep_session(actor: Actor) -> None:
    """After the user's own password change: this session goes on with the new epoch
    (its cookie is rewritten by the next run's `sync_cookie`); every other session has
    ended."""
    set_actor(actor)


def _cookie_script(value: str, max_age: int) -> str:
    """A script that sets (max_age > 0) or deletes (0) the login cookie. Only our own
    constant text and the signed value (letters, digits, '-', '_', ':', '.') go in it,
    each as a JSON string literal."""
    name = json.dumps(get_settings().cookie_name)
    cookie = json.dumps(f"={value}; Path=/; Max-Age={max_age}; SameSite=Strict")
    return (
        "<script>(function () {"
        "var secure = window.location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = {name} + {cookie} + secure;"
        "})();</script>"
    )


def sync_cookie() -> None:
    """Keep the browser's cookie in step with the session; call once in every run.

    Logged in: the cookie of this session (its value changes only with the session
    token: login, own password change). Logged out after a logout or a refused
    cookie: its deletion. The script runs when its text changes, not on every rerun."""
    actor = current_actor()
    if actor is not None:
        token = access.session_token(actor)
        cached = st.session_state.get(COOKIE_KEY)
        if cached is None or cached[0] != token:
            value, lifetime = access.session_cookie_value(actor, now_utc())
            cached = (token, value, lifetime)
            st.session_state[COOKIE_KEY] = cached
        script = _cookie_script(cached[1], cached[2])
    elif st.session_state.get(COOKIE_CLEAR_KEY):
        script = _cookie_script("", 0)
    else:
        return
    with st.container(key=COOKIE_CONTAINER):
        st.html(script, unsafe_allow_javascript=True)


def logout(reason: str = "logout") -> None:
    """End the session on the server (its cookie is worthless from now on) and here;
    the next run deletes the browser's cookie."""
    actor = current_actor()
    if actor is not None:
        access.session_end(uow=new_uow(), actor=actor, now=now_utc(), reason=reason)
    st.session_state.pop(COOKIE_KEY, None)
    st.session_state[COOKIE_CLEAR_KEY] = True
    clear_actor()

"""Login through streamlit-authenticator's widget and cookie, credentials in our database.

The library keeps credentials in a dict or YAML file; here its model's `login` is
replaced by one that asks `services.access.accounts`, so the bcrypt hashes, the lockout and
the neutral message live in the database and the service, and the library keeps
doing what it is good at: the form, the signed re-authentication cookie, logout.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from components.context import (
    clear_actor,
    client_address,
    current_actor,
    new_uow,
    now_utc,
    set_actor,
)
from config import get_settings
from services.access import accounts as access
from services.actors import Actor
from services.rules.errors import DomainError

LOGIN_ERROR_KEY = "login_error"
SESSION_ENDED_KEY = "session_ended"
# A message for the login page after a session ended on purpose (lock on password change).
LOGIN_NOTICE_KEY = "login_notice"
COOKIE_KEY = "_login_cookie"
FIELDS = {
    "Form name": "Entrar no Portal Empresa",
    "Username": "Código de usuário",
    "Password": "Senha",
    "Login": "Entrar",
}


def _accept(model: Any, actor: Actor) -> None:
    # The library signs st.session_state["username"] into the login cookie: it carries
    # the session epoch too, so a cookie of an ended session logs nobody back in.
    token = access.session_token(actor)
    model.credentials["usernames"][token] = {
        "email": actor.email,
        "first_name": actor.name,
        "last_name": "",
        "roles": [actor.role.value],
        "logged_in": True,
    }
    st.session_state["email"] = actor.email
    st.session_state["name"] = actor.name
    st.session_state["roles"] = [actor.role.value]
    st.session_state["username"] = token
    st.session_state["authentication_status"] = True
    st.session_state.pop(LOGIN_ERROR_KEY, None)
    set_actor(actor)


def _make_login(model: Any) -> Any:
    def login(
        username: str | None,
        password: str | None,
        max_concurrent_users: int | None = None,
        max_login_attempts: int | None = None,
        token: dict[str, Any] | None = None,
        single_session: bool = False,
        callback: Any = None,
    ) -> bool | None:
        if username:
            try:
                actor = access.auth_login(
                    uow=new_uow(),
                    user_code=username,
                    password=password or "",
                    now=now_utc(),
                    client=client_address(),
                )
            except DomainError as exc:
                st.session_state["authentication_status"] = False
                st.session_state[LOGIN_ERROR_KEY] = exc.message
                return False
            _accept(model, actor)
            return True
        if token and token.get("username"):
            found = access.actor_from_session_token(uow=new_uow(), token=str(token["username"]))
            if found is not None:
                _accept(model, found)
        return None

    return login


def authenticator() -> stauth.Authenticate:
    """One authenticator per browser session, wired to the database."""
    auth = st.session_state.get("_authenticator")
    if auth is None:
        settings = get_settings()
        auth = stauth.Authenticate(
            {"usernames": {}},
            settings.cookie_name,
            settings.cookie_key,
            settings.session_idle_minutes / (24 * 60),
            auto_hash=False,
            login_sleep_time=0,
        )
        model = auth.authentication_controller.authentication_model
        model.login = _make_login(model)
        st.session_state["_authenticator"] = auth
    return auth


def login_form() -> None:
    """The login widget; shows the neutral message after a refusal."""
    authenticator().login(location="main", fields=FIELDS, key="login")
    if current_actor() is not None:
        # Logged in: rebuild the navigation with the user's areas.
        st.rerun()
    if st.session_state.get("authentication_status") is False:
        st.error(st.session_state.get(LOGIN_ERROR_KEY, access.NEUTRAL_LOGIN_MESSAGE))


def restore_from_cookie() -> None:
    """Log the browser back in from the signed cookie, if it has a valid one."""
    authenticator().login(location="unrendered", key="login")


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
    (its login cookie is rewritten at the next step); every other session has ended."""
    model = authenticator().authentication_controller.authentication_model
    _accept(model, actor)


def ensure_cookie(actor: Actor) -> None:
    """Keep the browser's login cookie in step with the session, on every logged-in step.

    The library writes the cookie from a component in the run that logs in, but that run
    ends in `st.rerun()` (to rebuild the menu) before the browser mounts the component,
    so the cookie would never be written. Here the component is drawn in every logged-in
    run with the same arguments (no redraw) until the session token changes: after the
    login, or after the user's own password change. The cookie is signed with the
    configured key in the library's format, so the library reads it back."""
    settings = get_settings()
    token = access.session_token(actor)
    cached = st.session_state.get(COOKIE_KEY)
    if cached is None or cached[0] != token:
        expires = datetime.now() + timedelta(days=settings.cookie_expiry_days)
        signed = jwt.encode(
            {"username": token, "exp_date": expires.timestamp()},
            settings.cookie_key,
            algorithm="HS256",
        )
        cached = (token, signed, expires)
        st.session_state[COOKIE_KEY] = cached
    manager = authenticator().cookie_controller.cookie_model.cookie_manager
    manager.set(settings.cookie_name, cached[1], key="portal_cookie", expires_at=cached[2])


def logout(reason: str = "logout") -> None:
    """End the session on the server (its cookie is worthless from now on) and here."""
    actor = current_actor()
    if actor is not None:
        access.session_end(uow=new_uow(), actor=actor, now=now_utc(), reason=reason)
    auth = authenticator()
    auth.authentication_controller.logout()
    auth.cookie_controller.delete_cookie()
    st.session_state.pop(COOKIE_KEY, None)
    clear_actor()

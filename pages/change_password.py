"""Empresa > Alterar senha: current password, new one twice; other sessions end."""

import streamlit as st

from components import auth
from components.context import get_context, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services.access import accounts as access
from services.rules.passwords import MAX_BYTES, MIN_LENGTH

ctx = get_context()
st.title("Alterar senha")
st.caption(f"Usuário {ctx.actor.user_code} · {plain(ctx.actor.name)}")

if st.session_state.pop("password_changed", False):
    st.success(
        "Senha alterada. As outras sessões abertas com o seu usuário foram encerradas; "
        "esta continua."
    )

st.markdown(
    f"""A nova senha deve ter:
- pelo menos **{MIN_LENGTH} caracteres** e no máximo **{MAX_BYTES}** (letras acentuadas e ç
  contam como 2);
- letras **maiúsculas e minúsculas**, pelo menos um **número** e um **símbolo** (@, #, !…);
- **não** conter o seu código de usuário ({ctx.actor.user_code});
- ser **diferente das suas últimas {access.PASSWORD_HISTORY_SIZE} senhas**.

Ao trocar a senha, todas as outras sessões abertas com o seu usuário são encerradas.
A senha atual errada {access.MAX_FAILED_ATTEMPTS} vezes seguidas bloqueia o usuário por
15 minutos, como no login, e encerra esta sessão."""
)

slots = FieldSlots()
with st.form(f"password_change_{st.session_state.get('password_form_nonce', 0)}"):
    current = st.text_input("Senha atual *", type="password")
    slots.add("current")
    new = st.text_input("Nova senha *", type="password")
    slots.add("new")
    confirmation = st.text_input("Confirme a nova senha *", type="password")
    slots.add("confirmation")
    submitted = st.form_submit_button("Alterar senha", type="primary")

if submitted:
    with user_errors(slots):
        try:
            actor = access.password_change(
                uow=ctx.uow(),
                actor=ctx.actor,
                current=current,
                new=new,
                confirmation=confirmation,
                now=now_utc(),
            )
        except access.AccountLocked as locked:
            # Every session of the user has ended: back to the login, which says why.
            auth.logout("locked")
            st.session_state[auth.LOGIN_NOTICE_KEY] = locked.message
            st.rerun()
        auth.keep_session(actor)
        st.session_state["password_changed"] = True
        st.session_state["password_form_nonce"] = st.session_state.get("password_form_nonce", 0) + 1
        st.rerun()

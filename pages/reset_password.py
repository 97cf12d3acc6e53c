"""Acesso > Redefinir senha: opened from the link of "Esqueci minha senha"."""

import streamlit as st

from components.context import new_uow, now_utc
from components.errors import FieldSlots, user_errors
from components.password_fields import new_password_fields
from services.access import accounts as access

st.title("Redefinir senha")
token = st.query_params.get("reset", "")
if not token:
    st.info("Abra o link enviado por e-mail em 'Esqueci minha senha'.")
    st.page_link("pages/forgot_password.py", label="Esqueci minha senha", icon=":material/key:")
    st.stop()

slots = FieldSlots()
with st.form("reset_password"):
    password, confirmation = new_password_fields(
        slots, label="Nova senha", confirm_label="Confirme a nova senha"
    )
    submitted = st.form_submit_button("Salvar nova senha", type="primary")
if submitted:
    with user_errors(slots):
        user_code = access.password_reset_confirm(
            uow=new_uow(),
            token=token,
            password=password,
            confirmation=confirmation,
            now=now_utc(),
        )
        st.success(f"Senha alterada. Entre com o código de usuário {user_code} e a nova senha.")
        st.query_params.clear()
st.page_link("pages/login.py", label="Ir para o login", icon=":material/arrow_back:")

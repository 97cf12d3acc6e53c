"""Acesso > Redefinir senha: opened from the link of "Esqueci minha senha"."""

import streamlit as st

from components.context import new_uow, now_utc
from components.errors import FieldSlots, user_errors
from services import access

st.title("Redefinir senha")
token = st.query_params.get("reset", "")
if not token:
    st.info("Abra o link enviado por e-mail em 'Esqueci minha senha'.")
    st.page_link("pages/forgot_password.py", label="Esqueci minha senha", icon=":material/key:")
    st.stop()

slots = FieldSlots()
with st.form("reset_password"):
    password = st.text_input(
        "Nova senha *",
        type="password",
        help="Mínimo de 8 caracteres, com letra maiúscula, minúscula, número e símbolo.",
    )
    slots.add("password")
    confirmation = st.text_input("Confirme a nova senha *", type="password")
    slots.add("confirmation")
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

"""Acesso > Entrar: login by user code and password."""

import streamlit as st

from components import auth
from config import get_settings
from services.access import SESSION_ENDED_MESSAGE

st.title("Portal Empresa")
st.caption("Sorriso Odontologia · beneficiários, faturas e solicitações da sua empresa")
if st.session_state.pop("expired", False):
    st.warning("Sua sessão expirou por inatividade. Entre de novo.")
if st.session_state.pop(auth.SESSION_ENDED_KEY, False):
    st.warning(SESSION_ENDED_MESSAGE)
if notice := st.session_state.pop(auth.LOGIN_NOTICE_KEY, None):
    st.warning(notice)

left, right = st.columns([3, 2], gap="large")
with left:
    auth.login_form()
    st.caption("Lembre-se: o login é sempre pelo **código de usuário**, não pelo CNPJ.")
with right:
    st.subheader("Precisa de ajuda?")
    st.page_link("pages/first_access.py", label="Meu primeiro acesso", icon=":material/person_add:")
    st.page_link("pages/forgot_password.py", label="Esqueci minha senha", icon=":material/key:")
    st.page_link("pages/forgot_user.py", label="Esqueci meu usuário", icon=":material/badge:")
    if get_settings().show_outbox:
        with st.expander("Contas de demonstração"):
            st.markdown(
                "Senha de todas: `Sorriso@2026`\n\n"
                "- `900001` gestor de contas (todas as empresas)\n"
                "- `100001` usuário master da empresa 10001\n"
                "- `100002` usuário da empresa 10001 (movimentação e relatórios)\n\n"
                "E-mails enviados pelo portal aparecem na **Caixa de saída**."
            )

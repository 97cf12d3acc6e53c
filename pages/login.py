"""Acesso > Entrar: login by user code and password."""

import streamlit as st

from components import auth
from components.context import new_uow
from components.errors import user_errors
from components.safe_text import plain
from config import get_settings
from services.access import accounts as access
from services.access.accounts import SESSION_ENDED_MESSAGE

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
    st.page_link(
        "pages/validate_document.py", label="Validar documento", icon=":material/verified:"
    )
    if get_settings().show_outbox:
        with st.expander("Contas de demonstração"):
            st.markdown(
                "Senha de todas: `Sorriso@2026`\n\n"
                "- `900001` gestor de contas (todas as empresas)\n"
                "- `100001` usuário master da empresa 10001\n"
                "- `100002` usuário da empresa 10001 (movimentação e relatórios)\n\n"
                "E-mails enviados pelo portal (links de ativação, convites, redefinição de "
                "senha) aparecem na **Caixa de saída**, no menu de quem entrou: o gestor "
                "`900001` vê todos. Para abrir um link, copie-o, clique em **Sair** (ou use "
                "uma janela anônima) e cole-o no navegador."
            )
            demo = None
            with user_errors():
                demo = access.first_access_demo_company(uow=new_uow())
            if demo is not None:
                st.markdown(
                    f"**Empresa {plain(demo.company_code)}, ainda sem usuário**: em **Meu "
                    "primeiro acesso** (perfil Empresa), informe o código "
                    f"**{plain(demo.company_code)}**, o CNPJ **{plain(demo.document)}** e o "
                    f"e-mail de contato **{plain(demo.contact_email)}**. O link de ativação "
                    "vai para esse e-mail: leia-o na Caixa de saída entrando como `900001`, "
                    "saia e abra o link para criar a senha e receber o código de usuário."
                )
            st.markdown(
                "**Usuário `100003`, pendente** (criado pelo master da 10001): o convite "
                "com o link de ativação está na Caixa de saída (entre como `900001`); "
                "saia, abra o link e crie a senha. O convite vale 7 dias; depois, o master "
                "`100001` o reenvia em Empresa > Usuários."
            )

"""Acesso > Esqueci meu usuário: the user code(s) sent to the registered e-mail."""

import streamlit as st

from components.context import client_address, new_uow, now_utc
from components.errors import user_errors
from services.access import accounts as access

st.title("Esqueci meu usuário")
st.write(
    "Informe o código da empresa, o CNPJ/CAEPF e o e-mail cadastrado. "
    "Enviaremos o seu código de usuário para esse e-mail."
)
with st.form("forgot_user"):
    company_code = st.text_input("Código da empresa *", max_chars=10)
    document = st.text_input("CNPJ / CAEPF *", max_chars=18)
    email = st.text_input("E-mail *", max_chars=254)
    submitted = st.form_submit_button("Enviar código de usuário", type="primary")
if submitted:
    if not (company_code.strip() and document.strip() and email.strip()):
        st.error("Preencha o código da empresa, o CNPJ/CAEPF e o e-mail.")
    else:
        with user_errors():
            access.user_code_reminder(
                uow=new_uow(),
                company_code=company_code,
                document=document,
                email=email,
                now=now_utc(),
                client=client_address(),
            )
            # Neutral and honest, as in "Esqueci minha senha".
            st.info(
                "Pedido recebido. Se os dados conferirem com o cadastro, o portal envia o "
                "código de usuário para o e-mail informado. Por segurança, esta tela não "
                "informa se os dados conferem nem se o envio deu certo: se o e-mail não "
                "chegar em alguns minutos, confira os dados e peça de novo."
            )
st.page_link("pages/login.py", label="Voltar", icon=":material/arrow_back:")

"""Acesso > Esqueci minha senha: a single-use link valid for 30 minutes."""

import streamlit as st

from components.context import client_address, new_uow, now_utc, portal_base_url
from components.errors import user_errors
from services.access import accounts as access

st.title("Esqueci minha senha")
st.write(
    "Informe o código de usuário e o CNPJ/CAEPF da empresa. "
    "Enviaremos um link para criar uma nova senha, válido por 30 minutos e uma única vez."
)
with st.form("forgot_password"):
    user_code = st.text_input("Código de usuário *", max_chars=10)
    document = st.text_input("CNPJ / CAEPF *", max_chars=18)
    submitted = st.form_submit_button("Enviar link", type="primary")
if submitted:
    if not user_code.strip() or not document.strip():
        st.error("Informe o código de usuário e o CNPJ/CAEPF.")
    else:
        with user_errors():
            access.password_reset_request(
                uow=new_uow(),
                user_code=user_code,
                document=document,
                now=now_utc(),
                client=client_address(),
                base_url=portal_base_url(),
            )
            # Neutral and honest: it neither says whether the data match nor claims a
            # delivery that may have failed (a failed e-mail waits in the outbox).
            st.info(
                "Pedido recebido. Se os dados conferirem com o cadastro, o portal envia ao "
                "e-mail cadastrado um link para criar uma nova senha. Por segurança, esta "
                "tela não informa se os dados conferem nem se o envio deu certo: se o e-mail "
                "não chegar em alguns minutos, confira os dados e peça de novo."
            )
st.page_link("pages/login.py", label="Voltar", icon=":material/arrow_back:")

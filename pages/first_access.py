"""Acesso > Meu primeiro acesso.

Empresa: code + CNPJ/CAEPF + the contact e-mail registered in the contract; the portal
e-mails an activation link to that contact (nothing is created here). Usuário: a user
created by a master activates itself from the invitation e-mailed to it."""

import streamlit as st

from components.context import client_address, new_uow, now_utc, portal_base_url
from components.errors import FieldSlots, user_errors
from services.access import accounts as access

st.title("Meu primeiro acesso")
profile = st.radio("Perfil", ["Empresa", "Usuário"], horizontal=True, key="fa_profile")

if profile == "Usuário":
    st.info(
        "O usuário criado pelo usuário master da empresa ativa o acesso pelo **convite "
        'enviado ao seu e-mail** (assunto "Portal Empresa: convite para o seu primeiro '
        'acesso"): abra o link do convite, crie a sua senha e entre com o código de '
        "usuário que está no e-mail. O convite vale por 7 dias e só pode ser usado uma vez."
    )
    st.write(
        "Não encontrou o convite, ou ele expirou? Confira a caixa de spam e peça ao usuário "
        "master da sua empresa que reenvie o convite (Empresa > Usuários)."
    )
    st.page_link("pages/login.py", label="Voltar", icon=":material/arrow_back:")
    st.stop()

st.write(
    "Primeiro acesso da empresa: informe o código da empresa, o CNPJ/CAEPF e o **e-mail de "
    "contato cadastrado no contrato**. Enviaremos para esse e-mail um link de ativação, "
    "válido por 24 horas e uma única vez, em que você cria a senha e recebe o código de "
    "usuário master. Campos com * são obrigatórios."
)
slots = FieldSlots()
with st.form("first_access_company"):
    code = st.text_input("Código da empresa *", max_chars=10)
    slots.add("company_code")
    email = st.text_input(
        "E-mail de contato cadastrado *",
        max_chars=254,
        placeholder="nome@empresa.com.br",
        help="O e-mail de contato da empresa que consta no contrato com a Sorriso Odontologia.",
    )
    slots.add("email")
    doc_type = st.radio("Tipo de documento", ["CNPJ", "CAEPF"], horizontal=True)
    document = st.text_input(
        "CNPJ / CAEPF *",
        max_chars=18,
        placeholder="00.000.000/0000-00",
        help="Com ou sem pontuação. O CNPJ pode ter letras (CNPJ alfanumérico).",
    )
    slots.add("document")
    submitted = st.form_submit_button("Enviar link de ativação", type="primary")

if submitted:
    with user_errors(slots):
        access.company_activation_request(
            uow=new_uow(),
            company_code=code,
            email=email,
            document=document,
            document_type=doc_type,
            now=now_utc(),
            base_url=portal_base_url(),
            client=client_address(),
        )
        st.success(access.ACTIVATION_SENT_MESSAGE)
        st.info(access.ACTIVATION_NOT_RECEIVED_MESSAGE)

st.page_link("pages/login.py", label="Voltar", icon=":material/arrow_back:")

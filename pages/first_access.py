"""Acesso > Meu primeiro acesso: the company's master user, or a user created by a master."""

import streamlit as st

from components.context import client_address, new_uow, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services import access

st.title("Meu primeiro acesso")
st.write("Escolha o perfil e informe os dados para cadastro. Campos com * são obrigatórios.")
profile = st.radio("Perfil", ["Empresa", "Usuário"], horizontal=True, key="fa_profile")

done = st.session_state.get("fa_done")
if done:
    st.success(
        f"Primeiro acesso concluído, {plain(done[1])}. "
        f"Seu **código de usuário** é **{done[0]}**."
    )
    st.info("Lembre-se: use sempre o código de usuário para fazer login.")
    if st.button("Ir para o login", type="primary"):
        del st.session_state["fa_done"]
        st.switch_page("pages/login.py")
    st.stop()

slots = FieldSlots()
with st.form(f"first_access_{profile}"):
    if profile == "Empresa":
        code = st.text_input("Código da empresa *", max_chars=10)
        slots.add("company_code")
    else:
        code = st.text_input("Código de usuário *", max_chars=10)
        slots.add("user_code")
    email = st.text_input("E-mail *", max_chars=254)
    slots.add("email")
    doc_type = "CNPJ"
    if profile == "Empresa":
        doc_type = st.radio("Tipo de documento", ["CNPJ", "CAEPF"], horizontal=True)
    document = st.text_input(
        "CNPJ / CAEPF *",
        max_chars=18,
        placeholder="00.000.000/0000-00",
        help="Com ou sem pontuação. O CNPJ pode ter letras (CNPJ alfanumérico).",
    )
    slots.add("document")
    password = st.text_input(
        "Senha *",
        type="password",
        help="Mínimo de 8 caracteres, com letra maiúscula, minúscula, número e símbolo.",
    )
    slots.add("password")
    confirmation = st.text_input("Confirme sua senha *", type="password")
    slots.add("confirmation")
    submitted = st.form_submit_button("Cadastrar", type="primary")

if submitted:
    with user_errors(slots):
        if profile == "Empresa":
            result = access.first_access_company(
                uow=new_uow(),
                company_code=code,
                email=email,
                document=document,
                document_type=doc_type,
                password=password,
                confirmation=confirmation,
                now=now_utc(),
                client=client_address(),
            )
        else:
            result = access.first_access_user(
                uow=new_uow(),
                user_code=code,
                document=document,
                email=email,
                password=password,
                confirmation=confirmation,
                now=now_utc(),
                client=client_address(),
            )
        st.session_state["fa_done"] = (result.user_code, result.name)
        st.rerun()

st.page_link("pages/login.py", label="Voltar", icon=":material/arrow_back:")

"""Acesso > Ativar acesso: opened from an e-mailed link.

`?ativar=TOKEN`: a company's first access (the link went to its registered contact);
creates the master user. `?convite=TOKEN`: a user created by a master sets its password."""

import streamlit as st

from components.context import client_address, new_uow, now_utc, portal_base_url
from components.errors import FieldSlots, user_errors
from components.password_fields import new_password_fields
from components.safe_text import plain
from services.access import accounts as access

st.title("Ativar acesso")

if st.query_params.get("ativar"):
    purpose, token = access.PURPOSE_ACTIVATION, st.query_params.get("ativar", "")
elif st.query_params.get("convite"):
    purpose, token = access.PURPOSE_INVITATION, st.query_params.get("convite", "")
else:
    st.info(
        "Abra o link enviado por e-mail: o de ativação da empresa (pedido em 'Meu primeiro "
        "acesso') ou o convite enviado quando o usuário master cadastrou você."
    )
    st.page_link("pages/first_access.py", label="Meu primeiro acesso", icon=":material/person_add:")
    st.stop()

done = st.session_state.get("access_link_done")
if done and done[0] == token:
    _, user_code, name = done
    st.success(f"Acesso ativado, {plain(name)}. Seu **código de usuário** é **{user_code}**.")
    st.info(
        "Lembre-se: o login é sempre feito com o código de usuário (não com o CNPJ) e a "
        "senha que você acabou de criar. Anote o código."
    )
    st.page_link("pages/login.py", label="Ir para o login", icon=":material/login:")
    st.stop()

link: access.AccessLink | None = None
with user_errors():
    link = access.access_link_check(uow=new_uow(), token=token, purpose=purpose, now=now_utc())
if link is None:
    st.page_link("pages/first_access.py", label="Meu primeiro acesso", icon=":material/person_add:")
    st.page_link("pages/login.py", label="Ir para o login", icon=":material/arrow_back:")
    st.stop()

if link.purpose == access.PURPOSE_ACTIVATION:
    st.markdown(
        f"Primeiro acesso da empresa **{plain(link.company_code)} · "
        f"{plain(link.company_name)}**. Crie a senha do usuário master de "
        f"{plain(link.name)}: o código de usuário aparece a seguir."
    )
else:
    st.markdown(
        f"Olá, {plain(link.name)}. Crie a sua senha para ativar o usuário "
        f"**{plain(link.user_code)}** da empresa **{plain(link.company_code)} · "
        f"{plain(link.company_name)}**."
    )
st.caption("Este link só pode ser usado uma vez.")

slots = FieldSlots()
with st.form("access_link"):
    password, confirmation = new_password_fields(slots)
    submitted = st.form_submit_button("Ativar acesso", type="primary")

if submitted:
    with user_errors(slots):
        if link.purpose == access.PURPOSE_ACTIVATION:
            result = access.company_activation_confirm(
                uow=new_uow(),
                token=token,
                password=password,
                confirmation=confirmation,
                now=now_utc(),
                base_url=portal_base_url(),
                client=client_address(),
            )
        else:
            result = access.user_invitation_accept(
                uow=new_uow(),
                token=token,
                password=password,
                confirmation=confirmation,
                now=now_utc(),
                client=client_address(),
            )
        st.session_state["access_link_done"] = (token, result.user_code, result.name)
        st.rerun()

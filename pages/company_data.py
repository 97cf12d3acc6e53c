"""Empresa > Meus dados: the company's registration data; contact data editable."""

import streamlit as st

from components.context import get_context, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from components.waiting_widgets import contract_waiting_section
from services import companies
from services.rules.formats import format_cep, format_date, format_phone
from services.rules.registration import CONTACT_LABELS, UFS

ctx = get_context()
st.title("Meus dados")
st.caption(plain(ctx.company.label))

with user_errors():
    details = companies.company_details(uow=ctx.uow(), actor=ctx.actor)

saved = st.session_state.pop("company_data_saved", None)
if saved is not None:
    if saved:
        st.success("Dados alterados: " + ", ".join(CONTACT_LABELS[k] for k in saved) + ".")
    else:
        st.info("Nenhum dado foi alterado.")

st.subheader("Dados cadastrais")
c1, c2, c3 = st.columns(3)
c1.text_input("Código da empresa", details.code, disabled=True)
c2.text_input(details.document_type, details.document_formatted, disabled=True)
c3.text_input("Início do contrato", format_date(details.contract_start), disabled=True)
st.text_input("Razão social", details.name, disabled=True)
if details.group_name:
    st.caption(f"Grupo econômico: {plain(details.group_name)}")
st.caption(
    f"Data de corte: dia {details.cutoff_day} · vencimento das faturas: dia {details.due_day}. "
    "Código, documento e razão social só mudam por solicitação à operadora: abra um protocolo "
    "do tipo **Alteração contratual** em Protocolos > Nova solicitação."
)

st.subheader("Endereço e contato")
contact = details.contact
if not details.can_edit:
    st.info(
        "Somente o usuário master, o gestor de contas ou quem tem a permissão de "
        "administração altera estes dados."
    )
slots = FieldSlots()
with st.form("company_contact"):
    c1, c2 = st.columns([1, 3])
    cep = c1.text_input(
        "CEP *",
        format_cep(contact["cep"]) if contact["cep"] else "",
        max_chars=9,
        placeholder="00000-000",
        disabled=not details.can_edit,
    )
    with c1:
        slots.add("cep")
    street = c2.text_input(
        "Logradouro *", contact["street"] or "", max_chars=200, disabled=not details.can_edit
    )
    with c2:
        slots.add("street")
    c1, c2, c3 = st.columns([1, 2, 2])
    number = c1.text_input(
        "Número *", contact["number"] or "", max_chars=20, disabled=not details.can_edit
    )
    with c1:
        slots.add("number")
    complement = c2.text_input(
        "Complemento", contact["complement"] or "", max_chars=100, disabled=not details.can_edit
    )
    neighbourhood = c3.text_input(
        "Bairro *", contact["neighbourhood"] or "", max_chars=100, disabled=not details.can_edit
    )
    with c3:
        slots.add("neighbourhood")
    c1, c2, c3 = st.columns([3, 1, 2])
    city = c1.text_input(
        "Cidade *", contact["city"] or "", max_chars=100, disabled=not details.can_edit
    )
    with c1:
        slots.add("city")
    ufs = sorted(UFS)
    state = c2.selectbox(
        "UF *",
        ufs,
        index=ufs.index(contact["state"]) if contact["state"] in UFS else None,
        placeholder="UF",
        disabled=not details.can_edit,
    )
    with c2:
        slots.add("state")
    phone = c3.text_input(
        "Telefone *",
        format_phone(contact["phone"]),
        max_chars=16,
        placeholder="(11) 3333-4444",
        disabled=not details.can_edit,
    )
    with c3:
        slots.add("phone")
    c1, c2 = st.columns(2)
    contact_name = c1.text_input(
        "Nome do contato *",
        contact["contact_name"] or "",
        max_chars=200,
        disabled=not details.can_edit,
    )
    with c1:
        slots.add("contact_name")
    contact_email = c2.text_input(
        "E-mail do contato *",
        contact["contact_email"] or "",
        max_chars=254,
        disabled=not details.can_edit,
    )
    with c2:
        slots.add("contact_email")
    submitted = st.form_submit_button(
        "Salvar alterações", type="primary", disabled=not details.can_edit
    )

if submitted:
    with user_errors(slots):
        changed = companies.company_contact_update(
            uow=ctx.uow(),
            actor=ctx.actor,
            values={
                "cep": cep,
                "street": street,
                "number": number,
                "complement": complement,
                "neighbourhood": neighbourhood,
                "city": city,
                "state": state or "",
                "phone": phone,
                "contact_name": contact_name,
                "contact_email": contact_email,
            },
            now=now_utc(),
        )
        st.session_state["company_data_saved"] = list(changed)
        st.rerun()

contract_waiting_section(ctx, details)  # carência: the account manager edits it

"""Financeiro > Configurações do operador (account managers): the operator's agreement with
its bank, which every boleto's free field and "Agência/Código do beneficiário" come from."""

import streamlit as st

from components.context import get_context, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services import operator_settings
from services.operator_settings import FIELD_LABELS

ctx = get_context()
if not ctx.actor.is_account_manager:
    st.error("Somente o gestor de contas vê e altera as configurações do operador.")
    st.stop()
st.title("Configurações do operador")

with user_errors():
    current = operator_settings.operator_settings_get(uow=ctx.uow(), actor=ctx.actor)
st.caption(plain(current.operator_name))
st.markdown(
    "Convênio de cobrança com o banco: o **campo livre** do código de barras e o campo "
    "**Agência/Código do beneficiário** de cada boleto vêm daqui (nunca do registro ANS). "
    "Sem convênio configurado nenhum boleto é emitido. Os boletos já emitidos mantêm o "
    "código de barras; a alteração vale para os boletos emitidos a partir de agora."
)
if current.configured:
    st.success("Convênio bancário configurado: os boletos podem ser emitidos.")
else:
    st.warning(
        "Convênio bancário não configurado: falta "
        f"{', '.join(current.missing)}. Nenhum boleto pode ser emitido até que seja informado."
    )

slots = FieldSlots()
with st.form("operator_settings"):
    fields = {
        "bank_code": ("3 dígitos, ex.: 001 (Banco do Brasil)", 3),
        "bank_agreement": ("Banco do Brasil: 7 dígitos; outros bancos: até 8", 20),
        "bank_wallet": ("Banco do Brasil: 2 dígitos, ex.: 17", 5),
        "bank_branch": ("ex.: 1234-5", 10),
        "bank_account": ("ex.: 12345-6", 20),
    }
    typed: dict[str, str] = {}
    for name, (hint, size) in fields.items():
        typed[name] = st.text_input(
            f"{FIELD_LABELS[name]} *",
            value=getattr(current, name),
            max_chars=size,
            help=hint,
            key=f"opset_{name}",
        )
        slots.add(name)
    submitted = st.form_submit_button("Salvar configurações", type="primary")
if submitted:
    with user_errors(slots):
        saved = operator_settings.operator_settings_update(
            uow=ctx.uow(), actor=ctx.actor, now=now_utc(), **typed
        )
        if saved.changed:
            names = ", ".join(FIELD_LABELS[f].lower() for f in saved.changed)
            st.success(f"Configurações salvas ({names}). A alteração foi registrada na auditoria.")
        else:
            st.info("Nada foi alterado: os valores informados já eram os configurados.")

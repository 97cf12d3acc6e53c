"""Movimentação cadastral > Cadastro retroativo: inclusion, plan change and reactivation
with an effective date in the past, billed on the next invoices."""

import streamlit as st

from components import movement_forms as forms
from components.clock import today_local
from components.context import get_context
from components.errors import FieldSlots
from components.safe_text import plain
from services.actors import Permission
from services.movements import service as movements
from services.rules.formats import format_date, format_month

ctx = get_context(Permission.MOVEMENTS)
st.title("Cadastro retroativo")
st.caption(f"{plain(ctx.company.label)} · campos com * são obrigatórios.")
options = movements.movement_options(uow=ctx.uow(), actor=ctx.actor, today=today_local())

kind = st.radio(
    "Movimentação",
    ["Inclusão", "Alteração de plano", "Reativação"],
    horizontal=True,
    key="retro_kind",
)
effective = st.radio(
    "Data de vigência retroativa",
    options.retroactive_dates,
    format_func=format_date,
    horizontal=True,
    key="retro_date",
    help="O primeiro dia do mês atual ou de um dos meses anteriores permitidos pelo contrato.",
)
st.warning(
    f"**Cobrança retroativa:** com vigência em {format_date(effective)}, os meses desde "
    f"{format_month(effective)} serão cobrados nas próximas faturas (a partir da fatura de "
    f"{format_month(options.billing_month_today)}), além da mensalidade normal.",
    icon=":material/warning:",
)
slots = FieldSlots()

if kind == "Inclusão":
    forms.inclusion_section(ctx, slots, options, key="retro_inclusion", effective=effective)
elif kind == "Alteração de plano":
    forms.plan_change_section(ctx, slots, options, key="retro_plan", effective=effective)
else:
    forms.reactivation_section(ctx, slots, options, key="retro_reactivation", effective=effective)

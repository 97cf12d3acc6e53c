"""Movimentação cadastral > Cadastro individual: one beneficiary at a time, six movements."""

import streamlit as st

from components import movement_forms as forms
from components import scheduled_widgets
from components.clock import today_local
from components.context import get_context
from components.errors import FieldSlots
from components.safe_text import plain
from services.actors import Permission
from services.movements import service as movements

ctx = get_context(Permission.MOVEMENTS)
st.title("Cadastro individual")
st.caption(f"{plain(ctx.company.label)} · campos com * são obrigatórios.")
options = movements.movement_options(uow=ctx.uow(), actor=ctx.actor, today=today_local())
TABS = [
    "Inclusão",
    "Exclusão",
    "Alteração cadastral",
    "Reativação",
    "Transferência",
    "Alteração de plano",
    "Agendadas",
]
tabs = dict(zip(TABS, st.tabs(TABS, key="individual_tab", on_change="rerun"), strict=True))
slots = FieldSlots()

# Only the open tab runs: each form queries the database. Each section shows the result
# card of its last movement, or its form.
if tabs["Inclusão"].open:
    with tabs["Inclusão"]:
        forms.inclusion_section(ctx, slots, options, key="ind_inclusion")

if tabs["Exclusão"].open:
    with tabs["Exclusão"]:
        forms.exclusion_section(ctx, slots, key="ind_exclusion")

if tabs["Alteração cadastral"].open:
    with tabs["Alteração cadastral"]:
        forms.update_section(ctx, slots, key="ind_update")

if tabs["Reativação"].open:
    with tabs["Reativação"]:
        forms.reactivation_section(ctx, slots, options, key="ind_reactivation")

if tabs["Transferência"].open:
    with tabs["Transferência"]:
        forms.transfer_section(ctx, slots, options, key="ind_transfer")

if tabs["Alteração de plano"].open:
    with tabs["Alteração de plano"]:
        forms.plan_change_section(ctx, slots, options, key="ind_plan")

if tabs["Agendadas"].open:
    with tabs["Agendadas"]:
        scheduled_widgets.scheduled_section(ctx, key="ind_scheduled")

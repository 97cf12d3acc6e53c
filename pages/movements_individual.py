"""Movimentação cadastral > Cadastro individual: one beneficiary at a time, six movements."""

import streamlit as st

from components import movement_forms as forms
from components.context import get_context, now_utc
from components.errors import FieldSlots, user_errors
from components.fmt import today_local
from components.safe_text import plain
from services import movements
from services.actors import Permission

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
]
tabs = dict(zip(TABS, st.tabs(TABS, key="individual_tab", on_change="rerun"), strict=True))
slots = FieldSlots()

# Only the open tab runs: each form queries the database.
if tabs["Inclusão"].open:
    with tabs["Inclusão"]:
        forms.inclusion_section(ctx, slots, options, key="ind_inclusion")

if tabs["Exclusão"].open:
    with tabs["Exclusão"]:
        forms.show_last(ctx, "ind_exclusion")
        exclusion = forms.exclusion_form(ctx, slots, key="ind_exclusion")
        if exclusion is not None:
            with user_errors(slots):
                result = movements.movement_exclude(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    card_number=exclusion.card_number,
                    reason=exclusion.reason,
                    effective_date=exclusion.effective_date,
                    now=now_utc(),
                    dependents_confirmed=exclusion.dependents_confirmed,
                    contributed=exclusion.contributed,
                    contribution_months=exclusion.contribution_months,
                )
                forms.remember(ctx, "ind_exclusion", result)

if tabs["Alteração cadastral"].open:
    with tabs["Alteração cadastral"]:
        forms.show_last(ctx, "ind_update")
        update = forms.update_form(ctx, slots, key="ind_update")
        if update is not None:
            with user_errors(slots):
                result = movements.movement_update(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    card_number=update.card_number,
                    changes=update.changes,
                    now=now_utc(),
                )
                forms.remember(ctx, "ind_update", result)

if tabs["Reativação"].open:
    with tabs["Reativação"]:
        forms.reactivation_section(ctx, slots, options, key="ind_reactivation")

if tabs["Transferência"].open:
    with tabs["Transferência"]:
        forms.show_last(ctx, "ind_transfer")
        transfer = forms.transfer_form(ctx, slots, options, key="ind_transfer")
        if transfer is not None:
            with user_errors(slots):
                result = movements.movement_transfer(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    card_number=transfer.card_number,
                    target_company_id=transfer.target_company_id,
                    plan_id=transfer.plan_id,
                    effective_date=transfer.effective_date,
                    now=now_utc(),
                )
                target = dict(options.transfer_targets)[transfer.target_company_id]
                forms.remember(ctx, "ind_transfer", result, target_label=target)

if tabs["Alteração de plano"].open:
    with tabs["Alteração de plano"]:
        forms.plan_change_section(ctx, slots, options, key="ind_plan")

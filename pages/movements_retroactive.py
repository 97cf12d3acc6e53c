"""Movimentação cadastral > Cadastro retroativo: inclusion, plan change and reactivation
with an effective date in the past, billed on the next invoices."""

import streamlit as st

from components import movement_forms as forms
from components.context import get_context, now_utc
from components.errors import FieldSlots, user_errors
from components.fmt import fmt_date, fmt_month, today_local
from services import movements
from services.actors import Permission
from services.rules.movements import Channel

ctx = get_context(Permission.MOVEMENTS)
st.title("Cadastro retroativo")
st.caption(f"{ctx.company.label} · campos com * são obrigatórios.")
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
    format_func=fmt_date,
    horizontal=True,
    key="retro_date",
    help="O primeiro dia do mês atual ou de um dos meses anteriores permitidos pelo contrato.",
)
st.warning(
    f"**Cobrança retroativa:** com vigência em {fmt_date(effective)}, os meses desde "
    f"{fmt_month(effective)} serão cobrados nas próximas faturas (a partir da fatura de "
    f"{fmt_month(options.billing_month_today)}), além da mensalidade normal.",
    icon=":material/warning:",
)
slots = FieldSlots()

if kind == "Inclusão":
    forms.show_last(ctx, "retro_inclusion")
    request = forms.inclusion_form(ctx, slots, options, key="retro_inclusion", effective=effective)
    if request is not None:
        with user_errors(slots):
            result = movements.movement_include(
                uow=ctx.uow(), actor=ctx.actor, request=request, now=now_utc()
            )
            card = forms.virtual_card(ctx, result, options)
            forms.remember(ctx, "retro_inclusion", result, card_png=card)

elif kind == "Alteração de plano":
    forms.show_last(ctx, "retro_plan")
    change = forms.plan_change_form(ctx, slots, options, key="retro_plan", effective=effective)
    if change is not None:
        with user_errors(slots):
            result = movements.movement_change_plan(
                uow=ctx.uow(),
                actor=ctx.actor,
                card_number=change.card_number,
                plan_id=change.plan_id,
                effective_date=change.effective_date,
                now=now_utc(),
                channel=Channel.RETROACTIVE,
            )
            forms.remember(ctx, "retro_plan", result)

else:
    forms.show_last(ctx, "retro_reactivation")
    reactivation = forms.reactivation_form(
        ctx, slots, key="retro_reactivation", effective=effective
    )
    if reactivation is not None:
        with user_errors(slots):
            result = movements.movement_reactivate(
                uow=ctx.uow(),
                actor=ctx.actor,
                card_number=reactivation.card_number,
                effective_date=reactivation.effective_date,
                changes=reactivation.changes,
                now=now_utc(),
                channel=Channel.RETROACTIVE,
            )
            card = forms.virtual_card(ctx, result, options)
            forms.remember(ctx, "retro_reactivation", result, card_png=card)

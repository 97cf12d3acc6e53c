"""The company's scheduled movements (dated in the future) and their cancellation."""

from __future__ import annotations

import streamlit as st

from components.context import Context, now_utc
from components.errors import user_errors
from services.movements import coverage
from services.rules.card_numbers import format_card_number
from services.rules.formats import format_date

CANCELLED_KEY = "scheduled_cancelled"


def scheduled_section(ctx: Context, *, key: str) -> None:
    """Each scheduled movement with its people and date, and a cancel button that asks
    for a confirmation; the cancellation's protocol is shown after it."""
    done = st.session_state.pop(CANCELLED_KEY, None)
    if done is not None:
        label, result = done
        st.success(
            f"{label} agendada para {format_date(result.effective_date)} cancelada "
            f"(protocolo {result.cancelled_protocol}). Protocolo do cancelamento: "
            f"**{result.protocol_number}**.",
            icon=":material/event_busy:",
        )
    items = coverage.scheduled_list(uow=ctx.uow(), actor=ctx.actor, now=now_utc())
    if not items:
        st.info(
            "Nenhuma movimentação agendada. Exclusões, transferências e alterações de plano "
            "com data futura aparecem aqui até a data, e podem ser canceladas."
        )
        return
    st.caption(
        "Até a data agendada nada muda para o beneficiário. Cancelar desfaz o agendamento "
        "e gera um protocolo."
    )
    for item in items:
        with st.container(border=True, key=f"{key}_{item.protocol_number}"):
            st.markdown(
                f"**{item.label} agendada para {format_date(item.effective_date)}** · "
                f"protocolo nº {item.protocol_number}"
            )
            st.dataframe(
                [
                    {"Nome": name, "Carteirinha": format_card_number(card)}
                    for name, card in item.beneficiaries
                ],
                hide_index=True,
                width="stretch",
            )
            confirm = st.checkbox(
                "Confirmo o cancelamento",
                key=f"{key}_{item.protocol_number}_confirm",
            )
            if st.button(
                "Cancelar agendamento",
                key=f"{key}_{item.protocol_number}_cancel",
                icon=":material/event_busy:",
                disabled=not confirm,
            ):
                result = None
                with user_errors():
                    result = coverage.scheduled_cancel(
                        uow=ctx.uow(),
                        actor=ctx.actor,
                        protocol_number=item.protocol_number,
                        now=now_utc(),
                    )
                if result is not None:
                    st.session_state[CANCELLED_KEY] = (item.label, result)
                    st.rerun()

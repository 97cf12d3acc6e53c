"""Waiting periods (carência) of a beneficiary, as the detail screens show them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import streamlit as st

from components.context import Context, now_utc
from components.errors import FieldSlots, user_errors
from services import companies
from services.companies import CompanyDetails
from services.rules.formats import format_date
from services.rules.waiting import (
    URGENCY,
    WAITING_GROUPS,
    legal_max_days,
    stored_periods,
    waiting_summary,
)

SAVED_KEY = "contract_waiting_saved"


def waiting_rows(stored: Mapping[str, object] | None, *, today: date) -> list[dict[str, str]]:
    """One row per procedure group: last day of waiting and whether it is over."""
    periods = stored_periods(stored)
    if periods is None:
        return []
    rows = []
    for group, last in periods.items():
        if last is None:
            until, state = "—", "Sem carência"
        else:
            until = format_date(last)
            state = "Cumprida" if last < today else "Em carência"
        rows.append({"Grupo de procedimentos": group, "Carência até": until, "Situação": state})
    return rows


def waiting_panel(stored: Mapping[str, object] | None, *, today: date) -> None:
    """The beneficiary's waiting periods per procedure group, computed at inclusion;
    "não calculada" for beneficiaries included before the portal computed them."""
    with st.container(border=True, key="waiting_panel"):
        st.markdown("**Carência**")
        if stored is None:
            st.caption(
                "Carência não calculada: beneficiário incluído antes do cálculo automático. "
                "Consulte a operadora."
            )
            return
        summary = waiting_summary(stored, on=today)
        if summary == "Isento":
            st.caption("Isento de carência (RN 195, art. 6, ou recém-nascido).")
        elif summary == "Carência cumprida":
            st.caption("Carência cumprida em todos os grupos de procedimentos.")
        else:
            st.caption(f"Em carência: {summary}.")
        st.dataframe(waiting_rows(stored, today=today), hide_index=True, width="stretch")


def _days_label(group: str, days: int | None) -> str:
    if days is None:
        return "—"
    if days == 0:
        return "Sem carência"
    if group == URGENCY and days == 1:
        return "24 horas"
    return f"{days} dias"


def contract_waiting_section(ctx: Context, details: CompanyDetails) -> None:
    """Company data: the contract's waiting periods per procedure group; the account
    manager edits them (within the legal maxima) or goes back to the defaults."""
    st.subheader("Carência do contrato")
    saved = st.session_state.pop(SAVED_KEY, None)
    if saved is not None:
        if saved:
            st.success("Prazos de carência alterados: " + ", ".join(saved) + ".")
        else:
            st.info("Nenhum prazo de carência foi alterado.")
    st.caption(
        ("Prazos padrão do produto" if details.waiting_default else "Prazos do contrato")
        + " por grupo de procedimentos, contados do início de vigência. Sem carência quando o "
        "contrato tem 30 ou mais participantes e a inclusão é pedida em até 30 dias do início "
        "do contrato ou da admissão (RN 195, art. 6). Valem para as inclusões a partir de "
        "agora; a carência já calculada de cada beneficiário não muda."
    )
    days = details.waiting_days
    if not details.can_edit_waiting:
        st.dataframe(
            [{"Grupo de procedimentos": g, "Carência": _days_label(g, d)} for g, d in days.items()],
            hide_index=True,
            width="stretch",
        )
        st.caption("Somente o gestor de contas altera os prazos de carência.")
        return
    slots = FieldSlots()
    typed: dict[str, int] = {}
    with st.form("contract_waiting"):
        columns = st.columns(5)
        for i, group in enumerate(WAITING_GROUPS):
            top = legal_max_days(group)
            with columns[i % 5]:
                typed[group] = int(
                    st.number_input(
                        f"{group} (dias)",
                        min_value=0,
                        max_value=top,
                        value=int(days.get(group, 0)),
                        step=1,
                        help="Máximo legal: 24 horas (1 dia)."
                        if group == URGENCY
                        else f"Máximo legal: {top} dias.",
                        key=f"waiting_days_{group}",
                    )
                )
                slots.add(group)
        c1, c2 = st.columns(2)
        save = c1.form_submit_button("Salvar prazos de carência", type="primary")
        reset = c2.form_submit_button("Voltar aos prazos padrão")
    if not (save or reset):
        return
    with user_errors(slots):
        changed = companies.company_waiting_periods_update(
            uow=ctx.uow(),
            actor=ctx.actor,
            days=None if reset else typed,
            now=now_utc(),
        )
        st.session_state[SAVED_KEY] = [
            f"{g}: {_days_label(g, old)} → {_days_label(g, new)}"
            for g, (old, new) in changed.items()
        ]
        st.rerun()

"""Relatórios > Perda de elegibilidade: dependents whose eligibility by age ends in a
period (default: the next 60 days), the list, its download and the one-click exclusion."""

from datetime import timedelta

import streamlit as st

from components import exclusion_widgets, report_widgets
from components.clock import today_local
from components.context import get_context
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.movements import ageing
from services.rules.ageing import AGEING_NOTICE_DAYS
from services.rules.formats import format_date, format_int

ctx = get_context(Permission.REPORTS)
today = today_local()
st.title("Perda de elegibilidade")
st.caption(
    f"{plain(ctx.company.label)} · dependentes que atingem o limite de idade do contrato "
    f"(posição em {format_date(today)})"
)
c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
start = c1.date_input("De", value=today, format="DD/MM/YYYY", key="ageing_start")
end = c2.date_input(
    "Até", value=today + timedelta(days=AGEING_NOTICE_DAYS), format="DD/MM/YYYY", key="ageing_end"
)
passed = c3.checkbox(
    "Incluir quem já perdeu a elegibilidade e segue ativo", value=True, key="ageing_passed"
)
with user_errors():
    rows = ageing.ageing_dependents(
        uow=ctx.uow(), actor=ctx.actor, today=today, start=start, end=end, include_passed=passed
    )
    m1, m2 = st.columns(2)
    m1.metric("Dependentes", format_int(len(rows)))
    m2.metric("Já sem elegibilidade", format_int(sum(d.passed for d in rows)))
    if not rows:
        st.info("Nenhum dependente perde a elegibilidade nesse período.")
    table = ageing.ageing_table(rows)
    if rows:
        report_widgets.show_table(table, key="ageing_table")
    period = f"{format_date(start)} a {format_date(end)}"
    header = report_widgets.export_header(
        "Dependentes com perda de elegibilidade por idade",
        scope=f"{ctx.company.label} ({ctx.company.document_type} {ctx.company.document_formatted})",
        period=period,
        filters="Inclui quem já perdeu a elegibilidade" if passed else "Nenhum",
        actor=ctx.actor,
    )
    report_widgets.download_buttons(
        table, header, file_stem=f"perda_elegibilidade_{ctx.company.code}", key="ageing_download"
    )
    if ctx.actor.can(Permission.MOVEMENTS):
        st.subheader("Excluir por perda de elegibilidade")
        st.caption(
            "A exclusão vale na data do fim da elegibilidade (ou hoje, se já passou: "
            "a exclusão nunca é retroativa) e recebe um protocolo."
        )
    exclusion_widgets.ageing_list(ctx, rows, today=today, key="report")

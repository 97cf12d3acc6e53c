"""Relatórios > Beneficiários inativos: filtros (com data e motivo da exclusão), totais,
gráficos, lista e download."""

import streamlit as st

from components import report_widgets
from components.clock import today_local
from components.context import get_context
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.reports.beneficiaries import INACTIVE
from services.rules.formats import format_date

ctx = get_context(Permission.REPORTS)
today = today_local()
st.title("Beneficiários inativos")
st.caption(f"{plain(ctx.company.label)} · posição em {format_date(today)}")
with user_errors():
    report_widgets.beneficiary_report_view(ctx, status=INACTIVE, today=today)

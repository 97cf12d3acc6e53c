"""Empresa > Trilha de auditoria: who changed what, when, with before and after."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from components.clock import today_local
from components.context import get_context
from components.errors import user_errors
from components.report_widgets import download_buttons, export_header
from components.safe_text import plain
from services.access import users
from services.rules.formats import format_date, format_datetime, format_field


def _fmt(values: dict[str, object] | None) -> str:
    if not values:
        return ""
    return format_field("", values)  # dates dd/mm/aaaa, card numbers in groups of four


ctx = get_context()
today = today_local()
st.title("Trilha de auditoria")
st.caption(plain(ctx.company.label))

page: users.AuditPage | None = None
c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
start = c1.date_input(
    "De", value=today - timedelta(days=30), format="DD/MM/YYYY", key="audit_start"
)
end = c2.date_input("Até", value=today, format="DD/MM/YYYY", key="audit_end")
user_code = c4.text_input("Código do usuário", key="audit_user", max_chars=10)
actions = c3.multiselect(
    "Ação",
    list(users.AUDIT_ACTION_LABELS),
    format_func=users.AUDIT_ACTION_LABELS.__getitem__,
    placeholder="Todas",
    key="audit_actions",
)

with user_errors():
    page = users.audit_list(
        uow=ctx.uow(),
        actor=ctx.actor,
        date_from=start,
        date_to=end,
        actions=actions,
        user_code=user_code or "",
    )
if page is not None:
    st.caption(
        f"{page.total} registro(s) de {format_date(start)} a {format_date(end)}"
        + (f" · mostrando os {len(page.entries)} mais recentes" if page.truncated else "")
    )
    df = pd.DataFrame(
        {
            "Quando": [format_datetime(e.at) for e in page.entries],
            "Usuário": [
                f"{e.user_code} · {e.user_name}" if e.user_code else "Sistema" for e in page.entries
            ],
            "Ação": [e.action_label for e in page.entries],
            "Registro": [f"{e.entity} {e.entity_id or ''}".strip() for e in page.entries],
            "Antes": [_fmt(e.before) for e in page.entries],
            "Depois": [_fmt(e.after) for e in page.entries],
        }
    )
    if df.empty:
        st.info("Nenhum registro de auditoria com estes filtros.")
    else:
        st.dataframe(df, hide_index=True, width="stretch")
        header = export_header(
            "Trilha de auditoria",
            scope=ctx.company.label,
            period=f"{format_date(start)} a {format_date(end)}",
            filters=(
                ", ".join(users.AUDIT_ACTION_LABELS.get(a, a) for a in actions) or "todas as ações"
            )
            + (f"; usuário {user_code}" if user_code else ""),
            actor=ctx.actor,
        )
        download_buttons(df, header, file_stem=f"auditoria-{ctx.company.code}", key="audit")

"""Empresa > Pedidos LGPD (account managers): everything held about one beneficiary,
and who saw its personal data."""

import pandas as pd
import streamlit as st

from components.context import get_context, now_utc
from components.dossier_files import dossier_json, dossier_xlsx, section_table
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services import exports, lgpd
from services.rules.formats import format_datetime

ctx = get_context()
st.title("Pedidos LGPD")
st.caption(plain(ctx.company.label))
st.markdown(
    "Atendimento ao titular dos dados (Lei 13.709/2018, art. 18): gere o relatório de "
    "**tudo o que o portal guarda** sobre um beneficiário desta empresa (cadastro, "
    "vínculos, movimentações com antes e depois, protocolos, faturamento, utilização, "
    "auditoria) e veja **quem acessou** os dados dele. O próprio pedido fica registrado."
)

slots = FieldSlots()
with st.form("lgpd_request"):
    term = st.text_input(
        "CPF ou carteirinha do beneficiário *",
        max_chars=20,
        placeholder="000.000.000-00 ou 0001 0000 0000 0000",
    )
    slots.add("term")
    submitted = st.form_submit_button("Gerar relatório do titular", type="primary")
if submitted:
    with user_errors(slots):
        st.session_state["lgpd_dossier"] = (
            ctx.company_id,
            lgpd.beneficiary_dossier(
                uow=ctx.uow(),
                actor=ctx.actor,
                term=term,
                now=now_utc(),
            ),
        )

kept = st.session_state.get("lgpd_dossier")
if kept and kept[0] == ctx.company_id:
    dossier: lgpd.Dossier = kept[1]
    st.success(
        f"Relatório de **{plain(dossier.name)}** gerado em {format_datetime(dossier.generated_at)}."
    )
    row = st.container(horizontal=True)
    stem = f"lgpd-{dossier.card_number}"
    row.download_button(
        "Baixar JSON (completo)",
        data=lambda: dossier_json(dossier),
        file_name=f"{stem}.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
        key="lgpd_json",
    )
    row.download_button(
        "Baixar Excel",
        data=lambda: dossier_xlsx(dossier),
        file_name=f"{stem}.xlsx",
        icon=":material/download:",
        mime=exports.XLSX_MIME,
        on_click="ignore",
        key="lgpd_xlsx",
    )
    for title, rows in dossier.sections.items():
        with st.expander(f"{title} ({len(rows)})", expanded=title == "Cadastro"):
            if not rows:
                st.caption("Nenhum registro.")
            else:  # labelled columns, pt-BR dates, money and card numbers
                st.dataframe(section_table(title, rows), hide_index=True, width="stretch")
    st.subheader("Quem acessou os dados")
    if not dossier.accesses:
        st.info("Nenhum acesso registrado antes deste pedido.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "Quando": [format_datetime(a.at) for a in dossier.accesses],
                    "Usuário": [
                        f"{a.user_code} · {a.user_name}" if a.user_code else "—"
                        for a in dossier.accesses
                    ],
                    "Finalidade": [a.purpose_label for a in dossier.accesses],
                    "Detalhe": [a.detail for a in dossier.accesses],
                    "Só este beneficiário": [
                        "Sim" if a.direct else "Não (listagem)" for a in dossier.accesses
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )

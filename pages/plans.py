"""Empresa > Planos contratados: ANS registration, segment, coverage, the contract's
prices (by age band, or a single price with no band), beneficiaries and the general
conditions to read and download."""

from functools import partial

import pandas as pd
import streamlit as st

from components.clock import today_local
from components.context import get_context
from components.errors import user_errors
from components.plan_pdf import general_conditions_pdf
from components.safe_text import plain
from services import companies
from services.rules.formats import format_date, format_int, format_money

ctx = get_context()
today = today_local()
st.title("Planos contratados")
st.caption(plain(ctx.company.label))

plans: list[companies.ContractedPlanView] = []
with user_errors():
    plans = companies.company_plans(uow=ctx.uow(), actor=ctx.actor, today=today)
if not plans:
    st.info("Esta empresa não tem planos contratados. Fale com o seu gestor de contas.")

for plan in plans:
    ended = plan.end_date is not None and plan.end_date < today
    with st.container(border=True):
        st.subheader(plain(plan.name) + (" (encerrado)" if ended else ""))
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Registro ANS", plan.ans_registration)
        c2.metric("Segmentação", plan.segment)
        c3.metric("Beneficiários ativos", format_int(plan.active_beneficiaries))
        c4.metric(
            "Contratado desde",
            format_date(plan.start_date),
            help=f"Até {format_date(plan.end_date)}" if plan.end_date else None,
        )
        st.markdown(
            "**Cobertura** (grupos de procedimentos): " + (", ".join(plan.coverage_groups) or "—")
        )
        left, right = st.columns([2, 3])
        with left:
            since = format_date(plan.price_valid_from) if plan.price_valid_from else "—"
            if plan.single_price and plan.bands:
                # Preço único: one price for every age, so no age band to show.
                st.markdown(f"**Preço único** (tabela do contrato vigente desde {since})")
                st.metric("Mensalidade", format_money(plan.bands[0].price))
            elif plan.bands:
                st.markdown(
                    f"**Preço por faixa etária** (tabela do contrato vigente desde {since})"
                )
                st.dataframe(
                    pd.DataFrame(
                        {
                            "Faixa": [b.band for b in plan.bands],
                            "Idade": [b.label for b in plan.bands],
                            "Mensalidade": [format_money(b.price) for b in plan.bands],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                )
            else:
                st.caption("Sem tabela de preços do contrato vigente hoje.")
        with right:
            st.markdown("**Condições gerais**")
            with st.expander("Ler as condições gerais"):
                st.text(plan.general_conditions or "Condições gerais não cadastradas.")
            st.download_button(
                "Baixar condições gerais (PDF)",
                data=partial(general_conditions_pdf, plan, ctx.company.label),
                file_name=f"condicoes-gerais-{plan.code}.pdf",
                mime="application/pdf",
                icon=":material/picture_as_pdf:",
                key=f"plan_pdf_{plan.plan_id}",
                on_click="ignore",
            )

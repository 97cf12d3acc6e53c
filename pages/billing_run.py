"""Financeiro > Faturamento mensal (account managers): issue a billing month's invoices."""

import streamlit as st

from components.context import get_context, now_utc
from components.errors import user_errors
from components.fmt import fmt_date, fmt_int, fmt_money, fmt_month, today_local
from components.safe_text import plain
from services import billing
from services.actors import Permission

ctx = get_context(Permission.FINANCE)
if not ctx.actor.is_account_manager:
    st.error("Somente o gestor de contas executa o faturamento mensal.")
    st.stop()
st.title("Faturamento mensal")
st.caption(
    "Emite as faturas da competência: mensalidades de cada beneficiário, retroativos das "
    "inclusões e reativações e diferenças de alteração de plano. Empresas já faturadas na "
    "competência são puladas, então executar de novo não duplica nada."
)

months = billing.billing_month_options(today_local())
month = st.selectbox("Competência", months, format_func=fmt_month, key="run_month")
PORTFOLIO = "Toda a carteira"
scope = st.radio(
    "Empresas",
    [ctx.company.label, PORTFOLIO],
    horizontal=True,
    format_func=plain,
    key="run_scope",
    help=f"A carteira tem {len(ctx.companies)} empresa(s).",
)

if st.button("Faturar", type="primary", key="run_go"):
    bar = st.progress(0.0, text="Iniciando o faturamento")
    with user_errors():
        result = billing.billing_run(
            uow=ctx.uow(),
            actor=ctx.actor,
            billing_month=month,
            company_ids=None if scope == PORTFOLIO else [ctx.company_id],
            now=now_utc(),
            progress=lambda fraction, message: bar.progress(min(1.0, fraction), text=message),
        )
        line_count = fmt_int(result.lines)
        st.success(
            f"Competência {result.billing_month:%m/%Y}: {len(result.billed)} fatura(s) "
            f"emitida(s), {line_count} lançamento(s), total {fmt_money(result.total)}, "
            f"em {result.seconds:.1f} s."
        )
        if result.billed:
            st.dataframe(
                [
                    {
                        "Empresa": f"{b.code} · {b.name}",
                        "Vencimento": fmt_date(b.due_date),
                        "Lançamentos": b.lines,
                        "Valor": fmt_money(b.amount),
                    }
                    for b in result.billed
                ],
                hide_index=True,
                width="stretch",
            )
        if result.skipped:
            st.warning(f"{len(result.skipped)} empresa(s) não faturada(s) nesta execução:")
            st.dataframe(
                [{"Empresa": f"{s.code} · {s.name}", "Motivo": s.reason} for s in result.skipped],
                hide_index=True,
                width="stretch",
            )

"""Financeiro > Faturamento mensal (account managers): issue a billing month's invoices."""

import streamlit as st

from components.clock import today_local
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services import billing
from services.actors import Permission
from services.rules.formats import format_date, format_int, format_money, format_month

# Lines of each kind per invoice issued, as columns of the result table.
KIND_COLUMNS = {
    "monthly": "Mensalidades",
    "retroactive": "Retroativos",
    "credit": "Créditos",
    "plan_change_difference": "Diferenças de plano",
    "stay": "Art. 30/31",
}

ctx = get_context(Permission.FINANCE)
if not ctx.actor.is_account_manager:
    st.error("Somente o gestor de contas executa o faturamento mensal.")
    st.stop()
st.title("Faturamento mensal")
st.caption(
    "Emite as faturas da competência pelo razão de faturamento: cada lançamento cobra um "
    "beneficiário por uma competência de referência. Além das mensalidades, a fatura traz "
    "os retroativos de meses cobertos e ainda não cobrados, os créditos de meses cobrados "
    "sem cobertura, as diferenças de plano e as permanências (art. 30/31). Empresas já "
    "faturadas na competência são puladas, então executar de novo não muda nada."
)

months = billing.billing_month_options(today_local())
month = st.selectbox("Competência", months, format_func=format_month, key="run_month")
PORTFOLIO = "Toda a carteira"
scope = st.radio(
    "Empresas",
    [ctx.company.label, PORTFOLIO],
    horizontal=True,
    format_func=plain,
    key="run_scope",
    help=f"A carteira tem {len(ctx.companies)} empresa(s).",
)

LAST_RUN = "billing_run_last"  # the last run's result, shown until the next run


def show_result(result: billing.BillingRunResult) -> None:
    """What the run issued: invoices with their lines by kind, the adjustment lines
    (catch-up, credits, differences, art. 30/31) with their reference months, and the
    companies skipped."""
    line_count = format_int(result.lines)
    st.success(
        f"Competência {result.billing_month:%m/%Y}: {len(result.billed)} fatura(s) "
        f"emitida(s), {line_count} lançamento(s), total {format_money(result.total)}, "
        f"em {result.seconds:.1f} s."
    )
    if result.billed:
        summary = billing.run_summary(
            uow=ctx.uow(),
            actor=ctx.actor,
            billing_month=result.billing_month,
            invoice_ids=[b.invoice_id for b in result.billed],
        )
        st.dataframe(
            [
                {
                    "Empresa": f"{b.code} · {b.name}",
                    "Vencimento": format_date(b.due_date),
                    "Lançamentos": b.lines,
                    **{KIND_COLUMNS[k]: b.kinds.get(k, 0) for k in KIND_COLUMNS},
                    "Valor": format_money(b.amount),
                }
                for b in result.billed
            ],
            hide_index=True,
            width="stretch",
            key="run_billed",
        )
        if summary.adjustment_lines:
            shown = len(summary.adjustments)
            st.markdown(
                f"**Retroativos, créditos, diferenças e art. 30/31 emitidos: "
                f"{format_int(summary.adjustment_lines)}**"
                + (
                    f" (os primeiros {format_int(shown)})"
                    if shown < summary.adjustment_lines
                    else ""
                )
            )
            adjustments = summary.adjustments
            st.dataframe(
                adjustments.assign(
                    **{
                        "Competência de referência": [
                            f"{d:%m/%Y}" for d in adjustments["Competência de referência"]
                        ],
                        "Valor": [format_money(v) for v in adjustments["Valor"]],
                    }
                ),
                hide_index=True,
                width="stretch",
                key="run_adjustments",
            )
        else:
            st.caption("Nenhum retroativo, crédito ou diferença de plano nesta execução.")
    if result.skipped:
        st.warning(f"{len(result.skipped)} empresa(s) não faturada(s) nesta execução:")
        st.dataframe(
            [{"Empresa": f"{s.code} · {s.name}", "Motivo": s.reason} for s in result.skipped],
            hide_index=True,
            width="stretch",
        )


if st.button("Faturar", type="primary", key="run_go"):
    st.session_state.pop(LAST_RUN, None)
    bar = st.progress(0.0, text="Iniciando o faturamento")

    def show_progress(fraction: float, message: str) -> None:
        bar.progress(min(1.0, fraction), text=message)

    with user_errors():
        st.session_state[LAST_RUN] = billing.billing_run(
            uow=ctx.uow(),
            actor=ctx.actor,
            billing_month=month,
            company_ids=None if scope == PORTFOLIO else [ctx.company_id],
            now=now_utc(),
            progress=show_progress,
        )
    bar.empty()
# Kept across reruns (a later widget event must not wipe what was issued).
last = st.session_state.get(LAST_RUN)
if last is not None:
    show_result(last)

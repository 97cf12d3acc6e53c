"""Financeiro > Faturamento mensal (account managers): issue a billing month's invoices.

The run is a job on the task queue (services/jobs/billing_run.py): the page queues it,
follows its progress and shows its result, also after the browser was closed."""

import streamlit as st

from components.clock import today_local
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services import billing
from services.actors import Permission
from services.jobs.billing_run import (
    BillingJob,
    billing_run_enqueue,
    billing_run_latest,
    billing_run_status,
)
from services.jobs.stall import JobState
from services.rules.formats import (
    format_date,
    format_datetime,
    format_int,
    format_money,
    format_month,
)

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


JOB_KEY = "billing_run_job"  # the id of the run this page follows
POLL_SECONDS = 2


def followed() -> BillingJob | None:
    """The run started here, else the user's newest one (the browser was closed)."""
    job_id = st.session_state.get(JOB_KEY)
    if job_id is not None:
        return billing_run_status(uow=ctx.uow(), actor=ctx.actor, job_id=job_id)
    return billing_run_latest(uow=ctx.uow(), actor=ctx.actor)


@st.fragment(run_every=POLL_SECONDS)
def run_progress(job_id: int) -> None:
    """The queued run's progress, read again every few seconds; the whole page runs again
    once the run is over."""
    job = billing_run_status(uow=ctx.uow(), actor=ctx.actor, job_id=job_id)
    if job is None or job.over:
        st.rerun(scope="app")
    if job.state is JobState.QUEUED:
        st.progress(0.0, text="Na fila: o faturamento começa em instantes.")
    elif job.state is JobState.STALLED:
        st.progress(
            job.fraction,
            text="Interrompido: o faturamento é retomado automaticamente em instantes.",
        )
    else:
        st.progress(min(1.0, job.fraction), text=job.message or "Faturando")
    st.caption(
        "Pode fechar esta página: o faturamento continua e o resultado aparece aqui quando "
        "você voltar."
    )


with user_errors():
    if st.button("Faturar", type="primary", key="run_go"):
        started = billing_run_enqueue(
            uow=ctx.uow(),
            actor=ctx.actor,
            billing_month=month,
            company_ids=None if scope == PORTFOLIO else [ctx.company_id],
            now=now_utc(),
        )
        st.session_state[JOB_KEY] = started.id
    job = followed()
    if job is not None:
        st.caption(
            f"Faturamento da competência {format_month(job.billing_month)} pedido em "
            f"{format_datetime(job.created_at)}."
        )
        if not job.over:
            run_progress(job.id)
        elif job.status == "failed":
            st.error(plain(job.message))
        elif job.result is not None:
            show_result(job.result)

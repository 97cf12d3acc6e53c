"""Financeiro > Arquivos bancários (account managers): the CNAB 240 remessa with the
boletos to register with the bank, past remessas, and the retorno with the payments."""

import streamlit as st

from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services.billing import bank_files
from services.rules.formats import format_date, format_datetime, format_money, format_month_numeric

ctx = get_context()
if not ctx.actor.is_account_manager:
    st.error("Somente o gestor de contas gera e lê os arquivos bancários.")
    st.stop()
st.title("Arquivos bancários")
st.caption(
    "Registro dos boletos no banco (remessa CNAB 240) e leitura dos pagamentos (retorno "
    "CNAB 240), para as empresas da sua carteira. Cada pagamento é conferido pelo nosso "
    "número e quita a fatura quando cobre o valor com multa e juros; o que diverge é "
    "listado, nunca presumido. Ler o mesmo arquivo de novo não muda nada."
)

LAST_REMESSA = "bank_files_last_remessa"
LAST_RETORNO = "bank_files_last_retorno"
DONE = "bank_files_remessa_done"  # the message of the remessa just generated
remessa_tab, retorno_tab = st.tabs(["Remessa", "Retorno"])

with remessa_tab:
    done = st.session_state.pop(DONE, None)
    if done:
        st.success(done)
    rows: list[bank_files.RemessaRow] = []
    with user_errors():
        rows = bank_files.remessa_preview(uow=ctx.uow(), actor=ctx.actor)
    entries = sum(1 for r in rows if r.movement == "01")
    c1, c2 = st.columns(2)
    c1.metric("Entradas (boletos novos)", entries)
    c2.metric("Baixas (boletos substituídos ou cancelados)", len(rows) - entries)
    if rows:
        st.dataframe(
            [
                {
                    "Empresa": f"{r.company_code} · {r.company_name}",
                    "Competência": format_month_numeric(r.billing_month),
                    "Nosso número": r.our_number,
                    "Vencimento": format_date(r.due_date),
                    "Valor": format_money(r.amount),
                    "Movimento": r.movement_label,
                }
                for r in rows
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("Nenhum boleto novo ou atualizado desde a última remessa.")
    generated = False
    if st.button("Gerar remessa", type="primary", disabled=not rows, key="remessa_generate"):
        with user_errors():
            made = bank_files.remessa_generate(uow=ctx.uow(), actor=ctx.actor, now=now_utc())
            st.session_state[LAST_REMESSA] = made.remittance_id
            st.session_state[DONE] = (
                f"Remessa nº {made.nsa} gerada com {len(made.rows)} boleto(s). Baixe o arquivo "
                "abaixo e envie-o ao banco."
            )
            generated = True
    if generated:
        st.rerun()  # the list above is drawn again without what was just sent

    st.subheader("Remessas geradas")
    past: list[bank_files.RemessaSummary] = []
    with user_errors():
        past = bank_files.remessa_list(uow=ctx.uow(), actor=ctx.actor)
    if past:
        st.dataframe(
            [
                {
                    "NSA": s.nsa,
                    "Gerada em": format_datetime(s.generated_at),
                    "Boletos": s.titles,
                    "Total das entradas": format_money(s.entries_total),
                    "Empresas": s.companies,
                    "Arquivo": s.file_name,
                }
                for s in past
            ],
            hide_index=True,
            width="stretch",
        )
        by_id = {s.remittance_id: s for s in past}
        ids = list(by_id)
        last = st.session_state.get(LAST_REMESSA)
        chosen = st.selectbox(
            "Remessa para baixar",
            ids,
            index=ids.index(last) if last in by_id else 0,
            format_func=lambda i: f"NSA {by_id[i].nsa} · {format_datetime(by_id[i].generated_at)}",
            key="remessa_choice",
        )
        with user_errors():
            file = bank_files.remessa_file(uow=ctx.uow(), actor=ctx.actor, remittance_id=chosen)
            st.download_button(
                "Baixar remessa",
                data=file.content,
                file_name=file.file_name,
                mime="text/plain",
                on_click="ignore",
                icon=":material/download:",
                key="remessa_download",
            )
    else:
        st.caption("Nenhuma remessa gerada para a sua carteira.")

with retorno_tab:
    uploaded = st.file_uploader(
        "Arquivo de retorno CNAB 240 do banco",
        key="retorno_upload",
        help="O arquivo como o banco o enviou (240 posições por linha), até 5 MB.",
    )
    if st.button("Ler retorno", type="primary", disabled=uploaded is None, key="retorno_read"):
        st.session_state.pop(LAST_RETORNO, None)
        if uploaded is not None:
            with user_errors():
                st.session_state[LAST_RETORNO] = bank_files.retorno_apply(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    file_name=uploaded.name,
                    content=uploaded.getvalue(),
                    now=now_utc(),
                )
    result: bank_files.RetornoResult | None = st.session_state.get(LAST_RETORNO)
    if result is not None:
        st.caption(f"Arquivo {plain(result.file_name)} · NSA {result.nsa}")
        if result.already_read is not None:
            st.info(
                f"Este arquivo já tinha sido lido em {format_datetime(result.already_read)}: "
                "o que já foi registrado não muda."
                + (
                    f" {result.applied} pagamento(s) de empresas que estavam fora da carteira "
                    "de quem o leu foram registrados agora."
                    if result.applied
                    else ""
                )
            )
        else:
            st.success(f"Retorno lido: {result.applied} pagamento(s) registrado(s).")
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Pagos", result.count("paid"))
        m2.metric("Divergentes", result.count("divergent"))
        m3.metric("Desconhecidos", result.count("unknown"))
        m4.metric("Já processados", result.count("already_paid"))
        others = len(result.lines) - sum(
            result.count(s) for s in ("paid", "divergent", "unknown", "already_paid")
        )
        if others:
            st.caption(f"{others} linha(s) sem pagamento ou fora da sua carteira.")
        st.dataframe(
            [
                {
                    "Linha": x.line_number,
                    "Nosso número": x.title_id,
                    "Empresa": f"{x.company_code} · {x.company_name}" if x.company_code else "",
                    "Competência": format_month_numeric(x.billing_month) if x.billing_month else "",
                    "Situação": x.status_label,
                    "Valor pago": format_money(x.paid),
                    "Multa e juros": format_money(x.charges),
                    "Devido": format_money(x.owed),
                    "Pago em": format_date(x.paid_on),
                    "Crédito em": format_date(x.credited_on),
                    "Observação": x.note,
                }
                for x in result.lines
            ],
            hide_index=True,
            width="stretch",
        )

    st.subheader("Retornos lidos")
    read_before: list[bank_files.RetornoSummary] = []
    with user_errors():
        read_before = bank_files.retorno_list(uow=ctx.uow(), actor=ctx.actor)
    if read_before:
        st.dataframe(
            [
                {
                    "Lido em": format_datetime(r.read_at),
                    "Arquivo": r.file_name,
                    "NSA": r.nsa,
                    "Pagos": r.count("paid"),
                    "Divergentes": r.count("divergent"),
                    "Desconhecidos": r.count("unknown"),
                    "Já processados": r.count("already_paid"),
                }
                for r in read_before
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("Nenhum retorno lido para a sua carteira.")

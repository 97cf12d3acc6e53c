"""Empresa > Documentos: income-tax statements, the declaration of discharge of debts and
permanence letters, each a PDF with a verification code (services/documents.py)."""

import streamlit as st

from components.clock import today_local
from components.context import get_context, now_utc, portal_base_url
from components.document_pdf import (
    discharge_pdf,
    exclusion_proof_pdf,
    income_tax_pdf,
    permanence_pdf,
)
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services import billing, documents
from services.rules.formats import (
    format_date,
    format_datetime,
    format_money,
    format_month_numeric,
)
from services.rules.issued_documents import DocumentKind

ISSUED_KEY = "documents_issued"

ctx = get_context()
st.title("Documentos")
st.caption(plain(ctx.company.label))
st.markdown(
    "Emita os documentos que os beneficiários e a empresa pedem: cada um é um PDF com um "
    "**código de verificação** que qualquer pessoa confere na página pública **Validar "
    "documento**. Toda emissão fica registrada na trilha de auditoria."
)

refusals = documents.document_refusals(ctx.actor)
kind: DocumentKind = (
    st.radio(
        "Documento",
        list(DocumentKind),
        format_func=lambda k: k.label,
        horizontal=True,
        key="documents_kind",
    )
    or DocumentKind.INCOME_TAX
)
base_url = portal_base_url()


def keep(issued: documents.IssuedFile) -> None:
    st.session_state[ISSUED_KEY] = (ctx.company_id, kind, issued)


if refusals[kind]:
    st.warning(plain(refusals[kind]))
elif kind is DocumentKind.INCOME_TAX:
    st.caption(
        "Valores pagos à operadora no ano-calendário (pela data do pagamento de cada "
        "fatura) para o titular e cada dependente, com nome, CPF e parentesco."
    )
    years: list[int] = []
    with user_errors():
        years = documents.income_tax_years(uow=ctx.uow(), actor=ctx.actor)
    if not years:
        st.info("Nenhuma fatura desta empresa foi paga ainda: não há demonstrativo a emitir.")
    else:
        closed = [y for y in years if y < today_local().year]  # the usual ask: last year
        year = st.selectbox(
            "Ano-calendário",
            years,
            index=years.index(closed[0]) if closed else 0,
            key="documents_ir_year",
            help="O ano em curso dá um demonstrativo parcial (pagamentos até hoje).",
        )
        holders = documents.income_tax_holders(uow=ctx.uow(), actor=ctx.actor, year=year)
        if not holders:
            st.info(f"Nenhum valor pago em {year}.")
        else:
            by_id = {h.id: h for h in holders}
            holder_id = st.selectbox(
                f"Titular ({len(holders)} com valores pagos em {year})",
                list(by_id),
                format_func=lambda i: by_id[i].label,
                key="documents_ir_holder",
            )
            one, every = st.columns(2)
            if one.button("Emitir demonstrativo do titular", type="primary", key="ir_one"):
                with user_errors():
                    keep(
                        documents.income_tax_issue(
                            uow=ctx.uow(),
                            actor=ctx.actor,
                            holder_id=holder_id,
                            year=year,
                            now=now_utc(),
                            base_url=base_url,
                            render=income_tax_pdf,
                        )
                    )
            if every.button(
                f"Emitir os {len(holders)} demonstrativos (zip)",
                key="ir_all",
                help="Um PDF por titular, cada um com o seu código de verificação.",
            ):
                with user_errors(), st.spinner("Gerando os demonstrativos..."):
                    keep(
                        documents.income_tax_issue_all(
                            uow=ctx.uow(),
                            actor=ctx.actor,
                            year=year,
                            now=now_utc(),
                            base_url=base_url,
                            render=income_tax_pdf,
                        )
                    )
elif kind is DocumentKind.DISCHARGE:
    st.caption(
        "Declaração anual de quitação de débitos (Lei 12.007/2009): emitida para um ano "
        "encerrado quando todas as faturas com vencimento no ano (e antes dele) estão pagas."
    )
    years = billing.invoice_years(uow=ctx.uow(), actor=ctx.actor)
    if not years:
        st.info("Esta empresa ainda não tem faturas.")
    else:
        year = st.selectbox("Ano", years, key="documents_discharge_year")
        check = documents.discharge_status(
            uow=ctx.uow(), actor=ctx.actor, year=year, today=today_local()
        )
        if not check.eligible:
            st.warning(plain(check.problem or ""))
            if check.open_invoices:
                st.markdown("**Faturas em aberto**")
                st.dataframe(
                    [
                        {
                            "Competência": format_month_numeric(i.billing_month),
                            "Vencimento": format_date(i.due_date),
                            "Valor": format_money(i.amount),
                        }
                        for i in check.open_invoices
                    ],
                    hide_index=True,
                    width="stretch",
                )
                st.page_link("pages/boleto.py", label="2ª via de boleto", icon=":material/barcode:")
        else:
            st.success(
                f"Todas as {len(check.invoices)} faturas com vencimento em {year} estão pagas "
                f"({format_money(check.total_paid)})."
            )
            if st.button("Emitir declaração de quitação", type="primary", key="discharge"):
                with user_errors():
                    keep(
                        documents.discharge_issue(
                            uow=ctx.uow(),
                            actor=ctx.actor,
                            year=year,
                            now=now_utc(),
                            base_url=base_url,
                            render=discharge_pdf,
                        )
                    )
elif kind is DocumentKind.PERMANENCE:
    st.caption(
        "Carta de permanência para portabilidade de carências: plano, registro ANS, "
        "segmentação, períodos de cobertura e carências cumpridas do beneficiário."
    )
    slots = FieldSlots()
    with st.form("documents_permanence"):
        term = st.text_input(
            "CPF ou carteirinha do beneficiário *",
            max_chars=20,
            placeholder="000.000.000-00 ou 0001 0000 0000 0000",
        )
        slots.add("term")
        submitted = st.form_submit_button("Emitir carta de permanência", type="primary")
    if submitted:
        with user_errors(slots):
            keep(
                documents.permanence_issue(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    term=term,
                    now=now_utc(),
                    base_url=base_url,
                    render=permanence_pdf,
                )
            )
else:
    st.caption(
        "Comprovante de exclusão (RN 561/2022) com código de verificação: informe o "
        "protocolo da exclusão (o titular e os dependentes excluídos com ele)."
    )
    slots = FieldSlots()
    with st.form("documents_exclusion_proof"):
        protocol = st.text_input("Protocolo da exclusão *", max_chars=30)
        slots.add("protocol_number")
        submitted = st.form_submit_button("Emitir comprovante de exclusão", type="primary")
    if submitted:
        with user_errors(slots):
            keep(
                documents.exclusion_proof_issue(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    protocol_number=protocol,
                    now=now_utc(),
                    base_url=base_url,
                    render=exclusion_proof_pdf,
                )
            )

kept = st.session_state.get(ISSUED_KEY)
if kept and kept[0] == ctx.company_id and kept[1] is kind:
    issued: documents.IssuedFile = kept[2]
    if len(issued.codes) == 1:
        st.success(f"Documento emitido. Código de verificação: **{issued.codes[0]}**")
    else:
        st.success(f"{len(issued.codes)} documentos emitidos, cada um com o seu código.")
    st.download_button(
        "Baixar " + ("PDF" if issued.mime == documents.PDF_MIME else "zip"),
        data=issued.content,
        file_name=issued.file_name,
        mime=issued.mime,
        icon=":material/download:",
        on_click="ignore",
        key="documents_download",
    )
st.page_link("pages/validate_document.py", label="Validar um documento", icon=":material/verified:")

if any(why is None for why in refusals.values()):
    with st.expander("Documentos emitidos nesta empresa"), user_errors():
        issued_rows = documents.issued_document_list(uow=ctx.uow(), actor=ctx.actor)
        if not issued_rows:
            st.caption("Nenhum documento emitido ainda.")
        else:
            st.dataframe(
                {
                    "Emitido em": [format_datetime(r.issued_at) for r in issued_rows],
                    "Documento": [r.kind_label for r in issued_rows],
                    "Código": [r.code for r in issued_rows],
                    "Referente a": [r.about for r in issued_rows],
                    "Emitido por": [r.issued_by for r in issued_rows],
                },
                hide_index=True,
                width="stretch",
            )

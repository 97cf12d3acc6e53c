"""Validar documento (public, no login): whether a verification code was issued by the
portal, and what that document covers, personal data masked (services/documents.py)."""

import streamlit as st

from components.context import client_address, new_uow, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services import documents
from services.rules.formats import format_datetime

OPENED_KEY = "validate_document_opened"

st.title("Validar documento")
st.write(
    "Confira se um documento emitido pelo Portal Empresa (demonstrativo para Imposto de "
    "Renda, declaração de quitação de débitos, carta de permanência, comprovante de "
    "exclusão) é autêntico: informe o código de verificação impresso no rodapé. Se "
    "quiser, envie também o PDF para conferir se é exatamente o arquivo emitido."
)

prefill = str(st.query_params.get(documents.VALIDATION_PARAM, ""))[:30]
slots = FieldSlots()
with st.form("validate_document"):
    code = st.text_input(
        "Código de verificação *", value=prefill, max_chars=30, placeholder="XXXX-XXXX-XXXX"
    )
    slots.add("code")
    upload = st.file_uploader("PDF do documento (opcional)", type=["pdf"])
    submitted = st.form_submit_button("Validar", type="primary")

# Opened from the address printed on the document: validate its code once, at once.
auto = bool(prefill) and st.session_state.get(OPENED_KEY) != prefill
if auto:
    st.session_state[OPENED_KEY] = prefill
if submitted or auto:
    with user_errors(slots):
        result = documents.document_validate(
            uow=new_uow(),
            code=code if submitted else prefill,
            now=now_utc(),
            client=client_address(),
            content=upload.getvalue() if submitted and upload is not None else None,
        )
        st.success(
            f"Documento autêntico: **{plain(result.kind_label)}** emitido pelo Portal Empresa "
            f"em {format_datetime(result.issued_at)}."
        )
        rows = [
            ("Código", result.code),
            ("Documento", result.kind_label),
            ("Emitido em", format_datetime(result.issued_at)),
            ("Empresa", result.company_name),
            *result.facts,
        ]
        st.dataframe(
            {"Informação": [r[0] for r in rows], "Valor": [r[1] for r in rows]},
            hide_index=True,
            width="stretch",
        )
        if result.file_matches is True:
            st.success("O PDF enviado é exatamente o documento emitido com este código.")
        elif result.file_matches is False:
            st.error(
                "O PDF enviado NÃO é o documento emitido com este código: foi alterado ou é "
                "outro documento."
            )
        st.caption(f"Resumo SHA-256 do PDF emitido: {result.content_sha256}")

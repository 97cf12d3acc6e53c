"""The page of the proof of exclusion (comprovante de exclusão, ANS RN 561/2022), fpdf2.

components/document_pdf.py draws the proof with it, with a verification code: one A4
page per excluded beneficiary of the protocol: operator (name, CNPJ and ANS
registration), company, beneficiary (name, card, masked CPF), the date the exclusion
takes effect, the reason, the protocol number and the date the proof was issued.
"""

from __future__ import annotations

from fpdf import FPDF

from services.movements.exclusion_proof import ExcludedPerson, ExclusionProofView
from services.rules.formats import format_date, format_datetime, latin1

LABEL_WIDTH = 62.0


def _para(pdf: FPDF, height: float, text: str) -> None:
    pdf.multi_cell(0, height, latin1(text), new_x="LMARGIN", new_y="NEXT")


def _field(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(LABEL_WIDTH, 7, latin1(label), border="B")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 7, latin1(value), border="B", new_x="LMARGIN", new_y="NEXT")


def exclusion_page(pdf: FPDF, view: ExclusionProofView, person: ExcludedPerson) -> None:
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    _para(pdf, 7, view.operator_name)
    pdf.set_font("Helvetica", "", 9)
    _para(pdf, 5, f"CNPJ {view.operator_cnpj} · Registro ANS nº {view.operator_ans}")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        0,
        9,
        latin1("Comprovante de exclusão de beneficiário"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        latin1("Resolução Normativa ANS nº 561/2022"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)
    _field(pdf, "Protocolo nº", view.protocol_number)
    _field(pdf, "Solicitada em", format_datetime(view.requested_at))
    _field(pdf, "Empresa contratante", f"{view.company_name} · {view.company_document}")
    _field(pdf, "Beneficiário", person.name)
    _field(pdf, "Parentesco", person.relationship_label)
    _field(pdf, "Número da carteirinha", person.card_formatted)
    _field(pdf, "CPF", person.cpf_masked or "não informado")
    _field(pdf, "Data de exclusão", format_date(person.effective_date))
    _field(pdf, "Motivo", person.reason_label)
    pdf.ln(5)
    pdf.set_font("Helvetica", "", 10)
    since = format_date(person.effective_date)
    text = f"O beneficiário deixa de ter cobertura no plano a partir de {since}."
    if person.scheduled:
        text = f"Exclusão agendada: o beneficiário continua coberto até a véspera; {text}"
    _para(pdf, 5, text)
    pdf.ln(2)
    _para(
        pdf,
        5,
        "Este comprovante informa a exclusão do beneficiário do contrato coletivo "
        "empresarial, com o número de protocolo da solicitação, conforme a "
        "RN ANS nº 561/2022. Guarde-o para eventual consulta.",
    )
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    _para(pdf, 5, f"Emitido em {format_date(view.issued_on)} pelo Portal Empresa.")

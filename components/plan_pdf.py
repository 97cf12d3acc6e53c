"""The general conditions of a contracted plan as a PDF (fpdf2), with the contract's price
table: by age band, or a single price with no band."""

from __future__ import annotations

from fpdf import FPDF

from services.companies import ContractedPlanView
from services.rules.formats import format_date, format_money, latin1


def _para(pdf: FPDF, height: float, text: str) -> None:
    pdf.multi_cell(0, height, latin1(text), new_x="LMARGIN", new_y="NEXT")


def general_conditions_pdf(plan: ContractedPlanView, company_label: str) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(latin1(f"Condições gerais - {plan.name}"))
    pdf.set_creator("Portal Empresa")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    _para(pdf, 7, f"{plan.name} · Registro ANS nº {plan.ans_registration}")
    pdf.set_font("Helvetica", "", 9)
    _para(
        pdf,
        5,
        f"Segmentação: {plan.segment} · contratado por {company_label} desde "
        f"{format_date(plan.start_date)}",
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    for paragraph in plan.general_conditions.split("\n\n"):
        text = paragraph.strip()
        if not text:
            continue
        if "\n" not in text and len(text) < 120:  # a heading line
            pdf.set_font("Helvetica", "B", 11)
            _para(pdf, 6, text)
            pdf.set_font("Helvetica", "", 10)
            pdf.ln(1)
            continue
        _para(pdf, 5, text)
        pdf.ln(2)
    if plan.bands:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        since = ""
        if plan.price_valid_from:
            since = f" (vigente desde {format_date(plan.price_valid_from)})"
        if plan.single_price:  # one price for every age: no age band to show
            _para(pdf, 6, f"Preço único do contrato{since}")
            pdf.set_font("Helvetica", "", 10)
            pdf.cell(90, 6, latin1("Mensalidade (todas as idades)"), border="B")
            pdf.cell(
                0,
                6,
                latin1(format_money(plan.bands[0].price)),
                border="B",
                align="R",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            return bytes(pdf.output())
        _para(pdf, 6, f"Tabela de preços do contrato por faixa etária{since}")
        pdf.set_font("Helvetica", "", 10)
        for band in plan.bands:
            pdf.cell(90, 6, latin1(f"Faixa {band.band}: {band.label}"), border="B")
            pdf.cell(
                0,
                6,
                latin1(format_money(band.price)),
                border="B",
                align="R",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    return bytes(pdf.output())

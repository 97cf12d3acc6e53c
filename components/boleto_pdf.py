"""The duplicate boleto as a PDF and the PIX QR code as a PNG.

The PDF (fpdf2) has the payer's receipt and the payment slip ("ficha de
compensação") with the typed line, the fields of a FEBRABAN boleto, the PIX QR
code and the Interleaved 2 of 5 barcode drawn bar by bar from
`services.rules.boleto.itf_pattern` (no barcode library): FEBRABAN's barcode is
about 103 mm wide and 13 mm high, with wide bars 3 times the narrow ones.
segno only draws the QR code of a payload the project built and validated itself.
"""

from __future__ import annotations

import io

import segno
from fpdf import FPDF

from services.billing.payments import BoletoView
from services.rules.boleto import itf_pattern
from services.rules.formats import (
    format_date,
    format_money,
    format_month_numeric,
    format_percent,
    latin1,
)

BARCODE_WIDTH_MM = 103.0
BARCODE_HEIGHT_MM = 13.0
LEFT = 10.0
WIDTH = 190.0
RIGHT_COLUMN = 50.0


def pix_qr_png(payload: str, scale: int = 6) -> bytes:
    """PNG of the QR code of a PIX "copia e cola" payload."""
    qr = segno.make(payload, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


class _Slip:
    def __init__(self) -> None:
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(LEFT, 10)
        pdf.set_title("2a via de boleto")
        pdf.set_creator("Portal Empresa")
        pdf.add_page()
        self.pdf = pdf

    def text(self, x: float, y: float, text: str, size: float = 9, bold: bool = False) -> None:
        self.pdf.set_font("Helvetica", "B" if bold else "", size)
        self.pdf.text(x, y, latin1(text))

    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        label: str,
        value: str,
        bold: bool = False,
        align_right: bool = False,
    ) -> None:
        self.pdf.set_line_width(0.2)
        self.pdf.rect(x, y, w, h)
        self.text(x + 1, y + 2.6, label, size=6)
        self.pdf.set_font("Helvetica", "B" if bold else "", 9)
        value = latin1(value)
        vx = x + w - 1.5 - self.pdf.get_string_width(value) if align_right else x + 1.5
        self.pdf.text(vx, y + h - 1.6, value)

    def barcode(self, x: float, y: float, code: str) -> None:
        elements = itf_pattern(code)
        unit = BARCODE_WIDTH_MM / sum(width for _, width in elements)
        self.pdf.set_fill_color(0, 0, 0)
        for is_bar, width in elements:
            if is_bar:
                self.pdf.rect(x, y, width * unit, BARCODE_HEIGHT_MM, style="F")
            x += width * unit

    def dashed_cut(self, y: float, label: str) -> None:
        self.pdf.set_dash_pattern(dash=1.5, gap=1)
        self.pdf.line(LEFT, y, LEFT + WIDTH, y)
        self.pdf.set_dash_pattern()
        self.text(LEFT + WIDTH - 40, y - 1, label, size=6)


def boleto_pdf(view: BoletoView) -> bytes:
    """The boleto of ``view`` as a one-page A4 PDF."""
    s = _Slip()
    pdf = s.pdf
    month = format_month_numeric(view.billing_month)
    s.text(LEFT, 16, view.operator_name, size=14, bold=True)
    s.text(LEFT, 21, f"CNPJ {view.operator_document} · {view.operator_city}", size=8)
    s.text(LEFT + WIDTH - 45, 16, "2ª via de boleto", size=12, bold=True)
    s.text(LEFT + WIDTH - 45, 21, f"Fatura de competência {month}", size=8)

    # Payer's receipt
    s.text(LEFT, 30, "Recibo do pagador", size=9, bold=True)
    y = 32.0
    s.box(LEFT, y, 100, 10, "Beneficiário", view.operator_name)
    s.box(LEFT + 100, y, 45, 10, "Agência/Código do beneficiário", view.beneficiary_code)
    s.box(
        LEFT + 145, y, 45, 10, "Vencimento", format_date(view.due_date), bold=True, align_right=True
    )
    y += 10
    s.box(LEFT, y, 100, 10, "Pagador", f"{view.payer_name}")
    s.box(LEFT + 100, y, 45, 10, "Nosso número", view.our_number)
    s.box(
        LEFT + 145,
        y,
        45,
        10,
        "(=) Valor cobrado",
        format_money(view.amount),
        bold=True,
        align_right=True,
    )
    y += 10
    s.box(LEFT, y, WIDTH, 10, "Linha digitável", view.typed_line_formatted)
    s.dashed_cut(y + 17, "Corte na linha pontilhada")

    # Payment slip
    y += 22
    pdf.set_line_width(0.5)
    pdf.line(LEFT, y + 9, LEFT + WIDTH, y + 9)
    s.text(LEFT, y + 7, view.operator_name[:28], size=10, bold=True)
    pdf.line(LEFT + 55, y + 1, LEFT + 55, y + 9)
    s.text(LEFT + 58, y + 7, view.bank_code, size=13, bold=True)
    pdf.line(LEFT + 70, y + 1, LEFT + 70, y + 9)
    s.text(LEFT + 73, y + 7, view.typed_line_formatted, size=11, bold=True)
    y += 10
    left_w = WIDTH - RIGHT_COLUMN
    rx = LEFT + left_w
    s.box(
        LEFT,
        y,
        left_w,
        10,
        "Local de pagamento",
        "Pagável em qualquer banco, lotérica ou aplicativo até o vencimento",
    )
    s.box(
        rx,
        y,
        RIGHT_COLUMN,
        10,
        "Vencimento",
        format_date(view.due_date),
        bold=True,
        align_right=True,
    )
    y += 10
    s.box(
        LEFT, y, left_w, 10, "Beneficiário", f"{view.operator_name} · CNPJ {view.operator_document}"
    )
    s.box(
        rx,
        y,
        RIGHT_COLUMN,
        10,
        "Agência/Código do beneficiário",
        view.beneficiary_code,
        align_right=True,
    )
    y += 10
    w = left_w / 5
    s.box(LEFT, y, w, 10, "Data do documento", format_date(view.issued_at.date()))
    s.box(LEFT + w, y, w, 10, "Nº do documento", str(view.invoice_id))
    s.box(LEFT + 2 * w, y, w, 10, "Espécie doc.", "DS")
    s.box(LEFT + 3 * w, y, w, 10, "Aceite", "N")
    s.box(LEFT + 4 * w, y, w, 10, "Competência", month)
    s.box(rx, y, RIGHT_COLUMN, 10, "Nosso número", view.our_number, align_right=True)
    y += 10
    s.box(LEFT, y, w, 10, "Uso do banco", "")
    s.box(LEFT + w, y, w, 10, "Carteira", view.bank_wallet)
    s.box(LEFT + 2 * w, y, w, 10, "Espécie", "R$")
    s.box(LEFT + 3 * w, y, 2 * w, 10, "Quantidade / Valor", "")
    s.box(
        rx,
        y,
        RIGHT_COLUMN,
        10,
        "(=) Valor do documento",
        format_money(view.document_amount),
        align_right=True,
    )
    y += 10
    instructions_top = y
    pdf.rect(LEFT, y, left_w, 50)
    s.text(LEFT + 1, y + 2.6, "Instruções (texto de responsabilidade do beneficiário)", size=6)
    lines = [
        f"Fatura do plano odontológico coletivo, competência {month}.",
        f"Após o vencimento: multa de {format_percent(view.fine_pct)} e juros de mora",
        f"de {format_percent(view.monthly_interest_pct)} ao mês, pro rata die.",
    ]
    if view.fine or view.interest:
        lines.append(
            f"Boleto atualizado: multa {format_money(view.fine)} e juros "
            f"{format_money(view.interest)} incluídos."
        )
    lines.append("Ou pague com PIX pelo QR Code ao lado.")
    for i, line in enumerate(lines):
        s.text(LEFT + 2, y + 8 + 5 * i, line, size=8)
    pdf.image(
        io.BytesIO(pix_qr_png(view.pix_payload, scale=4)), x=LEFT + left_w - 42, y=y + 4, w=38, h=38
    )
    s.text(LEFT + left_w - 36, y + 46, "PIX copia e cola", size=7, bold=True)
    for label, value in (
        ("(-) Desconto / Abatimento", ""),
        ("(+) Multa", format_money(view.fine) if view.fine else ""),
        ("(+) Juros / Mora", format_money(view.interest) if view.interest else ""),
        ("(=) Valor cobrado", format_money(view.amount)),
    ):
        s.box(
            rx, y, RIGHT_COLUMN, 12.5, label, value, bold=label.startswith("(="), align_right=True
        )
        y += 12.5
    y = instructions_top + 50
    pdf.rect(LEFT, y, WIDTH, 16)
    s.text(LEFT + 1, y + 2.6, "Pagador", size=6)
    s.text(LEFT + 2, y + 7, f"{view.payer_name} · {view.payer_document}", size=9)
    s.text(LEFT + 2, y + 12, view.payer_address, size=8)
    y += 20
    s.barcode(LEFT, y, view.barcode)
    s.text(LEFT + WIDTH - 60, y + 4, "Autenticação mecânica", size=6)
    s.text(LEFT + WIDTH - 60, y + 8, "Ficha de compensação", size=8, bold=True)
    s.dashed_cut(y + BARCODE_HEIGHT_MM + 8, "Corte na linha pontilhada")
    return bytes(pdf.output())

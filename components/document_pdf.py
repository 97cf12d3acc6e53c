"""Documents on demand as PDFs (fpdf2), in the portal's style (see exclusion_pdf.py):
operator on top (name, CNPJ, ANS registration), a centred title, labelled fields, and a
verification box with the code and the public page's address on every page.

Each builder takes the view the service made (services/documents.py) and returns the
bytes the service hashes and records. The PDF's creation date is the issue moment, so
the same view always gives the same bytes.
"""

from __future__ import annotations

from fpdf import FPDF

from components.exclusion_pdf import exclusion_page
from services.documents import (
    DischargeView,
    DocumentHeader,
    ExclusionProofDocument,
    IncomeTaxView,
    PermanenceView,
)
from services.rules.eligibility import Relationship
from services.rules.formats import (
    format_cpf,
    format_date,
    format_datetime,
    format_money,
    format_month_numeric,
    latin1,
)
from services.rules.issued_documents import months_text

LABEL_WIDTH = 62.0


class _Document(FPDF):
    """A4 page with the verification footer on every page."""

    def __init__(self, header: DocumentHeader) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc = header
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=34)
        self.set_title(latin1(f"{header.kind.label} - {header.code}"))
        self.set_creator("Portal Empresa")
        self.set_creation_date(header.issued_at)

    def footer(self) -> None:
        self.set_y(-30)
        self.set_draw_color(120, 120, 120)
        self.set_font("Helvetica", "B", 9)
        self.cell(
            0,
            6,
            latin1(f"Código de verificação: {self.doc.code}"),
            border="T",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_font("Helvetica", "", 8)
        self.multi_cell(
            0,
            4,
            latin1(
                f"Confira a autenticidade em {self.doc.validation_page} informando o código "
                f"acima, ou acesse {self.doc.validation_url}"
            ),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.cell(
            0,
            4,
            latin1(f"Emitido em {format_datetime(self.doc.issued_at)} · página {self.page_no()}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _para(pdf: FPDF, height: float, text: str) -> None:
    pdf.multi_cell(0, height, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")


def _field(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(LABEL_WIDTH, 7, latin1(label), border="B")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 7, latin1(value), border="B", new_x="LMARGIN", new_y="NEXT")


def _top(pdf: _Document, subtitle: str) -> None:
    h = pdf.doc
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    _para(pdf, 7, h.operator_name)
    pdf.set_font("Helvetica", "", 9)
    _para(pdf, 5, f"CNPJ {h.operator_cnpj} · Registro ANS nº {h.operator_ans}")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, latin1(h.kind.label), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, latin1(subtitle), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _table(
    pdf: FPDF,
    widths: list[float],
    header: list[str],
    rows: list[list[str]],
    *,
    amounts: bool = True,
) -> None:
    """A simple table; with `amounts`, the last column right-aligned."""
    pdf.set_font("Helvetica", "B", 9)
    for width, text in zip(widths, header, strict=True):
        pdf.cell(width, 7, latin1(text), border="B")
    pdf.ln(7)
    pdf.set_font("Helvetica", "", 9)
    for row in rows:
        for i, (width, text) in enumerate(zip(widths, row, strict=True)):
            align = "R" if amounts and i == len(row) - 1 else "L"
            pdf.cell(width, 6, latin1(text), border="B", align=align)
        pdf.ln(6)


# ---------------------------------------------------------------- income tax


def income_tax_pdf(view: IncomeTaxView) -> bytes:
    """The statement of amounts paid in the calendar year for a holder and dependents."""
    f = view.figures
    pdf = _Document(view.header)
    subtitle = f"Ano-calendário {f.year} · plano odontológico coletivo empresarial"
    if view.partial_until is not None:
        subtitle = (
            f"Ano-calendário {f.year} em curso: demonstrativo PARCIAL, pagamentos até "
            f"{format_date(view.partial_until)}"
        )
    _top(pdf, subtitle)
    holder = f.holder.person
    _field(
        pdf, "Empresa contratante", f"{view.header.company_name} · {view.header.company_document}"
    )
    _field(pdf, "Titular", holder.name)
    _field(pdf, "CPF do titular", format_cpf(holder.cpf) if holder.cpf else "não informado")
    _field(pdf, "Carteirinha", view.holder_card)
    pdf.ln(5)
    pdf.set_font("Helvetica", "B", 11)
    _para(pdf, 6, f"Valores pagos à operadora em {f.year}")
    pdf.ln(1)
    rows = [["Titular", holder.name, format_cpf(holder.cpf) or "-", format_money(f.holder.amount)]]
    for dep in f.dependents:
        p = dep.person
        rows.append(
            [
                Relationship(p.relationship_code).label,
                p.name,
                format_cpf(p.cpf) if p.cpf else "não informado",
                format_money(dep.amount),
            ]
        )
    rows.append(["", "Total", "", format_money(f.total)])
    _table(pdf, [40, 70, 34, 30], ["Relação", "Beneficiário", "CPF", "Valor pago"], rows)
    pdf.ln(5)
    pdf.set_font("Helvetica", "", 9)
    _para(
        pdf,
        4.5,
        f"Valores pagos de 01/01/{f.year} a 31/12/{f.year} (pela data do pagamento de cada "
        "fatura), líquidos de créditos, sem multa e juros de atraso. Em plano coletivo "
        "empresarial, a parte custeada pelo titular (desconto em folha) é a que o "
        "empregador informa no comprovante de rendimentos: declare o que efetivamente pagou.",
    )
    return bytes(pdf.output())


# ---------------------------------------------------------------- discharge


def discharge_pdf(view: DischargeView) -> bytes:
    """The yearly declaration of discharge of debts (Lei 12.007/2009)."""
    c = view.check
    h = view.header
    pdf = _Document(h)
    _top(pdf, "Lei nº 12.007, de 29 de julho de 2009")
    _field(pdf, "Empresa contratante", f"{h.company_name} · {h.company_document}")
    _field(pdf, "Ano de referência", str(c.year))
    pdf.ln(5)
    pdf.set_font("Helvetica", "", 10)
    _para(
        pdf,
        5,
        f"{h.operator_name}, operadora de planos odontológicos registrada na ANS sob o "
        f"nº {h.operator_ans}, declara, nos termos da Lei nº 12.007/2009, que a empresa "
        f"{h.company_name} ({h.company_document}) quitou todos os débitos referentes às "
        f"faturas do contrato de plano odontológico coletivo empresarial com vencimento "
        f"entre 01/01/{c.year} e 31/12/{c.year}, relacionadas abaixo.",
    )
    pdf.ln(2)
    _para(
        pdf,
        5,
        "Esta declaração substitui, para a comprovação do cumprimento das obrigações do "
        "consumidor, as quitações dos faturamentos mensais dos débitos do ano a que se "
        "refere e dos anos anteriores (Lei nº 12.007/2009, art. 4º).",
    )
    pdf.ln(4)
    rows = [
        [
            format_month_numeric(i.billing_month),
            format_date(i.due_date),
            format_date(i.paid_on),
            format_money(i.amount),
        ]
        for i in c.invoices
    ]
    rows.append(["Total", "", "", format_money(c.total_paid)])
    _table(pdf, [44, 44, 44, 42], ["Competência", "Vencimento", "Pagamento", "Valor"], rows)
    return bytes(pdf.output())


# ---------------------------------------------------------------- permanence


def permanence_pdf(view: PermanenceView) -> bytes:
    """The permanence letter: who, plan and ANS registration, segment, coverage periods,
    continuous time, and each waiting period served (RN 438/2018, portability)."""
    h = view.header
    f = view.facts
    plan = f.current
    pdf = _Document(h)
    _top(pdf, "Para fins de portabilidade de carências (RN ANS nº 438/2018)")
    _field(pdf, "Beneficiário", view.name)
    _field(pdf, "CPF", view.cpf or "não informado")
    _field(pdf, "Data de nascimento", format_date(view.birth_date))
    _field(pdf, "Carteirinha", view.card)
    _field(pdf, "Parentesco", view.relationship_label)
    if view.holder_name:
        _field(pdf, "Titular", view.holder_name)
    _field(pdf, "Empresa contratante", f"{h.company_name} · {h.company_document}")
    _field(pdf, "Plano", f"{plan.plan_name} · Registro ANS nº {plan.plan_ans}")
    _field(pdf, "Segmentação", plan.segment)
    _field(pdf, "Tipo de contratação", "Coletivo empresarial")
    _field(pdf, "Início da cobertura contínua", format_date(f.stretch_start))
    if f.last_day is None:
        last = "Em vigor"
    else:
        last = format_date(f.last_day) + ("" if f.ended else " (prevista)")
    _field(pdf, "Último dia de cobertura", last)
    _field(pdf, "Tempo de permanência", f"{months_text(f.months)} (até {format_date(view.on)})")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    _para(pdf, 6, "Períodos de cobertura")
    rows = [
        [
            f"{p.plan_name} (ANS {p.plan_ans})" + (" - arts. 30/31" if p.kind == "stay" else ""),
            format_date(p.start),
            format_date(p.last_day) if p.last_day else "em vigor",
        ]
        for p in f.periods
    ]
    _table(pdf, [94, 40, 40], ["Plano", "Início", "Último dia"], rows, amounts=False)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    _para(pdf, 6, f"Carências em {format_date(view.on)}")
    if f.waiting is None:
        pdf.set_font("Helvetica", "", 10)
        _para(pdf, 5, "As carências deste beneficiário não foram calculadas no portal.")
    else:
        _table(
            pdf,
            [70, 104],
            ["Grupo de procedimentos", "Situação"],
            [[w.group, w.text] for w in f.waiting],
            amounts=False,
        )
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    _para(
        pdf,
        4.5,
        "Declaramos, para fins de portabilidade de carências, que o beneficiário acima "
        'esteve vinculado ao plano nos períodos indicados. "Cumprida" indica carência '
        'já cumprida na data desta carta; "Isenta" indica inclusão sem carência.',
    )
    return bytes(pdf.output())


# ---------------------------------------------------------------- proof of exclusion


def exclusion_proof_pdf(document: ExclusionProofDocument) -> bytes:
    """The proof of exclusion drawn as components/exclusion_pdf.py draws it (the same
    page per excluded person), with the verification box of these documents."""
    pdf = _Document(document.header)
    for person in document.proof.people:
        exclusion_page(pdf, document.proof, person)
    return bytes(pdf.output())

"""A CNAB 240 retorno written the way a bank writes one, for the tests (unit, service,
end-to-end): the bank's side of the exchange, which the portal only reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.rules.cnab240 import (
    FILE_HEADER,
    FILE_TRAILER,
    LOT_HEADER,
    LOT_TRAILER,
    NEWLINE,
    RETURN,
    SEGMENT_T,
    SEGMENT_U,
    Account,
    account_fields,
    render_record,
)

ACCOUNT = Account(
    bank_code="001",
    bank_name="Banco do Brasil S.A.",
    company_name="Sorriso Odontologia S.A.",
    cnpj="11222333000181",
    agreement="1234567",
    wallet="17",
    branch="1234-3",
    account="56789-2",
)


@dataclass(frozen=True)
class Paid:
    """One title of the retorno: who paid what, when."""

    title_id: str  # the bank's nosso número (BB: convênio + 10 digits)
    face_value: Decimal
    paid: Decimal
    paid_on: date
    charges: Decimal = Decimal("0.00")
    movement: str = "06"
    credited_on: date | None = None


def retorno_lines(acc: Account, titles: list[Paid], *, nsa: int = 1) -> list[str]:
    company = {
        "empresa_tipo_inscricao": "2",
        "empresa_inscricao": acc.cnpj,
        "convenio": acc.agreement,
        **account_fields(acc),
        "empresa_nome": acc.company_name,
    }
    lines = [
        render_record(
            FILE_HEADER,
            {
                **company,
                "lote": "0000",
                "banco_nome": acc.bank_name,
                "remessa_retorno": RETURN,
                "data_geracao": date(2026, 1, 5),
                "hora_geracao": "101500",
                "nsa": nsa,
            },
        ),
        render_record(
            LOT_HEADER,
            {
                **company,
                "lote": "0001",
                "operacao": "T",
                "numero_remessa_retorno": nsa,
                "data_gravacao": date(2026, 1, 5),
                "data_credito": date(2026, 1, 6),
            },
        ),
    ]
    for t in titles:
        seq = len(lines) - 1
        common = {"banco": acc.bank_code, "lote": "0001", "movimento": t.movement}
        lines.append(
            render_record(
                SEGMENT_T,
                {
                    **common,
                    **account_fields(acc),
                    "sequencial": seq,
                    "nosso_numero": t.title_id,
                    "carteira": "1",
                    "numero_documento": "",
                    "vencimento": "0",
                    "valor_titulo": t.face_value,
                    "banco_cobrador": acc.bank_code,
                    "agencia_cobradora": "1234",
                    "agencia_cobradora_dv": "",
                    "uso_empresa": "",
                    "moeda": "09",
                    "pagador_tipo_inscricao": "2",
                    "pagador_inscricao": "0",
                    "pagador_nome": "",
                    "contrato": "0",
                    "tarifa": Decimal("2.50"),
                    "motivo": "",
                },
            )
        )
        lines.append(
            render_record(
                SEGMENT_U,
                {
                    **common,
                    "sequencial": seq + 1,
                    "acrescimos": t.charges,
                    "desconto": "0",
                    "abatimento": "0",
                    "iof": "0",
                    "valor_pago": t.paid,
                    "valor_liquido": t.paid,
                    "outras_despesas": "0",
                    "outros_creditos": "0",
                    "data_ocorrencia": t.paid_on,
                    "data_credito": t.credited_on or t.paid_on,
                    "ocorrencia_pagador": "",
                    "ocorrencia_pagador_data": "0",
                    "ocorrencia_pagador_valor": "0",
                    "ocorrencia_pagador_complemento": "",
                    "banco_correspondente": "0",
                    "nosso_numero_correspondente": "0",
                },
            )
        )
    lines.append(
        render_record(
            LOT_TRAILER,
            {
                "banco": acc.bank_code,
                "lote": "0001",
                "quantidade_registros": len(lines),
                "simples_quantidade": len(titles),
                "simples_valor": sum((t.face_value for t in titles), Decimal("0.00")),
            },
        )
    )
    lines.append(
        render_record(
            FILE_TRAILER,
            {
                "banco": acc.bank_code,
                "lote": "9999",
                "quantidade_lotes": 1,
                "quantidade_registros": len(lines) + 1,
            },
        )
    )
    return lines


def retorno_file(acc: Account, titles: list[Paid], *, nsa: int = 1) -> bytes:
    return (NEWLINE.join(retorno_lines(acc, titles, nsa=nsa)) + NEWLINE).encode("ascii")


def account_of(op: object) -> Account:
    """The Account of an operator row (ORM object or Core row with its columns)."""
    return Account(
        bank_code=op.bank_code,  # type: ignore[attr-defined]
        bank_name="Banco",
        company_name=op.name,  # type: ignore[attr-defined]
        cnpj=op.cnpj,  # type: ignore[attr-defined]
        agreement=op.bank_agreement,  # type: ignore[attr-defined]
        wallet=op.bank_wallet,  # type: ignore[attr-defined]
        branch=op.bank_branch,  # type: ignore[attr-defined]
        account=op.bank_account,  # type: ignore[attr-defined]
    )

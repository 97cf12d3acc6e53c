"""CNAB 240 bank files of the "cobrança" service: the remessa the operator sends its bank
(boletos to register or to write off) and the retorno the bank sends back (payments).

Source: FEBRABAN's "Layout padrão de arquivos CNAB 240 posições" (cobrança, service 01),
the layout every bank's CNAB 240 manual reproduces. A file is lines of exactly 240
characters (CR LF between them), each a record whose type is at position 8:

- 0 file header, 1 lot header, 3 detail segments, 5 lot trailer, 9 file trailer;
- remessa details: segment P (the title: nosso número, due date, amount, interest),
  segment Q (the payer: CNPJ, name, address) and the optional segment R (the fine);
- retorno details: segment T (the title and the occurrence code) followed by segment U
  (amounts: fine + interest, discount, paid, net credit; payment and credit dates).

Every field is a `Field(name, start, end, kind)` of a layout table (positions 1-based
and inclusive, as the manuals print them), so the tests check a file position by
position. Kinds: "N" numeric, right-aligned, zero-padded; "A" alphanumeric, upper case
ASCII, left-aligned, blank-padded; "V" money (13 integers and 2 decimals, no point),
"D" date DDMMAAAA (zeros: none), "I" a document number (CPF/CNPJ, digits or the new
alphanumeric CNPJ's letters) right-aligned and zero-padded.

Choices where FEBRABAN leaves a field to the bank or the company (docs/domain/cnab240.md):
- movement codes of the remessa: 01 "entrada de títulos" for a new boleto and 02 "pedido
  de baixa" for one no longer payable. An overdue update issues a NEW boleto (new nosso
  número, new barcode, amount with fine and interest), so it is sent as the entrada of
  the new boleto plus the baixa of the replaced one, never as an "alteração de
  vencimento" (06) of the old title, whose barcode would no longer match its amount;
- carteira code 1 (cobrança simples), registered (forma de cadastramento 1), boleto
  issued and distributed by the operator (2, 2), species 04 (duplicata de serviço),
  "N" (not accepted), no protest (3), write-off (baixa) after the contract's days for
  updating an overdue invoice;
- interest: an original boleto carries the contract's monthly rate (code 2, "taxa
  mensal", pro rata die on its amount from the day after the due date) and the fine as
  a percentage (segment R, code 2); an updated boleto already holds the fine and the
  interest up to its due date, so it carries no fine and the interest per day on the
  invoice's original amount (code 1, rounded to the cent), never on the fine;
- the convênio field (20 positions) holds the operator's agreement left-aligned; the
  title's "identificação no banco" is the bank's nosso número: for Banco do Brasil the
  convênio (7) followed by the 10-digit sequence (17 digits), for other banks the
  sequence itself.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from services.rules.errors import DomainError

LINE_LENGTH = 240
NEWLINE = "\r\n"
FILE_LAYOUT_VERSION = "103"  # FEBRABAN 240, version 10.7: file
LOT_LAYOUT_VERSION = "060"  # and lot of the cobrança service
SERVICE_COBRANCA = "01"
REMITTANCE, RETURN = "1", "2"  # header position 143
MOVEMENT_ENTRY = "01"  # entrada de títulos
MOVEMENT_WRITE_OFF = "02"  # pedido de baixa
MOVEMENT_LABELS = {MOVEMENT_ENTRY: "Entrada de título", MOVEMENT_WRITE_OFF: "Pedido de baixa"}
INTEREST_PER_DAY, INTEREST_MONTHLY_RATE, INTEREST_EXEMPT = "1", "2", "3"
FINE_PERCENT = "2"
SPECIES_SERVICE_DUPLICATE = "04"
NO_PROTEST = "3"
WRITE_OFF = "1"
CURRENCY_REAL = "09"
MAX_WRITE_OFF_DAYS = 999
# Retorno occurrence codes (FEBRABAN's table of "código de movimento retorno").
RETURN_MOVEMENTS = {
    "02": "Entrada confirmada",
    "03": "Entrada rejeitada",
    "04": "Transferência de carteira/entrada",
    "05": "Transferência de carteira/baixa",
    "06": "Liquidação",
    "07": "Confirmação do recebimento da instrução de desconto",
    "09": "Baixa",
    "11": "Títulos em carteira (em ser)",
    "12": "Confirmação do recebimento da instrução de abatimento",
    "14": "Confirmação do recebimento da instrução de alteração de vencimento",
    "17": "Liquidação após baixa ou de título não registrado",
    "19": "Confirmação do recebimento da instrução de protesto",
    "23": "Remessa a cartório",
    "25": "Protestado e baixado",
    "26": "Instrução rejeitada",
    "28": "Débito de tarifas/custas",
    "30": "Alteração de dados rejeitada",
}
PAYMENT_MOVEMENTS = ("06", "17")
BANCO_DO_BRASIL = "001"
OUR_NUMBER_DIGITS = 10  # the portal's nosso número sequence (services.billing.payments)
MAX_ERRORS_SHOWN = 10


@dataclass(frozen=True)
class Field:
    """One field of a record: positions ``start``..``end`` (1-based, inclusive)."""

    name: str
    start: int
    end: int
    kind: str  # N, A, V, D, I
    fixed: str | None = None  # a constant (record type, segment letter, blanks)

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    def cut(self, line: str) -> str:
        return line[self.start - 1 : self.end]


def _f(name: str, start: int, end: int, kind: str, fixed: str | None = None) -> Field:
    return Field(name, start, end, kind, fixed)


def _blank(start: int, end: int, name: str = "uso_febraban") -> Field:
    return Field(name, start, end, "A", "")


def _control(record: str) -> list[Field]:
    return [_f("banco", 1, 3, "N"), _f("lote", 4, 7, "N"), _f("registro", 8, 8, "N", record)]


def _account(start: int) -> list[Field]:
    """Agência (5) + DV (1) + conta (12) + DV (1) + DV agência/conta (1)."""
    s = start
    return [
        _f("agencia", s, s + 4, "N"),
        _f("agencia_dv", s + 5, s + 5, "A"),
        _f("conta", s + 6, s + 17, "N"),
        _f("conta_dv", s + 18, s + 18, "A"),
        _f("agencia_conta_dv", s + 19, s + 19, "A"),
    ]


def _detail(segment: str) -> list[Field]:
    return [
        *_control("3"),
        _f("sequencial", 9, 13, "N"),
        _f("segmento", 14, 14, "A", segment),
        _blank(15, 15),
        _f("movimento", 16, 17, "N"),
    ]


FILE_HEADER: tuple[Field, ...] = (
    *_control("0"),
    _blank(9, 17),
    _f("empresa_tipo_inscricao", 18, 18, "N"),
    _f("empresa_inscricao", 19, 32, "I"),
    _f("convenio", 33, 52, "A"),
    *_account(53),
    _f("empresa_nome", 73, 102, "A"),
    _f("banco_nome", 103, 132, "A"),
    _blank(133, 142),
    _f("remessa_retorno", 143, 143, "N"),
    _f("data_geracao", 144, 151, "D"),
    _f("hora_geracao", 152, 157, "N"),
    _f("nsa", 158, 163, "N"),
    _f("versao_layout", 164, 166, "N", FILE_LAYOUT_VERSION),
    _f("densidade", 167, 171, "N", "0"),
    _f("reservado_banco", 172, 191, "A", ""),
    _f("reservado_empresa", 192, 211, "A", ""),
    _blank(212, 240),
)

LOT_HEADER: tuple[Field, ...] = (
    *_control("1"),
    _f("operacao", 9, 9, "A"),
    _f("servico", 10, 11, "N", SERVICE_COBRANCA),
    _blank(12, 13),
    _f("versao_layout_lote", 14, 16, "N", LOT_LAYOUT_VERSION),
    _blank(17, 17),
    _f("empresa_tipo_inscricao", 18, 18, "N"),
    _f("empresa_inscricao", 19, 33, "I"),
    _f("convenio", 34, 53, "A"),
    *_account(54),
    _f("empresa_nome", 74, 103, "A"),
    _f("mensagem_1", 104, 143, "A", ""),
    _f("mensagem_2", 144, 183, "A", ""),
    _f("numero_remessa_retorno", 184, 191, "N"),
    _f("data_gravacao", 192, 199, "D"),
    _f("data_credito", 200, 207, "D"),
    _blank(208, 240),
)

SEGMENT_P: tuple[Field, ...] = (
    *_detail("P"),
    *_account(18),
    _f("nosso_numero", 38, 57, "A"),
    _f("carteira", 58, 58, "N", "1"),
    _f("forma_cadastramento", 59, 59, "N", "1"),
    _f("tipo_documento", 60, 60, "A", "1"),
    _f("emissao_boleto", 61, 61, "N", "2"),
    _f("distribuicao_boleto", 62, 62, "A", "2"),
    _f("numero_documento", 63, 77, "A"),
    _f("vencimento", 78, 85, "D"),
    _f("valor_titulo", 86, 100, "V"),
    _f("agencia_cobradora", 101, 105, "N", "0"),
    _f("agencia_cobradora_dv", 106, 106, "A", ""),
    _f("especie", 107, 108, "N", SPECIES_SERVICE_DUPLICATE),
    _f("aceite", 109, 109, "A", "N"),
    _f("data_emissao", 110, 117, "D"),
    _f("juros_codigo", 118, 118, "N"),
    _f("juros_data", 119, 126, "D"),
    _f("juros_valor", 127, 141, "V"),
    _f("desconto_codigo", 142, 142, "N", "0"),
    _f("desconto_data", 143, 150, "D", "0"),
    _f("desconto_valor", 151, 165, "V", "0"),
    _f("iof", 166, 180, "V", "0"),
    _f("abatimento", 181, 195, "V", "0"),
    _f("uso_empresa", 196, 220, "A"),
    _f("protesto_codigo", 221, 221, "N", NO_PROTEST),
    _f("protesto_prazo", 222, 223, "N", "0"),
    _f("baixa_codigo", 224, 224, "N", WRITE_OFF),
    _f("baixa_prazo", 225, 227, "N"),
    _f("moeda", 228, 229, "N", CURRENCY_REAL),
    _f("contrato", 230, 239, "N", "0"),
    _blank(240, 240, "uso_livre"),
)

SEGMENT_Q: tuple[Field, ...] = (
    *_detail("Q"),
    _f("pagador_tipo_inscricao", 18, 18, "N"),
    _f("pagador_inscricao", 19, 33, "I"),
    _f("pagador_nome", 34, 73, "A"),
    _f("pagador_endereco", 74, 113, "A"),
    _f("pagador_bairro", 114, 128, "A"),
    _f("pagador_cep", 129, 133, "N"),
    _f("pagador_cep_sufixo", 134, 136, "N"),
    _f("pagador_cidade", 137, 151, "A"),
    _f("pagador_uf", 152, 153, "A"),
    _f("avalista_tipo_inscricao", 154, 154, "N", "0"),
    _f("avalista_inscricao", 155, 169, "N", "0"),
    _f("avalista_nome", 170, 209, "A", ""),
    _f("banco_correspondente", 210, 212, "N", "0"),
    _f("nosso_numero_correspondente", 213, 232, "A", ""),
    _blank(233, 240),
)

SEGMENT_R: tuple[Field, ...] = (
    *_detail("R"),
    _f("desconto_2_codigo", 18, 18, "N", "0"),
    _f("desconto_2_data", 19, 26, "D", "0"),
    _f("desconto_2_valor", 27, 41, "V", "0"),
    _f("desconto_3_codigo", 42, 42, "N", "0"),
    _f("desconto_3_data", 43, 50, "D", "0"),
    _f("desconto_3_valor", 51, 65, "V", "0"),
    _f("multa_codigo", 66, 66, "A"),
    _f("multa_data", 67, 74, "D"),
    _f("multa_valor", 75, 89, "V"),
    _f("informacao_pagador", 90, 99, "A", ""),
    _f("mensagem_3", 100, 139, "A", ""),
    _f("mensagem_4", 140, 179, "A", ""),
    _blank(180, 199),
    _f("ocorrencia_pagador", 200, 207, "N", "0"),
    _f("debito_banco", 208, 210, "N", "0"),
    _f("debito_agencia", 211, 215, "N", "0"),
    _f("debito_agencia_dv", 216, 216, "A", ""),
    _f("debito_conta", 217, 228, "N", "0"),
    _f("debito_conta_dv", 229, 229, "A", ""),
    _f("debito_agencia_conta_dv", 230, 230, "A", ""),
    _f("aviso_debito", 231, 231, "N", "0"),
    _blank(232, 240),
)

LOT_TRAILER: tuple[Field, ...] = (
    *_control("5"),
    _blank(9, 17),
    _f("quantidade_registros", 18, 23, "N"),
    _f("simples_quantidade", 24, 29, "N"),
    _f("simples_valor", 30, 46, "V"),
    _f("vinculada_quantidade", 47, 52, "N", "0"),
    _f("vinculada_valor", 53, 69, "V", "0"),
    _f("caucionada_quantidade", 70, 75, "N", "0"),
    _f("caucionada_valor", 76, 92, "V", "0"),
    _f("descontada_quantidade", 93, 98, "N", "0"),
    _f("descontada_valor", 99, 115, "V", "0"),
    _f("aviso_lancamento", 116, 123, "A", ""),
    _blank(124, 240),
)

FILE_TRAILER: tuple[Field, ...] = (
    *_control("9"),
    _blank(9, 17),
    _f("quantidade_lotes", 18, 23, "N"),
    _f("quantidade_registros", 24, 29, "N"),
    _f("quantidade_contas", 30, 35, "N", "0"),
    _blank(36, 240),
)

SEGMENT_T: tuple[Field, ...] = (
    *_detail("T"),
    *_account(18),
    _f("nosso_numero", 38, 57, "A"),
    _f("carteira", 58, 58, "N"),
    _f("numero_documento", 59, 73, "A"),
    _f("vencimento", 74, 81, "D"),
    _f("valor_titulo", 82, 96, "V"),
    _f("banco_cobrador", 97, 99, "N"),
    _f("agencia_cobradora", 100, 104, "N"),
    _f("agencia_cobradora_dv", 105, 105, "A"),
    _f("uso_empresa", 106, 130, "A"),
    _f("moeda", 131, 132, "N"),
    _f("pagador_tipo_inscricao", 133, 133, "N"),
    _f("pagador_inscricao", 134, 148, "I"),
    _f("pagador_nome", 149, 188, "A"),
    _f("contrato", 189, 198, "N"),
    _f("tarifa", 199, 213, "V"),
    _f("motivo", 214, 223, "A"),
    _blank(224, 240),
)

SEGMENT_U: tuple[Field, ...] = (
    *_detail("U"),
    _f("acrescimos", 18, 32, "V"),  # juros + multa + encargos
    _f("desconto", 33, 47, "V"),
    _f("abatimento", 48, 62, "V"),
    _f("iof", 63, 77, "V"),
    _f("valor_pago", 78, 92, "V"),
    _f("valor_liquido", 93, 107, "V"),
    _f("outras_despesas", 108, 122, "V"),
    _f("outros_creditos", 123, 137, "V"),
    _f("data_ocorrencia", 138, 145, "D"),
    _f("data_credito", 146, 153, "D"),
    _f("ocorrencia_pagador", 154, 157, "A"),
    _f("ocorrencia_pagador_data", 158, 165, "D"),
    _f("ocorrencia_pagador_valor", 166, 180, "V"),
    _f("ocorrencia_pagador_complemento", 181, 210, "A"),
    _f("banco_correspondente", 211, 213, "N"),
    _f("nosso_numero_correspondente", 214, 233, "N"),
    _blank(234, 240),
)

LAYOUTS: dict[str, tuple[Field, ...]] = {
    "header de arquivo": FILE_HEADER,
    "header de lote": LOT_HEADER,
    "segmento P": SEGMENT_P,
    "segmento Q": SEGMENT_Q,
    "segmento R": SEGMENT_R,
    "segmento T": SEGMENT_T,
    "segmento U": SEGMENT_U,
    "trailer de lote": LOT_TRAILER,
    "trailer de arquivo": FILE_TRAILER,
}


def layout_gaps(layout: Sequence[Field]) -> list[str]:
    """Problems of a layout table: every position 1..240 in exactly one field, in order."""
    problems = []
    expected = 1
    for f in layout:
        if f.start != expected or f.end < f.start:
            problems.append(f"{f.name}: começa em {f.start}, esperado {expected}")
        expected = f.end + 1
    if expected != LINE_LENGTH + 1:
        problems.append(f"termina em {expected - 1}, esperado {LINE_LENGTH}")
    return problems


_BROKEN = {name: gaps for name, layout in LAYOUTS.items() if (gaps := layout_gaps(layout))}
if _BROKEN:  # a table typed wrong: refuse to write or read any file with it
    raise RuntimeError(f"CNAB 240 layout tables with gaps or overlaps: {_BROKEN}")

# ---------------------------------------------------------------- writing


def cnab_text(value: str) -> str:
    """Upper-case ASCII without accents; anything but letters, digits and a few signs
    becomes a blank (bank files are plain ASCII)."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-/&()")
    return "".join(c if c in allowed else " " for c in plain.upper())


def _cents(value: Decimal | int | str, f: Field) -> str:
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{f.name}: valor inválido {value}")
    return str(int(amount * 100))


def format_field(f: Field, value: object) -> str:
    """``value`` in the field's kind and width (ValueError when it does not fit)."""
    if value is None:
        value = "0" if f.kind in "NVDI" else ""
    if f.kind == "A":
        return cnab_text(str(value))[: f.size].ljust(f.size)
    if f.kind == "D":
        if isinstance(value, date):
            text = f"{value:%d%m%Y}"
        elif str(value).strip("0") == "":
            text = "0" * f.size
        else:
            raise ValueError(f"{f.name}: data inválida {value!r}")
    elif f.kind == "V":
        if isinstance(value, float):
            raise TypeError(f"{f.name}: valores monetários não podem ser float")
        text = _cents(value or "0", f)  # type: ignore[arg-type]
    else:
        text = str(value)
        ok = text.isdigit() if f.kind == "N" else text.isalnum()
        if not text.isascii() or not ok:
            raise ValueError(f"{f.name}: {value!r} não é numérico")
    if len(text) > f.size:
        raise ValueError(f"{f.name}: {value!r} não cabe em {f.size} posições")
    return text.upper().rjust(f.size, "0")


def render_record(layout: Sequence[Field], values: Mapping[str, object]) -> str:
    """One 240-character record; a field not in ``values`` takes its constant."""
    unknown = set(values) - {f.name for f in layout}
    if unknown:
        raise ValueError(f"campos desconhecidos: {sorted(unknown)}")
    parts = []
    for f in layout:
        value = values.get(f.name, f.fixed)
        if value is None and f.fixed is None:
            raise ValueError(f"campo sem valor: {f.name}")
        parts.append(format_field(f, value))
    line = "".join(parts)
    if len(line) != LINE_LENGTH:  # a bug in a table, never data
        raise ValueError(f"registro com {len(line)} posições")
    return line


def read_record(layout: Sequence[Field], line: str) -> dict[str, str]:
    """Every field of ``line`` as the text at its positions."""
    return {f.name: f.cut(line) for f in layout}


@dataclass(frozen=True)
class Account:
    """The operator (beneficiário) as the bank knows it."""

    bank_code: str
    bank_name: str
    company_name: str
    cnpj: str
    agreement: str
    wallet: str
    branch: str  # "1234" or "1234-5"
    account: str  # "12345-6"


def _split_dv(text: str) -> tuple[str, str]:
    body, _, dv = text.partition("-")
    return "".join(c for c in body if c.isdigit()), dv[:1].upper()


def account_fields(acc: Account) -> dict[str, object]:
    branch, branch_dv = _split_dv(acc.branch)
    account, account_dv = _split_dv(acc.account)
    return {
        "banco": acc.bank_code,
        "agencia": branch or "0",
        "agencia_dv": branch_dv,
        "conta": account or "0",
        "conta_dv": account_dv,
        "agencia_conta_dv": "",
    }


def bank_title_id(acc: Account, our_number: str) -> str:
    """The title's nosso número as the bank knows it (P 38-57, T 38-57)."""
    if acc.bank_code == BANCO_DO_BRASIL:
        return acc.agreement + our_number.zfill(OUR_NUMBER_DIGITS)
    return our_number


def our_number_of(acc: Account, title_id: str) -> str | None:
    """The portal's nosso número (10 digits) behind a bank's title id, or None."""
    text = title_id.strip()
    if not text.isascii() or not text.isdigit():
        return None
    if acc.bank_code == BANCO_DO_BRASIL and len(text) == len(acc.agreement) + OUR_NUMBER_DIGITS:
        if not text.startswith(acc.agreement):
            return None
        text = text[len(acc.agreement) :]
    if len(text.lstrip("0")) > OUR_NUMBER_DIGITS:
        return None
    return text.zfill(OUR_NUMBER_DIGITS)


def inscription_type(document: str, document_type: str) -> str:
    """FEBRABAN's type of inscription: 1 CPF, 2 CNPJ, 9 others (a CAEPF)."""
    if document_type == "CNPJ":
        return "2"
    if document_type == "CPF":
        return "1"
    return "9"


@dataclass(frozen=True)
class Title:
    """One boleto of a remessa: what segments P, Q (and R) carry."""

    movement: str  # MOVEMENT_ENTRY or MOVEMENT_WRITE_OFF
    our_number: str
    document_number: str  # "seu número"
    company_reference: str  # "uso da empresa", returned as is in the retorno
    issue_date: date
    due_date: date
    amount: Decimal
    interest_code: str
    interest_date: date | None
    interest_value: Decimal  # a monthly rate (%) for code 2, reais per day for code 1
    fine_pct: Decimal  # 0: no segment R
    fine_date: date | None
    write_off_days: int
    payer_document: str
    payer_document_type: str
    payer_name: str
    payer_address: str
    payer_neighbourhood: str
    payer_cep: str
    payer_city: str
    payer_state: str


@dataclass(frozen=True)
class Remittance:
    lines: list[str]
    titles: int
    entries: int
    entries_total: Decimal

    @property
    def content(self) -> bytes:
        return (NEWLINE.join(self.lines) + NEWLINE).encode("ascii")


def _company_fields(acc: Account) -> dict[str, object]:
    return {
        "empresa_tipo_inscricao": "2",
        "empresa_inscricao": acc.cnpj,
        "convenio": acc.agreement,
        **account_fields(acc),
        "empresa_nome": acc.company_name,
    }


def _title_records(acc: Account, t: Title, lot: str, seq: int) -> list[str]:
    cep = "".join(c for c in t.payer_cep if c.isdigit()).ljust(8, "0")[:8]
    common = {"banco": acc.bank_code, "lote": lot, "movimento": t.movement}
    p = render_record(
        SEGMENT_P,
        {
            **common,
            **account_fields(acc),
            "sequencial": seq,
            "nosso_numero": bank_title_id(acc, t.our_number),
            "numero_documento": t.document_number,
            "vencimento": t.due_date,
            "valor_titulo": t.amount,
            "data_emissao": t.issue_date,
            "juros_codigo": t.interest_code,
            "juros_data": t.interest_date or "0",
            "juros_valor": t.interest_value,
            "uso_empresa": t.company_reference,
            "baixa_prazo": max(1, min(t.write_off_days, MAX_WRITE_OFF_DAYS)),
        },
    )
    q = render_record(
        SEGMENT_Q,
        {
            **common,
            "sequencial": seq + 1,
            "pagador_tipo_inscricao": inscription_type(t.payer_document, t.payer_document_type),
            "pagador_inscricao": t.payer_document,
            "pagador_nome": t.payer_name,
            "pagador_endereco": t.payer_address,
            "pagador_bairro": t.payer_neighbourhood,
            "pagador_cep": cep[:5],
            "pagador_cep_sufixo": cep[5:],
            "pagador_cidade": t.payer_city,
            "pagador_uf": t.payer_state,
        },
    )
    records = [p, q]
    if t.movement == MOVEMENT_ENTRY and t.fine_pct > 0:
        records.append(
            render_record(
                SEGMENT_R,
                {
                    **common,
                    "sequencial": seq + 2,
                    "multa_codigo": FINE_PERCENT,
                    "multa_data": t.fine_date or "0",
                    "multa_valor": t.fine_pct,
                },
            )
        )
    return records


def build_remittance(
    acc: Account, titles: Iterable[Title], *, nsa: int, generated_at: datetime
) -> Remittance:
    """A remessa of one lot: header, P + Q (+ R) per title, trailers, CR LF between."""
    items = list(titles)
    if not items:
        raise DomainError("Não há boletos a enviar ao banco.")
    lot = "0001"
    company = _company_fields(acc)
    lines = [
        render_record(
            FILE_HEADER,
            {
                **company,
                "lote": "0000",
                "banco_nome": acc.bank_name,
                "remessa_retorno": REMITTANCE,
                "data_geracao": generated_at.date(),
                "hora_geracao": f"{generated_at:%H%M%S}",
                "nsa": nsa,
            },
        ),
        render_record(
            LOT_HEADER,
            {
                **company,
                "lote": lot,
                "operacao": "R",
                "numero_remessa_retorno": nsa,
                "data_gravacao": generated_at.date(),
                "data_credito": "0",
            },
        ),
    ]
    for t in items:  # details are numbered 1, 2, ... within the lot
        lines += _title_records(acc, t, lot, len(lines) - 1)
    entries = [t for t in items if t.movement == MOVEMENT_ENTRY]
    total = sum((t.amount for t in entries), Decimal("0.00"))
    lines.append(
        render_record(
            LOT_TRAILER,
            {
                "banco": acc.bank_code,
                "lote": lot,
                # the lot's header, details and this trailer: every line but the file header
                "quantidade_registros": len(lines),
                "simples_quantidade": len(entries),
                "simples_valor": total,
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
    return Remittance(lines, len(items), len(entries), total)


# ---------------------------------------------------------------- reading a retorno


class ReturnFileError(DomainError):
    """A retorno file that cannot be read; ``problems`` are "Linha n: what is wrong"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        text = "O arquivo de retorno não pôde ser lido: " + "; ".join(shown)
        if more:
            text += f"; e mais {more} problema(s)"
        super().__init__(text + ".", "retorno")


@dataclass(frozen=True)
class ReturnPayment:
    """One title of a retorno (segment T and its segment U)."""

    line_number: int  # of the segment T
    movement: str
    title_id: str  # the nosso número field as the bank wrote it (stripped)
    document_number: str
    due_date: date | None
    face_value: Decimal
    charges: Decimal  # fine + interest + other charges the payer paid
    discount: Decimal
    paid: Decimal
    paid_on: date | None
    credited_on: date | None
    reason: str

    @property
    def movement_label(self) -> str:
        return RETURN_MOVEMENTS.get(self.movement, f"Ocorrência {self.movement}")

    @property
    def is_payment(self) -> bool:
        return self.movement in PAYMENT_MOVEMENTS


@dataclass(frozen=True)
class ReturnFile:
    bank_code: str
    company_document: str
    nsa: int
    generated_on: date | None
    titles: list[ReturnPayment] = field(default_factory=list)


def _date(text: str) -> date | None:
    if text.strip("0 ") == "":
        return None
    if not text.isdigit():
        raise ValueError
    return date(int(text[4:8]), int(text[2:4]), int(text[0:2]))


def _money(text: str) -> Decimal:
    if not text.isascii() or not text.isdigit():
        raise ValueError
    return Decimal(int(text)) / 100


_T_MONEY = ("valor_titulo", "tarifa")
_U_MONEY = ("acrescimos", "desconto", "abatimento", "valor_pago", "valor_liquido")
_FIELD_LABELS = {
    "valor_titulo": "valor do título (posições 82-96)",
    "tarifa": "tarifa (posições 199-213)",
    "vencimento": "vencimento (posições 74-81)",
    "acrescimos": "juros/multa (posições 18-32)",
    "desconto": "desconto (posições 33-47)",
    "abatimento": "abatimento (posições 48-62)",
    "valor_pago": "valor pago (posições 78-92)",
    "valor_liquido": "valor líquido (posições 93-107)",
    "data_ocorrencia": "data do pagamento (posições 138-145)",
    "data_credito": "data do crédito (posições 146-153)",
}


def _lines_of(content: bytes) -> list[str]:
    if not content.strip():
        raise ReturnFileError(["o arquivo está vazio"])
    if b"\x00" in content:
        raise ReturnFileError(["não é um arquivo de texto CNAB 240 (conteúdo binário)"])
    text = content.decode("latin-1")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[-1].strip() == "":
        lines.pop()
    if lines and lines[-1] == "\x1a":  # an old DOS end-of-file mark
        lines.pop()
    return lines


def parse_return(content: bytes) -> ReturnFile:
    """The titles of a CNAB 240 retorno of the cobrança service.

    Checks, with the line number of each problem: every line 240 characters, the file
    header first (a retorno: position 143 = 2) and the file trailer last, record types
    and segments known, each segment T followed by its segment U, numbers and dates
    readable, the trailers' counts. Raises ReturnFileError listing what is wrong."""
    lines = _lines_of(content)
    problems: list[str] = []
    for n, line in enumerate(lines, start=1):
        if len(line) != LINE_LENGTH:
            problems.append(
                f"linha {n}: tem {len(line)} caracteres, o CNAB 240 exige {LINE_LENGTH}"
            )
    if problems:
        raise ReturnFileError(problems)
    head = read_record(FILE_HEADER, lines[0])
    if head["registro"] != "0":
        raise ReturnFileError(["linha 1: não é o header de arquivo (posição 8 deveria ser 0)"])
    if head["remessa_retorno"] != RETURN:
        raise ReturnFileError(
            [
                "linha 1: é um arquivo de remessa, não de retorno (posição 143 deveria ser 2)"
                if head["remessa_retorno"] == REMITTANCE
                else "linha 1: a posição 143 deveria ser 2 (arquivo de retorno)"
            ]
        )
    bank = head["banco"]
    if not bank.isdigit():
        problems.append("linha 1: código do banco (posições 1-3) não numérico")
    try:
        generated_on = _date(head["data_geracao"])
    except ValueError:
        generated_on = None
        problems.append("linha 1: data de geração (posições 144-151) inválida")
    nsa = int(head["nsa"]) if head["nsa"].isdigit() else 0
    if lines[-1][7] != "9":
        problems.append(f"linha {len(lines)}: a última linha deveria ser o trailer de arquivo")
    titles: list[ReturnPayment] = []
    pending: tuple[int, dict[str, str]] | None = None
    lots = 0
    lot_records = 0
    for n, line in enumerate(lines[1:], start=2):
        kind = line[7]
        if line[0:3] != bank:
            problems.append(f"linha {n}: banco {line[0:3]!r} diferente do header ({bank})")
        if kind == "1":
            lots += 1
            lot_records = 1
            if line[9:11] != SERVICE_COBRANCA:
                problems.append(f"linha {n}: o lote não é de cobrança (posições 10-11 = 01)")
            continue
        if kind == "3":
            lot_records += 1
            segment = line[13]
            if segment == "T":
                if pending is not None:
                    problems.append(f"linha {pending[0]}: segmento T sem o segmento U seguinte")
                pending = (n, read_record(SEGMENT_T, line))
            elif segment == "U":
                if pending is None:
                    problems.append(f"linha {n}: segmento U sem o segmento T anterior")
                    continue
                title = _title(pending[0], pending[1], n, read_record(SEGMENT_U, line), problems)
                if title is not None:
                    titles.append(title)
                pending = None
            elif segment not in "WYZ":  # optional segments some banks add; ignored
                problems.append(f"linha {n}: segmento {segment!r} desconhecido num retorno")
            continue
        if pending is not None:
            problems.append(f"linha {pending[0]}: segmento T sem o segmento U seguinte")
            pending = None
        if kind == "5":
            lot_records += 1
            declared = line[17:23]
            if not declared.isdigit() or int(declared) != lot_records:
                problems.append(
                    f"linha {n}: o trailer de lote declara {declared.strip() or 'nenhum'} "
                    f"registro(s), o lote tem {lot_records}"
                )
        elif kind == "9":
            if n != len(lines):
                problems.append(f"linha {n}: trailer de arquivo antes do fim do arquivo")
            declared = line[23:29]
            if not declared.isdigit() or int(declared) != len(lines):
                problems.append(
                    f"linha {n}: o trailer de arquivo declara {declared.strip() or 'nenhum'} "
                    f"registro(s), o arquivo tem {len(lines)}"
                )
        elif kind == "0":
            problems.append(f"linha {n}: header de arquivo repetido")
        else:
            problems.append(f"linha {n}: tipo de registro {kind!r} desconhecido (posição 8)")
    if lots == 0:
        problems.append("o arquivo não tem lote de cobrança (registro tipo 1)")
    if problems:
        raise ReturnFileError(problems)
    return ReturnFile(bank, head["empresa_inscricao"].lstrip("0"), nsa, generated_on, titles)


def _title(
    t_line: int, t: dict[str, str], u_line: int, u: dict[str, str], problems: list[str]
) -> ReturnPayment | None:
    before = len(problems)
    if t["movimento"] != u["movimento"]:
        problems.append(
            f"linha {u_line}: código de movimento {u['movimento']!r} diferente do segmento T "
            f"({t['movimento']!r})"
        )
    if not t["movimento"].isdigit():
        problems.append(f"linha {t_line}: código de movimento (posições 16-17) não numérico")
    money: dict[str, Decimal] = {}
    dates: dict[str, date | None] = {}
    for record, line_no, names in ((t, t_line, _T_MONEY), (u, u_line, _U_MONEY)):
        for name in names:
            try:
                money[name] = _money(record[name])
            except ValueError:
                problems.append(f"linha {line_no}: {_FIELD_LABELS[name]} não numérico")
    for record, line_no, name in (
        (t, t_line, "vencimento"),
        (u, u_line, "data_ocorrencia"),
        (u, u_line, "data_credito"),
    ):
        try:
            dates[name] = _date(record[name])
        except ValueError:
            problems.append(f"linha {line_no}: {_FIELD_LABELS[name]} não é uma data DDMMAAAA")
    if t["movimento"] in PAYMENT_MOVEMENTS and len(problems) == before:
        if dates["data_ocorrencia"] is None:
            problems.append(f"linha {u_line}: pagamento sem a data do pagamento (138-145)")
        if not t["nosso_numero"].strip():
            problems.append(f"linha {t_line}: pagamento sem nosso número (posições 38-57)")
    if len(problems) != before:
        return None
    return ReturnPayment(
        line_number=t_line,
        movement=t["movimento"],
        title_id=t["nosso_numero"].strip(),
        document_number=t["numero_documento"].strip(),
        due_date=dates["vencimento"],
        face_value=money["valor_titulo"],
        charges=money["acrescimos"],
        discount=money["desconto"],
        paid=money["valor_pago"],
        paid_on=dates["data_ocorrencia"],
        credited_on=dates["data_credito"],
        reason=t["motivo"].strip(),
    )

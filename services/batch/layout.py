"""The layout of the batch movement file: one list of columns for the template, the layout
page/file and the parser, so the three can never disagree.

The layout files are written by the project's one spreadsheet/CSV module
(`services.exports`), whose formula guard every cell goes through.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from services.exports import csv_bytes, write_text
from services.rules.card_numbers import card_number
from services.rules.eligibility import Relationship
from services.rules.movements import (
    EXCLUSION_REASONS,
    MARITAL_STATUSES,
    MOVEMENT_LABELS,
    SEXES,
    STATES,
    UPDATABLE_FIELDS,
    MovementKind,
)

MAX_LINES = 100_000
MAX_BYTES = 20 * 1024 * 1024

ColumnKind = Literal["text", "date", "digits", "choice", "bool"]
Choices = tuple[tuple[str, str], ...]  # (code written in the file, Portuguese label)

# Movement type codes of the file (ASCII upper case, as HR systems export them).
MOVEMENT_CODES: dict[str, MovementKind] = {
    "INCLUSAO": MovementKind.INCLUSION,
    "EXCLUSAO": MovementKind.EXCLUSION,
    "ALTERACAO": MovementKind.UPDATE,
    "REATIVACAO": MovementKind.REACTIVATION,
    "TRANSFERENCIA": MovementKind.TRANSFER,
}
CODE_OF_KIND: dict[MovementKind, str] = {kind: code for code, kind in MOVEMENT_CODES.items()}
# Movement kinds the file does not take, and why.
NOT_IN_BATCH: dict[MovementKind, str] = {
    MovementKind.PLAN_CHANGE: "Alteração de plano é feita no cadastro individual ou retroativo.",
}
# Every other kind is taken, and needs a code above (tests/unit/test_movement_registry.py).
BATCH_KINDS = frozenset(k for k in MovementKind if k not in NOT_IN_BATCH)

_I, _E, _U, _R, _T = (
    MovementKind.INCLUSION,
    MovementKind.EXCLUSION,
    MovementKind.UPDATE,
    MovementKind.REACTIVATION,
    MovementKind.TRANSFER,
)
_PERSON = frozenset({_I, _U, _R})  # reactivation may correct the stored data
_BY_CARD = frozenset({_E, _U, _R, _T})
_NONE: frozenset[MovementKind] = frozenset()

MOVEMENT_CHOICES: Choices = tuple(
    (code, MOVEMENT_LABELS[kind]) for code, kind in MOVEMENT_CODES.items()
)
RELATIONSHIP_CHOICES: Choices = tuple((str(int(r)), r.label) for r in Relationship)
SEX_CHOICES: Choices = tuple(SEXES.items())
MARITAL_CHOICES: Choices = tuple((m, m) for m in MARITAL_STATUSES)
REASON_CHOICES: Choices = tuple(EXCLUSION_REASONS.items())
STATE_CHOICES: Choices = tuple((s, s) for s in STATES)
BOOL_CHOICES: Choices = (("S", "Sim"), ("N", "Não"))

HOLDER_CODE = str(int(Relationship.HOLDER))
# A dependent's inclusion names its holder by one of these (card of a registered holder,
# or CPF of a holder registered or included on an earlier line of the same file).
HOLDER_LINK_COLUMNS = ("carteirinha_titular", "cpf_titular")
EXAMPLE_CARD = card_number("1", 1)


@dataclass(frozen=True)
class Column:
    """One column of the batch file."""

    name: str  # header, exactly as in the file
    label: str  # what it means, in Portuguese
    kind: ColumnKind
    required_for: frozenset[MovementKind]
    choices: Choices | None  # None for a "choice" column: per company (plan codes)
    format: str
    example: str
    max_length: int
    field: str  # PersonData / request field it maps to
    used_for: frozenset[MovementKind] = BATCH_KINDS  # other movement types ignore it
    required_for_holder: bool = False  # also required for the inclusion of a holder
    note: str = ""  # conditional requirement, said in the layout
    optional: bool = False  # the file may leave the whole column out (added after files exist)

    def requirement(self) -> str:
        """Portuguese text of when the column is required (layout column)."""
        parts = [CODE_OF_KIND[k] for k in MOVEMENT_CODES.values() if k in self.required_for]
        if self.required_for_holder:
            parts.append("INCLUSAO de titular")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts) if parts else "Opcional"


def _column(
    name: str,
    label: str,
    kind: ColumnKind,
    fmt: str,
    example: str,
    max_length: int,
    field: str,
    *,
    required_for: frozenset[MovementKind] = _NONE,
    choices: Choices | None = None,
    used_for: frozenset[MovementKind] = _PERSON,
    holder: bool = False,
    note: str = "",
    optional: bool = False,
) -> Column:
    return Column(
        name=name,
        label=label,
        kind=kind,
        required_for=required_for,
        choices=choices,
        format=fmt,
        example=example,
        max_length=max_length,
        field=field,
        used_for=used_for,
        required_for_holder=holder,
        note=note,
        optional=optional,
    )


def _codes(choices: Choices) -> str:
    return ", ".join(code for code, _ in choices)


def _coded(choices: Choices) -> str:
    return ", ".join(f"{code} = {label}" for code, label in choices)


COLUMNS: tuple[Column, ...] = (
    _column(
        "tipo_movimento",
        "Tipo de movimentação",
        "choice",
        _codes(MOVEMENT_CHOICES),
        "INCLUSAO",
        20,
        "kind",
        required_for=BATCH_KINDS,
        choices=MOVEMENT_CHOICES,
        used_for=BATCH_KINDS,
    ),
    _column(
        "cpf",
        "CPF do beneficiário",
        "digits",
        "11 dígitos, só números (com os zeros à esquerda)",
        "52998224725",
        11,
        "cpf",
        holder=True,
        note="dependente a partir de 18 anos (SIB/ANS)",
    ),
    _column(
        "nome",
        "Nome completo do beneficiário",
        "text",
        "Nome e sobrenome, só letras",
        "MARIA DA SILVA",
        200,
        "name",
        required_for=frozenset({_I}),
    ),
    _column(
        "data_nascimento",
        "Data de nascimento",
        "date",
        "dd/mm/aaaa",
        "15/03/1985",
        10,
        "birth_date",
        required_for=frozenset({_I}),
    ),
    _column(
        "sexo",
        "Sexo",
        "choice",
        "M ou F",
        "F",
        1,
        "sex",
        required_for=frozenset({_I}),
        choices=SEX_CHOICES,
    ),
    _column(
        "nome_mae",
        "Nome completo da mãe",
        "text",
        "Nome e sobrenome, só letras",
        "ANA DA SILVA",
        200,
        "mother_name",
        required_for=frozenset({_I}),
    ),
    _column(
        "estado_civil",
        "Estado civil",
        "choice",
        _codes(MARITAL_CHOICES),
        "Casado(a)",
        20,
        "marital_status",
        choices=MARITAL_CHOICES,
    ),
    _column(
        "estudante",
        "Dependente estudante (limite de idade maior)",
        "bool",
        "S ou N",
        "N",
        3,
        "is_student",
        choices=BOOL_CHOICES,
    ),
    _column(
        "cns",
        "Cartão Nacional de Saúde",
        "digits",
        "15 dígitos, só números",
        "123456789010000",
        15,
        "cns",
    ),
    _column(
        "email",
        "E-mail",
        "text",
        "nome@dominio.com.br",
        "maria.silva@empresa.com.br",
        254,
        "email",
    ),
    _column(
        "telefone",
        "Telefone com DDD",
        "digits",
        "10 ou 11 dígitos, só números",
        "11987654321",
        11,
        "phone",
    ),
    _column(
        "cep",
        "CEP do endereço",
        "digits",
        "8 dígitos, só números",
        "01310100",
        8,
        "cep",
        holder=True,
        note="dependente sem endereço usa o do titular",
    ),
    _column(
        "logradouro",
        "Logradouro (rua, avenida...)",
        "text",
        "Texto",
        "AVENIDA PAULISTA",
        200,
        "street",
    ),
    _column("numero", "Número do endereço", "text", "Texto", "1000", 20, "number"),
    _column("complemento", "Complemento", "text", "Texto", "APTO 12", 100, "complement"),
    _column("bairro", "Bairro", "text", "Texto", "BELA VISTA", 100, "neighbourhood"),
    _column(
        "municipio",
        "Município",
        "text",
        "Texto",
        "SAO PAULO",
        100,
        "municipality",
        holder=True,
        note="dependente sem endereço usa o do titular",
    ),
    _column(
        "uf",
        "UF do endereço",
        "choice",
        "Sigla com 2 letras",
        "SP",
        2,
        "state",
        choices=STATE_CHOICES,
        holder=True,
        note="dependente sem endereço usa o do titular",
    ),
    _column(
        "data_admissao",
        "Data de admissão do titular na empresa",
        "date",
        "dd/mm/aaaa",
        "02/01/2024",
        10,
        "admission_date",
        holder=True,
    ),
    _column(
        "parentesco",
        "Parentesco com o titular (código SIB/ANS)",
        "choice",
        _coded(RELATIONSHIP_CHOICES),
        HOLDER_CODE,
        2,
        "relationship_code",
        required_for=frozenset({_I}),
        choices=RELATIONSHIP_CHOICES,
        used_for=frozenset({_I}),
    ),
    _column(
        "carteirinha_titular",
        "Carteirinha do titular já cadastrado (dependente)",
        "digits",
        "Só números",
        EXAMPLE_CARD,
        20,
        "holder_card",
        used_for=frozenset({_I}),
        note="INCLUSAO de dependente: esta ou cpf_titular",
    ),
    _column(
        "cpf_titular",
        "CPF do titular (dependente de titular cadastrado ou incluído em linha anterior)",
        "digits",
        "11 dígitos, só números",
        "52998224725",
        11,
        "holder_cpf",
        used_for=frozenset({_I}),
        note="INCLUSAO de dependente: esta ou carteirinha_titular",
    ),
    _column(
        "codigo_plano",
        "Código do plano contratado (titular; dependentes seguem o titular)",
        "choice",
        "Código da lista de planos da empresa",
        "ODT-ESS",
        10,
        "plan_code",
        used_for=frozenset({_I, _T}),
        holder=True,
        note="TRANSFERENCIA: vazio mantém o plano atual",
    ),
    _column(
        "carteirinha",
        "Carteirinha do beneficiário já cadastrado",
        "digits",
        "Só números",
        EXAMPLE_CARD,
        20,
        "card_number",
        required_for=_BY_CARD,
        used_for=_BY_CARD,
    ),
    _column(
        "data_vigencia",
        "Data de vigência da movimentação (vazio = hoje)",
        "date",
        "dd/mm/aaaa",
        "01/07/2026",
        10,
        "effective_date",
        used_for=frozenset({_I, _E, _R, _T}),
    ),
    _column(
        "motivo_exclusao",
        "Motivo da exclusão",
        "choice",
        _codes(REASON_CHOICES),
        "pedido",
        30,
        "reason",
        required_for=frozenset({_E}),
        choices=REASON_CHOICES,
        used_for=frozenset({_E}),
    ),
    _column(
        "codigo_empresa_destino",
        "Código da empresa de destino (mesmo grupo econômico)",
        "text",
        "Código da empresa no portal",
        "10004",
        10,
        "target_company_code",
        required_for=frozenset({_T}),
        used_for=frozenset({_T}),
    ),
    _column(
        "centro_custo",
        "Código do centro de custo do titular (dependentes seguem o titular)",
        "text",
        "Código da lista de centros de custo da empresa (Empresa > Centros de custo)",
        "ADM",
        20,
        "cost_centre",
        used_for=frozenset({_I, _U}),
        note="coluna opcional no arquivo; vazio: titular sem centro de custo (INCLUSAO) ou "
        "centro de custo mantido (ALTERACAO)",
        optional=True,
    ),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
BY_FIELD: dict[str, Column] = {c.field: c for c in COLUMNS}
# Fields named by the rules' and services' refusals that are not a column's own field.
FIELD_ALIASES: dict[str, str] = {
    "holder": "carteirinha_titular",
    "holder_id": "carteirinha_titular",
    "plan": "codigo_plano",
    "plan_id": "codigo_plano",
    "target_company": "codigo_empresa_destino",
    "target_company_id": "codigo_empresa_destino",
    "dependents_confirmed": "carteirinha",
    "relationship": "parentesco",
}
# The update of a beneficiary changes the person columns that are filled in, and a
# holder's cost centre.
UPDATE_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in COLUMNS if c.field in UPDATABLE_FIELDS or c.field == "cost_centre"
)


def column_for_field(field: str | None) -> str | None:
    """The column of a field named by a refusal (`DomainError.field`), or None."""
    if not field:
        return None
    if field in BY_NAME:
        return field
    column = BY_FIELD.get(field)
    return column.name if column else FIELD_ALIASES.get(field)


# ---------------------------------------------------------------- layout

LAYOUT_HEADERS = (
    "Coluna",
    "Significado",
    "Obrigatória para",
    "Formato",
    "Exemplo",
    "Tamanho máximo",
)


def layout_rows() -> list[dict[str, str | int]]:
    """The file layout, one row per column, with Portuguese keys (shown and downloaded as is)."""
    return [
        dict(
            zip(
                LAYOUT_HEADERS,
                (c.name, c.label, c.requirement(), c.format, c.example, c.max_length),
                strict=True,
            )
        )
        for c in COLUMNS
    ]


def _layout_table() -> list[list[str]]:
    return [list(LAYOUT_HEADERS)] + [[str(v) for v in row.values()] for row in layout_rows()]


def layout_csv() -> bytes:
    """The layout as a semicolon CSV (UTF-8 with BOM)."""
    return csv_bytes(_layout_table())


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def layout_xlsx() -> bytes:
    """The layout as an xlsx with one sheet, "Layout"."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Layout"
    for r, row in enumerate(_layout_table(), start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            write_text(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if r == 1:
                cell.font = HEADER_FONT
                cell.fill = HEADER_FILL
    for letter, width in zip("ABCDEF", (24, 48, 40, 36, 28, 14), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

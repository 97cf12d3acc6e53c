"""An LGPD access request on screen and in files: JSON (complete, machine-readable: the
stored keys and ISO dates) and, for people, the screen tables and the Excel file with
Portuguese column names and pt-BR values (dd/mm/aaaa, R$ 1.234,56, cards 0001 0000 ...)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from services import exports
from services.lgpd import Dossier
from services.rules.formats import format_card, format_datetime, format_field
from services.rules.movements import FIELD_LABELS as PERSON_FIELD_LABELS

# The dossier's keys (the database's column names) as the interface names them: the
# register's fields as the movement forms name them, and the dossier's own.
FIELD_LABELS = {
    **PERSON_FIELD_LABELS,
    "card_number": "Carteirinha",
    "carteirinha": "Carteirinha",
    "name": "Nome",
    "nome": "Nome",
    "municipality_ibge": "Código IBGE do município",
    "effective_date": "Início de vigência",
    "status": "Situação",
    "exclusion_date": "Data de exclusão",
    "exclusion_reason": "Motivo da exclusão",
    "stay_until": "Permanência até",
    "relationship_code": "Parentesco (código)",
    "created_at": "Cadastrado em",
    "updated_at": "Atualizado em",
    "vinculo": "Vínculo",
    "kind": "Tipo",
    "channel": "Canal",
    "received_at": "Recebida em",
    "billing_month": "Competência de cobrança",
    "is_retroactive": "Retroativa",
    "reason": "Motivo",
    "before": "Antes",
    "after": "Depois",
    "subject": "Assunto",
    "opened_at": "Aberto em",
    "deadline": "Prazo",
    "competencia": "Competência",
    "reference_month": "Competência de referência",
    "age_band": "Faixa etária",
    "amount": "Valor",
    "event_date": "Data",
    "tuss_code": "Código TUSS",
    "procedure_name": "Procedimento",
    "procedure_group": "Grupo de procedimentos",
    "at": "Quando",
    "action": "Ação",
    "start_date": "Coberto desde",
    "end_date": "Sem cobertura a partir de",
    "plan_id": "Plano (código interno)",
    "estado": "Situação da movimentação",
    "waiting_periods": "Carências",
}


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def section_table(title: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One section of the dossier as a table: the register as field and value, any other
    section with a labelled column per key."""
    if title == "Cadastro" and rows:
        return pd.DataFrame(
            {
                "Campo": [field_label(k) for k in rows[0]],
                "Valor": [format_field(k, v) for k, v in rows[0].items()],
            }
        )
    keys = list(rows[0]) if rows else []
    return pd.DataFrame({field_label(k): [format_field(k, r.get(k)) for r in rows] for k in keys})


def _accesses(dossier: Dossier) -> list[dict[str, Any]]:
    return [
        {
            "quando": a.at.isoformat(),
            "usuario": f"{a.user_code} · {a.user_name}" if a.user_code else "",
            "finalidade": a.purpose_label,
            "detalhe": a.detail,
            "somente_este_beneficiario": a.direct,
        }
        for a in dossier.accesses
    ]


def dossier_json(dossier: Dossier) -> bytes:
    document = {
        "titular": dossier.name,
        "carteirinha": format_card(dossier.card_number),
        "empresa": dossier.company_label,
        "gerado_em": dossier.generated_at.isoformat(),
        "base_legal": "Lei 13.709/2018 (LGPD), art. 18, II: acesso aos dados",
        **dossier.sections,
        "Acessos aos dados": _accesses(dossier),
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _cell_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _sheet(dossier: Dossier, title: str, rows: list[dict[str, Any]]) -> exports.Sheet:
    heading = [
        (f"{dossier.name} · {dossier.company_label}",),
        (exports.Styled(f"Gerado em {format_datetime(dossier.generated_at)}"),),
    ]
    if not rows:
        return exports.Sheet(title, [], [["Nenhum registro."]], heading=heading)
    if title in dossier.sections:  # labelled columns, pt-BR values (as on screen)
        table = section_table(title, rows)
        values = table.itertuples(index=False, name=None)
        return exports.Sheet(title, [str(c) for c in table.columns], values, heading=heading)
    columns = list(rows[0])
    values = ([_cell_value(row.get(c)) for c in columns] for row in rows)
    return exports.Sheet(title, columns, values, heading=heading)


def dossier_xlsx(dossier: Dossier) -> bytes:
    """One sheet per section; every text cell neutralised against formulas."""
    sheets = {**dossier.sections, "Acessos aos dados": _accesses(dossier)}
    return exports.xlsx_bytes(_sheet(dossier, title, rows) for title, rows in sheets.items())

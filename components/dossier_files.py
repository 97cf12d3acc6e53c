"""The files of an LGPD access request: JSON (complete, machine-readable) and Excel."""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from components.fmt import fmt_card, fmt_datetime
from components.report_widgets import neutralise
from services.lgpd import Dossier


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
        "carteirinha": fmt_card(dossier.card_number),
        "empresa": dossier.company_label,
        "gerado_em": dossier.generated_at.isoformat(),
        "base_legal": "Lei 13.709/2018 (LGPD), art. 18, II: acesso aos dados",
        **dossier.sections,
        "Acessos aos dados": _accesses(dossier),
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _cell_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return neutralise(str(value))


def dossier_xlsx(dossier: Dossier) -> bytes:
    """One sheet per section; every text cell neutralised against formulas."""
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    sheets = {**dossier.sections, "Acessos aos dados": _accesses(dossier)}
    for title, rows in sheets.items():
        ws = wb.create_sheet(title[:31])
        head = WriteOnlyCell(ws, value=neutralise(f"{dossier.name} · {dossier.company_label}"))
        head.font = bold
        ws.append([head])
        ws.append([f"Gerado em {fmt_datetime(dossier.generated_at)}"])
        ws.append([])
        if not rows:
            ws.append(["Nenhum registro."])
            continue
        columns = list(rows[0])
        ws.append([neutralise(str(c)) for c in columns])
        for row in rows:
            ws.append([_cell_value(row.get(c)) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

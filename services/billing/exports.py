"""Exporting tables: an invoice, or any headed table, as xlsx or csv for a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from services.billing.invoices import InvoiceDetail
from services.rules.billing import spreadsheet_safe


def _month_text(d: date) -> str:
    return f"{d:%m/%Y}"


def _csv_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return spreadsheet_safe(str(value))


def table_download(
    heading: Sequence[tuple[str, str]],
    sheets: Sequence[tuple[str, pd.DataFrame]],
    fmt: str,
    month_columns: Sequence[str] = (),
) -> bytes:
    """A spreadsheet (xlsx: one sheet per table; csv: the first table) whose first
    rows are ``heading`` (label, value), then a blank row and the table.

    Money (Decimal) becomes a number with 2 decimals; text that a spreadsheet would
    run as a formula is neutralised; ``month_columns`` (dates) show as mm/aaaa.
    """
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        for label, value in heading:
            writer.writerow([spreadsheet_safe(label), spreadsheet_safe(value)])
        writer.writerow([])
        df = sheets[0][1]
        writer.writerow([spreadsheet_safe(str(c)) for c in df.columns])
        months = {i for i, c in enumerate(df.columns) if c in month_columns}
        for values in df.itertuples(index=False, name=None):
            writer.writerow(
                [
                    _month_text(v) if i in months and isinstance(v, date) else _csv_value(v)
                    for i, v in enumerate(values)
                ]
            )
        # UTF-8 with BOM and ";" so that a pt-BR spreadsheet opens it as it is.
        return out.getvalue().encode("utf-8-sig")
    if fmt != "xlsx":
        raise ValueError(f"unknown format {fmt!r}")
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, df in sheets:
        ws = book.create_sheet(title[:31])
        for label, value in heading:
            first = WriteOnlyCell(ws, spreadsheet_safe(label))
            first.font = bold
            ws.append([first, spreadsheet_safe(value)])
        ws.append([])
        header = []
        for column in df.columns:
            cell = WriteOnlyCell(ws, spreadsheet_safe(str(column)))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        months = {i for i, c in enumerate(df.columns) if c in month_columns}
        for values in df.itertuples(index=False, name=None):
            row: list[Any] = []
            for i, v in enumerate(values):
                if isinstance(v, Decimal):
                    cell = WriteOnlyCell(ws, v)
                    cell.number_format = "#,##0.00"
                elif isinstance(v, date | datetime):
                    cell = WriteOnlyCell(ws, v)
                    cell.number_format = "mm/yyyy" if i in months else "dd/mm/yyyy"
                elif isinstance(v, str):
                    cell = WriteOnlyCell(ws, spreadsheet_safe(v))
                elif isinstance(v, np.integer):
                    cell = WriteOnlyCell(ws, int(v))
                else:
                    cell = WriteOnlyCell(ws, v)
                row.append(cell)
            ws.append(row)
    out_bytes = io.BytesIO()
    book.save(out_bytes)
    return out_bytes.getvalue()


def invoice_download(detail: InvoiceDetail, fmt: str, *, generated_at: datetime) -> bytes:
    """The invoice's lines as xlsx or csv, headed by the company, month and totals."""
    inv = detail.invoice
    heading = [
        ("Fatura", f"nº {inv.id}"),
        ("Empresa", f"{detail.company_code} · {detail.company_name}"),
        ("CNPJ/CAEPF", detail.company_document),
        ("Competência", _month_text(inv.billing_month)),
        ("Vencimento", f"{inv.due_date:%d/%m/%Y}"),
        ("Situação", inv.status_label),
        ("Valor total", f"{inv.amount:.2f}".replace(".", ",")),
        ("Gerado em", f"{generated_at:%d/%m/%Y %H:%M}"),
    ]
    return table_download(
        heading, [("Fatura", detail.lines)], fmt, month_columns=["Competência de referência"]
    )

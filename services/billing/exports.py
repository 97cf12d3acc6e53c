"""Exporting tables: an invoice, or any headed table, as xlsx or csv for a spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from services import exports
from services.billing.invoices import COST_CENTRE_COLUMN, InvoiceDetail
from services.rules.formats import (
    decimal_comma,
    format_date,
    format_datetime,
    format_month_numeric,
)


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
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown format {fmt!r}")
    tables = [
        exports.Sheet(
            title,
            [str(c) for c in df.columns],
            df.itertuples(index=False, name=None),
            heading=heading,
            month_columns=month_columns,
        )
        for title, df in (sheets[:1] if fmt == "csv" else sheets)
    ]
    return exports.sheet_csv(tables[0]) if fmt == "csv" else exports.xlsx_bytes(tables)


def invoice_download(detail: InvoiceDetail, fmt: str, *, generated_at: datetime) -> bytes:
    """The invoice's lines as xlsx or csv, headed by the company, month and totals."""
    inv = detail.invoice
    heading = [
        ("Fatura", f"nº {inv.id}"),
        ("Empresa", f"{detail.company_code} · {detail.company_name}"),
        ("CNPJ/CAEPF", detail.company_document),
        ("Competência", format_month_numeric(inv.billing_month)),
        ("Vencimento", format_date(inv.due_date)),
        ("Situação", inv.status_label),
        ("Valor total", decimal_comma(inv.amount)),
        ("Gerado em", format_datetime(generated_at)),  # Brasília time, not UTC
    ]
    sheets: list[tuple[str, pd.DataFrame]] = [("Fatura", detail.lines)]
    if detail.by_cost_centre is not None:
        # A summary, then one sheet per cost centre with its own lines: the sheets of the
        # cost centres add up to the invoice, to the cent.
        sheets.append(("Por centro de custo", detail.by_cost_centre))
        for label in detail.by_cost_centre[COST_CENTRE_COLUMN]:
            own = detail.lines[detail.lines[COST_CENTRE_COLUMN] == label]
            sheets.append((cost_centre_sheet_title(str(label)), own))
    return table_download(heading, sheets, fmt, month_columns=["Competência de referência"])


def cost_centre_sheet_title(label: str) -> str:
    """A worksheet title for a cost centre: its code (unique in the company), without
    the characters Excel refuses in a title."""
    code = label.split(" · ", 1)[0]
    for bad in "[]:*?/\\":
        code = code.replace(bad, "-")
    return f"CC {code}"[:31]

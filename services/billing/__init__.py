"""Invoices, billing reports and the monthly billing run, one module each.

- `invoices`: a company's invoices and one invoice with its lines and totals by kind.
- `exports`: an invoice, or any headed table, as xlsx or csv.
- `reports`: what a company was billed over a period, by month, plan and beneficiary.
- `run`: the monthly billing run (issues the invoices of a month for many companies).
- `summary`: what a run issued, read back from its invoices (lines by kind).
- `ledger_export`: every line of a company's invoices, streamed (`portal-billing ledger`).
- `frames`: SQL to pandas helpers they share (money as integer cents, dates as YYYYMMDD).

Reads are one query each, aggregated in SQL or read once into pandas. Money leaves the
database as integer cents and becomes `Decimal` only for display and export.

Every public name is available here: ``from services import billing`` then
``billing.invoice_list(...)``, or ``from services.billing import InvoiceRow``. Each
module is imported on the first use of one of its names (`_NAMES`), so a command that
only exports the ledger does not load pandas, numpy and openpyxl.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# name -> the module of this package that defines it
_NAMES = {
    "money": "frames",
    "MAX_IN_IDS": "frames",
    "Progress": "frames",
    "InvoiceRow": "invoices",
    "InvoiceDetail": "invoices",
    "LINE_COLUMNS": "invoices",
    "KIND_COLUMNS": "invoices",
    "MONTHLY_KINDS": "invoices",
    "invoice_row_of": "invoices",
    "invoice_years": "invoices",
    "invoice_list": "invoices",
    "invoice_detail": "invoices",
    "table_download": "exports",
    "invoice_download": "exports",
    "PlanOption": "reports",
    "ReportOptions": "reports",
    "BillingReport": "reports",
    "REPORT_VIEWS": "reports",
    "billing_report_options": "reports",
    "billing_report": "reports",
    "billing_report_download": "reports",
    "LINE_CHUNK": "run",
    "BilledCompany": "run",
    "SkippedCompany": "run",
    "BillingRunResult": "run",
    "billing_month_options": "run",
    "billing_run": "run",
    "RunSummary": "summary",
    "ADJUSTMENT_COLUMNS": "summary",
    "run_summary": "summary",
    "LEDGER_HEADER": "ledger_export",
    "LedgerRow": "ledger_export",
    "ledger_rows": "ledger_export",
}
__all__ = [  # the names of `_NAMES`, spelled out for linters
    "ADJUSTMENT_COLUMNS",
    "BilledCompany",
    "BillingReport",
    "BillingRunResult",
    "InvoiceDetail",
    "InvoiceRow",
    "KIND_COLUMNS",
    "LEDGER_HEADER",
    "LINE_CHUNK",
    "LINE_COLUMNS",
    "LedgerRow",
    "MAX_IN_IDS",
    "MONTHLY_KINDS",
    "PlanOption",
    "Progress",
    "REPORT_VIEWS",
    "ReportOptions",
    "RunSummary",
    "SkippedCompany",
    "billing_month_options",
    "billing_report",
    "billing_report_download",
    "billing_report_options",
    "billing_run",
    "invoice_detail",
    "invoice_download",
    "invoice_list",
    "invoice_row_of",
    "invoice_years",
    "ledger_rows",
    "money",
    "run_summary",
    "table_download",
]


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later uses are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES})


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from services.billing.exports import invoice_download, table_download
    from services.billing.frames import MAX_IN_IDS, Progress, money
    from services.billing.invoices import (
        KIND_COLUMNS,
        LINE_COLUMNS,
        MONTHLY_KINDS,
        InvoiceDetail,
        InvoiceRow,
        invoice_detail,
        invoice_list,
        invoice_row_of,
        invoice_years,
    )
    from services.billing.ledger_export import LEDGER_HEADER, LedgerRow, ledger_rows
    from services.billing.reports import (
        REPORT_VIEWS,
        BillingReport,
        PlanOption,
        ReportOptions,
        billing_report,
        billing_report_download,
        billing_report_options,
    )
    from services.billing.run import (
        LINE_CHUNK,
        BilledCompany,
        BillingRunResult,
        SkippedCompany,
        billing_month_options,
        billing_run,
    )
    from services.billing.summary import ADJUSTMENT_COLUMNS, RunSummary, run_summary

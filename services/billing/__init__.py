"""Invoices, billing reports and the monthly billing run, one module each.

- `invoices`: a company's invoices and one invoice with its lines (reads).
- `exports`: an invoice, or any headed table, as xlsx or csv.
- `reports`: what a company was billed over a period, by month, plan and beneficiary.
- `run`: the monthly billing run (issues the invoices of a month for many companies).
- `frames`: SQL to pandas helpers they share (money as integer cents, dates as YYYYMMDD).

Reads are one query each, aggregated in SQL or read once into pandas. Money leaves the
database as integer cents and becomes `Decimal` only for display and export.

Every public name is re-exported here: ``from services import billing`` then
``billing.invoice_list(...)`` or ``from services.billing import InvoiceRow``.
"""

from services.billing.exports import invoice_download, table_download
from services.billing.frames import MAX_IN_IDS, Progress, money
from services.billing.invoices import (
    LINE_COLUMNS,
    InvoiceDetail,
    InvoiceRow,
    invoice_detail,
    invoice_list,
    invoice_row_of,
    invoice_years,
)
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

__all__ = [
    "LINE_CHUNK",
    "LINE_COLUMNS",
    "MAX_IN_IDS",
    "REPORT_VIEWS",
    "BilledCompany",
    "BillingReport",
    "BillingRunResult",
    "InvoiceDetail",
    "InvoiceRow",
    "PlanOption",
    "Progress",
    "ReportOptions",
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
    "money",
    "table_download",
]

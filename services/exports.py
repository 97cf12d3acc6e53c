"""Spreadsheets and CSV files for download, in one place, with the formula guard.

- The guard (OWASP, "CSV injection"): text that starts with ``= + - @``, a tab or a CR
  gets a leading ``'``, so no spreadsheet runs a name like ``=HYPERLINK(...)`` as a
  formula. Every text cell of every file written here goes through `neutralise`.
- xlsx: openpyxl's write-only workbook (constant memory); money stays a number with the
  ``#,##0.00`` format, dates are dates (``dd/mm/yyyy``, months ``mm/yyyy``), moments are
  shown in Brasília time; characters XML 1.0 cannot hold become U+FFFD.
- CSV: ``;``-separated, CRLF, UTF-8 with BOM, decimal comma, dates dd/mm/aaaa: a pt-BR
  spreadsheet opens it as it is.

A file is a list of `Sheet`: optional heading rows (label in bold, value), a blank row,
the column names in bold, then the rows. The values are Python values (Decimal, date,
datetime, int, bool, text, None; numpy scalars are unwrapped), never preformatted text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.rules.formats import BRT, decimal_comma

if TYPE_CHECKING:
    from openpyxl.cell import Cell

# openpyxl is imported where an xlsx is written: the streamed CSV exports (the ledger
# CLI) use this module and start without loading it.

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
INT_FORMAT = "#,##0"
DATE_FORMAT = "dd/mm/yyyy"
MONTH_FORMAT = "mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"

# XML 1.0 cannot hold these (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF): openpyxl
# refuses the controls and writes the others into a file no spreadsheet can open.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------- the guard


def neutralise(text: str) -> str:
    """``text`` that a spreadsheet shows as text and never runs as a formula: a leading
    = + - @ tab or CR gets a ``'`` before it; anything else is unchanged."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def xlsx_text(text: str) -> str:
    """Text safe for an xlsx cell: characters XML cannot hold become U+FFFD, then
    `neutralise` (in this order, so no removed character can uncover a formula)."""
    return neutralise(_NOT_XML.sub("\ufffd", text))


def write_text(cell: Cell, value: object) -> None:
    """Write ``value`` into a cell of an ordinary (not write-only) workbook as a string
    cell, never a formula, neutralised."""
    cell.value = xlsx_text("" if value is None else str(value))
    cell.data_type = "s"


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Styled:
    """A value with a look: bold, or a background colour (hex ``RRGGBB``)."""

    value: Any
    bold: bool = False
    fill: str | None = None


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, Decimal | str):
        return value.item()  # numpy scalar
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def csv_text(value: Any, *, month: bool = False) -> str:
    """One CSV cell as a pt-BR spreadsheet reads it: ``1234,56``, ``07/03/2026``
    (``03/2026`` for a ``month``), ``07/03/2026 12:30`` in Brasília, Sim/Não, and text
    neutralised; nothing for a missing value."""
    value = _plain(value)
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        return decimal_comma(value, 2)
    if isinstance(value, datetime):
        moment = value.astimezone(BRT) if value.tzinfo else value
        return f"{moment:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%m/%Y}" if month else f"{value:%d/%m/%Y}"
    return neutralise(str(value))


def xlsx_value(value: Any, *, month: bool = False) -> tuple[Any, str | None]:
    """One xlsx cell: the value to store and its number format (None: the default)."""
    value = _plain(value)
    if _missing(value):
        return None, None
    if isinstance(value, bool):
        return ("Sim" if value else "Não"), None
    if isinstance(value, int):
        return value, INT_FORMAT
    if isinstance(value, Decimal | float):
        return value, MONEY_FORMAT
    if isinstance(value, datetime):
        # Excel has no time zones: the moment as Brasília's wall clock
        local = value.astimezone(BRT).replace(tzinfo=None) if value.tzinfo else value
        return local, DATETIME_FORMAT
    if isinstance(value, date):
        return value, MONTH_FORMAT if month else DATE_FORMAT
    return xlsx_text(str(value)), None


# ---------------------------------------------------------------- files


@dataclass(frozen=True)
class Sheet:
    """One table of a file.

    ``heading``: rows above the table (the first cell of each in bold), then a blank
    row. ``month_columns``: date columns shown as mm/aaaa. ``widths``: column name ->
    width. ``header_fill``: background of the column names. ``freeze_header``: the
    column names stay on screen (only when there is no heading).
    """

    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    heading: Sequence[Sequence[Any]] = ()
    month_columns: Collection[str] = ()
    widths: Mapping[str, float] = field(default_factory=dict)
    header_fill: str | None = None
    freeze_header: bool = False


def _bold_first(row: Sequence[Any]) -> list[Any]:
    return [
        Styled(v, bold=True) if i == 0 and not isinstance(v, Styled) else v
        for i, v in enumerate(row)
    ]


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """An xlsx with one worksheet per `Sheet` (titles cut to Excel's 31 characters)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fills: dict[str, PatternFill] = {}
    book = Workbook(write_only=True)

    def cell(ws: Any, value: Any, month: bool = False) -> WriteOnlyCell:
        style = value if isinstance(value, Styled) else None
        stored, number_format = xlsx_value(style.value if style else value, month=month)
        made = WriteOnlyCell(ws, value=stored)
        if number_format:
            made.number_format = number_format
        if style and style.bold:
            made.font = bold
        if style and style.fill:
            made.fill = fills.setdefault(style.fill, PatternFill("solid", fgColor=style.fill))
        return made

    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        for i, name in enumerate(sheet.columns, start=1):
            if name in sheet.widths:
                ws.column_dimensions[get_column_letter(i)].width = sheet.widths[name]
        if sheet.freeze_header and not sheet.heading:
            ws.freeze_panes = "A2"
        for row in sheet.heading:
            ws.append([cell(ws, v) for v in _bold_first(row)])
        if sheet.heading:
            ws.append([])
        if sheet.columns:
            fill = sheet.header_fill
            ws.append([cell(ws, Styled(str(c), bold=True, fill=fill)) for c in sheet.columns])
        months = {i for i, c in enumerate(sheet.columns) if c in sheet.month_columns}
        for values in sheet.rows:
            ws.append([cell(ws, v, i in months) for i, v in enumerate(values)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _unstyled(value: Any) -> Any:
    return value.value if isinstance(value, Styled) else value


def _write_csv(out: io.StringIO, rows: Iterable[Sequence[Any]], months: Collection[int]) -> None:
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_text(_unstyled(v), month=i in months) for i, v in enumerate(row)])


def csv_bytes(rows: Iterable[Sequence[Any]], *, month_columns: Collection[int] = ()) -> bytes:
    """Rows as a ``;`` CSV, CRLF, UTF-8 with BOM, each cell by `csv_text` (``month_columns``:
    positions of the date columns shown as mm/aaaa)."""
    out = io.StringIO()
    _write_csv(out, rows, month_columns)
    return out.getvalue().encode("utf-8-sig")


def sheet_csv(sheet: Sheet) -> bytes:
    """One `Sheet` as CSV: its heading rows, a blank row, the column names, the rows."""
    out = io.StringIO()
    if sheet.heading:
        _write_csv(out, [*sheet.heading, []], ())
    if sheet.columns:
        _write_csv(out, [list(sheet.columns)], ())
    months = {i for i, c in enumerate(sheet.columns) if c in sheet.month_columns}
    _write_csv(out, sheet.rows, months)
    return out.getvalue().encode("utf-8-sig")


_QUOTE_WHEN = {d: re.compile(f'[{re.escape(d)}"\r\n]') for d in ",;"}


def csv_field(text: str, delimiter: str = ",") -> str:
    """One field of a hand-written CSV line (a streamed export), quoted as the csv module
    does when it holds the delimiter, a quote or a line break."""
    if _QUOTE_WHEN[delimiter].search(text):
        return '"' + text.replace('"', '""') + '"'
    return text

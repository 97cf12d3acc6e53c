"""services.exports: the one spreadsheet/CSV writer and its formula guard."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal as D

import numpy as np
import pytest
from openpyxl import Workbook, load_workbook

from services.exports import (
    Sheet,
    Styled,
    csv_bytes,
    csv_field,
    csv_text,
    neutralise,
    sheet_csv,
    write_text,
    xlsx_bytes,
    xlsx_text,
    xlsx_value,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+55 11 99999-0000", "'+55 11 99999-0000"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("Maria = José", "Maria = José"),
        ("a=b", "a=b"),
        ("", ""),
        ("'já escapado", "'já escapado"),
    ],
)
def test_text_never_starts_like_a_formula(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_xlsx_text_replaces_what_xml_cannot_hold_before_the_guard() -> None:
    assert xlsx_text("a\x00b") == "a\ufffdb"
    # the removed control cannot uncover a formula: the guard runs last
    assert xlsx_text("\x01=cmd") == "\ufffd=cmd"
    assert xlsx_text("=cmd\x02") == "'=cmd\ufffd"
    assert xlsx_text("linha\nlinha") == "linha\nlinha"


@pytest.mark.parametrize(
    ("value", "month", "expected"),
    [
        (None, False, ""),
        (float("nan"), False, ""),
        (True, False, "Sim"),
        (False, False, "Não"),
        (1234, False, "1234"),
        (np.int64(7), False, "7"),
        (D("1234.5"), False, "1234,50"),
        (D("-0.05"), False, "-0,05"),
        (12.345, False, "12,34"),
        (date(2026, 3, 7), False, "07/03/2026"),
        (date(2026, 3, 1), True, "03/2026"),
        (datetime(2026, 3, 7, 15, 30, tzinfo=UTC), False, "07/03/2026 12:30"),
        ("=HYPERLINK(1)", False, "'=HYPERLINK(1)"),
        ("Ana", False, "Ana"),
    ],
)
def test_a_csv_cell_is_written_as_a_pt_br_spreadsheet_reads_it(value, month, expected) -> None:
    assert csv_text(value, month=month) == expected


def test_xlsx_values_keep_numbers_and_dates_typed() -> None:
    assert xlsx_value(D("1.5")) == (D("1.5"), "#,##0.00")
    assert xlsx_value(3) == (3, "#,##0")
    assert xlsx_value(np.int64(3)) == (3, "#,##0")
    assert xlsx_value(date(2026, 3, 1), month=True) == (date(2026, 3, 1), "mm/yyyy")
    assert xlsx_value(date(2026, 3, 7)) == (date(2026, 3, 7), "dd/mm/yyyy")
    moment = xlsx_value(datetime(2026, 3, 7, 15, 30, tzinfo=UTC))
    assert moment == (datetime(2026, 3, 7, 12, 30), "dd/mm/yyyy hh:mm")
    assert xlsx_value(None) == (None, None)
    assert xlsx_value(False) == ("Não", None)
    assert xlsx_value("-1") == ("'-1", None)


def _sheet() -> Sheet:
    return Sheet(
        "Fatura com um título longo demais para o Excel",
        ["Nome", "Valor", "Competência", "Quando"],
        [
            ["=cmd|' /C calc'!A0", D("-1.50"), date(2026, 3, 1), date(2026, 3, 7)],
            [Styled("Bia", fill="F4B6B6"), D("2"), date(2026, 4, 1), None],
        ],
        heading=[("Empresa", "@evil"), ("Total", "0,50")],
        month_columns=["Competência"],
        widths={"Nome": 40},
    )


def test_the_xlsx_has_heading_blank_row_bold_columns_and_typed_rows() -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes([_sheet()])))
    ws = book.active
    assert ws.title == "Fatura com um título longo dema"  # 31 characters
    assert [c.value for c in ws[1]][:2] == ["Empresa", "'@evil"] and ws["A1"].font.bold
    assert ws["B1"].font.bold is False
    assert all(c.value is None for c in ws[3])
    assert [c.value for c in ws[4]] == ["Nome", "Valor", "Competência", "Quando"]
    assert all(c.font.bold for c in ws[4])
    assert ws["A5"].value == "'=cmd|' /C calc'!A0" and ws["A5"].data_type == "s"
    assert ws["B5"].value == -1.5 and ws["B5"].number_format == "#,##0.00"
    assert ws["C5"].number_format == "mm/yyyy" and ws["D5"].number_format == "dd/mm/yyyy"
    assert ws["A6"].fill.fgColor.rgb == "00F4B6B6"
    assert ws.column_dimensions["A"].width == 40
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_the_csv_is_semicolon_crlf_utf8_with_bom_and_guarded() -> None:
    content = sheet_csv(_sheet())
    assert content.startswith(b"\xef\xbb\xbf") and b"\r\n" in content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Empresa", "'@evil"]
    assert rows[2] == []
    assert rows[3] == ["Nome", "Valor", "Competência", "Quando"]
    assert rows[4] == ["'=cmd|' /C calc'!A0", "-1,50", "03/2026", "07/03/2026"]
    assert rows[5] == ["Bia", "2,00", "04/2026", ""]
    assert content.count(b"\xef\xbb\xbf") == 1


def test_plain_rows_as_csv() -> None:
    content = csv_bytes([["a", "-b"], ["1;2", 'x"y']])
    assert content.decode("utf-8-sig") == 'a;\'-b\r\n"1;2";"x""y"\r\n'


def test_an_ordinary_workbook_cell_is_written_as_guarded_text() -> None:
    ws = Workbook().active
    write_text(ws["A1"], "=1+1")
    write_text(ws["A2"], None)
    write_text(ws["A3"], 12)
    assert (ws["A1"].value, ws["A1"].data_type) == ("'=1+1", "s")
    assert ws["A2"].value == "" and ws["A3"].value == "12"


@pytest.mark.parametrize(
    ("text", "delimiter", "expected"),
    [
        ("0001000000000123", ",", "0001000000000123"),
        ("a,b", ",", '"a,b"'),
        ("a;b", ",", "a;b"),
        ("a;b", ";", '"a;b"'),
        ('say "x"', ",", '"say ""x"""'),
        ("two\nlines", ",", '"two\nlines"'),
    ],
)
def test_a_hand_written_csv_field_is_quoted_as_the_csv_module_would(text, delimiter, expected):
    assert csv_field(text, delimiter) == expected
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow([text])
    assert out.getvalue() == expected + "\r\n"

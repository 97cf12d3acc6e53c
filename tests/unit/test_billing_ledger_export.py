"""The ledger export's formatting of a row (pure, no database)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from services.billing.ledger_export import (
    LEDGER_HEADER,
    LedgerRow,
    ledger_line,
)


def read_back(line: str) -> list[str]:
    """The fields the csv module reads from one exported line."""
    return next(csv.reader(io.StringIO(line)))


def fields_of(row: LedgerRow) -> list[str]:
    """The fields a row should export, in `LEDGER_HEADER`'s order (the test's oracle)."""
    return [
        row.card_number,
        row.cpf,
        row.reference_month,
        row.invoice_month,
        row.kind,
        f"{Decimal(row.cents) / 100:.2f}",
    ]


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (100, "1.00"),
        (12345, "123.45"),
        (-9510, "-95.10"),
        (123456789012, "1234567890.12"),
    ],
)
def test_cents_are_written_with_a_dot_two_decimals_and_credits_negative(cents: int, text: str):
    assert (
        read_back(ledger_line(LedgerRow("0001", "1", "2025-07", "2025-07", "monthly", cents)))[5]
        == text
    )


def test_a_row_becomes_the_fields_of_the_header_in_order():
    row = LedgerRow("0001000000000017", "52998224725", "2025-05", "2025-08", "credit", -11510)
    fields = read_back(ledger_line(row))
    assert len(fields) == len(LEDGER_HEADER)
    assert dict(zip(LEDGER_HEADER, fields, strict=True)) == {
        "card_number": "0001000000000017",
        "cpf": "52998224725",
        "reference_month": "2025-05",
        "invoice_month": "2025-08",
        "kind": "credit",
        "amount": "-115.10",
    }


def test_a_beneficiary_without_cpf_has_an_empty_field():
    line = ledger_line(LedgerRow("0001", "", "2025-07", "2025-07", "monthly", 10010))
    assert line.startswith("0001,,") and read_back(line)[1] == ""


@pytest.mark.parametrize(
    "row",
    [
        LedgerRow("0001000000000017", "52998224725", "2025-05", "2025-08", "credit", -11510),
        LedgerRow("0001000000000025", "", "2025-08", "2025-08", "monthly", 5),
        LedgerRow("0001000000000033", "12345678909", "2024-12", "2025-01", "stay", 0),
        LedgerRow('00,01"x', "1\n2", "2025-01", "2025-01", "retroactive", 100),  # never stored
    ],
)
def test_a_ledger_line_is_what_the_csv_module_writes_of_its_fields(row: LedgerRow):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields_of(row))
    assert ledger_line(row) == out.getvalue()
    assert read_back(ledger_line(row)) == fields_of(row)


def test_a_credit_line_reads_back_as_a_negative_amount():
    line = ledger_line(LedgerRow("0001", "1", "2025-07", "2025-08", "credit", -9510))
    assert line == "0001,1,2025-07,2025-08,credit,-95.10\n"

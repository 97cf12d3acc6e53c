"""The ledger export's formatting of a row (pure, no database)."""

from __future__ import annotations

import pytest

from services.billing.ledger_export import LEDGER_HEADER, LedgerRow, cents_text, ledger_fields


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
    assert cents_text(cents) == text


def test_a_row_becomes_the_fields_of_the_header_in_order():
    row = LedgerRow("0001000000000017", "52998224725", "2025-05", "2025-08", "credit", -11510)
    fields = ledger_fields(row)
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
    assert ledger_fields(LedgerRow("0001", "", "2025-07", "2025-07", "monthly", 10010))[1] == ""

"""Protocol numbers and the 7-business-day answer deadline (RN 395/2016, RN 623/2024)."""

from datetime import date

import pytest

from services.rules.errors import DomainError
from services.rules.protocols import protocol_deadline, protocol_number


@pytest.mark.parametrize(
    ("ans", "day", "sequence", "expected"),
    [
        ("123456", date(2026, 3, 2), 1, "12345620260302000001"),
        ("4123", date(2026, 3, 2), 5, "00412320260302000005"),
        (" 654321 ", date(2025, 12, 31), 999_999, "65432120251231999999"),
        ("000001", date(2026, 1, 1), 0, "00000120260101000000"),
    ],
)
def test_protocol_number_is_registration_date_and_daily_sequence(
    ans: str, day: date, sequence: int, expected: str
) -> None:
    number = protocol_number(ans, day, sequence)
    assert number == expected
    assert len(number) == 20


def test_protocol_number_layout_is_configurable() -> None:
    number = protocol_number("123456", date(2026, 3, 2), 42, template="{date:%Y}-{ans}-{seq:08d}")
    assert number == "2026-123456-00000042"


@pytest.mark.parametrize("sequence", [1_000_000, -1])
def test_protocol_sequence_out_of_range_is_refused(sequence: int) -> None:
    with pytest.raises(DomainError) as refused:
        protocol_number("123456", date(2026, 3, 2), sequence)
    assert refused.value.field == "sequence"


@pytest.mark.parametrize("ans", ["1234567", "12345A", ""])
def test_invalid_ans_registration_is_refused(ans: str) -> None:
    with pytest.raises(DomainError) as refused:
        protocol_number(ans, date(2026, 3, 2), 1)
    assert refused.value.field == "ans_registration"


@pytest.mark.parametrize(
    ("opened_on", "expected"),
    [
        (date(2026, 3, 2), date(2026, 3, 11)),  # Monday -> Wednesday of the next week
        (date(2026, 2, 13), date(2026, 2, 26)),  # Carnival Monday and Tuesday skipped
        (date(2026, 3, 7), date(2026, 3, 18)),  # opened on Saturday: counts from Monday
        (date(2026, 11, 13), date(2026, 11, 25)),  # Nov 20 skipped
    ],
)
def test_conclusive_answer_is_due_seven_business_days_after_opening(
    opened_on: date, expected: date
) -> None:
    assert protocol_deadline(opened_on) == expected


def test_protocol_deadline_accepts_other_terms_and_holidays() -> None:
    assert protocol_deadline(date(2026, 3, 2), business_days=10) == date(2026, 3, 16)
    assert protocol_deadline(date(2026, 3, 2), 1, holidays={date(2026, 3, 3)}) == date(2026, 3, 4)

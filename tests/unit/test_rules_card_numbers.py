"""Beneficiary card numbers: prefix + sequence + modulo-11 check digit."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.card_numbers import card_number, format_card_number, is_valid_card_number
from services.rules.errors import DomainError

PROPERTY = settings(max_examples=300, database=None, derandomize=True)


@pytest.mark.parametrize(
    ("prefix", "sequence", "expected"),
    [
        # 3*2 + 2*3 + 1*4 + 1*5 (the prefix's 1, 12th from the right) = 21;
        # 21 mod 11 = 10; 11 - 10 = 1
        ("0001", 123, "0001000000001231"),
        ("1", 123, "0001000000001231"),  # a short prefix is zero-padded
        # sum 0 -> 11 - 0 = 11 -> 0
        ("0000", 0, "0000000000000000"),
        # 1*2 = 2 -> 11 - 2 = 9
        ("0000", 1, "0000000000000019"),
        # 5*2 = 10 -> 11 - 10 = 1
        ("0000", 5, "0000000000000051"),
        # 6*2 = 12 -> remainder 1 -> 11 - 1 = 10 -> 0
        ("0000", 6, "0000000000000060"),
        # fifteen nines: 9 x (2+...+9 + 2+...+8) = 711; 711 mod 11 = 7; 11 - 7 = 4
        ("9999", 99_999_999_999, "9999999999999994"),
    ],
)
def test_card_number_is_prefix_sequence_and_check_digit(
    prefix: str, sequence: int, expected: str
) -> None:
    number = card_number(prefix, sequence)
    assert number == expected
    assert is_valid_card_number(number)


@pytest.mark.parametrize("prefix", ["12345", "12A4", ""])
def test_invalid_card_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(DomainError) as refused:
        card_number(prefix, 1)
    assert refused.value.field == "card_prefix"


@pytest.mark.parametrize("sequence", [-1, 100_000_000_000])
def test_card_sequence_beyond_eleven_digits_is_refused(sequence: int) -> None:
    with pytest.raises(DomainError) as refused:
        card_number("0001", sequence)
    assert refused.value.field == "sequence"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0001000000001231", True),
        ("0001 0000 0000 1231", True),
        ("0001.0000.0000-1231", True),
        ("0001000000001232", False),
        ("000100000000123", False),
        ("00010000000012310", False),
        ("000100000000123X", False),
        ("", False),
    ],
)
def test_card_number_validity(value: str, valid: bool) -> None:
    assert is_valid_card_number(value) == valid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0001000000001231", "0001 0000 0000 1231"),
        ("0001 0000 0000 1231", "0001 0000 0000 1231"),
        ("123", "123"),
    ],
)
def test_card_number_is_shown_in_groups_of_four(value: str, expected: str) -> None:
    assert format_card_number(value) == expected


@given(st.from_regex(r"[0-9]{4}", fullmatch=True), st.integers(0, 99_999_999_999))
@PROPERTY
def test_every_generated_card_number_is_valid_and_a_wrong_check_digit_is_not(
    prefix: str, sequence: int
) -> None:
    number = card_number(prefix, sequence)
    assert number.startswith(prefix)
    assert int(number[4:15]) == sequence
    assert is_valid_card_number(format_card_number(number))
    wrong = number[:15] + str((int(number[15]) + 1) % 10)
    assert not is_valid_card_number(wrong)

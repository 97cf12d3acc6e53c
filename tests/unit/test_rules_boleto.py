"""Boleto barcode, typed line, due-date factor and ITF bars (FEBRABAN layout)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.boleto import (
    barcode,
    barcode_check_digit,
    barcode_from_typed_line,
    due_date_factor,
    due_date_from_factor,
    format_typed_line,
    is_valid_barcode,
    is_valid_typed_line,
    itf_pattern,
    mod10,
    simple_free_field,
    typed_line,
)

PROPERTY = settings(max_examples=200, database=None, derandomize=True)
# FEBRABAN's definition: the factor is the days since this date (until the 2025 restart).
FEBRABAN_BASE_DATE = date(1997, 10, 7)


@pytest.mark.parametrize(
    ("day", "factor"),
    [
        (date(2000, 7, 3), 1000),
        (date(2000, 7, 4), 1001),
        (date(2008, 2, 1), 3769),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),  # the restart
        (date(2025, 2, 23), 1001),
        (date(2026, 1, 2), 1314),
        (date(2026, 3, 10), 1381),
        (date(2026, 12, 25), 1671),
        (date(2049, 10, 13), 9999),  # end of the second cycle
        (date(2049, 10, 14), 1000),  # and the next restart
    ],
)
def test_due_date_factor_of_known_dates(day: date, factor: int) -> None:
    assert due_date_factor(day) == factor


def test_due_date_factor_counts_days_since_1997_10_07_before_the_restart() -> None:
    day = date(2000, 7, 3)
    while day < date(2025, 2, 22):
        assert due_date_factor(day) == (day - FEBRABAN_BASE_DATE).days
        day += timedelta(days=1)


@pytest.mark.parametrize("day", [date(2000, 7, 2), date(1997, 10, 7), date(1990, 1, 1)])
def test_due_date_factor_refuses_dates_before_factor_1000(day: date) -> None:
    with pytest.raises(ValueError):
        due_date_factor(day)


@PROPERTY
@given(
    day=st.dates(min_value=date(2000, 7, 3), max_value=date(2090, 12, 31)),
    drift=st.integers(min_value=-4499, max_value=4499),
)
def test_due_date_from_factor_finds_the_date_nearest_to_the_reference(
    day: date, drift: int
) -> None:
    reference = day + timedelta(days=drift)
    if reference < date(2000, 7, 3):
        reference = day
    assert due_date_from_factor(due_date_factor(day), reference) == day


@pytest.mark.parametrize("factor", [0, 999, 10000])
def test_due_date_from_factor_refuses_factors_outside_the_range(factor: int) -> None:
    with pytest.raises(ValueError):
        due_date_from_factor(factor, date(2026, 3, 10))


# Public examples: brcobranca (kivanio/brcobranca, spec of Formatacao#linha_digitavel)
# and BoletoNetCore (BoletoNet/BoletoNetCore, BancoBrasilCarteira11019Tests), both Banco
# do Brasil; the BoletoNetCore ones fall after the 2025-02-22 restart.
KNOWN_BOLETOS = [
    (
        "00192376900000135000000001238798777770016818",
        "00190.00009 01238.798779 77700.168188 2 37690000013500",
        date(2008, 2, 1),
        Decimal("135.00"),
    ),
    (
        "00191167100000200000000000000000000000000011",
        "00190.00009 00000.000000 00000.000117 1 16710000020000",
        date(2026, 12, 25),
        Decimal("200.00"),
    ),
    (
        "00192131400000804000000001234567000000032111",
        "00190.00009 01234.567004 00000.321117 2 13140000080400",
        date(2026, 1, 2),
        Decimal("804.00"),
    ),
    (
        "00194138100000791000000001234567999999990111",
        "00190.00009 01234.567996 99999.901111 4 13810000079100",
        date(2026, 3, 10),
        Decimal("791.00"),
    ),
    (
        "00195131300001200000000000000000000000000011",
        "00190.00009 00000.000000 00000.000117 5 13130000120000",
        date(2026, 1, 1),
        Decimal("1200.00"),
    ),
    (
        "00197137100000800000000001234567000000000111",
        "00190.00009 01234.567004 00000.001115 7 13710000080000",
        date(2026, 2, 28),
        Decimal("800.00"),
    ),
    (
        "00199145600000220580000001234567000000000311",
        "00190.00009 01234.567004 00000.003111 9 14560000022058",
        date(2026, 5, 24),
        Decimal("220.58"),
    ),
]
KNOWN_IDS = [line[-14:] for _, line, _, _ in KNOWN_BOLETOS]


@pytest.mark.parametrize(("code", "line", "due", "amount"), KNOWN_BOLETOS, ids=KNOWN_IDS)
def test_known_boletos_build_from_their_parts(
    code: str, line: str, due: date, amount: Decimal
) -> None:
    assert barcode(code[:3], due, amount, code[19:], currency=code[3]) == code


@pytest.mark.parametrize(("code", "line", "due", "amount"), KNOWN_BOLETOS, ids=KNOWN_IDS)
def test_known_boletos_round_trip_barcode_typed_line_barcode(
    code: str, line: str, due: date, amount: Decimal
) -> None:
    assert is_valid_barcode(code)
    assert format_typed_line(typed_line(code)) == line
    assert typed_line(code) == line.replace(".", "").replace(" ", "")
    assert is_valid_typed_line(line)
    assert barcode_from_typed_line(line) == code
    assert barcode_from_typed_line(typed_line(code)) == code


def _reference_mod11(digits43: str) -> str:
    weights = [2, 3, 4, 5, 6, 7, 8, 9] * 6
    total = sum(int(d) * w for d, w in zip(reversed(digits43), weights, strict=False))
    result = 11 - total % 11
    return "1" if result in (0, 10, 11) else str(result)


@pytest.mark.parametrize(
    ("digits43", "expected"),
    [
        ("0" * 43, "1"),  # sum 0, remainder 0: 11 - 0 = 11 -> 1
        ("0" * 42 + "6", "1"),  # sum 12, remainder 1: 11 - 1 = 10 -> 1
        ("0" * 42 + "5", "1"),  # sum 10, remainder 10: 11 - 10 = 1
        ("0" * 42 + "1", "9"),  # sum 2: 11 - 2 = 9
        ("0" * 35 + "1" + "0" * 7, "2"),  # 8th from the right: weight 9, 11 - 9 = 2
        ("0" * 34 + "1" + "0" * 8, "9"),  # 9th from the right: weights restart at 2
        ("9" * 43, "7"),  # sum 2061, remainder 4: 11 - 4 = 7
    ],
)
def test_general_check_digit_mod_11_with_0_10_and_11_becoming_1(
    digits43: str, expected: str
) -> None:
    assert barcode_check_digit(digits43) == _reference_mod11(digits43) == expected


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=43, max_size=43))
def test_general_check_digit_agrees_with_a_reference_and_is_never_0(digits43: str) -> None:
    assert barcode_check_digit(digits43) == _reference_mod11(digits43) != "0"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("001900000", "9"),
        ("0123879877", "9"),
        ("7770016818", "8"),
        ("0000000001", "8"),  # rightmost weight 2: sum 2 -> 8
        ("0000000010", "9"),  # then weight 1: sum 1 -> 9
        ("0000000009", "1"),  # 9 * 2 = 18 -> 1 + 8 = 9 -> 1
        ("0000000055", "4"),  # 5 * 2 = 10 -> 1, plus 5 * 1 = 5: sum 6 -> 4
        ("0000000000", "0"),  # sum 0 -> (10 - 0) % 10 = 0
    ],
)
def test_typed_line_field_digit_is_mod_10_summing_product_digits(field: str, expected: str) -> None:
    assert mod10(field) == expected


# every known line whose general check digit is not 1 (see the next test for why)
STRICT_LINES = [line for _, line, _, _ in KNOWN_BOLETOS if line[-16] != "1"]


@pytest.mark.parametrize("line", STRICT_LINES, ids=[line[-14:] for line in STRICT_LINES])
def test_a_typed_line_with_any_one_digit_changed_is_invalid(line: str) -> None:
    digits = line.replace(".", "").replace(" ", "")
    assert len(digits) == 47
    for position in range(47):
        for digit in "0123456789":
            if digit == digits[position]:
                continue
            changed = digits[:position] + digit + digits[position + 1 :]
            assert not is_valid_typed_line(changed), (position, digit)


def test_general_check_digit_1_cannot_tell_remainders_0_1_and_10_apart() -> None:
    # A documented weakness of the FEBRABAN rule, not of this code: a change in the
    # factor or amount moving the remainder among 0, 1 and 10 keeps the digit 1.
    digits = typed_line("00191167100000200000000000000000000000000011")
    undetected = [
        position
        for position in range(47)
        for digit in "0123456789"
        if digit != digits[position]
        and is_valid_typed_line(digits[:position] + digit + digits[position + 1 :])
    ]
    assert undetected  # some exist, all in field 5 (factor and amount)
    assert min(undetected) >= 33


@pytest.mark.parametrize(
    "line",
    [
        "00190.00009 01238.798779 77700.168188 2 37690000013500",
        "00190000090123879877977700168188237690000013500",
        " 00190.00009-01238.798779 77700.168188  2 37690000013500 ",
        "00190.00009\t01238.798779\n77700.168188 2 37690000013500",
    ],
)
def test_typed_line_accepts_punctuation_and_spaces(line: str) -> None:
    assert is_valid_typed_line(line)
    assert barcode_from_typed_line(line) == "00192376900000135000000001238798777770016818"


@pytest.mark.parametrize(
    "line",
    [
        "",
        "0019000009012387987797770016818823769000001350",  # 46 digits
        "001900000901238798779777001681882376900000135000",  # 48 digits
        "00190.00009 01238.798779 77700.168188 2 3769000001350O",  # letter O
        "00190/00009 01238.798779 77700.168188 2 37690000013500",  # slash
        "００190000090123879877977700168188237690000013500",  # full-width digits
    ],
)
def test_malformed_typed_lines_are_invalid(line: str) -> None:
    assert not is_valid_typed_line(line)
    with pytest.raises(ValueError):
        barcode_from_typed_line(line)


def test_format_typed_line_refuses_a_wrong_length() -> None:
    with pytest.raises(ValueError):
        format_typed_line("123")


@pytest.mark.parametrize(
    "code",
    [
        "00193376900000135000000001238798777770016818",  # general digit changed
        "0019237690000013500000000123879877777001681",  # 43 digits
        "0019237690000013500000000123879877777001681X",
        "",
    ],
)
def test_malformed_barcodes_are_invalid(code: str) -> None:
    assert not is_valid_barcode(code)
    with pytest.raises(ValueError):
        typed_line(code)


@pytest.mark.parametrize(
    ("bank", "amount", "free_field", "currency", "error"),
    [
        ("01", Decimal("1.00"), "0" * 25, "9", ValueError),
        ("0011", Decimal("1.00"), "0" * 25, "9", ValueError),
        ("001", Decimal("1.00"), "0" * 24, "9", ValueError),
        ("001", Decimal("1.00"), "0" * 24 + "a", "9", ValueError),
        ("001", Decimal("1.00"), "0" * 25, "99", ValueError),
        ("001", Decimal("-0.01"), "0" * 25, "9", ValueError),
        ("001", Decimal("1.001"), "0" * 25, "9", ValueError),
        ("001", Decimal("100000000.00"), "0" * 25, "9", ValueError),
        ("001", Decimal("Infinity"), "0" * 25, "9", ValueError),
        ("001", 1.5, "0" * 25, "9", TypeError),
    ],
)
def test_barcode_refuses_malformed_parts(
    bank: str, amount: Decimal, free_field: str, currency: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        barcode(bank, date(2026, 3, 10), amount, free_field, currency)


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (Decimal("0"), "0000000000"),  # amount typed by the payer
        (Decimal("0.01"), "0000000001"),
        (Decimal("1234.5"), "0000123450"),
        (Decimal("99999999.99"), "9999999999"),
    ],
)
def test_barcode_writes_the_amount_in_ten_digits_of_cents(amount: Decimal, cents: str) -> None:
    code = barcode("341", date(2026, 3, 10), amount, "1" * 25)
    assert code[9:19] == cents
    assert code[5:9] == "1381"
    assert is_valid_barcode(code)


@PROPERTY
@given(
    bank=st.text(alphabet="0123456789", min_size=3, max_size=3),
    due=st.dates(min_value=date(2000, 7, 3), max_value=date(2060, 12, 31)),
    cents=st.integers(min_value=0, max_value=9_999_999_999),
    free=st.text(alphabet="0123456789", min_size=25, max_size=25),
)
def test_any_boleto_round_trips_through_its_typed_line(
    bank: str, due: date, cents: int, free: str
) -> None:
    code = barcode(bank, due, Decimal(cents) / 100, free)
    line = typed_line(code)
    assert len(code) == 44 and len(line) == 47
    assert is_valid_barcode(code) and is_valid_typed_line(line)
    assert is_valid_typed_line(format_typed_line(line))
    assert barcode_from_typed_line(format_typed_line(line)) == code
    assert line.startswith(bank + "9" + free[:5])
    assert line[33:] == f"{due_date_factor(due):04d}{cents:010d}"


_ITF_WIDE = {
    "0": "nnwwn",
    "1": "wnnnw",
    "2": "nwnnw",
    "3": "wwnnn",
    "4": "nnwnw",
    "5": "wnwnn",
    "6": "nwwnn",
    "7": "nnnww",
    "8": "wnnwn",
    "9": "nwnwn",
}


def _decode_itf(elements: list[tuple[bool, int]]) -> str:
    """Independent reading of the bars: start, pairs of interleaved digits, stop."""
    assert elements[:4] == [(True, 1), (False, 1), (True, 1), (False, 1)]
    assert elements[-3:] == [(True, 3), (False, 1), (True, 1)]
    body = elements[4:-3]
    assert len(body) % 10 == 0
    by_pattern = {pattern: digit for digit, pattern in _ITF_WIDE.items()}
    digits = ""
    for i in range(0, len(body), 10):
        chunk = body[i : i + 10]
        bars = "".join("w" if width == 3 else "n" for _, width in chunk[0::2])
        spaces = "".join("w" if width == 3 else "n" for _, width in chunk[1::2])
        digits += by_pattern[bars] + by_pattern[spaces]
    return digits


@pytest.mark.parametrize(("code", "line", "due", "amount"), KNOWN_BOLETOS, ids=KNOWN_IDS)
def test_itf_bars_read_back_as_the_barcode(
    code: str, line: str, due: date, amount: Decimal
) -> None:
    elements = itf_pattern(code)
    assert _decode_itf(elements) == code
    assert [is_bar for is_bar, _ in elements] == [i % 2 == 0 for i in range(len(elements))]
    assert {width for _, width in elements} == {1, 3}
    # start 4 + stop 5 + 22 pairs of (3 wide + 2 narrow) x 2 = 405 narrow units
    assert sum(width for _, width in elements) == 405
    assert sum(1 for _, width in elements if width == 3) == 44 * 2 + 1


def test_itf_wide_width_is_configurable() -> None:
    assert itf_pattern("00", wide=2) == [
        (True, 1),
        (False, 1),
        (True, 1),
        (False, 1),
        (True, 1),
        (False, 1),
        (True, 1),
        (False, 1),
        (True, 2),
        (False, 2),
        (True, 2),
        (False, 2),
        (True, 1),
        (False, 1),
        (True, 2),
        (False, 1),
        (True, 1),
    ]


@pytest.mark.parametrize(("code", "wide"), [("123", 3), ("", 3), ("12a4", 3), ("12", 1)])
def test_itf_refuses_odd_lengths_non_digits_and_thin_wide_bars(code: str, wide: int) -> None:
    with pytest.raises(ValueError):
        itf_pattern(code, wide)


def test_simple_free_field_is_agreement_and_our_number_zero_padded() -> None:
    free = simple_free_field("1234567", "42")
    assert free == "01234567" + "0" * 15 + "42"
    assert len(free) == 25
    assert simple_free_field("12345678", "1" * 17) == "12345678" + "1" * 17


@pytest.mark.parametrize(
    ("agreement", "our_number"),
    [("123456789", "1"), ("1", "1" * 18), ("12a", "1"), ("1", "-1"), ("", "1")],
)
def test_simple_free_field_refuses_what_does_not_fit(agreement: str, our_number: str) -> None:
    with pytest.raises(ValueError):
        simple_free_field(agreement, our_number)

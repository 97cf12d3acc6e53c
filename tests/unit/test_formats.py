"""services.rules.formats: the one pt-BR formatting module (vectors)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from services.rules import formats as fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0"), "R$ 0,00"),
        (D("1234.56"), "R$ 1.234,56"),
        (D("1234567.891"), "R$ 1.234.567,89"),
        (D("0.5"), "R$ 0,50"),
        (D("-12.3"), "-R$ 12,30"),
        (1500, "R$ 1.500,00"),
        (2.5, "R$ 2,50"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_money(value, expected):
    assert fmt.format_money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1.000"),
        (1234567, "1.234.567"),
        (-25000, "-25.000"),
        (D("1234"), "1.234"),
        (12.6, "13"),
        (None, "—"),
    ],
)
def test_int(value, expected):
    assert fmt.format_int(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 2, "1.234,50"),
        (D("1234.567"), 2, "1.234,57"),
        (0.5, 1, "0,5"),
        (1234567.0, 0, "1.234.567"),
        (None, 2, "—"),
    ],
)
def test_number(value, decimals, expected):
    assert fmt.format_number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D("12.5"), "12,50%"), (0, "0,00%"), (1234.5, "1.234,50%"), (None, "—")],
)
def test_percent(value, expected):
    assert fmt.format_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "money", "expected"),
    [
        (0, False, "0"),
        (950, False, "950"),
        (1000, False, "1 mil"),
        (25_000, False, "25 mil"),
        (25_500, False, "25,5 mil"),
        (999_999, False, "1 mi"),
        (960_000, False, "960 mil"),
        (1_200_000, False, "1,2 mi"),
        (3_000_000_000, False, "3 bi"),
        (-40_000, False, "-40 mil"),
        (2.5, False, "2,5"),
        (1_234_567_000_000, False, "1.234,6 bi"),
        (25_000, True, "R$ 25 mil"),
        (1_234_567.89, True, "R$ 1,2 mi"),
        (12.5, True, "R$ 12,50"),
    ],
)
def test_compact_never_uses_si_suffixes(value, money, expected):
    shown = fmt.format_compact(value, money=money)
    assert shown == expected
    assert not shown.endswith(("k", "M", "G"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("52998224725", "529.982.247-25"),
        ("529.982.247-25", "529.982.247-25"),
        (" 529 982 247 25 ", "529.982.247-25"),
        ("123", "123"),  # not a CPF: shown as it is
        ("", ""),
        (None, ""),
    ],
)
def test_cpf(value, expected):
    assert fmt.format_cpf(value) == expected


def test_cpf_masked():
    assert fmt.mask_cpf("52998224725") == "***.982.247-**"
    assert fmt.mask_cpf("abc") == "***.***.***-**"
    assert fmt.mask_cpf(None) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11222333000181", "11.222.333/0001-81"),
        ("11.222.333/0001-81", "11.222.333/0001-81"),
        ("12abc34501de35", "12.ABC.345/01DE-35"),  # alphanumeric CNPJ
        ("1122", "1122"),
        (None, ""),
    ],
)
def test_cnpj(value, expected):
    assert fmt.format_cnpj(value) == expected


def test_company_document_follows_its_type():
    assert fmt.format_company_document("11222333000181", "CNPJ") == "11.222.333/0001-81"
    assert fmt.format_company_document("12345678901234", "CAEPF") == "123.456.789/012-34"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0001000000000123", "0001 0000 0000 0123"),
        ("0001 0000 0000 0123", "0001 0000 0000 0123"),
        ("0001.0000.0000.0123", "0001 0000 0000 0123"),
        ("12345", "12345"),  # not a card number: shown as it is
        ("", ""),
        (None, ""),
    ],
)
def test_card_number_in_groups_of_four(value, expected):
    assert fmt.format_card(value) == expected


def test_cep_and_phone():
    assert fmt.format_cep("01310100") == "01310-100"
    assert fmt.format_phone("11987654321") == "(11) 98765-4321"
    assert fmt.format_phone("1133334444") == "(11) 3333-4444"
    assert (fmt.format_cep(None), fmt.format_phone("")) == ("", "")


def test_digits_of_accepts_typed_input_with_or_without_punctuation():
    assert fmt.digits_of("529.982.247-25") == "52998224725"
    assert fmt.digits_of("0001 0000 0000 0123") == "0001000000000123"
    assert fmt.digits_of(None) == ""


def test_dates():
    assert fmt.format_date(date(2026, 3, 7)) == "07/03/2026"
    assert fmt.format_date(None) == "—"
    # 15:30 UTC is 12:30 in São Paulo (UTC-3, no daylight saving since 2019)
    assert fmt.format_datetime(datetime(2026, 3, 7, 15, 30, tzinfo=UTC)) == "07/03/2026 12:30"
    assert fmt.format_month(date(2026, 3, 1)) == "março/2026"
    assert fmt.format_weekday(date(2026, 3, 7)) == "sábado"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("birth_date", "1990-05-17", "17/05/1990"),
        ("billing_month", "2026-01-01", "01/2026"),
        ("received_at", "2026-03-07T15:30:00+00:00", "07/03/2026 12:30"),
        ("received_at", "2026-03-07 15:30:00.123456", "07/03/2026 12:30"),  # naive: UTC
        ("amount", "1234.50", "R$ 1.234,50"),
        ("card_number", "0001000000000123", "0001 0000 0000 0123"),
        ("is_student", False, "Não"),
        ("status", "active", "active"),
        ("plan_id", 3, "3"),
        ("name", None, ""),
        ("subject", "2026-13-45", "2026-13-45"),  # looks like a date, is not one
        (
            "",
            {"card_number": "0001000000000123", "plan_id": 2, "at": "2026-03-07T15:30:00Z"},
            '{"at": "07/03/2026 12:30", "card_number": "0001 0000 0000 0123", "plan_id": 2}',
        ),
    ],
)
def test_a_stored_record_value_as_a_person_reads_it(key, value, expected):
    assert fmt.format_field(key, value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        # half-even, as Python's format of a Decimal (what the screens showed before)
        (D("0.125"), 2, "0,12"),
        (D("0.135"), 2, "0,14"),
        (D("1234.565"), 2, "1.234,56"),
        (D("2.5"), 0, "2"),
        (D("3.5"), 0, "4"),
        # a float is read as it prints (2.675 is 2,68, not the binary 2,67)
        (2.675, 2, "2,68"),
        (D("-1234567.5"), 1, "-1.234.567,5"),
        (D("0"), 3, "0,000"),
        (float("nan"), 2, "—"),
    ],
)
def test_number_rounds_half_even_and_groups_thousands(value, decimals, expected):
    assert fmt.format_number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("-0.001"), "-R$ 0,00"),  # a negative amount keeps its sign, even rounded to 0
        (-0.0, "R$ 0,00"),
        (D("-1234567.89"), "-R$ 1.234.567,89"),
        (D("0.005"), "R$ 0,00"),  # half-even
        (D("0.015"), "R$ 0,02"),
        (D("999999999.99"), "R$ 999.999.999,99"),
    ],
)
def test_money_edges(value, expected):
    shown = fmt.format_money(value)
    assert shown == expected
    assert "\xa0" not in shown  # a plain space after R$, as the interface always wrote


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (D("1234.5"), 2, "1234,50"),
        (D("-0.05"), 2, "-0,05"),
        (12.5, 2, "12,50"),
        (D("1.50004"), 4, "1,5000"),
        (D("1234567"), 0, "1234567"),
    ],
)
def test_decimal_comma_has_no_grouping(value, decimals, expected):
    assert fmt.decimal_comma(value, decimals) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (300, "300 bytes"),
        (1024, "1 KB"),
        (1536, "1 KB"),
        (1024 * 1024, "1 MB"),
        (1536 * 1024, "1,5 MB"),
        (20 * 1024 * 1024, "20 MB"),
        (2048 * 1024 * 1024, "2.048 MB"),
    ],
)
def test_file_sizes(size, expected):
    assert fmt.format_size(size) == expected


def test_month_forms_and_names_come_from_the_pt_br_locale():
    assert fmt.MONTHS[0] == "janeiro" and fmt.MONTHS[2] == "março" and len(fmt.MONTHS) == 12
    assert fmt.WEEKDAYS[0] == "segunda-feira" and fmt.WEEKDAYS[6] == "domingo"
    assert fmt.format_month_numeric(date(2026, 3, 1)) == "03/2026"
    assert fmt.format_month_short(date(2026, 3, 1)) == "mar/2026"
    assert fmt.format_datetime(None) == "—"
    # midnight UTC is still the previous day in Brasília
    assert fmt.format_datetime(datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == "31/12/2025 21:00"


def test_caepf_and_cns_masks():
    assert fmt.format_caepf("12345678901234") == "123.456.789/012-34"
    assert fmt.format_cns("898001160660003") == "898 0011 6066 0003"
    assert (fmt.format_caepf(None), fmt.format_cns("")) == ("", "")


def test_phone_keeps_what_is_not_a_phone():
    assert fmt.format_phone("(11) 98765-4321") == "(11) 98765-4321"
    assert fmt.format_phone("123") == "123"
    assert fmt.format_phone(None) == ""


def test_latin1_replaces_what_pdf_core_fonts_cannot_write():
    assert fmt.latin1("Conceição — ação · ok") == "Conceição ? ação · ok"
    assert fmt.latin1("€") == "?"

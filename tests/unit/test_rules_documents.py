"""Documents: CPF, CNPJ (numeric and alphanumeric), CAEPF, CNS, CEP, e-mail."""

import string
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.documents import (
    DocumentType,
    caepf_check_digits,
    cnpj_check_digits,
    cns_from_pis,
    cpf_check_digits,
    format_caepf,
    format_cep,
    format_cnpj,
    format_cns,
    format_company_document,
    format_cpf,
    is_valid_caepf,
    is_valid_cep,
    is_valid_cnpj,
    is_valid_cns,
    is_valid_company_document,
    is_valid_cpf,
    is_valid_email,
    mask_cpf,
    normalize_document,
    only_digits,
    parse_cep,
    parse_cns,
    parse_company_document,
    parse_cpf,
)
from services.rules.errors import DomainError

PROPERTY = settings(max_examples=300, database=None, derandomize=True)
DIGIT = st.sampled_from(string.digits)
ALNUM = st.sampled_from(string.digits + string.ascii_uppercase)


# ---------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", "52998224725"),
        (" 11.222.333/0001-81 ", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("01310-100", "01310100"),
        ("898 0011 6065 2049", "898001160652049"),
        ("", ""),
    ],
)
def test_normalize_document_drops_punctuation_and_spaces_and_upper_cases(
    raw: str, expected: str
) -> None:
    assert normalize_document(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("529.982.247-25", "52998224725"), ("(11) 98765-4321", "11987654321"), ("abc", "")],
)
def test_only_digits_keeps_ascii_digits(raw: str, expected: str) -> None:
    assert only_digits(raw) == expected


def test_only_digits_ignores_non_ascii_digit_characters() -> None:
    assert only_digits("1²3٣") == "13"


# ---------------------------------------------------------------- CPF


@pytest.mark.parametrize(
    "cpf",
    ["529.982.247-25", "52998224725", "111.444.777-35", "123.456.789-09", " 529 982 247 25 "],
)
def test_valid_cpf_is_accepted_with_or_without_punctuation(cpf: str) -> None:
    assert is_valid_cpf(cpf)


@pytest.mark.parametrize("digit", list(string.digits))
def test_cpf_with_all_equal_digits_is_invalid(digit: str) -> None:
    assert not is_valid_cpf(digit * 11)


@pytest.mark.parametrize(
    "cpf",
    [
        "529.982.247-24",  # wrong second digit
        "529.982.247-15",  # wrong first digit
        "5299822472",  # 10 digits
        "529982247255",  # 12 digits
        "529.982.247-2X",
        "",
        "abc",
    ],
)
def test_cpf_with_wrong_digits_or_length_is_invalid(cpf: str) -> None:
    assert not is_valid_cpf(cpf)


def test_cpf_that_is_not_text_is_invalid() -> None:
    assert not is_valid_cpf(52998224725)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("first9", "digits"), [("529982247", "25"), ("111444777", "35"), ("123456789", "09")]
)
def test_cpf_check_digits_of_known_bases(first9: str, digits: str) -> None:
    assert cpf_check_digits(first9) == digits


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678X"])
def test_cpf_check_digits_needs_nine_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        cpf_check_digits(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", "52998224725"),
        ("52998224725", "52998224725"),
        (52998224725, "52998224725"),
        ("012.345.678-90", "01234567890"),
        ("1234567890", "01234567890"),  # a spreadsheet dropped one leading zero
        (1234567890, "01234567890"),
        ("000.000.001-91", "00000000191"),
        ("191", None),  # too short to be a CPF, even padded
        ("529.982.247-24", None),
        ("11111111111", None),
        ("", None),
        ("52998224725a", None),
    ],
)
def test_parse_cpf_returns_eleven_digits_or_refuses(raw: str | int, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(DomainError) as refused:
            parse_cpf(raw)
        assert refused.value.field == "cpf"
        assert refused.value.message.startswith("CPF inválido")
    else:
        assert parse_cpf(raw) == expected


@pytest.mark.parametrize("base", ["001234567", "012345678", "009876543"])
def test_parse_cpf_restores_the_zeros_a_spreadsheet_lost(base: str) -> None:
    cpf = base + cpf_check_digits(base)
    assert parse_cpf(cpf.lstrip("0")) == cpf
    assert parse_cpf(int(cpf)) == cpf


def test_parse_cpf_does_not_pad_more_than_two_lost_zeros() -> None:
    base = "000191000"
    cpf = base + cpf_check_digits(base)
    assert parse_cpf(cpf) == cpf
    with pytest.raises(DomainError):
        parse_cpf(cpf.lstrip("0"))


def test_parse_cpf_reports_the_given_field() -> None:
    with pytest.raises(DomainError) as refused:
        parse_cpf("123", field="holder_cpf")
    assert refused.value.field == "holder_cpf"


@given(st.lists(DIGIT, min_size=9, max_size=9).map("".join))
@PROPERTY
def test_cpf_built_from_its_check_digits_is_valid_unless_all_equal(first9: str) -> None:
    cpf = first9 + cpf_check_digits(first9)
    assert is_valid_cpf(cpf) == (len(set(cpf)) > 1)
    assert is_valid_cpf(format_cpf(cpf)) == is_valid_cpf(cpf)


@given(st.lists(DIGIT, min_size=9, max_size=9).map("".join), st.integers(0, 10), DIGIT)
@PROPERTY
def test_cpf_with_one_digit_changed_is_invalid(first9: str, position: int, digit: str) -> None:
    cpf = first9 + cpf_check_digits(first9)
    changed = cpf[:position] + digit + cpf[position + 1 :]
    if changed != cpf:
        assert not is_valid_cpf(changed)


# ---------------------------------------------------------------- CNPJ


@pytest.mark.parametrize(
    "cnpj",
    [
        "11.222.333/0001-81",
        "11222333000181",
        "11.444.777/0001-61",
        "12.ABC.345/01DE-35",  # Receita Federal's alphanumeric example
        "12ABC34501DE35",
        "12.abc.345/01de-35",  # lower case is upper-cased
    ],
)
def test_valid_cnpj_is_accepted(cnpj: str) -> None:
    assert is_valid_cnpj(cnpj)


@pytest.mark.parametrize(
    "cnpj",
    [
        "11.222.333/0001-82",
        "11.222.333/0001-91",
        "12.ABC.345/01DE-36",
        "12.ABC.345/01DF-35",
        "12.ABC.345/01DE-3A",  # check digits are always digits
        "12.ABC.345/01D#-35",
        "1122233300018",  # 13 characters
        "112223330001811",  # 15 characters
        "00.000.000/0000-00",
        "11.111.111/1111-11",
        "",
    ],
)
def test_invalid_cnpj_is_refused(cnpj: str) -> None:
    assert not is_valid_cnpj(cnpj)


@pytest.mark.parametrize("digit", list(string.digits))
def test_cnpj_with_all_equal_characters_is_invalid(digit: str) -> None:
    assert not is_valid_cnpj(digit * 14)


@pytest.mark.parametrize(
    ("first12", "digits"),
    [
        ("112223330001", "81"),
        ("114447770001", "61"),
        ("12ABC34501DE", "35"),
        ("12abc34501de", "35"),
    ],
)
def test_cnpj_check_digits_of_known_bases(first12: str, digits: str) -> None:
    assert cnpj_check_digits(first12) == digits


@pytest.mark.parametrize("bad", ["11222333000", "1122233300011", "12ABC34501D#"])
def test_cnpj_check_digits_needs_twelve_letters_or_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        cnpj_check_digits(bad)


@pytest.mark.parametrize(
    ("first12", "digits"),
    [
        # A = 17: d1 = 11 - (17*5 mod 11) = 3; d2 = 11 - ((17*6 + 3*2) mod 11) = 2
        ("A00000000000", "32"),
        # Z = 42: 42*5 mod 11 = 1 -> d1 = 0; 42*6 mod 11 = 10 -> d2 = 1
        ("Z00000000000", "01"),
    ],
)
def test_letters_are_worth_their_ascii_code_minus_48(first12: str, digits: str) -> None:
    assert cnpj_check_digits(first12) == digits


@given(st.lists(ALNUM, min_size=12, max_size=12).map("".join))
@PROPERTY
def test_alphanumeric_cnpj_round_trips_through_format_and_lower_case(first12: str) -> None:
    cnpj = first12 + cnpj_check_digits(first12)
    assert is_valid_cnpj(cnpj) == (len(set(cnpj)) > 1)
    formatted = format_cnpj(cnpj)
    assert len(formatted) == 18
    assert normalize_document(formatted) == cnpj
    assert is_valid_cnpj(formatted.lower()) == is_valid_cnpj(cnpj)


# ---------------------------------------------------------------- CAEPF


def test_caepf_check_digits_add_twelve_to_the_cnpj_style_digits() -> None:
    # CNPJ-style digits of 112223330001 are 8 and 1: (10*8 + 1 + 12) mod 100 = 93.
    assert caepf_check_digits("112223330001") == "93"
    assert caepf_check_digits("293835890001") == "48"


@pytest.mark.parametrize(
    ("caepf", "valid"),
    [
        ("112.223.330/001-93", True),
        ("11222333000193", True),
        ("293.835.890/001-48", True),
        ("293.835.890/001-49", False),
        ("11222333000181", False),  # the same base as a CNPJ has other digits
        ("1122233300019", False),
        ("12ABC34501DE35", False),  # letters are for CNPJs only
    ],
)
def test_caepf_validity(caepf: str, valid: bool) -> None:
    assert is_valid_caepf(caepf) == valid


@given(st.lists(DIGIT, min_size=12, max_size=12).map("".join))
@PROPERTY
def test_caepf_round_trip_through_check_digits_and_mask(first12: str) -> None:
    caepf = first12 + caepf_check_digits(first12)
    assert is_valid_caepf(caepf)
    formatted = format_caepf(caepf)
    assert formatted[3] == "." and formatted[7] == "." and formatted[11] == "/"
    assert formatted[15] == "-"
    assert normalize_document(formatted) == caepf
    assert is_valid_caepf(formatted)
    wrong_last = caepf[:13] + str((int(caepf[13]) + 1) % 10)
    assert not is_valid_caepf(wrong_last)


@pytest.mark.parametrize("bad", ["11222333000", "1122233300011", "11222333000A"])
def test_caepf_check_digits_need_twelve_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        caepf_check_digits(bad)


@pytest.mark.parametrize(
    ("value", "doc_type", "valid"),
    [
        ("11.222.333/0001-81", DocumentType.CNPJ, True),
        ("11.222.333/0001-81", DocumentType.CAEPF, False),
        ("11222333000193", DocumentType.CAEPF, True),
        ("11222333000193", DocumentType.CNPJ, False),
        ("12.ABC.345/01DE-35", "CNPJ", True),
        ("11222333000193", "CAEPF", True),
    ],
)
def test_company_document_is_checked_by_the_type_the_form_asked(
    value: str, doc_type: DocumentType | str, valid: bool
) -> None:
    assert is_valid_company_document(value, doc_type) == valid


@pytest.mark.parametrize(
    ("value", "doc_type", "expected"),
    [
        ("11222333000181", DocumentType.CNPJ, "11.222.333/0001-81"),
        ("12abc34501de35", DocumentType.CNPJ, "12.ABC.345/01DE-35"),
        ("11222333000193", DocumentType.CAEPF, "112.223.330/001-93"),
    ],
)
def test_company_document_is_formatted_with_its_mask(
    value: str, doc_type: DocumentType, expected: str
) -> None:
    assert format_company_document(value, doc_type) == expected


def test_parse_company_document_returns_normalised_or_refuses() -> None:
    assert parse_company_document("12.abc.345/01de-35", "CNPJ") == "12ABC34501DE35"
    assert parse_company_document("112.223.330/001-93", "CAEPF") == "11222333000193"
    with pytest.raises(DomainError, match="CNPJ inválido") as refused:
        parse_company_document("11.222.333/0001-82", DocumentType.CNPJ, field="cnpj")
    assert refused.value.field == "cnpj"
    with pytest.raises(DomainError, match="CAEPF inválido"):
        parse_company_document("11222333000181", DocumentType.CAEPF)


def test_unknown_company_document_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        is_valid_company_document("11222333000181", "CEI")


# ---------------------------------------------------------------- CNS


@pytest.mark.parametrize(
    "cns",
    [
        "700000000000005",  # 7*15 + 5*1 = 110
        "123456789010000",  # built from PIS 12345678901
        "200000000000003",
        "100000000000007",
        "177835337400018",  # PIS whose plain digit would be 10: "001" block
        "123 4567 8901 0000",
    ],
)
def test_valid_cns_is_accepted(cns: str) -> None:
    assert is_valid_cns(cns)


@pytest.mark.parametrize(
    "cns",
    [
        "700000000000006",
        "300000000000000",  # first digit 3 to 6 never exists
        "400000000000004",
        "600000000000000",
        "000000000000000",
        "123456789010001",
        "123456789010010",  # "001" block only where the plain digit would be 10
        "177835337400008",  # the plain block where "001" is required
        "12345678901000",  # 14 digits
        "",
    ],
)
def test_invalid_cns_is_refused(cns: str) -> None:
    assert not is_valid_cns(cns)


@given(st.sampled_from("12"), st.lists(DIGIT, min_size=10, max_size=10).map("".join))
@PROPERTY
def test_cns_built_from_a_pis_is_valid_and_follows_the_sus_structure(first: str, rest: str) -> None:
    cns = cns_from_pis(first + rest)
    assert len(cns) == 15
    assert cns[11:14] in {"000", "001"}
    assert sum(int(ch) * (15 - i) for i, ch in enumerate(cns)) % 11 == 0
    assert is_valid_cns(cns)
    assert is_valid_cns(format_cns(cns))


@pytest.mark.parametrize("bad", ["32345678901", "1234567890", "1234567890A"])
def test_cns_from_pis_needs_a_pis_starting_with_one_or_two(bad: str) -> None:
    with pytest.raises(ValueError):
        cns_from_pis(bad)


def test_parse_cns_returns_fifteen_digits_or_refuses() -> None:
    assert parse_cns("123 4567 8901 0000") == "123456789010000"
    with pytest.raises(DomainError) as refused:
        parse_cns("123 4567 8901 0001")
    assert refused.value.field == "cns"


# ---------------------------------------------------------------- CEP and e-mail


@pytest.mark.parametrize(
    ("cep", "valid"),
    [
        ("01310-100", True),
        ("01310100", True),
        ("70.040-010", True),
        ("00000-000", False),
        ("0131010", False),
        ("013101000", False),
        ("0131A100", False),
        ("", False),
    ],
)
def test_cep_has_eight_digits_not_all_zero(cep: str, valid: bool) -> None:
    assert is_valid_cep(cep) == valid


def test_parse_cep_returns_eight_digits_or_refuses() -> None:
    assert parse_cep("01310-100") == "01310100"
    with pytest.raises(DomainError) as refused:
        parse_cep("1310-100")
    assert refused.value.field == "cep"


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("rh@empresa.com.br", True),
        ("maria.silva+odonto@sorriso.com", True),
        ("joao_souza@sub.dominio-x.org", True),
        ("a@b.co", True),
        ("sem-arroba.com.br", False),
        ("dois@@empresa.com", False),
        ("@empresa.com", False),
        ("rh@", False),
        ("rh@empresa", False),
        ("rh@empresa..com", False),
        (".rh@empresa.com", False),
        ("rh.@empresa.com", False),
        ("r..h@empresa.com", False),
        ("rh @empresa.com", False),
        ("rh@-empresa.com", False),
        ("rh@empresa.c", False),
        (" rh@empresa.com", False),
        ("x" * 65 + "@empresa.com", False),
        ("rh@" + "a" * 250 + ".com", False),
        ("", False),
    ],
)
def test_email_validity(email: str, valid: bool) -> None:
    assert is_valid_email(email) == valid


# ---------------------------------------------------------------- display


@pytest.mark.parametrize(
    ("formatter", "raw", "expected"),
    [
        (format_cpf, "52998224725", "529.982.247-25"),
        (format_cpf, "529.982.247-25", "529.982.247-25"),
        (format_cnpj, "11222333000181", "11.222.333/0001-81"),
        (format_cnpj, "12abc34501de35", "12.ABC.345/01DE-35"),
        (format_caepf, "29383589000148", "293.835.890/001-48"),
        (format_cns, "898001160652049", "898 0011 6065 2049"),
        (format_cep, "01310100", "01310-100"),
        (format_cep, "01310-100", "01310-100"),
    ],
)
def test_documents_are_shown_with_their_masks(
    formatter: Callable[[str], str], raw: str, expected: str
) -> None:
    assert formatter(raw) == expected


@pytest.mark.parametrize(
    ("formatter", "raw"),
    [
        (format_cpf, "123"),
        (format_cnpj, "11.222.333/0001"),
        (format_caepf, "12ABC34501DE35"),
        (format_cns, "1234"),
        (format_cep, "abc"),
        (format_cpf, ""),
    ],
)
def test_formatters_return_values_of_the_wrong_shape_unchanged(
    formatter: Callable[[str], str], raw: str
) -> None:
    assert formatter(raw) == raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", "***.982.247-**"),
        ("52998224725", "***.982.247-**"),
        ("123", "***.***.***-**"),
        ("", "***.***.***-**"),
    ],
)
def test_mask_cpf_shows_only_the_middle_six_digits(raw: str, expected: str) -> None:
    assert mask_cpf(raw) == expected

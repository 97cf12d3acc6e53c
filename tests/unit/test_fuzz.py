"""Fuzzing: arbitrary text, bytes and numbers thrown at the document rules, the boleto, PIX
and money rules, the batch file parser and the spreadsheet exports (hypothesis).

What must hold for any input:
- what a user types or uploads (documents, batch files) is refused only with the project's
  `DomainError` (`BatchFileError` for a file); the boleto, PIX and money builders, whose
  callers pass the operator's own data, refuse only with the ValueError/TypeError their
  docstrings and tests document; nothing else (IndexError, UnicodeDecodeError,
  zipfile's NotImplementedError, openpyxl's IllegalCharacterError...) ever escapes;
- validators answer a bool; a parser returns a normalised value its validator accepts
  (and parses again to itself), or refuses;
- no cell of an exported CSV or xlsx (reports, batch result files) is ever a formula.

The tests/unit/test_rules_*.py files check the rules on chosen and well-formed values;
these throw what nobody would choose at them. The examples are the same on every run
(derandomized, like the other property tests); PORTAL_FUZZ_RANDOM=1 draws new ones.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from components.report_widgets import ExportHeader, to_csv, to_xlsx
from services.batch.files import (
    LINE,
    BatchFileError,
    ParsedBatch,
    parse_batch_file,
    result_csv,
    result_xlsx,
    template_xlsx,
)
from services.batch.layout import BY_NAME, COLUMN_NAMES
from services.exports import csv_bytes, neutralise, xlsx_text
from services.rules.boleto import (
    FIRST_FACTOR_DATE,
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
from services.rules.calendar import is_business_day
from services.rules.documents import (
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
from services.rules.money import overdue_payment_dates, overdue_update, round_money
from services.rules.pix import crc16_ccitt_false, is_valid_pix_payload, parse_tlv, pix_payload

RANDOM = os.environ.get("PORTAL_FUZZ_RANDOM") == "1"


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=not RANDOM,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


# Text near the shape of a document: digits, its punctuation, letters, and characters that
# look like digits or upper-case to ASCII ("٣" is a digit, "ß" upper-cases to "SS").
DOC_TEXT = st.text(alphabet="0123456789" * 4 + "./-  \t\nABCXZabcxzßſı٣０", max_size=24)
ANY_TEXT = st.one_of(st.text(), DOC_TEXT)
ANYTHING = st.one_of(
    ANY_TEXT, st.integers(), st.none(), st.booleans(), st.floats(), st.binary(max_size=16)
)
HUGE_INTS = st.integers(min_value=10**4300, max_value=10**4400)  # str() refuses these
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# ================================================================ documents

VALIDATORS: list[Callable[[Any], bool]] = [
    is_valid_cpf,
    is_valid_cnpj,
    is_valid_caepf,
    is_valid_cns,
    is_valid_cep,
    is_valid_email,
    partial(is_valid_company_document, doc_type="CNPJ"),
    partial(is_valid_company_document, doc_type="CAEPF"),
]


@fuzz(1000)
@given(ANYTHING)
def test_validators_answer_a_bool_for_anything(value: Any) -> None:
    for valid in VALIDATORS:
        assert type(valid(value)) is bool


def _cpf(base9: str) -> str:
    return base9 + cpf_check_digits(base9)


def _cnpj(base12: str) -> str:
    return base12 + cnpj_check_digits(base12)


def _caepf(base12: str) -> str:
    return base12 + caepf_check_digits(base12)


def _provisional_cns(first: str, middle: str) -> str:
    """A provisional CNS: the last digit chosen so that sum(d * (15 - i)) % 11 == 0
    (the middle is nudged until some digit works)."""
    for bump in range(11):
        body = first + f"{(int(middle) + bump) % 10**13:013d}"
        total = sum(int(ch) * (15 - i) for i, ch in enumerate(body))
        for last in "0123456789":
            if (total + int(last)) % 11 == 0:
                return body + last
    raise AssertionError("unreachable: some bump gives a remainder a digit can fix")


VALID = {
    "cpf": digits(9).filter(lambda s: len(set(s)) > 1).map(_cpf),
    "cnpj": st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12)
    .map(_cnpj)
    .filter(lambda s: len(set(s)) > 1),
    "caepf": digits(12).map(_caepf),
    "cns": st.one_of(
        st.builds(lambda f, r: cns_from_pis(f + r), st.sampled_from("12"), digits(10)),
        st.builds(_provisional_cns, st.sampled_from("789"), digits(13)),
    ),
    "cep": digits(8).filter(lambda s: s != "00000000"),
}
PARSERS: dict[str, tuple[Callable[..., str], Callable[[Any], bool], int, Callable[[str], str]]] = {
    "cpf": (parse_cpf, is_valid_cpf, 11, format_cpf),
    "cnpj": (partial(parse_company_document, doc_type="CNPJ"), is_valid_cnpj, 14, format_cnpj),
    "caepf": (partial(parse_company_document, doc_type="CAEPF"), is_valid_caepf, 14, format_caepf),
    "cns": (parse_cns, is_valid_cns, 15, format_cns),
    "cep": (parse_cep, is_valid_cep, 8, format_cep),
}


@fuzz(1000)
@given(
    st.sampled_from(sorted(PARSERS)),
    st.one_of(ANY_TEXT, st.integers(), HUGE_INTS, st.none(), *VALID.values()),
)
@example("cpf", 10**5000)  # was: ValueError from str() of an int of more than 4,300 digits
def test_parsers_return_a_normalised_value_their_validator_accepts_or_refuse(
    kind: str, value: Any
) -> None:
    parse, valid, length, fmt = PARSERS[kind]
    try:
        result = parse(value, field="campo")
    except DomainError as exc:
        assert exc.field == "campo" and exc.message
        assert not valid(value)  # a parser refuses nothing its validator accepts
        return
    assert isinstance(result, str) and len(result) == length
    assert result.isascii() and result == result.upper() and result.isalnum()
    assert valid(result)
    assert parse(result, field="campo") == result
    assert parse(fmt(result), field="campo") == result


@st.composite
def typed_like_a_person(draw: st.DrawFn, canonical: str) -> str:
    """``canonical`` with the punctuation, spaces and case people and exports add."""
    out = [draw(st.sampled_from(["", "", " ", "\t"]))]
    for ch in canonical:
        out.append(draw(st.sampled_from(["", "", "", ".", "-", "/", " ", " / ", "\n"])))
        out.append(ch.lower() if draw(st.booleans()) else ch)
    out.append(draw(st.sampled_from(["", "", " ", "\r\n"])))
    return "".join(out)


@fuzz(500)
@given(st.data())
def test_any_valid_document_however_punctuated_parses_to_its_canonical_form(
    data: st.DataObject,
) -> None:
    kind = data.draw(st.sampled_from(sorted(VALID)))
    canonical = data.draw(VALID[kind])
    typed = data.draw(typed_like_a_person(canonical))
    parse, valid, _, fmt = PARSERS[kind]
    assert valid(canonical) and valid(typed)
    assert parse(typed, field="campo") == canonical
    assert fmt(typed) == fmt(canonical)


@fuzz(1000)
@given(st.one_of(ANY_TEXT, *VALID.values()))
def test_formatters_and_the_cpf_mask_never_raise_and_never_leak(value: str) -> None:
    formatters = [
        format_cpf,
        format_cnpj,
        format_caepf,
        format_cns,
        format_cep,
        partial(format_company_document, doc_type="CNPJ"),
        partial(format_company_document, doc_type="CAEPF"),
    ]
    for fmt in formatters:
        shown = fmt(value)
        # Unchanged when not of the document's shape, else the same characters masked.
        assert shown == value or normalize_document(shown) == normalize_document(value)
    masked = mask_cpf(value)
    assert re.fullmatch(r"\*\*\*\.(\d{3}\.\d{3}|\*\*\*\.\*\*\*)-\*\*", masked)
    if masked != "***.***.***-**":
        cpf = normalize_document(value)
        assert masked == f"***.{cpf[3:6]}.{cpf[6:9]}-**"  # first 3 and last 2 never shown


@fuzz(600)
@given(
    st.one_of(ANY_TEXT, digits(9), digits(11), digits(12), st.text("0123456789ABZß", max_size=13))
)
def test_check_digit_helpers_answer_two_digits_or_refuse_with_value_error(text: str) -> None:
    for helper in (cpf_check_digits, cnpj_check_digits, caepf_check_digits):
        try:
            check = helper(text)
        except ValueError:
            continue
        assert len(check) == 2 and check.isascii() and check.isdigit()
    try:
        cns = cns_from_pis(text)
    except ValueError:
        return
    assert cns.startswith(text) and is_valid_cns(cns)


@fuzz(600)
@given(ANY_TEXT)
def test_normalisers_keep_what_they_promise(text: str) -> None:
    assert only_digits(text) == "".join(ch for ch in text if ch in "0123456789")
    normal = normalize_document(text)
    assert not re.search(r"[./\-\s]", normal)
    assert normalize_document(normal) == normal


# ================================================================ boleto


def _valid_barcode(digits43: str) -> str:
    return digits43[:4] + barcode_check_digit(digits43) + digits43[4:]


BARCODES = digits(43).map(_valid_barcode)
TYPED_LINES = BARCODES.map(typed_line)
BOLETO_TEXT = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 .-\t\n", max_size=60),
    digits(44),
    digits(47),
    BARCODES,
    TYPED_LINES,
    TYPED_LINES.map(format_typed_line),
    st.builds(
        lambda line, i, d: line[:i] + d + line[i + 1 :], TYPED_LINES, st.integers(0, 46), digits(1)
    ),
)


@fuzz(1000)
@given(BOLETO_TEXT)
def test_boleto_readers_agree_with_each_other_and_refuse_only_with_value_error(text: str) -> None:
    for helper in (format_typed_line, mod10, barcode_check_digit, itf_pattern):
        with contextlib.suppress(ValueError):
            helper(text)
    assert type(is_valid_barcode(text)) is bool
    if is_valid_barcode(text):
        line = typed_line(text)
        assert len(line) == 47 and is_valid_typed_line(line)
        assert barcode_from_typed_line(format_typed_line(line)) == text
        bars = itf_pattern(text)  # start (2 bars), 5 bars per pair of digits, stop (2 bars)
        assert [is_bar for is_bar, _ in bars] == [True, False] * 113 + [True]
    else:
        with pytest.raises(ValueError):
            typed_line(text)
    assert type(is_valid_typed_line(text)) is bool
    if is_valid_typed_line(text):
        code = barcode_from_typed_line(text)
        assert is_valid_barcode(code)
        assert typed_line(code) == text.translate(str.maketrans("", "", " .-\t\n"))
    else:
        with pytest.raises(ValueError):
            barcode_from_typed_line(text)


# Amounts are bounded to 20 integer digits: money comes from Money columns (integer cents,
# 19 digits at most); past ~26 digits Decimal's 28-digit context makes quantize() raise
# decimal.InvalidOperation instead of the ValueError of an invalid amount.
AMOUNTS = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2),
    st.decimals(min_value=-(10**20), max_value=10**20, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]),
    st.integers(min_value=-10, max_value=10**9),
    st.sampled_from([True, 1.5, None, "10.00"]),
)


@fuzz(800)
@given(
    bank=st.one_of(digits(3), st.text(max_size=4)),
    due=st.dates(min_value=date(1990, 1, 1)),
    amount=AMOUNTS,
    free=st.one_of(digits(25), st.text(alphabet="0123456789x", max_size=26)),
    currency=st.one_of(st.just("9"), st.text(max_size=2)),
)
def test_barcode_is_valid_or_refused_with_value_or_type_error(
    bank: str, due: date, amount: Any, free: str, currency: str
) -> None:
    try:
        code = barcode(bank, due, amount, free, currency)
    except (ValueError, TypeError):
        return
    assert is_valid_barcode(code)
    assert code[:3] == bank and code[3] == currency and code[19:] == free
    assert int(code[5:9]) == due_date_factor(due)
    assert Decimal(int(code[9:19])) / 100 == Decimal(amount)


@fuzz(800)
@given(
    day=st.dates(),
    factor=st.one_of(st.integers(), st.integers(min_value=900, max_value=10100)),
    # A reference after ~9975 overflows `date` (OverflowError); the reference is today.
    reference=st.dates(min_value=date(1990, 1, 1), max_value=date(9970, 12, 31)),
)
def test_due_date_factors_are_in_range_or_refused_with_value_error(
    day: date, factor: int, reference: date
) -> None:
    try:
        assert 1000 <= due_date_factor(day) <= 9999
    except ValueError:
        assert day < FIRST_FACTOR_DATE
    try:
        found = due_date_from_factor(factor, reference)
    except ValueError:
        assert not 1000 <= factor <= 9999
        return
    assert due_date_factor(found) == factor and found >= FIRST_FACTOR_DATE
    # The nearest date with that factor, unless the other one is before factor 1000.
    other_before = found - timedelta(days=9000) < FIRST_FACTOR_DATE
    assert abs((found - reference).days) <= 4500 or other_before


@fuzz(500)
@given(st.one_of(st.text(max_size=20), digits(8)), st.one_of(st.text(max_size=20), digits(17)))
def test_simple_free_field_is_25_digits_or_refused_with_value_error(
    agreement: str, our_number: str
) -> None:
    try:
        free = simple_free_field(agreement, our_number)
    except ValueError:
        return
    assert len(free) == 25 and free.isdigit()
    assert int(free[:8]) == int(agreement) and int(free[8:]) == int(our_number)


# ================================================================ PIX

PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)
TAGS = st.one_of(st.sampled_from(["00", "01", "26", "52", "53", "54", "58", "62", "63"]), digits(2))


def _tlv(fields: list[tuple[str, str]]) -> str:
    return "".join(f"{tag}{len(value):02d}{value}" for tag, value in fields)


def _with_crc(payload: str) -> str:
    payload += "6304"
    return payload + f"{crc16_ccitt_false(payload.encode('ascii')):04X}"


PIX_ACCOUNT = st.builds(
    lambda key, extra: _tlv([("00", "br.gov.bcb.pix"), ("01", key), *extra]),
    st.text(PRINTABLE, min_size=1, max_size=30),
    st.lists(st.tuples(TAGS, st.text(PRINTABLE, max_size=10)), max_size=2),
)
TLV_PAYLOADS = st.builds(
    lambda head, account, tail, crc: (_with_crc if crc else str)(
        _tlv([*head, ("26", account), *tail])
    ),
    st.lists(st.tuples(TAGS, st.text(PRINTABLE, max_size=12)), max_size=3).map(
        lambda fields: [("00", "01"), *fields]
    ),
    st.one_of(PIX_ACCOUNT, st.text(PRINTABLE, max_size=40)),
    st.lists(st.tuples(TAGS, st.text(PRINTABLE, max_size=12)), max_size=3),
    st.booleans(),
)
REAL_PAYLOADS = st.builds(
    pix_payload,
    key=st.text(PRINTABLE, min_size=1, max_size=40).filter(str.strip),
    name=st.just("Sorriso Operadora"),
    city=st.just("SAO PAULO"),
    amount=st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=10**8, places=2)),
    txid=st.one_of(st.just("***"), st.text("0123456789abcXYZ", min_size=1, max_size=25)),
)


@fuzz(700)
@given(st.one_of(st.text(), st.text(PRINTABLE), TLV_PAYLOADS, REAL_PAYLOADS))
def test_pix_readers_answer_or_refuse_with_value_error(payload: str) -> None:
    valid = is_valid_pix_payload(payload)
    assert type(valid) is bool
    try:
        fields = parse_tlv(payload)
    except ValueError:
        assert not valid
        return
    assert _tlv(list(fields.items())) == payload  # the fields are the whole payload
    if valid:
        assert payload.startswith("000201") and list(fields)[-1] == "63"


@fuzz(800)
@given(
    key=st.one_of(st.text(max_size=90), st.text(PRINTABLE, max_size=80)),
    name=st.text(max_size=40),
    city=st.text(max_size=30),
    amount=st.one_of(st.none(), AMOUNTS),
    txid=st.one_of(st.just("***"), st.text("0123456789abcXYZ", max_size=27), st.text(max_size=5)),
    message=st.one_of(st.none(), st.text(max_size=120)),
)
def test_pix_payload_is_valid_or_refused_with_value_or_type_error(
    key: str, name: str, city: str, amount: Any, txid: str, message: str | None
) -> None:
    try:
        payload = pix_payload(key, name, city, amount, txid, message)
    except (ValueError, TypeError):
        return
    assert payload.isascii() and is_valid_pix_payload(payload)
    fields = parse_tlv(payload)
    assert parse_tlv(fields["26"])["01"] == key.strip()
    assert 1 <= len(fields["59"]) <= 25 and 1 <= len(fields["60"]) <= 15
    assert fields["62"] == f"05{len(txid):02d}{txid}"
    if amount is None:
        assert "54" not in fields
    else:
        assert Decimal(fields["54"]) == Decimal(amount)


@fuzz(600)
@given(REAL_PAYLOADS, st.data())
def test_any_one_character_changed_before_the_crc_is_caught(
    payload: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(payload) - 5))
    new = data.draw(PRINTABLE.filter(lambda ch: ch != payload[at]))
    assert not is_valid_pix_payload(payload[:at] + new + payload[at + 1 :])


# ================================================================ money

NUMERIC = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.decimals(min_value=-(10**20), max_value=10**20, allow_nan=False, allow_infinity=False),
)


@fuzz(400)
@given(st.one_of(NUMERIC, NUMERIC.map(str), st.floats()))
def test_round_money_is_the_nearest_cent_half_up_and_refuses_float(x: Any) -> None:
    if isinstance(x, float):
        with pytest.raises(TypeError):
            round_money(x)
        return
    rounded = round_money(x)
    exact = Decimal(x)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - exact) <= Decimal("0.005")
    if abs(rounded - exact) == Decimal("0.005"):
        assert abs(rounded) > abs(exact)  # half away from zero


RATES = st.one_of(
    st.decimals(min_value=0, max_value=100, places=2),
    st.decimals(min_value=-1, max_value=1000),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), 2.0, 0, 1]),
)
MONEY_DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@fuzz(500)
@given(
    amount=st.one_of(AMOUNTS, st.decimals(min_value=0, max_value=10**12, places=2)),
    due=MONEY_DATES,
    days=st.integers(min_value=-60, max_value=800),
    fine_pct=RATES,
    interest_pct=RATES,
)
def test_overdue_update_adds_up_or_refuses_with_value_or_type_error(
    amount: Any, due: date, days: int, fine_pct: Any, interest_pct: Any
) -> None:
    paid = due + timedelta(days=days)
    try:
        charge = overdue_update(amount, due, paid, fine_pct, interest_pct)
    except (ValueError, TypeError):
        return
    parts = (charge.amount, charge.fine, charge.interest, charge.total)
    assert all(p.as_tuple().exponent == -2 and p >= 0 for p in parts)
    assert charge.amount == Decimal(amount)
    assert charge.total == charge.amount + charge.fine + charge.interest
    if charge.days_late == 0:
        assert charge.fine == charge.interest == 0 and charge.total == charge.amount
    else:
        assert charge.days_late == days > 0
        assert charge.fine == round_money(Decimal(amount) * Decimal(fine_pct) / 100)
        assert charge.interest == round_money(
            Decimal(amount) * Decimal(interest_pct) * days / (100 * 30)
        )
    if days <= 0:
        assert charge.days_late == 0


@fuzz(300)
@given(due=MONEY_DATES, offset=st.integers(-40, 40), limit=st.integers(-3, 120))
def test_new_payment_dates_are_every_business_day_up_to_the_limit(
    due: date, offset: int, limit: int
) -> None:
    today = due + timedelta(days=offset)
    if limit < 0:
        with pytest.raises(ValueError):
            overdue_payment_dates(due, today, limit)
        return
    days = overdue_payment_dates(due, today, limit)
    last = due + timedelta(days=limit)
    expected = [
        today + timedelta(days=n)
        for n in range(max(0, (last - today).days + 1))
        if is_business_day(today + timedelta(days=n))
    ]
    assert days == expected


# ================================================================ batch parser


def _xlsx(rows: list[list[Any]], sheet: str = "Movimentacoes") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


HOLDER = {
    "tipo_movimento": "INCLUSAO",
    "cpf": "52998224725",
    "nome": "MARIA DA SILVA",
    "data_nascimento": "15/03/1985",
    "sexo": "F",
    "nome_mae": "ANA DA SILVA",
    "cep": "01310100",
    "municipio": "SAO PAULO",
    "uf": "SP",
    "data_admissao": "02/01/2024",
    "parentesco": "1",
    "codigo_plano": "ODT-ESS",
}
FILLED = _xlsx(
    [
        list(COLUMN_NAMES),
        [HOLDER.get(c) for c in COLUMN_NAMES],
        [{**HOLDER, "cpf": "123", "data_nascimento": 31000}.get(c) for c in COLUMN_NAMES],
        [
            {"tipo_movimento": "EXCLUSAO", "carteirinha": "1", "motivo_exclusao": "x"}.get(c)
            for c in COLUMN_NAMES
        ],
    ]
)
TEMPLATE = template_xlsx([("ODT-ESS", "Sorriso Essencial")], "10001")
CHOICE_CODES = {
    c.name: {code for code, _ in c.choices} for c in BY_NAME.values() if c.choices is not None
}


def _parse(name: str, content: bytes, **kw: Any) -> ParsedBatch | None:
    """Parse, allowing only a `BatchFileError`; check what a parsed file promises."""
    try:
        parsed = parse_batch_file(name, content, **kw)
    except BatchFileError as exc:
        assert exc.message
        return None
    assert parsed.lines and parsed.file_name == name
    assert parsed.content_hash == hashlib.sha256(content).hexdigest()
    assert sorted(parsed.columns) == sorted(COLUMN_NAMES)
    numbers = [line.line_number for line in parsed.lines]
    assert numbers == sorted(set(numbers)) and numbers[0] >= 2
    plans = kw.get("plan_codes")
    for line in parsed.lines:
        assert set(line.values) == set(line.raw) == set(COLUMN_NAMES)
        assert set(line.problems) <= {*COLUMN_NAMES, LINE}
        assert line.kind is not None or "tipo_movimento" in line.problems
        for name_, value in line.values.items():
            if value is None:
                continue
            col = BY_NAME[name_]
            if col.kind == "date":
                assert isinstance(value, date)
            elif col.kind == "bool":
                assert isinstance(value, bool)
            elif col.kind == "digits":
                assert value.isascii() and value.isdigit() and len(value) <= col.max_length
                if name_ in ("cpf", "cpf_titular"):
                    assert is_valid_cpf(value)
            elif col.kind == "text":
                assert isinstance(value, str) and 0 < len(value) <= col.max_length
            elif name_ == "codigo_plano":
                assert plans is None or value in plans
            else:
                assert value in CHOICE_CODES[name_]
    return parsed


NAMES = st.sampled_from(["lote.csv", "lote.xlsx", "LOTE.CSV", " lote.XLSX ", "lote", "lote.xls"])
MAGIC = st.sampled_from(
    [
        b"",
        b"\xff\xfe",
        b"\xfe\xff",
        b"\xef\xbb\xbf",
        b"PK\x03\x04",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    ]
)


@fuzz(1000)
@given(NAMES, MAGIC, st.binary(max_size=600))
@example("lote.csv", b"\xff\xfe", b"q")  # was: UnicodeDecodeError (truncated UTF-16)
@example("lote.csv", b"\xfe\xff", b"\xd8\x00")  # was: UnicodeDecodeError (lone surrogate)
def test_random_bytes_are_a_batch_file_error_never_a_crash(
    name: str, magic: bytes, content: bytes
) -> None:
    _parse(name, magic + content)


CELLS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "INCLUSAO",
            "EXCLUSAO",
            "ALTERACAO",
            "REATIVACAO",
            "TRANSFERENCIA",
            "Alteração",
            "1",
            "4",
            "1 - Titular",
            "52998224725",
            "529.982.247-25",
            "12345678900",
            "1234567890",
            "15/03/1985",
            "1985-03-15",
            "15031985",
            "31/02/2020",
            "45000",
            "0",
            "-1",
            "1e5",
            "5,3E+10",
            "S",
            "N",
            "F",
            "M",
            "sim",
            "SP",
            "sp",
            "ODT-ESS",
            "ODT-ESS - Sorriso",
            "0001000000000027",
            "pedido",
            "demissao - Demissão",
            "=1+1",
            "@SUM(A1)",
            "+55",
            "",
            " ",
            "\x00",
            "\x1a",
            "\ufeff",
            "\uffff",
            '"',
            "\r\n",
            "x" * 250,
        ]
    ),
)


@fuzz(400)
@given(
    rows=st.lists(st.lists(CELLS, max_size=len(COLUMN_NAMES) + 2), max_size=6),
    header=st.permutations(COLUMN_NAMES),
    delimiter=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    plans=st.sampled_from([None, ["ODT-ESS"]]),
)
def test_random_csv_lines_parse_into_checked_values_or_refuse_the_file(
    rows: list[list[str]],
    header: list[str],
    delimiter: str,
    encoding: str,
    quoting: int,
    plans: list[str] | None,
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    _parse("lote.csv", out.getvalue().encode(encoding, "replace"), plan_codes=plans)


@pytest.mark.parametrize("column", ["cep", "telefone", "cns", "carteirinha"])
@pytest.mark.parametrize("cell", ["-", "/", "( )", ". -"])
def test_a_digits_cell_of_punctuation_only_is_an_empty_cell(column: str, cell: str) -> None:
    """Was: the value "" (neither a number nor None), so a line passed the "Preencha ..."
    and "Alteração sem dados" checks with nothing in it (found by the random CSV lines)."""
    if column == "carteirinha":  # required in an exclusion
        line = {"tipo_movimento": "EXCLUSAO", "motivo_exclusao": "pedido", column: cell}
        problem = ("carteirinha", "Preencha carteirinha")
    else:  # an update whose only change is that cell changes nothing
        line = {"tipo_movimento": "ALTERACAO", "carteirinha": "0001000000000027", column: cell}
        problem = (LINE, "Alteração sem dados")
    text = io.StringIO()
    csv.writer(text, delimiter=";").writerows(
        [list(COLUMN_NAMES), [line.get(c, "") for c in COLUMN_NAMES]]
    )
    parsed = _parse("lote.csv", text.getvalue().encode())
    assert parsed is not None
    (parsed_line,) = parsed.lines
    assert parsed_line.values[column] is None and parsed_line.raw[column] == cell
    assert problem[1] in parsed_line.problems.get(problem[0], "")


@st.composite
def garbled(draw: st.DrawFn, original: bytes) -> bytes:
    content = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(content) - 1)))
        how = draw(st.sampled_from(["flip", "cut", "insert", "zero", "truncate"]))
        if how == "flip" and at < len(content):
            content[at] = draw(st.integers(0, 255))
        elif how == "cut":
            del content[at : at + draw(st.integers(1, 200))]
        elif how == "insert":
            content[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif how == "zero":
            size = draw(st.integers(1, 400))
            content[at : at + size] = bytes(len(content[at : at + size]))
        else:
            del content[at:]
    return bytes(content)


@fuzz(600)
@given(st.sampled_from([TEMPLATE, FILLED]).flatmap(garbled))
def test_garbled_xlsx_bytes_are_a_batch_file_error_never_a_crash(content: bytes) -> None:
    _parse("lote.xlsx", content)


def _members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


FILLED_PARTS = _members(FILLED)
XML_SNIPPETS = [
    b"<f>1+1</f>",
    b'<c r="A2" t="n"><v>1e999</v></c>',
    b'<c r="C2" t="s"><v>99999</v></c>',
    b'<c r="XFD1048576"><v>1</v></c>',
    b'<mergeCell ref="A1:B2"/>',
    b'<c r="B3" t="d"><v>2020-13-45</v></c>',
    b'<c r="D2" t="e"><v>#N/A</v></c>',
    b"<v>-1</v>",
    b"&#0;",
    b"\xff\xfe",
    b'<sheet name="Outra" sheetId="9" state="hidden" r:id="rId9"/>',
    b'date1904="1"',
]


@fuzz(400)
@given(st.data())
def test_a_valid_zip_with_garbled_xml_parts_is_a_batch_file_error_never_a_crash(
    data: st.DataObject,
) -> None:
    """Garbling the parts inside a sound zip reaches the XML readers and python-calamine."""
    part = data.draw(st.sampled_from(sorted(FILLED_PARTS)))
    xml = bytearray(FILLED_PARTS[part])
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(xml)))
        how = data.draw(st.sampled_from(["flip", "cut", "snippet", "repeat"]))
        if how == "flip" and at < len(xml):
            xml[at] = data.draw(st.sampled_from(list(b'<>/"=0123456789Az \x00')))
        elif how == "cut":
            del xml[at : at + data.draw(st.integers(1, 60))]
        elif how == "snippet":
            xml[at:at] = data.draw(st.sampled_from(XML_SNIPPETS))
        else:
            xml[at:at] = xml[at : at + data.draw(st.integers(1, 300))]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in FILLED_PARTS.items():
            zf.writestr(name, bytes(xml) if name == part else body)
    _parse("lote.xlsx", out.getvalue(), plan_codes=data.draw(st.sampled_from([None, ["ODT-ESS"]])))


def _rezip(
    compression: int, *, garble: str | None = None, tweak: Callable[[bytearray], None] | None = None
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, body in FILLED_PARTS.items():
            zf.writestr(name, body, compress_type=compression)
    content = bytearray(out.getvalue())
    if garble:
        start = content.find(garble.encode()) + len(garble) + 20
        for i in range(start, start + 40):
            content[i] ^= 0x5A
    if tweak:
        tweak(content)
    return bytes(content)


def _set_in_headers(offsets: tuple[int, int], value: bytes) -> Callable[[bytearray], None]:
    """Overwrite a field of every local (PK 03 04) and central (PK 01 02) zip header."""

    def tweak(content: bytearray) -> None:
        for signature, offset in zip((b"PK\x03\x04", b"PK\x01\x02"), offsets, strict=True):
            at = content.find(signature)
            while at != -1:
                content[at + offset : at + offset + len(value)] = value
                at = content.find(signature, at + 4)

    return tweak


@pytest.mark.parametrize(
    "content",
    [
        # each was an exception other than BatchFileError before the fix
        pytest.param(_rezip(zipfile.ZIP_LZMA, garble="xl/worksheets/sheet1.xml"), id="lzma"),
        pytest.param(_rezip(zipfile.ZIP_BZIP2, garble="xl/worksheets/sheet1.xml"), id="bzip2"),
        pytest.param(_rezip(zipfile.ZIP_BZIP2, garble="_rels/.rels"), id="bzip2-rels"),
        pytest.param(
            _rezip(zipfile.ZIP_DEFLATED, tweak=_set_in_headers((6, 8), b"\x01")), id="encrypted"
        ),
        pytest.param(
            _rezip(zipfile.ZIP_DEFLATED, tweak=_set_in_headers((8, 10), struct.pack("<H", 99))),
            id="unknown-method",
        ),
        pytest.param(
            _rezip(zipfile.ZIP_DEFLATED, tweak=_set_in_headers((4, 6), struct.pack("<H", 227))),
            id="zip-version",
        ),
    ],
)
def test_zip_parts_python_cannot_read_are_a_corrupt_workbook(content: bytes) -> None:
    with pytest.raises(BatchFileError, match="corrompida|não é uma planilha"):
        parse_batch_file("lote.xlsx", content)


def test_a_zip_bomb_is_refused_before_any_part_is_unpacked() -> None:
    """Was: _rels/.rels and the workbook part were read whole before the unpacked-size
    check, so 64 KB of upload with 60 MB of blanks in .rels took ~140 MB of memory (a 20 MB
    upload, ~20 GB) before being refused."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in FILLED_PARTS.items():
            zf.writestr(name, body + b" " * 40_000_000 if name == "_rels/.rels" else body)
    tracemalloc.start()
    try:
        with pytest.raises(BatchFileError, match="descompactada passa de"):
            parse_batch_file("lote.xlsx", out.getvalue(), max_bytes=1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_a_csv_field_beyond_the_csv_module_limit_is_a_batch_file_error() -> None:
    content = (";".join(COLUMN_NAMES) + "\nINCLUSAO;" + "9" * 200_000 + "\n").encode()
    with pytest.raises(BatchFileError, match="CSV malformado"):
        parse_batch_file("lote.csv", content)


# ================================================================ exports never hold formulas

SPREADSHEET_TEXT = st.one_of(
    st.text(max_size=30),
    st.builds(
        str.__add__,
        st.sampled_from([*FORMULA_STARTS, "'", "\x01", "\x00=", "\x1a+", "\ufffe@", " ="]),
        st.text(max_size=15),
    ),
    st.sampled_from(['=HYPERLINK("http://x","clique")', "=cmd|' /C calc'!A0", "@SUM(A1)"]),
)
_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")
_NOT_IN_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _no_formula_in_xlsx(content: bytes) -> list[Any]:
    """Every cell of every sheet, after checking none is a formula (XML and openpyxl)."""
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert not _FORMULA_ELEMENT.search(zf.read(name)), name
    book = load_workbook(io.BytesIO(content))
    values = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), cell.value
                values.append(cell.value)
    return values


def _read_back(text: str) -> str | None:
    """What a string written by `xlsx_text` reads back as (XML turns CR into LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") or None


@fuzz(1000)
@given(SPREADSHEET_TEXT)
def test_the_neutraliser_disarms_formulas_and_changes_nothing_else(text: str) -> None:
    out = neutralise(text)
    assert not out.startswith(FORMULA_STARTS)
    assert out in (text, "'" + text)
    assert neutralise(out) == out
    assert not xlsx_text(text).startswith(FORMULA_STARTS)


@fuzz(100)
@given(
    title=SPREADSHEET_TEXT,
    lines=st.lists(st.tuples(SPREADSHEET_TEXT, SPREADSHEET_TEXT), max_size=3),
    columns=st.lists(SPREADSHEET_TEXT, min_size=1, max_size=3, unique=True),
    cells=st.lists(SPREADSHEET_TEXT, max_size=12),
)
def test_no_string_to_xlsx_writes_is_a_formula_when_read_back(
    title: str, lines: list[tuple[str, str]], columns: list[str], cells: list[str]
) -> None:
    width = len(columns)
    rows = [cells[i : i + width] for i in range(0, len(cells) - len(cells) % width, width)]
    df = pd.DataFrame(rows, columns=columns, dtype=object)
    values = _no_formula_in_xlsx(to_xlsx(df, ExportHeader(title, tuple(lines))))
    written = [title, *(v for pair in lines for v in pair), *columns, *(v for r in rows for v in r)]
    expected = [_read_back(xlsx_text(v)) for v in written]
    assert [v for v in values if v not in (None, "")] == [v for v in expected if v is not None]

    text = to_csv(df, ExportHeader(title, tuple(lines))).decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row), row


@fuzz(100)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {"tipo_movimento": st.sampled_from(["INCLUSAO", "EXCLUSAO", "=1+1", "x"])},
            optional={c: SPREADSHEET_TEXT for c in ("nome", "cpf", "sexo", "municipio", "cep")},
        ),
        min_size=1,
        max_size=5,
    ),
    messages=st.lists(SPREADSHEET_TEXT, max_size=5),
    as_xlsx=st.booleans(),
)
def test_batch_result_files_never_hold_a_formula(
    rows: list[dict[str, str]], messages: list[str], as_xlsx: bool
) -> None:
    """The uploaded cells, statuses and messages go back to the user in the result file:
    whatever the upload held, no cell is a formula (and no character breaks the xlsx)."""
    table = [list(COLUMN_NAMES)] + [[r.get(c, "") for c in COLUMN_NAMES] for r in rows]
    if as_xlsx:  # formula-looking text stored as text (a formula refuses the file)
        wb = Workbook()
        ws = wb.active
        ws.title = "Movimentacoes"
        for r, row in enumerate(table, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(r, c)
                cell.value = _NOT_IN_XLSX.sub("", value) or None  # no xlsx can hold these
                cell.data_type = "s"
        out = io.BytesIO()
        wb.save(out)
        content, name = out.getvalue(), "lote.xlsx"
    else:
        text = io.StringIO()
        csv.writer(text, delimiter=";").writerows(table)
        content, name = text.getvalue().encode(), "lote.csv"
    parsed = _parse(name, content)
    if parsed is None:
        return
    statuses = [
        (line.line_number, "recusada", message)
        for line, message in zip(parsed.lines, messages, strict=False)
    ]
    _no_formula_in_xlsx(result_xlsx(parsed, statuses))
    text = result_csv(parsed, statuses).decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row), row


def test_a_control_character_in_an_upload_no_longer_breaks_the_result_xlsx() -> None:
    """Was: openpyxl's IllegalCharacterError when the result of a CSV with a stray control
    character (a DOS end-of-file \\x1a, a \\x01 from a mainframe export) was downloaded."""
    row = {**HOLDER, "nome": "MARIA\x1a", "municipio": "\x01=1+1", "bairro": "A\uffffB"}
    content = csv_bytes([list(COLUMN_NAMES), [row.get(c, "") for c in COLUMN_NAMES]])
    parsed = parse_batch_file("lote.csv", content)
    values = _no_formula_in_xlsx(result_xlsx(parsed, []))
    assert "MARIA\ufffd" in values and "\ufffd=1+1" in values and "A\ufffdB" in values


def test_non_ascii_letters_are_not_upper_cased_into_valid_cnpj_letters() -> None:
    from services.rules.documents import is_valid_cnpj, normalize_document

    assert normalize_document("ß") == "ß"
    assert normalize_document("ab.c-1") == "ABC1"
    valid = "12ABC34501DE35"  # the alphanumeric CNPJ of docs/domain/documents.md
    if is_valid_cnpj(valid):
        assert not is_valid_cnpj(valid.replace("AB", "ß"))


def test_a_negative_number_is_not_a_cpf() -> None:
    from services.rules.documents import parse_cpf
    from services.rules.errors import DomainError

    assert parse_cpf(52998224725) == "52998224725"
    with pytest.raises(DomainError):
        parse_cpf(-52998224725)

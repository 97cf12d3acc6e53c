"""The operator's bank agreement (checked and normalised), the free field built from it,
and the PIX txid of a boleto: unique per boleto, letters and digits, at most 25."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.boleto import (
    BankAgreement,
    agreement_free_field,
    bank_agreement_missing,
    bank_agreement_parse,
    simple_free_field,
)
from services.rules.errors import FieldErrors
from services.rules.pix import TXID_MAX, boleto_txid, is_valid_pix_payload, parse_tlv, pix_payload

PROPERTY = settings(max_examples=300, database=None, derandomize=True)
BB = BankAgreement("001", "1234567", "17", "1234-3", "56789-2")
TXID = re.compile(r"[A-Za-z0-9]{1,25}")


def parse(**overrides: str):  # noqa: ANN201
    values = {
        "bank_code": "001",
        "bank_agreement": "1234567",
        "bank_wallet": "17",
        "bank_branch": "1234-3",
        "bank_account": "56789-2",
    }
    return bank_agreement_parse(**{**values, **overrides})


# ---------------------------------------------------------------- settings


def test_a_banco_do_brasil_agreement_is_kept_as_typed() -> None:
    assert parse() == BB
    assert BB.beneficiary_code == "1234-3 / 56789-2"


def test_spaces_and_dots_are_dropped_and_an_x_check_digit_is_upper_case() -> None:
    got = parse(bank_agreement=" 1.234.567 ", bank_branch="1234 - x", bank_account="1.234.567-x")
    assert (got.agreement, got.branch, got.account) == ("1234567", "1234-X", "1234567-X")


def test_branch_and_account_without_check_digit_are_accepted() -> None:
    got = parse(bank_branch="0001", bank_account="123456789012")
    assert (got.branch, got.account) == ("0001", "123456789012")


def test_other_banks_take_agreements_up_to_8_digits_and_wallets_up_to_3() -> None:
    got = parse(bank_code="237", bank_agreement="42", bank_wallet="109")
    assert (got.bank_code, got.agreement, got.wallet) == ("237", "42", "109")


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"bank_code": "1"}, "bank_code", "3 dígitos"),
        ({"bank_code": "abc"}, "bank_code", "3 dígitos"),
        ({"bank_agreement": "123456"}, "bank_agreement", "7 dígitos"),
        ({"bank_agreement": "12345678"}, "bank_agreement", "7 dígitos"),
        ({"bank_code": "237", "bank_agreement": "123456789"}, "bank_agreement", "1 a 8"),
        ({"bank_code": "237", "bank_agreement": "12a"}, "bank_agreement", "1 a 8"),
        ({"bank_agreement": ""}, "bank_agreement", "7 dígitos"),
        ({"bank_wallet": "7"}, "bank_wallet", "2 dígitos"),
        ({"bank_code": "237", "bank_wallet": "1234"}, "bank_wallet", "1 a 3"),
        ({"bank_branch": "123"}, "bank_branch", "4 dígitos"),
        ({"bank_branch": "12345"}, "bank_branch", "4 dígitos"),
        ({"bank_branch": "1234-56"}, "bank_branch", "4 dígitos"),
        ({"bank_branch": "1234-"}, "bank_branch", "4 dígitos"),
        ({"bank_account": ""}, "bank_account", "até 12 dígitos"),
        ({"bank_account": "1234567890123-4"}, "bank_account", "até 12 dígitos"),
        ({"bank_account": "12-3-4"}, "bank_account", "até 12 dígitos"),
        ({"bank_account": "１２３"}, "bank_account", "até 12 dígitos"),  # full-width digits
    ],
)
def test_each_wrong_field_says_what_to_type(overrides: dict, field: str, words: str) -> None:
    with pytest.raises(FieldErrors) as refused:
        parse(**overrides)
    assert list(refused.value.errors) == [field]
    assert words in refused.value.errors[field]


def test_every_problem_is_given_at_once() -> None:
    with pytest.raises(FieldErrors) as refused:
        bank_agreement_parse(
            bank_code="", bank_agreement="", bank_wallet="", bank_branch="", bank_account=None
        )
    assert set(refused.value.errors) == {
        "bank_code",
        "bank_agreement",
        "bank_wallet",
        "bank_branch",
        "bank_account",
    }


def test_missing_names_the_empty_fields_in_form_order() -> None:
    values = {"bank_code": "001", "bank_agreement": " ", "bank_wallet": "", "bank_account": "1"}
    assert bank_agreement_missing(values) == ["convênio", "carteira", "agência"]
    assert (
        bank_agreement_missing(
            {**values, "bank_agreement": "1", "bank_wallet": "1", "bank_branch": "1"}
        )
        == []
    )


# ---------------------------------------------------------------- free field


def test_banco_do_brasil_layout_with_a_7_digit_agreement() -> None:
    free = agreement_free_field(BB, "42")
    assert free == "000000" + "1234567" + "0000000042" + "17"
    assert len(free) == 25


def test_other_banks_get_the_operators_own_layout() -> None:
    other = BankAgreement("237", "4321", "9", "0001", "1-2")
    assert agreement_free_field(other, "42") == simple_free_field("4321", "42")


@pytest.mark.parametrize("our_number", ["", "12345678901", "12a", "-1"])
def test_an_our_number_that_does_not_fit_banco_do_brasil_is_refused(our_number: str) -> None:
    with pytest.raises(ValueError):
        agreement_free_field(BB, our_number)


@PROPERTY
@given(
    agreement=st.text("0123456789", min_size=7, max_size=7),
    wallet=st.text("0123456789", min_size=2, max_size=2),
    first=st.integers(1, 10**10 - 1),
    second=st.integers(1, 10**10 - 1),
)
def test_bb_free_fields_are_25_digits_and_distinct_for_distinct_our_numbers(
    agreement: str, wallet: str, first: int, second: int
) -> None:
    bank = BankAgreement("001", agreement, wallet, "1234", "1")
    a, b = (agreement_free_field(bank, f"{n:010d}") for n in (first, second))
    assert len(a) == 25 and a.isdigit()
    assert a[6:13] == agreement and a[23:] == wallet and int(a[13:23]) == first
    assert (a == b) == (first == second)


# ---------------------------------------------------------------- PIX txid


def test_the_txid_is_bol_and_the_our_number() -> None:
    assert boleto_txid("0000000001") == "BOL0000000001"
    assert boleto_txid("9" * 22) == "BOL" + "9" * 22


@pytest.mark.parametrize("our_number", ["", "1" * 23, "12a", "-1", "١٢"])
def test_an_our_number_that_cannot_make_a_txid_is_refused_never_cut(our_number: str) -> None:
    with pytest.raises(ValueError):
        boleto_txid(our_number)


# The portal's our numbers: a never-repeated counter, zero-padded to 10 digits (and
# longer once the counter passes 10 digits); the invoice id plays no part.
our_numbers = st.integers(1, 10**22 - 1).map(lambda n: f"{n:010d}")


@PROPERTY
@given(our_numbers, our_numbers)
def test_distinct_boletos_get_distinct_valid_txids(first: str, second: str) -> None:
    a, b = boleto_txid(first), boleto_txid(second)
    assert TXID.fullmatch(a) and len(a) <= TXID_MAX
    assert (a == b) == (first == second)


@PROPERTY
@given(st.lists(our_numbers, min_size=1, max_size=50, unique=True))
def test_a_run_of_boletos_has_no_two_equal_txids(numbers: list[str]) -> None:
    assert len({boleto_txid(n) for n in numbers}) == len(numbers)


@PROPERTY
@given(our_numbers, st.integers(1, 10**18))
def test_the_txid_goes_into_a_valid_pix_code_for_any_invoice_id(
    our_number: str, invoice_id: int
) -> None:
    # Ids of 10+ digits broke the old "FAT<invoice>N<our number>"[:25]; the txid no
    # longer depends on the invoice at all.
    txid = boleto_txid(our_number)
    payload = pix_payload(
        "11222333000181", "Sorriso", "Sao Paulo", None, txid, f"Fatura {invoice_id}"
    )
    assert is_valid_pix_payload(payload)
    assert parse_tlv(parse_tlv(payload)["62"])["05"] == txid

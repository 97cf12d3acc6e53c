"""PIX BR Code payload (Banco Central, Manual de Padrões para Iniciação do Pix)."""

import binascii
import string
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.pix import crc16_ccitt_false, is_valid_pix_payload, parse_tlv, pix_payload

PROPERTY = settings(max_examples=300, database=None, derandomize=True)
EVP_KEY = "123e4567-e12b-12d1-a456-426655440000"
# The static example of the Banco Central manual (random key, no amount, no txid).
MANUAL_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def _oracle_crc(text: str) -> str:
    # binascii.crc_hqx with initial value 0xFFFF is CRC-16/CCITT-FALSE
    return f"{binascii.crc_hqx(text.encode('ascii'), 0xFFFF):04X}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"123456789", 0x29B1),  # the catalogued check value of CRC-16/CCITT-FALSE
        (b"", 0xFFFF),
        (b"A", 0xB915),
        (MANUAL_EXAMPLE[:-4].encode(), 0x1D3D),
    ],
)
def test_crc16_ccitt_false_of_known_inputs(data: bytes, expected: int) -> None:
    assert crc16_ccitt_false(data) == expected


@PROPERTY
@given(st.binary(max_size=300))
def test_crc16_ccitt_false_agrees_with_binascii_crc_hqx(data: bytes) -> None:
    assert crc16_ccitt_false(data) == binascii.crc_hqx(data, 0xFFFF)


def test_payload_reproduces_the_banco_central_manual_example() -> None:
    payload = pix_payload(EVP_KEY, "Fulano de Tal", "BRASILIA", None)
    assert payload == MANUAL_EXAMPLE
    assert is_valid_pix_payload(payload)


def test_payload_fields_in_order_with_amount_message_and_txid() -> None:
    payload = pix_payload(
        "12345678909", "Odonto Plano", "Sao Paulo", Decimal("1234.5"), "FAT202603", "Fatura 03"
    )
    assert payload.startswith(
        "000201"
        "2646" "0014br.gov.bcb.pix" "011112345678909" "0209Fatura 03"
        "52040000" "5303986" "54071234.50" "5802BR" "5912Odonto Plano" "6009Sao Paulo"
        "6213" "0509FAT202603"
        "6304"
    )  # fmt: skip
    fields = parse_tlv(payload)
    assert list(fields) == ["00", "26", "52", "53", "54", "58", "59", "60", "62", "63"]
    assert parse_tlv(fields["26"]) == {
        "00": "br.gov.bcb.pix",
        "01": "12345678909",
        "02": "Fatura 03",
    }
    assert parse_tlv(fields["62"]) == {"05": "FAT202603"}
    assert fields["63"] == _oracle_crc(payload[:-4])


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        (Decimal("0.01"), "54040.01"),
        (Decimal("10"), "540510.00"),
        (Decimal("1030.00"), "54071030.00"),
        (Decimal("9999999999.99"), "54139999999999.99"),
    ],
)
def test_amount_has_a_dot_and_two_decimals(amount: Decimal, field: str) -> None:
    payload = pix_payload(EVP_KEY, "Operadora", "Curitiba", amount)
    assert field in payload
    assert parse_tlv(payload)["54"] == field[4:]


def test_amount_is_omitted_when_none() -> None:
    assert "54" not in parse_tlv(pix_payload(EVP_KEY, "Operadora", "Curitiba", None))


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (Decimal("0"), ValueError),
        (Decimal("-1.00"), ValueError),
        (Decimal("1.001"), ValueError),
        (Decimal("10000000000.00"), ValueError),  # 14 characters
        (Decimal("NaN"), ValueError),
        (1.5, TypeError),
    ],
)
def test_bad_amounts_are_refused(amount: Decimal, error: type[Exception]) -> None:
    with pytest.raises(error):
        pix_payload(EVP_KEY, "Operadora", "Curitiba", amount)


@pytest.mark.parametrize(
    ("name", "city", "expected_name", "expected_city"),
    [
        ("Clínica Odontológica São João", "São Paulo", "Clinica Odontologica Sao", "Sao Paulo"),
        (
            "Operadora Ação Dental Ltda",
            "Florianópolis SC",
            "Operadora Acao Dental Ltd",
            "Florianopolis S",
        ),
        ("  Dente   Feliz  ", " Goiânia ", "Dente Feliz", "Goiania"),
        ("Çüñé™", "Maceió", "CuneTM", "Maceio"),
    ],
)
def test_name_and_city_are_ascii_and_truncated(
    name: str, city: str, expected_name: str, expected_city: str
) -> None:
    payload = pix_payload(EVP_KEY, name, city, None)
    fields = parse_tlv(payload)
    assert (fields["59"], fields["60"]) == (expected_name, expected_city)
    assert len(fields["59"]) <= 25 and len(fields["60"]) <= 15
    assert payload.isascii()
    assert is_valid_pix_payload(payload)


def test_message_is_ascii_too() -> None:
    payload = pix_payload(EVP_KEY, "Operadora", "Recife", None, message="Mensalidade março")
    assert parse_tlv(parse_tlv(payload)["26"])["02"] == "Mensalidade marco"


@pytest.mark.parametrize(
    "txid", ["***", "A", "abcXYZ0123456789", "1" * 25], ids=["none", "one", "mixed", "max"]
)
def test_valid_txids(txid: str) -> None:
    payload = pix_payload(EVP_KEY, "Operadora", "Recife", Decimal("5.00"), txid)
    assert parse_tlv(parse_tlv(payload)["62"]) == {"05": txid}
    assert is_valid_pix_payload(payload)


@pytest.mark.parametrize("txid", ["", "1" * 26, "FAT-2026", "fatura 1", "ação", "**", "****"])
def test_invalid_txids_are_refused(txid: str) -> None:
    with pytest.raises(ValueError):
        pix_payload(EVP_KEY, "Operadora", "Recife", None, txid)


@pytest.mark.parametrize(
    ("key", "name", "city", "message"),
    [
        ("", "Operadora", "Recife", None),
        ("   ", "Operadora", "Recife", None),
        ("x" * 78, "Operadora", "Recife", None),
        ("chave\u00e7", "Operadora", "Recife", None),
        (EVP_KEY, "", "Recife", None),
        (EVP_KEY, "\U0001f9b7", "Recife", None),  # nothing left once reduced to ASCII
        (EVP_KEY, "Operadora", "  ", None),
        (EVP_KEY, "Operadora", "Recife", "m" * 60),  # merchant account over 99 characters
    ],
)
def test_malformed_keys_names_cities_and_messages_are_refused(
    key: str, name: str, city: str, message: str | None
) -> None:
    with pytest.raises(ValueError):
        pix_payload(key, name, city, None, message=message)


def test_a_crc_with_a_leading_zero_keeps_its_four_digits() -> None:
    found = None
    for n in range(1, 10_000):
        payload = pix_payload(EVP_KEY, "Operadora", "Recife", Decimal(n) / 100, f"T{n}")
        if crc16_ccitt_false(payload[:-4].encode()) < 0x1000:
            found = payload
            break
    assert found is not None
    assert found[-8:-4] == "6304"
    assert found[-4] == "0" and len(found[-4:]) == 4
    assert found[-4:] == _oracle_crc(found[:-4])
    assert is_valid_pix_payload(found)
    # what the buggy generators write: the CRC without its leading zero
    assert not is_valid_pix_payload(found[:-8] + "6303" + found[-3:])
    assert not is_valid_pix_payload(found[:-4] + found[-3:])


@PROPERTY
@given(
    cents=st.one_of(st.none(), st.integers(min_value=1, max_value=10**12 - 1)),
    txid=st.one_of(
        st.just("***"),
        st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=25),
    ),
    name=st.text(min_size=1, max_size=40).filter(
        lambda s: any(c.isascii() and c.isalnum() for c in s)
    ),
)
def test_every_payload_validates_and_its_crc_matches_the_binascii_oracle(
    cents: int | None, txid: str, name: str
) -> None:
    amount = None if cents is None else Decimal(cents) / 100
    payload = pix_payload(EVP_KEY, name, "Porto Alegre", amount, txid)
    assert payload.isascii()
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == _oracle_crc(payload[:-4])
    assert is_valid_pix_payload(payload)


def test_a_lower_case_crc_is_still_read() -> None:
    payload = MANUAL_EXAMPLE[:-4] + MANUAL_EXAMPLE[-4:].lower()
    assert is_valid_pix_payload(payload)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "garbage",
        MANUAL_EXAMPLE.replace("Fulano", "Fulana"),  # content changed, CRC kept
        MANUAL_EXAMPLE[:-1],  # truncated CRC
        MANUAL_EXAMPLE[:-8],  # no CRC field
        MANUAL_EXAMPLE[:-4] + "1D3G",  # not hexadecimal
        MANUAL_EXAMPLE + "0000",  # trailing data after the CRC
        "000202" + MANUAL_EXAMPLE[6:],  # wrong format indicator
        MANUAL_EXAMPLE.replace("Fulano de Tal", "Fulano de Tál"),  # not ASCII
    ],
)
def test_broken_payloads_are_invalid(payload: str) -> None:
    assert not is_valid_pix_payload(payload)


def _with_crc(body: str) -> str:
    return body + "6304" + _oracle_crc(body + "6304")


def test_payload_without_the_pix_gui_is_invalid() -> None:
    body = "0002012658" + "0014br.gov.bcb.pox" + MANUAL_EXAMPLE[28:-8]
    assert not is_valid_pix_payload(_with_crc(body))
    assert is_valid_pix_payload(_with_crc(MANUAL_EXAMPLE[:-8]))


def test_payload_with_the_crc_not_last_is_invalid() -> None:
    body = MANUAL_EXAMPLE[:-8]
    crc_first = body[:-20] + "6304" + _oracle_crc(body) + body[-20:]
    assert not is_valid_pix_payload(crc_first)


def test_parse_tlv_reads_top_level_fields() -> None:
    fields = parse_tlv(MANUAL_EXAMPLE)
    assert fields == {
        "00": "01",
        "26": "0014br.gov.bcb.pix0136" + EVP_KEY,
        "52": "0000",
        "53": "986",
        "58": "BR",
        "59": "Fulano de Tal",
        "60": "BRASILIA",
        "62": "0503***",
        "63": "1D3D",
    }


@pytest.mark.parametrize("payload", ["0", "000", "0002", "00020", "0x0201", "00020100020"])
def test_parse_tlv_refuses_malformed_input(payload: str) -> None:
    with pytest.raises(ValueError):
        parse_tlv(payload)

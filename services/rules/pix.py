"""PIX "copia e cola" payload (BR Code) of a static QR code.

Source: Banco Central do Brasil, "Manual de Padrões para Iniciação do Pix"
(BR Code, after EMVCo QRCPS-MPM): a sequence of TLV fields ID (2 digits) +
length (2 digits) + value:

- 00 payload format indicator "01";
- 26 merchant account information: 00 GUI "br.gov.bcb.pix", 01 PIX key,
  02 message to the payer (optional); 99 characters at most in all;
- 52 merchant category code "0000"; 53 currency "986" (real);
- 54 amount with a dot and 2 decimals, e.g. "1234.50" (omitted: payer types it);
- 58 country "BR"; 59 merchant name (25 characters at most); 60 merchant
  city (15 at most);
- 62 additional data with 05 txid ([A-Za-z0-9], 25 at most, or "***" when
  there is none);
- 63 CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0)
  of the whole payload up to and including "6304", written as 4 upper-case
  hexadecimal digits, zero-padded.

Lengths count characters; names, city and message are reduced to ASCII
(accents dropped) so that characters and bytes agree.

Explained, with worked vectors, in docs/domain/boleto-and-pix.md, "PIX BR Code".
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

PIX_GUI = "br.gov.bcb.pix"
NAME_MAX = 25
CITY_MAX = 15
KEY_MAX = 77
TXID_MAX = 25
NO_TXID = "***"
MAX_VALUE_LENGTH = 99
MAX_AMOUNT_LENGTH = 13
_TXID = re.compile(r"[A-Za-z0-9]{1,25}")
_CRC_FIELD = "6304"
_HEX = frozenset("0123456789ABCDEFabcdef")


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    printable = "".join(c for c in plain if c.isascii() and c.isprintable())
    return " ".join(printable.split())


def _field(tag: str, value: str) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        raise ValueError(f"Campo {tag} do PIX com mais de {MAX_VALUE_LENGTH} caracteres.")
    return f"{tag}{len(value):02d}{value}"


def _amount(amount: Decimal) -> str:
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError("O valor do PIX deve ser Decimal.")
    value = Decimal(amount)
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"Valor do PIX inválido: {amount}.")
    text = f"{value:.2f}"
    if len(text) > MAX_AMOUNT_LENGTH:
        raise ValueError(f"Valor do PIX grande demais: {amount}.")
    return text


def _limited(text: str, limit: int, what: str) -> str:
    plain = _ascii(text)[:limit].rstrip()
    if not plain:
        raise ValueError(f"{what} do recebedor do PIX não pode ficar vazio.")
    return plain


BOLETO_TXID_PREFIX = "BOL"


def boleto_txid(our_number: str) -> str:
    """The PIX txid of the boleto whose "nosso número" is ``our_number``.

    The our number is the boleto's own identity (a never-repeated counter), so distinct
    boletos get distinct txids whatever their invoice: "BOL" + the our number's digits,
    letters and digits only, at most 25 (BR Code). Nothing is cut: an our number that
    does not fit is refused, never truncated into another boleto's txid.
    """
    room = TXID_MAX - len(BOLETO_TXID_PREFIX)
    if not (our_number.isascii() and our_number.isdigit()) or len(our_number) > room:
        raise ValueError(f"O nosso número do txid deve ter de 1 a {room} dígitos.")
    return BOLETO_TXID_PREFIX + our_number


def pix_payload(
    key: str,
    name: str,
    city: str,
    amount: Decimal | None,
    txid: str = NO_TXID,
    message: str | None = None,
) -> str:
    """The BR Code ("PIX copia e cola") of a static charge to ``key``."""
    pix_key = key.strip()
    if not pix_key or len(pix_key) > KEY_MAX or not pix_key.isascii() or not pix_key.isprintable():
        raise ValueError("Chave PIX inválida.")
    if txid != NO_TXID and not _TXID.fullmatch(txid):
        raise ValueError("O txid do PIX deve ter de 1 a 25 letras ou dígitos, ou ser '***'.")
    account = _field("00", PIX_GUI) + _field("01", pix_key)
    if message is not None and _ascii(message):
        account += _field("02", _ascii(message))
    payload = (
        _field("00", "01")
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")
        + (_field("54", _amount(amount)) if amount is not None else "")
        + _field("58", "BR")
        + _field("59", _limited(name, NAME_MAX, "Nome"))
        + _field("60", _limited(city, CITY_MAX, "Cidade"))
        + _field("62", _field("05", txid))
        + _CRC_FIELD
    )
    return payload + f"{crc16_ccitt_false(payload.encode('ascii')):04X}"


def parse_tlv(payload: str) -> dict[str, str]:
    """Top-level TLV fields of ``payload``, ID -> value; ValueError when malformed."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(payload):
        header = payload[i : i + 4]
        if len(header) < 4 or not header.isascii() or not header.isdigit():
            raise ValueError(f"Campo TLV malformado na posição {i}.")
        tag, length = header[:2], int(header[2:])
        value = payload[i + 4 : i + 4 + length]
        if len(value) < length:
            raise ValueError(f"Campo {tag} truncado.")
        if tag in fields:
            raise ValueError(f"Campo {tag} repetido.")
        fields[tag] = value
        i += 4 + length
    return fields


def is_valid_pix_payload(payload: str) -> bool:
    """A well-formed BR Code of PIX: TLV parses, format "01" first, PIX GUI, CRC last and right."""
    if not payload.isascii():
        return False
    try:
        fields = parse_tlv(payload)
        accounts = [parse_tlv(fields[tag]) for tag in map(str, range(26, 52)) if tag in fields]
    except ValueError:
        return False
    if not payload.startswith("000201") or list(fields)[-1] != "63":
        return False
    if not any(account.get("00", "").lower() == PIX_GUI for account in accounts):
        return False
    crc = fields["63"]
    if len(crc) != 4 or not set(crc) <= _HEX:
        return False
    return int(crc, 16) == crc16_ccitt_false(payload[:-4].encode("ascii"))

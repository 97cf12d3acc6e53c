"""Brazilian document numbers: check digits, normalisation and display masks.

Sources:
- CPF: Receita Federal, IN RFB 2.172/2024 (Cadastro de Pessoas Físicas); two
  mod-11 check digits, weights 10..2 then 11..2.
- CNPJ: Receita Federal, IN RFB 2.119/2022 as amended by IN RFB 2.229/2024
  (alphanumeric CNPJ from July 2026) and Nota Técnica COCAD/SUARA/RFB
  49/2024: the first 12 characters may be A-Z or 0-9, each worth
  ``ord(c) - 48`` (A=17 ... Z=42); weights 5,4,3,2,9,8,7,6,5,4,3,2 then
  6,5,4,3,2,9,8,7,6,5,4,3,2; the last two are always digits.
- CAEPF: Receita Federal, IN RFB 1.828/2018 (Cadastro de Atividade Econômica
  da Pessoa Física): 9 digits of the owner's CPF + 3-digit sequence + 2 check
  digits = CNPJ-style d1, d2 over the first 12 digits, then
  ``(10*d1 + d2 + 12) mod 100`` zero-padded.
- CNS: Ministério da Saúde, Portaria GM/MS 940/2011 (Sistema Cartão Nacional
  de Saúde) and DATASUS's validation routine: numbers starting with 1 or 2 are
  built from an 11-digit PIS (``PIS + "000" + dv``, or ``PIS + "001" + dv`` when
  the plain digit would be 10); numbers starting with 7, 8 or 9 (provisional)
  have ``sum(digit * (15 - i)) % 11 == 0``; any other first digit is invalid.
- CEP: Correios, 8 digits without check digit, shown 00000-000.
- CPF masking for display: Lei 13.709/2018 (LGPD), data minimisation.

Every document is handled as text (never as a number) and accepted with or
without punctuation. Formatters never raise: a value that does not have the
document's shape is returned unchanged, so a screen can always show it.

Explained, with a worked vector for each document, in docs/domain/documents.md.
"""

from __future__ import annotations

import re
from enum import StrEnum

from services.rules.errors import DomainError

_DIGITS = "0123456789"
_CNPJ_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_WEIGHTS_2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_CNPJ_BASE_RE = re.compile(r"[0-9A-Z]{12}")
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


class DocumentType(StrEnum):
    """Which register identifies a contracting company (SIB, RN 500/2022)."""

    CNPJ = "CNPJ"
    CAEPF = "CAEPF"


# ---------------------------------------------------------------- normalising


_NOT_DIGITS = re.compile(r"[^0-9]+")
_PUNCTUATION_AND_SPACE = re.compile(r"[./\-\s]+")


def only_digits(s: str) -> str:
    """Keep only the ASCII digits 0-9 of ``s``."""
    return _NOT_DIGITS.sub("", s)


def normalize_document(s: str) -> str:
    """Drop the punctuation ``.``, ``/``, ``-`` and all whitespace, and upper-case.

    Only ASCII text is upper-cased: ``"ß".upper()`` is ``"SS"``, which would turn a
    character no document has into two valid CNPJ letters."""
    kept = _PUNCTUATION_AND_SPACE.sub("", s)
    return kept.upper() if kept.isascii() else kept


def _is_digits(s: str, length: int) -> bool:
    return len(s) == length and s.isascii() and s.isdigit()


def _normalized(value: object) -> str:
    return normalize_document(value) if isinstance(value, str) else ""


def _mod11(values: list[int], weights: tuple[int, ...] | range) -> int:
    remainder = sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


# ---------------------------------------------------------------- check digits


def cpf_check_digits(first9: str) -> str:
    """The two check digits of a CPF whose first 9 digits are ``first9``."""
    if not _is_digits(first9, 9):
        raise ValueError("A base do CPF deve ter 9 dígitos.")
    values = [int(ch) for ch in first9]
    d1 = _mod11(values, range(10, 1, -1))
    d2 = _mod11([*values, d1], range(11, 1, -1))
    return f"{d1}{d2}"


def _cnpj_digits(values: list[int]) -> tuple[int, int]:
    d1 = _mod11(values, _CNPJ_WEIGHTS_1)
    d2 = _mod11([*values, d1], _CNPJ_WEIGHTS_2)
    return d1, d2


def cnpj_check_digits(first12: str) -> str:
    """The two check digits of a CNPJ (numeric or alphanumeric) with base ``first12``."""
    base = first12.upper()
    if not _CNPJ_BASE_RE.fullmatch(base):
        raise ValueError("A base do CNPJ deve ter 12 letras (A-Z) ou dígitos.")
    d1, d2 = _cnpj_digits([ord(ch) - 48 for ch in base])
    return f"{d1}{d2}"


def caepf_check_digits(first12: str) -> str:
    """The two check digits of a CAEPF whose first 12 digits are ``first12``."""
    if not _is_digits(first12, 12):
        raise ValueError("A base do CAEPF deve ter 12 dígitos.")
    d1, d2 = _cnpj_digits([int(ch) for ch in first12])
    return f"{(10 * d1 + d2 + 12) % 100:02d}"


def cns_from_pis(pis: str) -> str:
    """The definitive 15-digit CNS that DATASUS builds from an 11-digit PIS (first digit 1/2)."""
    if not _is_digits(pis, 11) or pis[0] not in "12":
        raise ValueError("O PIS de origem do CNS deve ter 11 dígitos e começar por 1 ou 2.")
    total = sum(int(ch) * (15 - i) for i, ch in enumerate(pis))
    check = (11 - total % 11) % 11
    if check == 10:
        # The "001" block adds 1 x weight 2 to the sum, which moves the digit off 10.
        check = (11 - (total + 2) % 11) % 11
        return f"{pis}001{check}"
    return f"{pis}000{check}"


# ---------------------------------------------------------------- validation


def is_valid_cpf(value: str) -> bool:
    """True for an 11-digit CPF with correct check digits; all-equal digits are invalid."""
    v = _normalized(value)
    if not _is_digits(v, 11) or len(set(v)) == 1:
        return False
    return v[9:] == cpf_check_digits(v[:9])


def is_valid_cnpj(value: str) -> bool:
    """True for a numeric or alphanumeric CNPJ with correct check digits (case-insensitive)."""
    v = _normalized(value)
    if not _CNPJ_RE.fullmatch(v) or len(set(v)) == 1:
        return False
    return v[12:] == cnpj_check_digits(v[:12])


def is_valid_caepf(value: str) -> bool:
    """True for a 14-digit CAEPF with correct check digits."""
    v = _normalized(value)
    if not _is_digits(v, 14):
        return False
    return v[12:] == caepf_check_digits(v[:12])


def is_valid_cns(value: str) -> bool:
    """True for a definitive (1/2) or provisional (7/8/9) Cartão Nacional de Saúde number."""
    v = _normalized(value)
    if not _is_digits(v, 15):
        return False
    if v[0] in "12":
        return v == cns_from_pis(v[:11])
    if v[0] in "789":
        return sum(int(ch) * (15 - i) for i, ch in enumerate(v)) % 11 == 0
    return False


def is_valid_company_document(value: str, doc_type: DocumentType | str) -> bool:
    """Validate ``value`` as the contracting company's CNPJ or CAEPF, as the form says."""
    if DocumentType(doc_type) is DocumentType.CNPJ:
        return is_valid_cnpj(value)
    return is_valid_caepf(value)


def is_valid_email(value: str) -> bool:
    """Pragmatic e-mail check (a subset of RFC 5321/5322 that real mailboxes use)."""
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL_RE.fullmatch(value):
        return False
    return len(value.split("@", 1)[0]) <= 64


def is_valid_cep(value: str) -> bool:
    """True for 8 digits (with or without the hyphen) that are not all zeros."""
    v = _normalized(value)
    return _is_digits(v, 8) and v != "00000000"


# ---------------------------------------------------------------- parsing


def parse_cpf(value: str | int, field: str = "cpf") -> str:
    """Return the CPF as 11 digits, or raise ``DomainError`` for ``field``.

    Spreadsheets store CPFs as numbers and lose the leading zeros: an input of
    9 or 10 digits is accepted when left-padding it with zeros to 11 digits
    gives a valid CPF (``"1234567890"`` -> ``"01234567890"`` if valid).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        # 12 digits or more is never a CPF; str() of a huge int would raise ValueError.
        value = str(value) if 0 <= value < 10**11 else ""
    v = _normalized(value)
    if all(ch in _DIGITS for ch in v):
        if len(v) == 11 and is_valid_cpf(v):
            return v
        if len(v) in (9, 10) and is_valid_cpf(v.zfill(11)):
            return v.zfill(11)
    raise DomainError("CPF inválido: confira os 11 dígitos informados.", field)


def parse_company_document(
    value: str, doc_type: DocumentType | str, field: str = "document"
) -> str:
    """Return the CNPJ or CAEPF normalised (14 characters), or raise ``DomainError``."""
    kind = DocumentType(doc_type)
    if is_valid_company_document(value, kind):
        return _normalized(value)
    if kind is DocumentType.CNPJ:
        raise DomainError("CNPJ inválido: confira os 14 caracteres informados.", field)
    raise DomainError("CAEPF inválido: confira os 14 dígitos informados.", field)


def parse_cns(value: str, field: str = "cns") -> str:
    """Return the CNS as 15 digits, or raise ``DomainError`` for ``field``."""
    if is_valid_cns(value):
        return _normalized(value)
    raise DomainError("CNS inválido: confira os 15 dígitos do Cartão Nacional de Saúde.", field)


def parse_cep(value: str, field: str = "cep") -> str:
    """Return the CEP as 8 digits, or raise ``DomainError`` for ``field``."""
    if is_valid_cep(value):
        return _normalized(value)
    raise DomainError("CEP inválido: informe os 8 dígitos.", field)


# ---------------------------------------------------------------- display


def _stored_cpf(value: str) -> str:
    """The CPF's digits; the stored shape (11 ASCII digits, what report lists show per
    row) skips the normalising regex."""
    return value if isinstance(value, str) and _is_digits(value, 11) else _normalized(value)


def format_cpf(value: str) -> str:
    """``52998224725`` -> ``529.982.247-25``."""
    v = _stored_cpf(value)
    if not _is_digits(v, 11):
        return value
    return f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"


def format_cnpj(value: str) -> str:
    """``11222333000181`` -> ``11.222.333/0001-81`` (alphanumeric CNPJs too)."""
    v = _normalized(value)
    if not _CNPJ_RE.fullmatch(v):
        return value
    return f"{v[:2]}.{v[2:5]}.{v[5:8]}/{v[8:12]}-{v[12:]}"


def format_caepf(value: str) -> str:
    """CAEPF mask ``000.000.000/000-00``."""
    v = _normalized(value)
    if not _is_digits(v, 14):
        return value
    return f"{v[:3]}.{v[3:6]}.{v[6:9]}/{v[9:12]}-{v[12:]}"


def format_company_document(value: str, doc_type: DocumentType | str) -> str:
    """Format ``value`` with the CNPJ or CAEPF mask."""
    if DocumentType(doc_type) is DocumentType.CNPJ:
        return format_cnpj(value)
    return format_caepf(value)


def format_cns(value: str) -> str:
    """CNS mask ``000 0000 0000 0000``."""
    v = _normalized(value)
    if not _is_digits(v, 15):
        return value
    return f"{v[:3]} {v[3:7]} {v[7:11]} {v[11:]}"


def format_cep(value: str) -> str:
    """CEP mask ``00000-000``."""
    v = _normalized(value)
    if not _is_digits(v, 8):
        return value
    return f"{v[:5]}-{v[5:]}"


def mask_cpf(value: str) -> str:
    """LGPD display mask showing only the middle six digits: ``***.982.247-**``.

    A value that is not an 11-digit CPF is masked whole, so nothing leaks.
    """
    v = _stored_cpf(value)
    if not _is_digits(v, 11):
        return "***.***.***-**"
    return f"***.{v[3:6]}.{v[6:9]}-**"

"""Beneficiary card numbers.

Source: ANS, RN 389/2015 (transparency of information to beneficiaries) makes
the identification card show the beneficiary's number in the operator; the
layout of that number is the operator's own (unverified, keep configurable).
Layout used here, 16 digits:

    PPPP SSSSSSSSSSS D
    |    |           +-- check digit, modulo 11 over the 15 digits before it
    |    +-------------- sequence, 11 digits zero-padded (from a database sequence)
    +------------------- operator prefix, 4 digits (a setting)

Check digit: weights 2, 3, ..., 9, 2, 3, ... from the rightmost digit, as in
FEBRABAN's boleto general digit; ``11 - (sum mod 11)``, and the results 10
and 11 become 0 (the boleto turns them into 1; 0 is the usual choice for
account-style numbers and keeps the rule "remainder 0 or 1 gives 0").

Explained, with a worked vector, in docs/domain/movements-and-ans.md, "Card numbers".
"""

from __future__ import annotations

from services.rules.errors import DomainError

PREFIX_LENGTH = 4
SEQUENCE_LENGTH = 11
CARD_LENGTH = PREFIX_LENGTH + SEQUENCE_LENGTH + 1
MAX_SEQUENCE = 10**SEQUENCE_LENGTH - 1


def _check_digit(body: str) -> str:
    total = sum(int(ch) * (2 + i % 8) for i, ch in enumerate(reversed(body)))
    result = 11 - total % 11
    return "0" if result >= 10 else str(result)


def card_number(prefix: str, sequence: int) -> str:
    """The 16-digit card number of the ``sequence``-th beneficiary under ``prefix``.

    A prefix shorter than 4 digits is zero-padded on the left.
    """
    prefix = prefix.strip()
    if not prefix.isascii() or not prefix.isdigit() or len(prefix) > PREFIX_LENGTH:
        raise DomainError("O prefixo da carteirinha deve ter até 4 dígitos.", "card_prefix")
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise DomainError(
            "A sequência de carteirinhas está fora do intervalo permitido (11 dígitos).",
            "sequence",
        )
    body = f"{prefix.zfill(PREFIX_LENGTH)}{sequence:0{SEQUENCE_LENGTH}d}"
    return body + _check_digit(body)


def is_valid_card_number(s: str) -> bool:
    """True for 16 digits (spaces, dots and hyphens ignored) with a correct check digit."""
    if not isinstance(s, str):
        return False
    v = "".join(ch for ch in s if ch not in " .-")
    if len(v) != CARD_LENGTH or not v.isascii() or not v.isdigit():
        return False
    return v[-1] == _check_digit(v[:-1])


def format_card_number(s: str) -> str:
    """Groups of four: ``0001 0000 0000 0123``; anything else is returned unchanged."""
    if len(s) == CARD_LENGTH and s.isascii() and s.isdigit():  # as stored: report lists, per row
        return f"{s[:4]} {s[4:8]} {s[8:12]} {s[12:]}"
    v = "".join(ch for ch in s if ch not in " .-")
    if len(v) != CARD_LENGTH or not v.isascii() or not v.isdigit():
        return s
    return " ".join(v[i : i + 4] for i in range(0, CARD_LENGTH, 4))

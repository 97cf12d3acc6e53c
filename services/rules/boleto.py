"""Boleto de pagamento (bank collection slip): barcode, typed line and ITF bars.

Source: FEBRABAN's layout of the bank collection barcode ("código de barras
do boleto de pagamento", the layout every bank's boleto specification
reproduces), covering bank boletos only (not the 48-digit "arrecadação"
bills of utilities and taxes, whose first digit is 8):

- Barcode, 44 digits: bank (3) + currency (1, 9 = real) + general check digit
  (1) + due-date factor (4) + amount in cents (10) + the bank's free field (25).
  General check digit: mod 11 over the other 43 digits with weights 2..9
  cycling from the right; 11 - (sum % 11), and 0, 10 or 11 become 1.
- Typed line ("linha digitável"), 47 digits: field 1 = bank + currency +
  free[0:5] + DV; field 2 = free[5:15] + DV; field 3 = free[15:25] + DV;
  field 4 = the general check digit; field 5 = factor + amount. The field DVs
  are mod 10 with weights 2, 1, 2, ... from the right, summing the digits of
  each product; DV = (10 - sum % 10) % 10.
- Due-date factor: days since 1997-10-07 (1000 = 2000-07-03, 9999 =
  2025-02-21); FEBRABAN restarted it at 1000 on 2025-02-22, and it cycles
  every 9000 days from then on.
- The barcode symbology is Interleaved 2 of 5 (ITF, ISO/IEC 16390): start
  bar-space-bar-space narrow, stop wide bar-narrow space-narrow bar; FEBRABAN
  prints wide elements at 3 times the narrow width.
- Free field: from the operator's agreement with its bank (`BankAgreement`: banco,
  convênio, carteira, agência, conta; operator settings, never the ANS registration).
  Banco do Brasil with a 7-digit convênio: "000000" + convênio (7) + nosso número (10) +
  carteira (2), per BB's boleto specification; other banks: the operator's own layout
  (`simple_free_field`) until their layout is written here.

Explained, with a worked vector, in docs/domain/boleto-and-pix.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from services.rules.errors import FieldErrors

FIRST_FACTOR_DATE = date(2000, 7, 3)  # factor 1000
FACTOR_CYCLE_DAYS = 9000  # factors 1000..9999
BARCODE_LENGTH = 44
TYPED_LINE_LENGTH = 47
FREE_FIELD_LENGTH = 25
MAX_AMOUNT = Decimal("99999999.99")  # 10 digits of cents
AGREEMENT_DIGITS = 8
OUR_NUMBER_DIGITS = 17
_TYPED_LINE_PUNCTUATION = str.maketrans("", "", " .-\t\n")
_ITF_DIGITS = (  # wide (True) / narrow (False) for each digit's 5 elements
    "nnwwn",
    "wnnnw",
    "nwnnw",
    "wwnnn",
    "nnwnw",
    "wnwnn",
    "nwwnn",
    "nnnww",
    "wnnwn",
    "nwnwn",
)


def _is_digits(text: str, length: int | None = None) -> bool:
    return text.isascii() and text.isdigit() and (length is None or len(text) == length)


def due_date_factor(d: date) -> int:
    """FEBRABAN due-date factor of ``d`` (1000..9999, restarted at 1000 on 2025-02-22)."""
    if d < FIRST_FACTOR_DATE:
        raise ValueError(f"Data anterior ao fator de vencimento 1000 (03/07/2000): {d}.")
    # 1000 + days since 2000-07-03, modulo the cycle, is the days since 1997-10-07
    # up to 2025-02-21 (9999) and the restart at 1000 on 2025-02-22.
    return 1000 + (d - FIRST_FACTOR_DATE).days % FACTOR_CYCLE_DAYS


def due_date_from_factor(factor: int, reference: date) -> date:
    """The date with ``factor`` nearest to ``reference`` (the factor repeats every 9000 days)."""
    if not 1000 <= factor <= 9999:
        raise ValueError(f"Fator de vencimento fora de 1000..9999: {factor}.")
    start = max(reference, FIRST_FACTOR_DATE)
    ahead = start + timedelta(days=(factor - due_date_factor(start)) % FACTOR_CYCLE_DAYS)
    behind = ahead - timedelta(days=FACTOR_CYCLE_DAYS)
    if behind >= FIRST_FACTOR_DATE and reference - behind <= ahead - reference:
        return behind
    return ahead


def mod10(digits: str) -> str:
    """Mod-10 check digit of a typed-line field (weights 2, 1, 2, ... from the right)."""
    if not _is_digits(digits):
        raise ValueError("O campo deve conter apenas dígitos.")
    total = 0
    for i, char in enumerate(reversed(digits)):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def barcode_check_digit(digits43: str) -> str:
    """General check digit (mod 11, weights 2..9 from the right; 0, 10 and 11 become 1)."""
    if not _is_digits(digits43, BARCODE_LENGTH - 1):
        raise ValueError("O cálculo do dígito geral exige 43 dígitos.")
    total = sum(int(char) * (2 + i % 8) for i, char in enumerate(reversed(digits43)))
    result = 11 - total % 11
    return "1" if result in (0, 10, 11) else str(result)


def barcode(
    bank: str,
    due_date: date,
    amount: Decimal,
    free_field: str,
    currency: str = "9",
) -> str:
    """The 44-digit barcode of a boleto; ``amount`` in reais with whole cents."""
    if not _is_digits(bank, 3):
        raise ValueError("O código do banco deve ter 3 dígitos.")
    if not _is_digits(currency, 1):
        raise ValueError("O código da moeda deve ter 1 dígito.")
    if not _is_digits(free_field, FREE_FIELD_LENGTH):
        raise ValueError("O campo livre deve ter 25 dígitos.")
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError("O valor do boleto deve ser Decimal.")
    value = Decimal(amount)
    if (
        not value.is_finite()
        or not 0 <= value <= MAX_AMOUNT
        or value != value.quantize(Decimal("0.01"))
    ):
        raise ValueError(f"Valor do boleto inválido: {amount}.")
    cents = f"{int(value * 100):010d}"
    body = f"{bank}{currency}{due_date_factor(due_date):04d}{cents}{free_field}"
    return body[:4] + barcode_check_digit(body) + body[4:]


def is_valid_barcode(code: str) -> bool:
    """44 digits whose general check digit is right."""
    if not _is_digits(code, BARCODE_LENGTH):
        return False
    return code[4] == barcode_check_digit(code[:4] + code[5:])


def typed_line(code: str) -> str:
    """The 47-digit typed line of a valid 44-digit barcode (digits only)."""
    if not is_valid_barcode(code):
        raise ValueError("Código de barras inválido.")
    free = code[19:44]
    field1 = code[0:4] + free[0:5]
    field2 = free[5:15]
    field3 = free[15:25]
    return (
        field1
        + mod10(field1)
        + field2
        + mod10(field2)
        + field3
        + mod10(field3)
        + code[4]
        + code[5:19]
    )


def _typed_digits(line: str) -> str:
    return line.translate(_TYPED_LINE_PUNCTUATION)


def format_typed_line(line: str) -> str:
    """``line`` shown as "00190.00009 01234.567004 00000.321117 2 13140000080400"."""
    digits = _typed_digits(line)
    if not _is_digits(digits, TYPED_LINE_LENGTH):
        raise ValueError("A linha digitável deve ter 47 dígitos.")
    return (
        f"{digits[0:5]}.{digits[5:10]} {digits[10:15]}.{digits[15:21]} "
        f"{digits[21:26]}.{digits[26:32]} {digits[32]} {digits[33:47]}"
    )


def _rebuilt_barcode(digits: str) -> str:
    return digits[0:4] + digits[32] + digits[33:47] + digits[4:9] + digits[10:20] + digits[21:31]


def is_valid_typed_line(line: str) -> bool:
    """47 digits (spaces, dots and hyphens ignored) with right field and general check digits."""
    digits = _typed_digits(line)
    if not _is_digits(digits, TYPED_LINE_LENGTH):
        return False
    fields = ((digits[0:9], digits[9]), (digits[10:20], digits[20]), (digits[21:31], digits[31]))
    if any(mod10(body) != dv for body, dv in fields):
        return False
    return is_valid_barcode(_rebuilt_barcode(digits))


def barcode_from_typed_line(line: str) -> str:
    """The 44-digit barcode behind a valid typed line."""
    if not is_valid_typed_line(line):
        raise ValueError("Linha digitável inválida.")
    return _rebuilt_barcode(_typed_digits(line))


def itf_pattern(code: str, wide: int = 3) -> list[tuple[bool, int]]:
    """Interleaved 2 of 5 elements of ``code``, start and stop included.

    Each element is ``(is_bar, width)`` with width in narrow units (1 or
    ``wide``); elements alternate bar, space, ..., starting and ending with a
    bar, so a PDF can draw them left to right without a barcode library.
    """
    if not _is_digits(code) or not code or len(code) % 2:
        raise ValueError("O ITF exige uma quantidade par de dígitos.")
    if wide < 2:
        raise ValueError("A barra larga deve ter ao menos 2 unidades.")
    elements: list[tuple[bool, int]] = [(True, 1), (False, 1), (True, 1), (False, 1)]
    for i in range(0, len(code), 2):
        bars, spaces = _ITF_DIGITS[int(code[i])], _ITF_DIGITS[int(code[i + 1])]
        for bar, space in zip(bars, spaces, strict=True):
            elements.append((True, wide if bar == "w" else 1))
            elements.append((False, wide if space == "w" else 1))
    elements += [(True, wide), (False, 1), (True, 1)]
    return elements


def simple_free_field(agreement: str, our_number: str) -> str:
    """The operator's own 25-digit free field: agreement (8) + our number (17), zero-padded.

    Not a bank's layout: the operator's own, for banks that let the beneficiary
    fill the free field; a bank with its own layout needs its own function.
    """
    if not _is_digits(agreement) or len(agreement) > AGREEMENT_DIGITS:
        raise ValueError(f"O convênio deve ter até {AGREEMENT_DIGITS} dígitos.")
    if not _is_digits(our_number) or len(our_number) > OUR_NUMBER_DIGITS:
        raise ValueError(f"O nosso número deve ter até {OUR_NUMBER_DIGITS} dígitos.")
    return agreement.zfill(AGREEMENT_DIGITS) + our_number.zfill(OUR_NUMBER_DIGITS)


# ---------------------------------------------------------------- the operator's bank agreement

BANCO_DO_BRASIL = "001"
BB_AGREEMENT_DIGITS = 7  # the agreements Banco do Brasil issues today
BB_OUR_NUMBER_DIGITS = 10  # the sequence after the agreement in BB's 17-digit "nosso número"
BB_WALLET_DIGITS = 2
WALLET_MAX_DIGITS = 3
ACCOUNT_MAX_DIGITS = 12
BRANCH_DIGITS = 4
_AGREEMENT_FIELDS = {
    "bank_code": "banco",
    "bank_agreement": "convênio",
    "bank_wallet": "carteira",
    "bank_branch": "agência",
    "bank_account": "conta",
}


@dataclass(frozen=True)
class BankAgreement:
    """The operator's agreement with its bank, as the boleto needs it.

    ``branch`` is "1234" or "1234-5" and ``account`` "12345-6" (digits, then the
    check digit after a hyphen when the bank has one; "X" allowed as check digit)."""

    bank_code: str
    agreement: str
    wallet: str
    branch: str
    account: str

    @property
    def beneficiary_code(self) -> str:
        """The boleto's "Agência/Código do beneficiário" box: "1234-5 / 12345-6"."""
        return f"{self.branch} / {self.account}"


def _squeezed(text: str | None) -> str:
    return "".join((text or "").split()).replace(".", "").upper()


def _with_check_digit(text: str, digits: range) -> bool:
    body, _, dv = text.partition("-")
    if not _is_digits(body) or len(body) not in digits:
        return False
    return "-" not in text or (len(dv) == 1 and (dv.isdigit() or dv == "X"))


def bank_agreement_missing(values: dict[str, str | None]) -> list[str]:
    """Names (in Portuguese) of the agreement's fields left empty, in form order."""
    return [label for key, label in _AGREEMENT_FIELDS.items() if not _squeezed(values.get(key))]


def bank_agreement_parse(
    *,
    bank_code: str | None,
    bank_agreement: str | None,
    bank_wallet: str | None,
    bank_branch: str | None,
    bank_account: str | None,
) -> BankAgreement:
    """The agreement typed by the account manager, checked and normalised (spaces and
    dots dropped); FieldErrors (keyed by the argument names) with every problem."""
    bank = _squeezed(bank_code)
    agreement = _squeezed(bank_agreement).replace("-", "")
    wallet = _squeezed(bank_wallet).replace("-", "")
    branch = _squeezed(bank_branch)
    account = _squeezed(bank_account)
    errors: dict[str, str] = {}
    if not _is_digits(bank, 3):
        errors["bank_code"] = "Banco: informe o código de 3 dígitos (ex.: 001)."
    bb = bank == BANCO_DO_BRASIL
    if bb and not _is_digits(agreement, BB_AGREEMENT_DIGITS):
        errors["bank_agreement"] = (
            f"Convênio: o Banco do Brasil usa convênio de {BB_AGREEMENT_DIGITS} dígitos."
        )
    elif not bb and (not _is_digits(agreement) or not 1 <= len(agreement) <= AGREEMENT_DIGITS):
        errors["bank_agreement"] = f"Convênio: informe de 1 a {AGREEMENT_DIGITS} dígitos."
    if bb and not _is_digits(wallet, BB_WALLET_DIGITS):
        errors["bank_wallet"] = (
            f"Carteira: o Banco do Brasil usa carteira de {BB_WALLET_DIGITS} dígitos (ex.: 17)."
        )
    elif not bb and (not _is_digits(wallet) or not 1 <= len(wallet) <= WALLET_MAX_DIGITS):
        errors["bank_wallet"] = f"Carteira: informe de 1 a {WALLET_MAX_DIGITS} dígitos."
    if not _with_check_digit(branch, range(BRANCH_DIGITS, BRANCH_DIGITS + 1)):
        errors["bank_branch"] = (
            f"Agência: {BRANCH_DIGITS} dígitos e, se houver, o dígito verificador após o "
            "hífen (ex.: 1234 ou 1234-5)."
        )
    if not _with_check_digit(account, range(1, ACCOUNT_MAX_DIGITS + 1)):
        errors["bank_account"] = (
            f"Conta: até {ACCOUNT_MAX_DIGITS} dígitos e, se houver, o dígito verificador após "
            "o hífen (ex.: 12345-6)."
        )
    if errors:
        raise FieldErrors(errors)
    return BankAgreement(bank, agreement, wallet, branch, account)


def agreement_free_field(bank: BankAgreement, our_number: str) -> str:
    """The 25-digit free field of a boleto of the operator's agreement.

    Banco do Brasil with a 7-digit agreement: BB's layout "000000" + agreement (7) +
    our number (10) + wallet (2), the agreement and our number forming BB's 17-digit
    "nosso número". Any other bank: the operator's own layout (`simple_free_field`).
    """
    if not _is_digits(our_number) or not our_number:
        raise ValueError("O nosso número deve ter apenas dígitos.")
    if bank.bank_code == BANCO_DO_BRASIL:
        if not _is_digits(bank.agreement, BB_AGREEMENT_DIGITS):
            raise ValueError(
                f"O convênio do Banco do Brasil deve ter {BB_AGREEMENT_DIGITS} dígitos."
            )
        if len(our_number) > BB_OUR_NUMBER_DIGITS:
            raise ValueError(f"O nosso número deve ter até {BB_OUR_NUMBER_DIGITS} dígitos.")
        if not _is_digits(bank.wallet, BB_WALLET_DIGITS):
            raise ValueError(f"A carteira do Banco do Brasil deve ter {BB_WALLET_DIGITS} dígitos.")
        return "000000" + bank.agreement + our_number.zfill(BB_OUR_NUMBER_DIGITS) + bank.wallet
    return simple_free_field(bank.agreement, our_number)

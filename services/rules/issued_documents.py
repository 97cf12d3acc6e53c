"""Documents on demand: verification codes and what each document states.

Three documents, each a PDF with a verification code that anyone can check on the
portal's public page "Validar documento":

- **Income-tax statement** ("Demonstrativo para Imposto de Renda"), per holder and
  calendar year: the amounts paid to the operator for the holder and for each dependent
  (name, CPF, relationship). The Receita Federal asks for the amounts *paid* in the
  calendar year (regime de caixa: Lei 9.250/1995, art. 8, II, a, and §2, I, for health
  and dental plans), so an invoice counts in the year of its payment date (`Invoice.paid_on`),
  whatever its billing month. Each person's amount is the net of that person's lines on
  the invoices paid that year (mensalidades, retroactive charges, plan differences,
  credits); fine and interest of a late payment are not a health expense and are left
  out. A credit larger than the year's charges reads as zero, never a negative amount.
- **Declaration of discharge of debts** ("Declaração anual de quitação de débitos",
  Lei 12.007/2009), per company and year: art. 2 takes the invoices by *due date*
  (January to December); art. 2 §2 gives it for the months that were billed; art. 3
  issues it for a year that is over; art. 4 says it replaces the monthly receipts of
  that year *and of earlier years*, so an open invoice of an earlier year blocks it too.
  Cancelled invoices are not debts.
- **Permanence letter** ("Carta de permanência", for portability of waiting periods,
  RN 438/2018): plan, ANS registrations, segment, the coverage periods (start and last
  day covered), the continuous time in the plan, and each waiting period served.
- **Proof of exclusion** ("Comprovante de exclusão", RN 561/2022): what
  services/movements/exclusion_proof.py states, with a code of its own.

Verification codes: 11 random characters and one check character (Luhn mod N) from an
alphabet without the characters people confuse (no 0/O, 1/I/L, no U/V pair), shown in
groups of four ("K7QM-4XRT-9BWE"). 11 characters of 30 give about 54 bits: not
guessable, and the public page also limits attempts. Typed codes are read without
regard to case, spaces, hyphens or dots, and a mistyped character is told apart from an
unknown code by the check character, without a database lookup.

Explained, with a worked example, in docs/domain/documents-on-demand.md.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from services.rules.waiting import stored_periods

# 30 characters: digits 2-9 and letters without I, L, O, U (U is read as V).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 11 random + 1 check character
CODE_GROUP = 4
_SEPARATORS = str.maketrans("", "", " -._/\t\n\r")
ZERO = Decimal("0.00")


class DocumentKind(StrEnum):
    INCOME_TAX = "income_tax"
    DISCHARGE = "discharge"
    PERMANENCE = "permanence"
    EXCLUSION_PROOF = "exclusion_proof"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    DocumentKind.INCOME_TAX: "Demonstrativo para Imposto de Renda",
    DocumentKind.DISCHARGE: "Declaração anual de quitação de débitos",
    DocumentKind.PERMANENCE: "Carta de permanência",
    DocumentKind.EXCLUSION_PROOF: "Comprovante de exclusão",
}


# ---------------------------------------------------------------- codes


def _check_character(body: str) -> str:
    """Luhn mod N over `body` (N = the alphabet's size): the character that makes the
    whole code check. Catches every single wrong character and most swaps of two."""
    n = len(CODE_ALPHABET)
    factor, total = 2, 0
    for ch in reversed(body):
        addend = factor * CODE_ALPHABET.index(ch)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return CODE_ALPHABET[(n - total % n) % n]


def new_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh verification code (12 characters, stored without separators)."""
    body = "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(CODE_LENGTH - 1))
    return body + _check_character(body)


def code_is_valid(code: str) -> bool:
    """Whether `code` (already normalised) has the shape and the check character."""
    return (
        len(code) == CODE_LENGTH
        and all(ch in CODE_ALPHABET for ch in code)
        and _check_character(code[:-1]) == code[-1]
    )


def normalize_code(typed: str | None) -> str:
    """The code as stored: upper case, without spaces, hyphens, dots or slashes."""
    return (typed or "").translate(_SEPARATORS).upper()


def format_code(code: str) -> str:
    """`K7QM4XRT9BWE` -> `K7QM-4XRT-9BWE` (a value of another shape is shown as it is)."""
    if len(code) != CODE_LENGTH:
        return code
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def code_problem(typed: str | None) -> str | None:
    """Why a typed code cannot be a code (in Portuguese), or None when it may be one."""
    code = normalize_code(typed)
    if not code:
        return "Informe o código de verificação impresso no documento."
    if len(code) != CODE_LENGTH:
        return (
            f"O código de verificação tem {CODE_LENGTH} letras e números "
            f"(por exemplo {format_code('K7QM4XRT9BW' + _check_character('K7QM4XRT9BW'))}): "
            f"foram informados {len(code)}."
        )
    wrong = sorted({ch for ch in code if ch not in CODE_ALPHABET})
    if wrong:
        return (
            f"O código não tem {', '.join(wrong)}: ele usa só os números 2 a 9 e letras "
            "sem I, L, O e U. Confira o que foi digitado."
        )
    if not code_is_valid(code):
        return "Este código não confere (um caractere parece trocado). Confira o que foi digitado."
    return None


# ---------------------------------------------------------------- masks


def mask_name(name: str) -> str:
    """The first name and the initials of the others: "Ana Beatriz de Souza" -> "Ana B. S."
    (for the public page; connecting words are left out)."""
    parts = [p for p in (name or "").split() if p]
    if not parts:
        return ""
    rest = [p for p in parts[1:] if p.lower() not in ("da", "de", "do", "das", "dos", "e")]
    return " ".join([parts[0], *(f"{p[0].upper()}." for p in rest)])


# ---------------------------------------------------------------- income tax


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    cpf: str | None
    relationship_code: int  # 1 holder (services.rules.eligibility.Relationship)


@dataclass(frozen=True)
class PaidLine:
    """One invoice line of an invoice paid in the calendar year."""

    beneficiary_id: int
    amount: Decimal


@dataclass(frozen=True)
class PersonAmount:
    person: Person
    amount: Decimal


@dataclass(frozen=True)
class IncomeTaxFigures:
    year: int
    holder: PersonAmount
    dependents: list[PersonAmount]  # with an amount in the year, in the order given

    @property
    def total(self) -> Decimal:
        return self.holder.amount + sum((d.amount for d in self.dependents), ZERO)


def income_tax_figures(
    year: int, holder: Person, dependents: Sequence[Person], paid: Iterable[PaidLine]
) -> IncomeTaxFigures:
    """The amounts paid in `year` for the holder and each dependent: the net of each
    person's lines of the invoices paid that year (`paid`), never below zero. Dependents
    with nothing paid that year are left out; the holder is always there."""
    net: dict[int, Decimal] = {}
    for line in paid:
        net[line.beneficiary_id] = net.get(line.beneficiary_id, ZERO) + line.amount

    def amount(person: Person) -> Decimal:
        return max(net.get(person.id, ZERO), ZERO).quantize(Decimal("0.01"))

    rows = [PersonAmount(d, amount(d)) for d in dependents]
    return IncomeTaxFigures(
        year, PersonAmount(holder, amount(holder)), [r for r in rows if r.amount > 0]
    )


# ---------------------------------------------------------------- discharge


@dataclass(frozen=True)
class InvoiceFact:
    id: int
    billing_month: date
    due_date: date
    amount: Decimal
    status: str  # open, paid, cancelled (as stored)
    paid_on: date | None


@dataclass(frozen=True)
class DischargeCheck:
    year: int
    invoices: list[InvoiceFact]  # the year's invoices (by due date), not cancelled
    open_invoices: list[InvoiceFact]  # unpaid invoices due in the year or before
    problem: str | None  # why it cannot be issued (None: it can)

    @property
    def eligible(self) -> bool:
        return self.problem is None

    @property
    def total_paid(self) -> Decimal:
        return sum((i.amount for i in self.invoices if i.status == "paid"), ZERO)


def discharge_check(year: int, invoices: Iterable[InvoiceFact], today: date) -> DischargeCheck:
    """Whether the declaration of `year` may be issued on `today` (Lei 12.007/2009):
    the year is over, it had invoices (due in it), and every invoice due in it or in an
    earlier year is paid. Otherwise `problem` says why and `open_invoices` lists them."""
    facts = sorted(invoices, key=lambda i: (i.due_date, i.id))
    of_year = [i for i in facts if i.due_date.year == year and i.status != "cancelled"]
    unpaid = [i for i in facts if i.due_date.year <= year and i.status == "open"]
    problem: str | None = None
    if year >= today.year:
        problem = (
            f"A declaração de quitação de {year} só pode ser emitida depois que o ano "
            f"terminar (Lei 12.007/2009, art. 3º): a partir de 01/01/{year + 1}."
        )
    elif unpaid:
        problem = (
            f"Há {len(unpaid)} fatura(s) em aberto com vencimento até 31/12/{year}: a "
            "declaração só é emitida quando todas estão pagas (Lei 12.007/2009, art. 2º)."
        )
    elif not of_year:
        problem = f"Não há faturas com vencimento em {year}: não há débitos a declarar quitados."
    return DischargeCheck(year, of_year, unpaid, problem)


# ---------------------------------------------------------------- permanence


@dataclass(frozen=True)
class CoverageFact:
    plan_name: str
    plan_ans: str
    segment: str
    start: date
    end: date | None  # first day not covered (None: open)
    kind: str = "regular"  # or "stay" (arts. 30/31)

    @property
    def last_day(self) -> date | None:
        return None if self.end is None else self.end - timedelta(days=1)


@dataclass(frozen=True)
class WaitingRow:
    group: str
    last_day: date | None  # last day of waiting (None: no waiting period)
    status: str  # "Isenta", "Cumprida", "Em curso", "Não cumprida"

    @property
    def text(self) -> str:
        if self.last_day is None:
            return self.status
        if self.status == "Cumprida":
            return f"Cumprida em {self.last_day:%d/%m/%Y}"
        if self.status == "Em curso":
            return f"Em curso até {self.last_day:%d/%m/%Y}"
        return f"Não cumprida (terminaria em {self.last_day:%d/%m/%Y})"


@dataclass(frozen=True)
class PermanenceFacts:
    periods: list[CoverageFact]  # oldest first
    stretch_start: date  # start of the continuous coverage that reaches the last period
    last_day: date | None  # last covered day (None: covered, no end known)
    ended: bool  # the last day is already past on the reference date
    months: int  # whole months of continuous coverage up to the reference date
    waiting: list[WaitingRow] | None  # None: never computed (older rows)

    @property
    def current(self) -> CoverageFact:
        return self.periods[-1]


def whole_months(start: date, end: date) -> int:
    """Whole months from `start` to `end` (the day after the last covered day)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def months_text(months: int) -> str:
    years, rest = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} ano" + ("s" if years > 1 else ""))
    if rest or not years:
        parts.append(f"{rest} " + ("mês" if rest == 1 else "meses"))
    return " e ".join(parts)


def waiting_rows(
    stored: Mapping[str, object] | None, on: date, last_covered: date | None
) -> list[WaitingRow] | None:
    """Each group's waiting period as served on `on`: exempt, served (its last day of
    waiting is before `on` and within the coverage), running, or not served (coverage
    ended before its last day)."""
    periods = stored_periods(stored)
    if periods is None:
        return None
    rows = []
    for group, day in periods.items():
        if day is None:
            status = "Isenta"
        elif last_covered is not None and last_covered < day and last_covered < on:
            status = "Não cumprida"
        elif day < on:
            status = "Cumprida"
        else:
            status = "Em curso"
        rows.append(WaitingRow(group, day, status))
    return rows


def permanence_facts(
    periods: Sequence[CoverageFact], waiting: Mapping[str, object] | None, on: date
) -> PermanenceFacts | None:
    """What the permanence letter states on `on`, or None without any coverage period.
    Periods that touch (one ends where the next starts: a plan change, a transfer, a
    stay) make one continuous coverage; a gap starts a new one."""
    ordered = sorted(periods, key=lambda p: p.start)
    ordered = [p for p in ordered if p.start <= on] or ordered[:1]
    if not ordered:
        return None
    stretch = ordered[0].start
    for previous, period in zip(ordered, ordered[1:], strict=False):
        if previous.end is not None and period.start > previous.end:
            stretch = period.start
    last = ordered[-1]
    last_day = last.last_day
    until = on + timedelta(days=1) if last.end is None or last.end > on else last.end
    return PermanenceFacts(
        periods=list(ordered),
        stretch_start=stretch,
        last_day=last_day,
        ended=last_day is not None and last_day < on,
        months=whole_months(stretch, until),
        waiting=waiting_rows(waiting, on, last_day),
    )

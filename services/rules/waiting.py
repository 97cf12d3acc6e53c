"""Waiting periods ("carência") of a beneficiary, computed at inclusion.

Sources (explained, with worked vectors, in docs/domain/waiting-periods.md):
- Legal maxima, Lei 9.656/1998 art. 12, V: 24 hours for urgency and emergency, 300
  days for births at term, 180 days for everything else. This is a dental product,
  so "parto" is not one of its procedure groups; its maximum is kept for completeness.
- The periods themselves are contractual: `Company.waiting_periods` holds the
  contract's days per procedure group; None means `DEFAULT_WAITING_DAYS` (the
  defaults of the plan's general conditions: urgency 24 h, the rest up to 180 days).
- Exemption, RN 195/2009 art. 6 (consolidated into RN 557/2022): in a collective
  business plan with 30 or more participants no waiting period may be required when
  the beneficiary asks to join within 30 days of the contract's start or of their
  own link to the company (hiring). A dependent joins with the holder, so the holder's
  admission date is the link read for a dependent.
- Newborns and adoptees: a child included within 30 days of birth (or adoption) is
  exempt (Lei 9.656 art. 12, III, b, written for plans with obstetric care; the
  product's rules extend it to this dental plan). Read here as: relationship "filho(a)"
  and request date at most 30 days after the birth date, whatever the number of
  participants. The register has no adoption date, so an adoptee is exempt only
  within 30 days of birth (an adoption later in life is not seen).

Unverified (kept as parameters, not constants buried in the rule):
- When the 30 participants are counted: the caller passes `participants`. The
  movement engine counts the company's active beneficiaries at the request, the new
  one and earlier lines of the same file included (services/movements/engine.py).
- `min_participants` (30) and the windows (30 days) are parameters with the legal
  values as defaults.

Reading of the dates: "requested within 30 days of D" is request date <= D + 30 days
(a request before D, e.g. an admission next week, is within). A period of N days
counts from the first covered day (the effective date): its last day of waiting is
effective + N - 1; 24 h is 1 day (covered from the next day); 0 days is no waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from services.rules.errors import FieldErrors

URGENCY = "Urgência"
BIRTH = "Parto"
# The dental procedure groups of the project (Plan.coverage_groups and
# UtilizationEvent.procedure_group), in the order they are shown.
WAITING_GROUPS: tuple[str, ...] = (
    URGENCY,
    "Diagnóstico",
    "Prevenção",
    "Radiologia",
    "Dentística",
    "Periodontia",
    "Endodontia",
    "Cirurgia",
    "Prótese",
    "Ortodontia",
)
# Legal maxima in days (Lei 9.656/1998 art. 12, V).
URGENCY_MAX_DAYS = 1  # 24 hours
BIRTH_MAX_DAYS = 300
OTHER_MAX_DAYS = 180
# Contract defaults (None in Company.waiting_periods), within the legal maxima.
DEFAULT_WAITING_DAYS: Mapping[str, int] = {
    URGENCY: 1,
    "Diagnóstico": 30,
    "Prevenção": 30,
    "Radiologia": 30,
    "Dentística": 90,
    "Periodontia": 90,
    "Endodontia": 90,
    "Cirurgia": 90,
    "Prótese": 180,
    "Ortodontia": 180,
}
MIN_PARTICIPANTS = 30  # RN 195 art. 6
EXEMPTION_WINDOW_DAYS = 30  # RN 195 art. 6
NEWBORN_WINDOW_DAYS = 30  # Lei 9.656 art. 12, III, b
CHILD_RELATIONSHIP = 4  # ANS SIB code of filho(a) (services.rules.eligibility)

REASON_ADMISSION = "Isento: inclusão em até 30 dias da admissão (RN 195, art. 6)"
REASON_HOLDER_ADMISSION = "Isento: inclusão em até 30 dias da admissão do titular (RN 195, art. 6)"
REASON_CONTRACT = "Isento: inclusão em até 30 dias do início do contrato (RN 195, art. 6)"
REASON_NEWBORN = (
    "Isento: recém-nascido ou adotado incluído em até 30 dias do nascimento "
    "(Lei 9.656, art. 12, III, b)"
)


def legal_max_days(group: str) -> int:
    """The longest waiting period the law allows for `group`."""
    if group == URGENCY:
        return URGENCY_MAX_DAYS
    if group == BIRTH:
        return BIRTH_MAX_DAYS
    return OTHER_MAX_DAYS


def clean_waiting_days(values: Mapping[str, object]) -> dict[str, int]:
    """The contract's periods as typed (group -> days), checked: known groups only, whole
    days from 0 to the legal maximum. Refusals per group (field = group name)."""
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for group, raw in values.items():
        if group not in WAITING_GROUPS:
            errors[str(group)] = f"Grupo de procedimentos desconhecido: {group}."
            continue
        try:
            if isinstance(raw, bool) or raw is None or str(raw).strip() == "":
                raise ValueError
            days = int(str(raw).strip())
        except ValueError:
            errors[group] = f"{group}: informe o número de dias (inteiro, 0 se não houver)."
            continue
        top = legal_max_days(group)
        if days < 0:
            errors[group] = f"{group}: o prazo não pode ser negativo."
        elif days > top:
            limit = "24 horas (1 dia)" if group == URGENCY else f"{top} dias"
            errors[group] = f"{group}: o prazo máximo legal é {limit} (Lei 9.656, art. 12, V)."
        else:
            clean[group] = days
    if errors:
        raise FieldErrors(errors)
    return clean


def contract_waiting_days(configured: Mapping[str, object] | None) -> dict[str, int]:
    """The contract's periods: its own setting, or the defaults when it has none."""
    if configured is None:
        return dict(DEFAULT_WAITING_DAYS)
    return clean_waiting_days(configured)


@dataclass(frozen=True)
class WaitingResult:
    """Last day of waiting per group (None: no waiting) and why, in Portuguese."""

    periods: dict[str, date | None]
    reason: str

    def as_json(self) -> dict[str, str | None]:
        """What `Beneficiary.waiting_periods` stores: {group: "YYYY-MM-DD" or null}."""
        return {g: d.isoformat() if d else None for g, d in self.periods.items()}


def _within(requested: date, anchor: date | None, window: int) -> bool:
    return anchor is not None and requested <= anchor + timedelta(days=window)


def exemption_reason(
    *,
    requested: date,
    participants: int,
    contract_start: date,
    admission_date: date | None,
    relationship: int,
    birth_date: date | None,
    holder_admission: bool = False,
    min_participants: int = MIN_PARTICIPANTS,
    window_days: int = EXEMPTION_WINDOW_DAYS,
) -> str | None:
    """Why this inclusion has no waiting period, or None when it has the contract's.

    `admission_date` is the person's hiring date, or for a dependent its holder's
    (then `holder_admission` is True and the reason says so)."""
    if (
        relationship == CHILD_RELATIONSHIP
        and birth_date is not None
        and birth_date <= requested <= birth_date + timedelta(days=NEWBORN_WINDOW_DAYS)
    ):
        return REASON_NEWBORN
    if participants >= min_participants:
        if _within(requested, admission_date, window_days):
            return REASON_HOLDER_ADMISSION if holder_admission else REASON_ADMISSION
        if _within(requested, contract_start, window_days):
            return REASON_CONTRACT
    return None


def _not_exempt_reason(
    *,
    requested: date,
    participants: int,
    admission_date: date | None,
    holder_admission: bool,
    min_participants: int,
) -> str:
    if participants < min_participants:
        return (
            f"Carência do contrato: o contrato tem {participants} participantes, menos de "
            f"{min_participants} (RN 195, art. 6)"
        )
    admission = "admissão do titular" if holder_admission else "admissão"
    if admission_date is None:
        return (
            "Carência do contrato: inclusão solicitada mais de 30 dias após o início do "
            f"contrato, sem data de {admission} (RN 195, art. 6)"
        )
    return (
        f"Carência do contrato: inclusão solicitada mais de 30 dias após a {admission} "
        f"({admission_date:%d/%m/%Y}) e o início do contrato (RN 195, art. 6)"
    )


def waiting_periods(
    *,
    contract_days: Mapping[str, object] | None,
    effective: date,
    requested: date,
    participants: int,
    contract_start: date,
    admission_date: date | None,
    relationship: int,
    birth_date: date | None = None,
    holder_admission: bool = False,
    min_participants: int = MIN_PARTICIPANTS,
) -> WaitingResult:
    """The waiting periods of one inclusion: per group of the contract, the last day of
    waiting (effective + days - 1), or None when exempt or the group has 0 days.

    `requested` is the day the inclusion was asked for (not its effective date);
    `participants` the contract's number of participants (when it is counted is the
    caller's choice: unverified, see the module text)."""
    days = contract_waiting_days(contract_days)
    reason = exemption_reason(
        requested=requested,
        participants=participants,
        contract_start=contract_start,
        admission_date=admission_date,
        relationship=relationship,
        birth_date=birth_date,
        holder_admission=holder_admission,
        min_participants=min_participants,
    )
    if reason is not None:
        return WaitingResult({g: None for g in days}, reason)
    periods = {g: effective + timedelta(days=n - 1) if n > 0 else None for g, n in days.items()}
    return WaitingResult(
        periods,
        _not_exempt_reason(
            requested=requested,
            participants=participants,
            admission_date=admission_date,
            holder_admission=holder_admission,
            min_participants=min_participants,
        ),
    )


def stored_periods(stored: Mapping[str, object] | None) -> dict[str, date | None] | None:
    """`Beneficiary.waiting_periods` read back (None: not computed, an older row). Groups
    in `WAITING_GROUPS` order first; a value that is not an ISO date reads as None."""
    if stored is None:
        return None
    order = {g: i for i, g in enumerate(WAITING_GROUPS)}
    out: dict[str, date | None] = {}
    for group in sorted(stored, key=lambda g: (order.get(g, len(order)), g)):
        value = stored[group]
        try:
            out[group] = date.fromisoformat(str(value)) if value else None
        except ValueError:
            out[group] = None
    return out


def waiting_summary(stored: Mapping[str, object] | None, *, on: date | None = None) -> str:
    """One line for cards, tables and files: "Isento", "não calculada", or the groups
    still waiting on `on` (all groups with a waiting period when `on` is None), those
    ending on the same day together: "Urgência até 01/12/2026; Prótese, Ortodontia até
    29/05/2027"."""
    periods = stored_periods(stored)
    if periods is None:
        return "não calculada"
    by_day: dict[date, list[str]] = {}
    for group, day in periods.items():
        if day is not None and (on is None or day >= on):
            by_day.setdefault(day, []).append(group)
    if not by_day:
        if all(d is None for d in periods.values()):
            return "Isento"
        return "Carência cumprida"
    return "; ".join(f"{', '.join(by_day[d])} até {d:%d/%m/%Y}" for d in sorted(by_day))

"""Notices of the bell ("Avisos"): which are due on a given day, who gets them, and the key
that makes each one happen once.

Sources and the rule behind each kind:
- cut-off ("data de corte", services.rules.retroactive.cutoff_date): movements received
  up to the cut-off day land on the next month's invoice, later ones on the invoice after
  it. The notice is due from 3 business days before the cut-off (business days of
  services.rules.calendar: national holidays, Lei 662/1949 and the others it cites) up to
  the cut-off day itself, once per cut-off.
- invoice overdue: an open invoice is overdue once the last day it could be paid without
  fine has passed: its due date, or, when the due date is not a business day, the next
  business day (Lei 7.089/1983, as services.rules.money.overdue_update charges it).
- exclusion scheduled: a scheduled exclusion (RN 561/2022: never retroactive, so it may
  be dated ahead) whose date is within the next 7 days, today included, once per request
  (protocol), so HR can still cancel it.
- dependents ageing out (services.rules.ageing, RN 557/2022): a dependent whose
  eligibility ends within the next 60 days (AGEING_NOTICE_DAYS, the ageing report's
  window), once per dependent and end date.
- batch finished: an event, sent when a batch's application ends.

Who receives them: the company's own users (never the account managers, who serve many
companies) holding one of the kind's permissions: finance for invoices, movements or
finance for the cut-off (movements sent before it, and the invoice it closes), movements
for exclusions, ageing dependents and batches. A batch's notice goes to the user who sent
the file only (an account manager too, when it was one).

Explained in docs/domain/movements-and-ans.md (scheduled movements, ageing) and
docs/domain/money-and-billing.md (cut-off, due dates).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.rules.ageing import AGEING_NOTICE_DAYS
from services.rules.billing import add_months
from services.rules.calendar import is_business_day, next_business_day
from services.rules.retroactive import cutoff_date

CUTOFF_NOTICE_BUSINESS_DAYS = 3
EXCLUSION_NOTICE_DAYS = 7
DEPENDENT_NOTICE_DAYS = AGEING_NOTICE_DAYS

# Permission values (services.actors.Permission) as plain strings: rules import nothing
# of the project's other layers.
MOVEMENTS = "movements"
FINANCE = "finance"


class NoticeKind(StrEnum):
    CUTOFF = "cutoff"
    INVOICE_OVERDUE = "invoice_overdue"
    EXCLUSION_SCHEDULED = "exclusion_scheduled"
    DEPENDENT_AGEING = "dependent_ageing"
    BATCH_FINISHED = "batch_finished"


NOTICE_LABELS: dict[NoticeKind, str] = {
    NoticeKind.CUTOFF: "Data de corte",
    NoticeKind.INVOICE_OVERDUE: "Fatura vencida",
    NoticeKind.EXCLUSION_SCHEDULED: "Exclusão agendada",
    NoticeKind.DEPENDENT_AGEING: "Perda de elegibilidade",
    NoticeKind.BATCH_FINISHED: "Lote concluído",
}

# The permissions that make a company user a recipient, in order of preference (the first
# one the user holds is recorded as the notice's audience).
AUDIENCE: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.CUTOFF: (MOVEMENTS, FINANCE),
    NoticeKind.INVOICE_OVERDUE: (FINANCE,),
    NoticeKind.EXCLUSION_SCHEDULED: (MOVEMENTS,),
    NoticeKind.DEPENDENT_AGEING: (MOVEMENTS,),
    NoticeKind.BATCH_FINISHED: (MOVEMENTS,),
}


def audience_of(kind: NoticeKind, permissions: Collection[str]) -> str | None:
    """The permission through which a user with `permissions` gets a `kind` notice, or
    None when the user gets none."""
    for permission in AUDIENCE[kind]:
        if permission in permissions:
            return permission
    return None


def business_days_until(today: date, day: date, holidays: Collection[date] | None = None) -> int:
    """Business days after ``today`` up to ``day`` included (0 when ``day`` <= today)."""
    count = 0
    current = today
    while current < day:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            count += 1
    return count


@dataclass(frozen=True)
class CutoffDue:
    cutoff: date  # the last day of receipt for `billing_month`
    billing_month: date  # the invoice movements received by the cut-off land on
    business_days_left: int


def next_cutoff(today: date, cutoff_day: int) -> date:
    """The first cut-off on or after ``today``: this month's, or next month's once passed."""
    this = cutoff_date(today.year, today.month, cutoff_day)
    if this >= today:
        return this
    following = add_months(today.replace(day=1), 1)
    return cutoff_date(following.year, following.month, cutoff_day)


def cutoff_notice(
    today: date, cutoff_day: int, holidays: Collection[date] | None = None
) -> CutoffDue | None:
    """The cut-off notice due today, if any: from 3 business days before the cut-off up
    to the cut-off day itself."""
    cutoff = next_cutoff(today, cutoff_day)
    left = business_days_until(today, cutoff, holidays)
    if left > CUTOFF_NOTICE_BUSINESS_DAYS:
        return None
    return CutoffDue(cutoff, add_months(cutoff.replace(day=1), 1), left)


def last_day_without_fine(due_date: date, holidays: Collection[date] | None = None) -> date:
    """The last day an invoice due on ``due_date`` is paid without fine (Lei 7.089/1983)."""
    if is_business_day(due_date, holidays):
        return due_date
    return next_business_day(due_date, holidays)


def invoice_overdue(
    status: str, due_date: date, today: date, holidays: Collection[date] | None = None
) -> bool:
    """An open invoice whose last day without fine has passed."""
    return status == "open" and today > last_day_without_fine(due_date, holidays)


def exclusion_window(today: date) -> tuple[date, date]:
    """The dates of the scheduled exclusions notified today (both included)."""
    return today, today + timedelta(days=EXCLUSION_NOTICE_DAYS)


def exclusion_due(effective_date: date, today: date) -> bool:
    start, end = exclusion_window(today)
    return start <= effective_date <= end


def ageing_due(eligibility_end: date | None, today: date) -> bool:
    """A dependent whose eligibility ends within the next 60 days (today included)."""
    if eligibility_end is None:
        return False
    return today <= eligibility_end <= today + timedelta(days=DEPENDENT_NOTICE_DAYS)


def dedupe_key(kind: NoticeKind, company_id: int, subject: int | str, day: date | None) -> str:
    """The event's name: the same event is never notified twice to one user (a unique
    key per user). ``subject`` is the invoice, protocol, beneficiary or batch id (the
    company's own id for the cut-off); ``day`` the date the notice is about, when one
    event may come back on another date (a new cut-off, a new eligibility end)."""
    parts = [kind.value, str(company_id), str(subject)]
    if day is not None:
        parts.append(day.isoformat())
    return ":".join(parts)

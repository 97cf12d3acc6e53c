"""The monthly billing at the cut-off, as a daily periodic job (opt-in:
PORTAL_BILLING_AT_CUTOFF=true; off by default, so the demo's "Faturamento mensal" stays
the account manager's to run).

Each company's invoice of month X can be issued once the cut-off of month X-1 has passed
(movements received up to the cut-off land on the next month's invoice:
services/rules/retroactive.py). Every day the job issues, for the companies whose month
is due, the invoices not issued yet; `billing_run` skips a company already invoiced for
the month, so a missed day (worker down) is caught up the next and a rerun issues
nothing twice. It runs as the operator itself, like `portal-billing run`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import select

from data.models import Company
from data.uow import UnitOfWork
from services.actors import operator_actor
from services.billing.run import billing_run
from services.jobs.queue import JobQueue
from services.numbering import local_date
from services.rules.billing import add_months
from services.rules.retroactive import cutoff_date

log = logging.getLogger(__name__)


def due_billing_month(today: date, cutoff_day: int) -> date:
    """The newest month whose invoice may be issued today: next month once this month's
    cut-off has passed, else this month (last month's cut-off passed with last month)."""
    first = today.replace(day=1)
    if today > cutoff_date(today.year, today.month, cutoff_day):
        return add_months(first, 1)
    return first


def bill_at_cutoff_job(jobs: JobQueue, now: datetime | None = None) -> dict[date, int]:
    """Issue the due invoices not issued yet; invoices issued per billing month."""
    if not jobs.bill_at_cutoff:
        return {}
    now = now or datetime.now(UTC)
    today = local_date(now)
    factory = jobs.session_factory()
    with factory() as session:
        companies = session.execute(
            select(Company.id, Company.cutoff_day).where(Company.status == "active")
        ).all()
    by_month: dict[date, list[int]] = defaultdict(list)
    for company_id, cutoff_day in companies:
        by_month[due_billing_month(today, cutoff_day)].append(company_id)
    operator = operator_actor("portal-worker", frozenset(i for i, _ in companies))
    issued: dict[date, int] = {}
    for month, ids in sorted(by_month.items()):
        result = billing_run(
            uow=UnitOfWork(factory), actor=operator, billing_month=month, company_ids=ids, now=now
        )
        issued[month] = len(result.billed)
        log.info(
            "billing %s: %s invoice(s) issued, %s company(ies) already invoiced or skipped",
            f"{month:%Y-%m}",
            len(result.billed),
            len(result.skipped),
        )
    return issued

"""When each notice is due (services.rules.notices): the cut-off in 3 business days
across weekends and national holidays, overdue invoices with the Lei 7.089/1983 grace,
the scheduled exclusions' 7 days, the ageing dependents' 60 days, who gets them and the
event keys."""

from __future__ import annotations

from datetime import date

import pytest

from services.actors import Permission
from services.rules import notices as rules
from services.rules.notices import NoticeKind


@pytest.mark.parametrize(
    ("today", "cutoff_day", "expected"),
    [
        # Friday 20/11/2026 is a holiday (Consciência Negra): the cut-off on Monday
        # 23/11 is 3 business days away on Tuesday 17/11 (Wed, Thu, Mon).
        (date(2026, 11, 16), 23, None),  # Mon: Tue, Wed, Thu, Mon = 4
        (date(2026, 11, 17), 23, (date(2026, 11, 23), 3)),
        (date(2026, 11, 19), 23, (date(2026, 11, 23), 1)),  # Fri holiday, weekend
        (date(2026, 11, 21), 23, (date(2026, 11, 23), 1)),  # a Saturday
        (date(2026, 11, 23), 23, (date(2026, 11, 23), 0)),  # the day itself
        (date(2026, 11, 24), 23, None),  # passed: December's is far away
        # A cut-off on a Sunday: Wed, Thu, Fri are its last business days.
        (date(2026, 12, 15), 20, (date(2026, 12, 20), 3)),  # Tue 15: Wed, Thu, Fri
        (date(2026, 12, 14), 20, None),
        # Next month's cut-off, across the year and Christmas/New Year's Day.
        (date(2026, 12, 29), 4, (date(2027, 1, 4), 3)),  # Wed 30, Thu 31, (1st), Mon 4
        (date(2026, 12, 28), 4, None),
        # Day 31 in a 30-day month is its last day.
        (date(2026, 11, 26), 31, (date(2026, 11, 30), 2)),
        # Carnival (16-17/02/2026) is no business day.
        (date(2026, 2, 12), 19, (date(2026, 2, 19), 3)),  # Thu 12: Fri 13, Wed 18, Thu 19
        (date(2026, 2, 11), 19, None),
    ],
)
def test_the_cut_off_notice_is_due_from_3_business_days_before_it(today, cutoff_day, expected):
    due = rules.cutoff_notice(today, cutoff_day)
    if expected is None:
        assert due is None
    else:
        assert due is not None
        assert (due.cutoff, due.business_days_left) == expected
        assert due.billing_month == date(
            due.cutoff.year + due.cutoff.month // 12, due.cutoff.month % 12 + 1, 1
        )


def test_business_days_until_skips_weekends_and_the_given_holidays():
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)
    assert rules.business_days_until(friday, monday) == 1
    assert rules.business_days_until(monday, friday) == 0
    assert rules.business_days_until(friday, monday, holidays={monday}) == 0
    assert rules.business_days_until(friday, date(2026, 12, 4)) == 5


@pytest.mark.parametrize(
    ("status", "due", "today", "overdue"),
    [
        ("open", date(2026, 11, 10), date(2026, 11, 10), False),  # due today
        ("open", date(2026, 11, 10), date(2026, 11, 11), True),
        ("paid", date(2026, 11, 10), date(2026, 12, 11), False),
        ("cancelled", date(2026, 11, 10), date(2026, 12, 11), False),
        # Due on Saturday 14/11: paid on Monday 16/11 without fine (Lei 7.089/1983).
        ("open", date(2026, 11, 14), date(2026, 11, 16), False),
        ("open", date(2026, 11, 14), date(2026, 11, 17), True),
        # Due on a holiday (Friday 20/11/2026), then the weekend: Monday is the last day.
        ("open", date(2026, 11, 20), date(2026, 11, 23), False),
        ("open", date(2026, 11, 20), date(2026, 11, 24), True),
    ],
)
def test_an_invoice_is_overdue_after_its_last_day_without_fine(status, due, today, overdue):
    assert rules.invoice_overdue(status, due, today) is overdue


def test_scheduled_exclusions_within_the_next_7_days_today_included():
    today = date(2026, 11, 26)
    assert rules.exclusion_window(today) == (today, date(2026, 12, 3))
    assert rules.exclusion_due(today, today)
    assert rules.exclusion_due(date(2026, 12, 3), today)
    assert not rules.exclusion_due(date(2026, 12, 4), today)
    assert not rules.exclusion_due(date(2026, 11, 25), today)


def test_dependents_ageing_out_within_60_days_today_included():
    today = date(2026, 11, 26)
    assert rules.ageing_due(today, today)
    assert rules.ageing_due(date(2027, 1, 25), today)  # the 60th day
    assert not rules.ageing_due(date(2027, 1, 26), today)
    assert not rules.ageing_due(date(2026, 11, 25), today)  # already past
    assert not rules.ageing_due(None, today)  # no age limit


def test_who_gets_each_kind_by_permission():
    m, f = Permission.MOVEMENTS.value, Permission.FINANCE.value
    assert rules.audience_of(NoticeKind.INVOICE_OVERDUE, {m}) is None
    assert rules.audience_of(NoticeKind.INVOICE_OVERDUE, {f, m}) == f
    assert rules.audience_of(NoticeKind.CUTOFF, {f}) == f
    assert rules.audience_of(NoticeKind.CUTOFF, {f, m}) == m
    assert rules.audience_of(NoticeKind.CUTOFF, {"reports"}) is None
    for kind in (
        NoticeKind.EXCLUSION_SCHEDULED,
        NoticeKind.DEPENDENT_AGEING,
        NoticeKind.BATCH_FINISHED,
    ):
        assert rules.audience_of(kind, {m}) == m
        assert rules.audience_of(kind, {f, "reports"}) is None
    # Every audience is a permission of the portal, and every kind has a label.
    values = {p.value for p in Permission}
    assert {p for perms in rules.AUDIENCE.values() for p in perms} <= values
    assert set(rules.NOTICE_LABELS) == set(NoticeKind) == set(rules.AUDIENCE)


def test_the_event_key_names_kind_company_subject_and_date():
    day = date(2026, 12, 20)
    assert rules.dedupe_key(NoticeKind.CUTOFF, 7, 7, day) == "cutoff:7:7:2026-12-20"
    assert rules.dedupe_key(NoticeKind.INVOICE_OVERDUE, 7, 42, None) == "invoice_overdue:7:42"
    assert rules.dedupe_key(NoticeKind.DEPENDENT_AGEING, 7, 9, day) != rules.dedupe_key(
        NoticeKind.DEPENDENT_AGEING, 7, 9, date(2027, 12, 20)
    )

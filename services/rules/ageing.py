"""When a dependent ages out of the contract ("perda de elegibilidade por idade").

Source: the contract's eligibility table (ANS RN 557/2022; see
`services.rules.eligibility`): relationship -> {"allowed", "max_age",
"student_max_age"}. The limits are read exactly as `check_dependent_eligibility`
reads them: a limit is inclusive (``max_age=21`` admits someone aged 21, not yet
22); a student may stay until ``student_max_age`` when the contract gives one; a
relationship absent from the table uses the defaults of children and spouse.

The eligibility end is the FIRST day on which the dependent is no longer eligible:
the birthday on which the age passes the limit (the 22nd birthday for
``max_age=21``). It is the day the coverage stops (a coverage period's end is its
first day not covered), so it is the effective date of the exclusion. Ages follow
`age_on`: someone born on 29 February turns a year older on 1 March in common years.

Explained in docs/domain/movements-and-ans.md, "The plan and who may be in it".
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from typing import Any

from services.rules.eligibility import Relationship, _rule_for

AGEING_NOTICE_DAYS = 60
AGEING_REASON = "perda_elegibilidade"


def birthday(birth: date, years: int) -> date:
    """The day someone born on ``birth`` turns ``years`` old (29/02 -> 01/03 in common
    years, as `services.rules.age_bands.age_on` counts)."""
    year = birth.year + years
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return birth.replace(year=year)


def age_limit(
    relationship: int, is_student: bool, table: Mapping[Any, Mapping[str, Any]]
) -> int | None:
    """The last age the contract admits for this dependent; None: no age limit."""
    try:
        rel = Relationship(int(relationship))
    except (TypeError, ValueError):
        return None
    if rel is Relationship.HOLDER:
        return None
    rule = _rule_for(table, rel)
    max_age = rule.get("max_age")
    if max_age is None:
        return None
    student_max_age = rule.get("student_max_age")
    if is_student and student_max_age is not None:
        return max(int(max_age), int(student_max_age))
    return int(max_age)


def eligibility_end(
    birth: date,
    relationship: int,
    is_student: bool,
    table: Mapping[Any, Mapping[str, Any]],
) -> date | None:
    """The first day the dependent is no longer eligible by age (None: never)."""
    limit = age_limit(relationship, is_student, table)
    return None if limit is None else birthday(birth, limit + 1)


def exclusion_date_for(end: date, today: date) -> date:
    """The effective date of the exclusion for loss of eligibility: the eligibility end,
    or today when it has passed (an exclusion is never retroactive, RN 561/2022)."""
    return max(end, today)
